"""Producers, products, evaluation rounds, dossiers with their document checklist, the
self-assessment (Mẫu 02), the commune/district pre-assessment (Mẫu 03) and ratings.

Models are thin: every state change goes through ``dossiers.services``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .validators import validate_registration_no


class ProducerType(models.TextChoices):
    COOPERATIVE = "cooperative", _("Cooperative")
    COOPERATIVE_GROUP = "cooperative_group", _("Cooperative group")
    ENTERPRISE = "enterprise", _("Enterprise")
    HOUSEHOLD = "household", _("Registered household business")


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class Producer(models.Model):
    """The OCOP subject (chủ thể)."""

    type = models.CharField(_("type"), max_length=20, choices=ProducerType.choices)
    name = models.CharField(_("name"), max_length=255)
    # NULL: not known — a producer imported from a register that lists no number
    # (docs/register-import.md); unique among the known ones.
    registration_no = models.CharField(  # noqa: DJ001
        _("registration / tax number"), max_length=20, unique=True, null=True,
        validators=[validate_registration_no],
        help_text=_("Tax code (10 digits, or 10 digits-3 digits for a branch) or the "
                    "household business registration number."),
    )
    representative_name = models.CharField(_("legal representative"), max_length=150)
    representative_gender = models.CharField(_("gender of the representative"),
                                             max_length=10, choices=Gender.choices)
    representative_ethnicity = models.CharField(_("ethnicity of the representative"),
                                                max_length=60, default="Kinh")
    address = models.CharField(_("address"), max_length=300)
    unit = models.ForeignKey("regions.AdministrativeUnit", models.PROTECT,
                             related_name="producers", verbose_name=_("administrative unit"))
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("created by"))

    class Meta:
        verbose_name = _("producer")
        verbose_name_plural = _("producers")
        ordering = ["name"]
        # the producer list's order, with the area to filter it by from the index alone
        # (dossiers/producer_rows.py, docs/performance.md)
        indexes = [models.Index(fields=["name", "id"], include=["unit"],
                                name="producer_list_order")]

    def __str__(self):
        return self.name


class Product(models.Model):
    producer = models.ForeignKey(Producer, models.PROTECT, related_name="products",
                                 verbose_name=_("producer"))
    name = models.CharField(_("name"), max_length=255)
    criteria_set = models.ForeignKey("scoring.CriteriaSet", models.PROTECT,
                                     related_name="products", verbose_name=_("criteria set"))
    code = models.CharField(
        _("product code"), max_length=40, blank=True,
        help_text=_("26/2026: province-commune-sequence-year, assigned when the dossier is "
                    "accepted."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=~Q(code=""),
                                    name="unique_product_code"),
        ]

    def __str__(self):
        return self.name


class EvaluationRound(models.Model):
    """An evaluation round (đợt đánh giá, phân hạng) of one regime level in one area."""

    regime = models.ForeignKey("scoring.Regime", models.PROTECT, related_name="rounds",
                               verbose_name=_("regime"))
    level = models.ForeignKey("scoring.ProcessLevel", models.PROTECT, related_name="rounds",
                              verbose_name=_("process level"))
    unit = models.ForeignKey("regions.AdministrativeUnit", models.PROTECT,
                             related_name="rounds", verbose_name=_("area"))
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveSmallIntegerField(_("number"))
    intake_deadline = models.DateField(_("intake deadline"))
    planned_session_date = models.DateField(_("planned session date"), null=True, blank=True)
    is_open = models.BooleanField(_("open for intake"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("evaluation round")
        verbose_name_plural = _("evaluation rounds")
        ordering = ["-year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "level", "year", "number"],
                                    name="unique_round_number"),
        ]

    def __str__(self):
        return _("Round %(number)s/%(year)s — %(unit)s") % {
            "number": self.number, "year": self.year, "unit": self.unit.name}


class RegistrationType(models.TextChoices):
    FIRST = "first", _("First evaluation")
    UPGRADE = "upgrade", _("Upgrade")
    REEVALUATION = "reevaluation", _("Re-evaluation")


class DossierState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for completion")
    RESUBMITTED = "resubmitted", _("Resubmitted")
    ACCEPTED = "accepted", _("Accepted")
    PRE_ASSESSED = "pre_assessed", _("Pre-assessed")
    IN_EVALUATION = "in_evaluation", _("In evaluation")
    RESULT_RECORDED = "result_recorded", _("Result recorded")
    FORWARDED = "forwarded", _("Forwarded")
    RECOGNISED = "recognised", _("Recognised")
    NOT_RECOGNISED = "not_recognised", _("Not recognised")
    WITHDRAWN = "withdrawn", _("Withdrawn")


#: States from which nothing more happens to the dossier at this level.
CLOSED_STATES = {
    DossierState.FORWARDED, DossierState.RECOGNISED, DossierState.NOT_RECOGNISED,
    DossierState.WITHDRAWN,
}


class Dossier(models.Model):
    round = models.ForeignKey(EvaluationRound, models.PROTECT, related_name="dossiers",
                              verbose_name=_("evaluation round"))
    product = models.ForeignKey(Product, models.PROTECT, related_name="dossiers",
                                verbose_name=_("product"))
    criteria_set = models.ForeignKey(
        "scoring.CriteriaSet", models.PROTECT, related_name="dossiers",
        verbose_name=_("criteria set"),
        help_text=_("The criteria-set version the dossier is scored with."),
    )
    unit = models.ForeignKey(
        "regions.AdministrativeUnit", models.PROTECT, related_name="dossiers",
        verbose_name=_("administrative unit"),
        help_text=_("Where the producer is; decides who may see the dossier."),
    )
    registration_type = models.CharField(_("registration type"), max_length=20,
                                         choices=RegistrationType.choices,
                                         default=RegistrationType.FIRST)
    current_rating = models.ForeignKey(
        "Rating", models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("current rating"),
        help_text=_("For an upgrade or a re-evaluation: the rating it builds on."),
    )
    state = models.CharField(_("state"), max_length=20, choices=DossierState.choices,
                             default=DossierState.DRAFT, db_index=True)
    registration = models.JSONField(_("registration form (Form 01)"), default=dict,
                                    blank=True)
    samples_count = models.PositiveSmallIntegerField(_("samples received"), null=True,
                                                     blank=True)
    samples_received_on = models.DateField(_("samples received on"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    due_date = models.DateField(_("processing deadline"), null=True, blank=True)
    result_score = models.DecimalField(
        _("score"), max_digits=5, decimal_places=2, null=True, blank=True,
        help_text=_("The council's mean score at this level (or the Ministry's, when "
                    "recorded)."))
    result_stars = models.PositiveSmallIntegerField(
        _("stars"), null=True, blank=True,
        help_text=_("The star after the minimum-star marks."))
    forwarded_from = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="forwarded_to",
        verbose_name=_("forwarded from"),
        help_text=_("The lower level's dossier this one continues (docs/decisions.md)."))
    search_text = models.TextField(editable=False, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("created by"))

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "state"]),
            models.Index(fields=["round", "state"]),
            # the list's order: its first page reads the first index entries and stops
            models.Index(fields=["-updated_at", "-id"], name="dossier_list_order"),
            # the decisions page (docs/performance.md, "Ratings, decisions and
            # revocations") reads the dossiers of an area from this index alone: their ids
            # (the decisions recognising a product of the area, decisions_visible_to),
            # the results waiting for a decision (decisions.awaiting_decision) and the
            # forwarded dossiers waiting for a round (forwarding.awaiting_round). Not
            # partial: a prepared statement's generic plan, whose state is a parameter,
            # could not use a partial index
            models.Index(fields=["unit", "state", "result_stars", "round", "id"],
                         name="dossier_unit_state_ids"),
        ]

    def __str__(self):
        return _("Dossier #%(id)s — %(product)s") % {"id": self.pk, "product": self.product}

    @property
    def is_open(self):
        return self.state not in CLOSED_STATES


class ChecklistItem(models.Model):
    """A required document of a dossier (docs/documents.md), configurable per regime and
    optionally per criteria set number."""

    regime = models.ForeignKey("scoring.Regime", models.CASCADE, related_name="checklist",
                               verbose_name=_("regime"))
    code = models.CharField(_("code"), max_length=40)
    title = models.CharField(_("title"), max_length=300)
    order = models.PositiveSmallIntegerField(_("order"))
    required = models.BooleanField(_("required"), default=True)
    set_numbers = models.JSONField(
        _("only for criteria sets"), default=list, blank=True,
        help_text=_("Criteria set numbers the item applies to; empty = all."),
    )
    excluded_set_numbers = models.JSONField(
        _("not for criteria sets"), default=list, blank=True,
        help_text=_("Criteria set numbers the item does not apply to (e.g. no samples for "
                    "tourism services, set 26)."),
    )

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["regime", "order"]
        constraints = [
            models.UniqueConstraint(fields=["regime", "code"], name="unique_checklist_code"),
        ]

    def __str__(self):
        return self.title

    def applies_to(self, set_no):
        if self.set_numbers and set_no not in self.set_numbers:
            return False
        return set_no not in self.excluded_set_numbers


class DocumentState(models.TextChoices):
    MISSING = "missing", _("Missing")
    SUBMITTED = "submitted", _("Submitted")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


class DossierDocument(models.Model):
    """One checklist line of one dossier."""

    dossier = models.ForeignKey(Dossier, models.CASCADE, related_name="documents",
                                verbose_name=_("dossier"))
    item = models.ForeignKey(ChecklistItem, models.PROTECT, related_name="+",
                             verbose_name=_("checklist item"))
    state = models.CharField(_("state"), max_length=10, choices=DocumentState.choices,
                             default=DocumentState.MISSING)
    reason = models.TextField(_("reason"), blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                    blank=True, related_name="+",
                                    verbose_name=_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("dossier document")
        verbose_name_plural = _("dossier documents")
        ordering = ["dossier", "item__order"]
        constraints = [
            models.UniqueConstraint(fields=["dossier", "item"], name="unique_dossier_item"),
        ]

    def __str__(self):
        return str(self.item)


def upload_path(instance, filename):
    """Stored names never come from the user: dossier folder + random name + checked
    extension."""
    return f"dossiers/{instance.dossier_id}/{instance.stored_name}"


class DocumentFile(models.Model):
    """An uploaded file of a dossier: a checklist document or a self-assessment evidence."""

    dossier = models.ForeignKey(Dossier, models.CASCADE, related_name="files",
                                verbose_name=_("dossier"))
    document = models.ForeignKey(DossierDocument, models.CASCADE, null=True, blank=True,
                                 related_name="files", verbose_name=_("checklist item"))
    file = models.FileField(_("file"), upload_to=upload_path, max_length=300)
    stored_name = models.CharField(max_length=80, editable=False)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT,
                                    related_name="+", verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("dossier file")
        verbose_name_plural = _("dossier files")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.original_name


class SelfAssessmentEntry(models.Model):
    """The producer's self-assessment (Mẫu 02): the chosen option per criterion with its
    evidence."""

    dossier = models.ForeignKey(Dossier, models.CASCADE, related_name="self_assessment",
                                verbose_name=_("dossier"))
    criterion = models.ForeignKey("scoring.Criterion", models.PROTECT, related_name="+",
                                  verbose_name=_("criterion"))
    option = models.ForeignKey("scoring.Option", models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("option"))
    evidence = models.ForeignKey(DocumentFile, models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("evidence"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("self-assessment entry")
        verbose_name_plural = _("self-assessment entries")
        constraints = [
            models.UniqueConstraint(fields=["dossier", "criterion"],
                                    name="unique_self_assessment_criterion"),
        ]

    def __str__(self):
        return f"{self.dossier_id} · {self.criterion_id} → {self.option_id}"


class Transition(models.Model):
    """The timeline of a dossier: every state change, with who, when and why."""

    dossier = models.ForeignKey(Dossier, models.CASCADE, related_name="transitions",
                                verbose_name=_("dossier"))
    from_state = models.CharField(_("from"), max_length=20, choices=DossierState.choices,
                                  blank=True)
    to_state = models.CharField(_("to"), max_length=20, choices=DossierState.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("time"), auto_now_add=True)
    reason = models.TextField(_("reason"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.from_state or '∅'} → {self.to_state}"


class AssessmentVerdict(models.TextChoices):
    MET = "met", _("Meets the requirement")
    NOT_MET = "not_met", _("Does not meet the requirement")


class PreAssessment(models.Model):
    """The commune report (Mẫu 03, 26/2026) on its four items, or the district acceptance
    (148)."""

    dossier = models.OneToOneField(Dossier, models.CASCADE, related_name="pre_assessment",
                                   verbose_name=_("dossier"))
    raw_materials = models.TextField(_("local raw materials"), blank=True)
    raw_materials_verdict = models.CharField(max_length=10, choices=AssessmentVerdict.choices,
                                             blank=True)
    labour = models.TextField(_("local labour"), blank=True)
    labour_verdict = models.CharField(max_length=10, choices=AssessmentVerdict.choices,
                                      blank=True)
    idea_origin = models.TextField(_("origin of the idea"), blank=True)
    idea_origin_verdict = models.CharField(max_length=10, choices=AssessmentVerdict.choices,
                                           blank=True)
    local_identity = models.TextField(_("local identity"), blank=True)
    local_identity_verdict = models.CharField(max_length=10,
                                              choices=AssessmentVerdict.choices, blank=True)
    conclusion = models.TextField(_("conclusion"), blank=True)
    # The printed report (Decree 30): its number in the People's Committee's register
    # ("12" prints "Số: 12/BC-UBND"; empty leaves a blank to number by hand) and who signs.
    report_number = models.CharField(
        _("report number"), max_length=30, blank=True,
        help_text=_("The number in the register of outgoing documents, e.g. “12”; leave "
                    "empty to write it by hand on the printed report."))
    signer_name = models.CharField(_("signed by"), max_length=150, blank=True)
    signer_title = models.CharField(
        _("signer's title"), max_length=80, blank=True,
        help_text=_("E.g. “CHỦ TỊCH” or “PHÓ CHỦ TỊCH”; empty means the chair."))
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT,
                                    related_name="+", verbose_name=_("assessed by"))
    assessed_at = models.DateTimeField(_("assessed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("pre-assessment")
        verbose_name_plural = _("pre-assessments")

    def __str__(self):
        return str(self.dossier)


class PublicHoliday(models.Model):
    """A day the government announced beside the ``holidays`` package's Vietnam calendar
    (docs/deadlines.md): a day off (a compensating or swapped day), or — ``working_day`` —
    a day that is worked (a swapped Saturday, or a package day off the announcement did
    not keep)."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    working_day = models.BooleanField(
        _("working day"), default=False,
        help_text=_("Tick for a day that is worked although the calendar says otherwise (a "
                    "swapped Saturday); leave empty for a day off."))

    class Meta:
        verbose_name = _("public holiday")
        verbose_name_plural = _("public holidays")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%d/%m/%Y} {self.name}"


class RatingState(models.TextChoices):
    VALID = "valid", _("Valid")
    DUE = "due", _("Due for re-evaluation")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
    REPLACED = "replaced", _("Replaced")


#: The stars a decision recognises and a rating holds (1★ and 2★ get neither, 26/2026);
#: the check constraints ``rating_stars_3_to_5`` and ``decision_item_stars_3_to_5`` agree.
RECOGNISED_STARS = (3, 4, 5)

#: A product has at most one rating in these states (``one_active_rating_per_product``).
ACTIVE_RATING_STATES = (RatingState.VALID, RatingState.DUE)


class DecisionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    REPLACED = "replaced", _("Replaced")


class DecisionOrigin(models.TextChoices):
    DRAFTED = "drafted", _("Drafted and issued here")
    RECORDED = "recorded", _("Issued by the Ministry (recorded)")
    IMPORTED = "imported", _("Imported from the province's register")


#: Decisions of these origins have no document generated here (docs/register-import.md).
WITHOUT_DOCUMENTS = (DecisionOrigin.RECORDED, DecisionOrigin.IMPORTED)


class JobStatus(models.TextChoices):
    IDLE = "", _("Not started")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class DecisionKind(models.TextChoices):
    RECOGNITION = "recognition", _("Recognition")
    REVOCATION = "revocation", _("Revocation")


class Decision(models.Model):
    """A recognition decision (Quyết định công nhận kết quả đánh giá, phân hạng sản phẩm
    OCOP): drafted here from recognised results of one issuer and regime, then issued
    (numbered, dated, signed) — or a Ministry decision recorded from its number and date.
    An issued decision is never edited; a correction is a new decision that ``replaces``
    it (docs/decisions.md). Changes go through ``dossiers.decisions``."""

    kind = models.CharField(_("kind"), max_length=12, choices=DecisionKind.choices,
                            default=DecisionKind.RECOGNITION, db_index=True)
    origin = models.CharField(_("origin"), max_length=10, choices=DecisionOrigin.choices,
                              default=DecisionOrigin.DRAFTED)
    state = models.CharField(_("state"), max_length=10, choices=DecisionState.choices,
                             default=DecisionState.DRAFT, db_index=True)
    regime = models.ForeignKey("scoring.Regime", models.PROTECT, related_name="+",
                               verbose_name=_("regime"))
    level = models.ForeignKey("scoring.ProcessLevel", models.PROTECT, related_name="+",
                              verbose_name=_("process level"))
    issuer_unit = models.ForeignKey(
        "regions.AdministrativeUnit", models.PROTECT, null=True, blank=True,
        related_name="decisions", verbose_name=_("issuing People's Committee"),
        help_text=_("Empty for a decision of the Ministry."))
    issuer_parent = models.CharField(_("issuing body (first line)"), max_length=120,
                                     blank=True)
    issuer_name = models.CharField(_("issuing body"), max_length=200)
    place = models.CharField(_("place on the date line"), max_length=120, blank=True)
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    symbol = models.CharField(_("symbol"), max_length=30, blank=True)
    reference = models.CharField(_("decision number"), max_length=60, blank=True,
                                 help_text=_("As printed, e.g. “05/QĐ-UBND”."))
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    date = models.DateField(_("decision date"), null=True, blank=True)
    subject = models.TextField(_("subject"), blank=True)
    authority = models.CharField(_("deciding authority"), max_length=300, blank=True)
    legal_bases = models.TextField(_("legal bases"), blank=True,
                                   help_text=_("One “Căn cứ …;” per line."))
    article_2 = models.TextField(_("Article 2"), blank=True)
    article_3 = models.TextField(_("Article 3"), blank=True)
    recipients = models.TextField(_("recipients"), blank=True,
                                  help_text=_("One per line; the last is “Lưu: VT, …”."))
    signature_authority = models.CharField(_("signing on behalf (KT./TM.)"), max_length=80,
                                           blank=True)
    signature_title = models.CharField(_("signer's title"), max_length=80, blank=True)
    signer_name = models.CharField(_("signer"), max_length=150, blank=True)
    replaces = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="replaced_by",
        verbose_name=_("replaces decision"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("drafted by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                  blank=True, related_name="+", verbose_name=_("issued by"))
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    file = models.FileField(_("decision (PDF)"), upload_to="decisions/", blank=True,
                            max_length=200)
    bundle = models.FileField(_("decision and certificates (zip)"), upload_to="decisions/",
                              blank=True, max_length=200)
    # The background rendering of an issued decision (docs/background-jobs.md): the row is
    # the truth, the Celery message only wakes a worker up.
    job_status = models.CharField(_("documents"), max_length=10, choices=JobStatus.choices,
                                  default=JobStatus.IDLE, blank=True)
    job_done = models.PositiveIntegerField(_("documents made"), default=0)
    job_total = models.PositiveIntegerField(_("documents to make"), default=0)
    job_reason = models.TextField(_("reason of the failure"), blank=True)
    job_attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("recognition decision")
        verbose_name_plural = _("recognition decisions")
        ordering = ["-date", "-number", "-id"]
        constraints = [
            # Numbers restart at 1 every 1 January for each issuer (Decree 30).
            models.UniqueConstraint(
                fields=["issuer_unit", "symbol", "year", "number"],
                condition=Q(origin="drafted", number__isnull=False),
                name="unique_decision_number_per_issuer_year"),
            models.CheckConstraint(
                condition=Q(state="draft") | (Q(date__isnull=False) & ~Q(reference="")),
                name="issued_decision_has_number_and_date"),
        ]

    def __str__(self):
        if self.state == DecisionState.DRAFT:
            return _("Draft decision #%(id)s — %(issuer)s") % {
                "id": self.pk, "issuer": self.issuer_name}
        return _("Decision %(reference)s of %(date)s") % {
            "reference": self.reference, "date": self.date.strftime("%d/%m/%Y")}

    @property
    def is_draft(self):
        return self.state == DecisionState.DRAFT


class DecisionItem(models.Model):
    """One line of a decision's annex: what the decision recognises for one dossier, as
    printed (the product's and producer's names at the time of drafting)."""

    decision = models.ForeignKey(Decision, models.CASCADE, related_name="items",
                                 verbose_name=_("decision"))
    dossier = models.ForeignKey(Dossier, models.PROTECT, related_name="decision_items",
                                verbose_name=_("dossier"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    product_name = models.CharField(_("product"), max_length=255)
    product_code = models.CharField(_("product code"), max_length=40, blank=True)
    producer_name = models.CharField(_("producer"), max_length=255)
    producer_address = models.CharField(_("address"), max_length=400, blank=True)
    criteria_set = models.CharField(_("criteria set"), max_length=300, blank=True)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2, null=True,
                                blank=True)
    stars = models.PositiveSmallIntegerField(_("stars"))

    class Meta:
        verbose_name = _("decision line")
        verbose_name_plural = _("decision lines")
        ordering = ["decision", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "dossier"],
                                    name="unique_decision_dossier"),
            models.CheckConstraint(condition=Q(stars__gte=3) & Q(stars__lte=5),
                                   name="decision_item_stars_3_to_5"),
        ]

    def __str__(self):
        return f"{self.product_name} {self.stars}★"


class Rating(models.Model):
    """A recognised star rating of a product (valid 36 months from the decision), with its
    certificate (Giấy chứng nhận) and the code of its public verification page."""

    product = models.ForeignKey(Product, models.PROTECT, related_name="ratings",
                                verbose_name=_("product"))
    regime = models.ForeignKey("scoring.Regime", models.PROTECT, related_name="+",
                               verbose_name=_("regime"))
    decision = models.ForeignKey(Decision, models.PROTECT, null=True, blank=True,
                                 related_name="ratings", verbose_name=_("decision"))
    stars = models.PositiveSmallIntegerField(_("stars"))
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2, null=True,
                                blank=True)
    decision_number = models.CharField(_("decision number"), max_length=60)
    decision_date = models.DateField(_("decision date"))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"))
    state = models.CharField(_("state"), max_length=10, choices=RatingState.choices,
                             default=RatingState.VALID)
    product_code = models.CharField(_("product code"), max_length=40, blank=True)
    verification_code = models.CharField(_("verification code"), max_length=32, unique=True,
                                         null=True, blank=True)
    certificate = models.FileField(_("certificate (PDF)"), upload_to="certificates/",
                                   blank=True, max_length=200)
    replaced_by = models.ForeignKey("self", models.PROTECT, null=True, blank=True,
                                    related_name="replaces", verbose_name=_("replaced by"))
    source_dossier = models.ForeignKey(Dossier, models.PROTECT, null=True, blank=True,
                                       related_name="ratings", verbose_name=_("dossier"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, null=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-decision_date", "-id"]
        # the register's order: its page of 50 read from the index (dossiers/rating_rows.py)
        indexes = [models.Index(fields=["-decision_date", "-id"],
                                name="rating_register_order")]
        constraints = [
            models.CheckConstraint(condition=Q(stars__gte=3) & Q(stars__lte=5),
                                   name="rating_stars_3_to_5"),
            models.UniqueConstraint(fields=["product"],
                                    condition=Q(state__in=["valid", "due"]),
                                    name="one_active_rating_per_product"),
        ]

    def __str__(self):
        return f"{self.product} {self.stars}★ ({self.decision_number})"

    @property
    def is_active(self):
        return self.state in ACTIVE_RATING_STATES


# --- after recognition: inspections and revocation (docs/ratings-lifecycle.md) ---------------


class InspectionPlan(models.Model):
    """The yearly inspection plan of a province (kế hoạch kiểm tra, giám sát): its periodic
    inspections, listing the products due."""

    unit = models.ForeignKey("regions.AdministrativeUnit", models.PROTECT,
                             related_name="inspection_plans", verbose_name=_("province"))
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=300)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")
        ordering = ["-year", "unit"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "year"], name="one_inspection_plan_a_year"),
        ]

    def __str__(self):
        return self.title


class InspectionKind(models.TextChoices):
    PERIODIC = "periodic", _("Periodic")
    AD_HOC = "ad_hoc", _("Ad hoc")


class InspectionState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    CONCLUDED = "concluded", _("Concluded")


class InspectionConclusion(models.TextChoices):
    MEETS = "meets", _("Still meets the criteria")
    NOT_MEETS = "not_meets", _("No longer meets the criteria")
    VIOLATION = "violation", _("Violation")


class Inspection(models.Model):
    """A post-recognition inspection (kiểm tra, giám sát sau công nhận) of one product or of
    the rated products of an area; one :class:`InspectionItem` per product checked."""

    plan = models.ForeignKey(InspectionPlan, models.PROTECT, null=True, blank=True,
                             related_name="inspections", verbose_name=_("plan"))
    kind = models.CharField(_("kind"), max_length=10, choices=InspectionKind.choices)
    unit = models.ForeignKey("regions.AdministrativeUnit", models.PROTECT,
                             related_name="inspections", verbose_name=_("area inspected"))
    title = models.CharField(_("title"), max_length=300, blank=True)
    planned_on = models.DateField(_("planned for"), null=True, blank=True)
    inspected_on = models.DateField(_("inspected on"), null=True, blank=True)
    inspectors = models.TextField(_("inspection team"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=InspectionState.choices,
                             default=InspectionState.PLANNED, db_index=True)
    conclusion_date = models.DateField(_("date of the conclusion"), null=True, blank=True)
    conclusion_reference = models.CharField(
        _("conclusion document"), max_length=120, blank=True,
        help_text=_("Number of the written conclusion (biên bản / kết luận), if any."))
    note = models.TextField(_("general conclusion"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    concluded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                     blank=True, related_name="+",
                                     verbose_name=_("concluded by"))

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-planned_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="planned") | Q(conclusion_date__isnull=False),
                name="concluded_inspection_has_date"),
        ]

    def __str__(self):
        return self.title or _("Inspection #%(id)s") % {"id": self.pk}


class InspectionItem(models.Model):
    """One product checked by an inspection, with its conclusion."""

    inspection = models.ForeignKey(Inspection, models.CASCADE, related_name="items",
                                   verbose_name=_("inspection"))
    rating = models.ForeignKey(Rating, models.PROTECT, related_name="inspection_items",
                               verbose_name=_("rating"))
    conclusion = models.CharField(_("conclusion"), max_length=10,
                                  choices=InspectionConclusion.choices, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("product inspected")
        verbose_name_plural = _("products inspected")
        ordering = ["inspection", "id"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "rating"],
                                    name="unique_inspection_rating"),
        ]

    def __str__(self):
        return f"{self.inspection} — {self.rating}"


class InspectionFinding(models.Model):
    """What an inspection found on one criterion of a product's scoresheet."""

    item = models.ForeignKey(InspectionItem, models.CASCADE, related_name="findings",
                             verbose_name=_("product inspected"))
    criterion = models.ForeignKey("scoring.Criterion", models.PROTECT, related_name="+",
                                  verbose_name=_("criterion"))
    meets = models.BooleanField(_("still meets"))
    note = models.TextField(_("finding"), blank=True)

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["item", "criterion__order"]
        constraints = [
            models.UniqueConstraint(fields=["item", "criterion"],
                                    name="unique_finding_criterion"),
        ]

    def __str__(self):
        return f"{self.criterion} {'✓' if self.meets else '✗'}"


def inspection_upload_path(instance, filename):
    """Stored names never come from the user (docs/uploads.md)."""
    return f"inspections/{instance.inspection_id}/{instance.stored_name}"


class InspectionFile(models.Model):
    """A file of an inspection: minutes, photos, test reports."""

    inspection = models.ForeignKey(Inspection, models.CASCADE, related_name="files",
                                   verbose_name=_("inspection"))
    file = models.FileField(_("file"), upload_to=inspection_upload_path, max_length=300)
    stored_name = models.CharField(max_length=80, editable=False)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                    verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inspection file")
        verbose_name_plural = _("inspection files")
        ordering = ["inspection", "uploaded_at", "id"]

    def __str__(self):
        return self.original_name


class RevocationGround(models.TextChoices):
    """The six grounds of 26/2026 Điều 8 (docs/ratings-lifecycle.md)."""

    UNTRUTHFUL = "a", _("a) Untruthful or forged dossier")
    NOT_MEETING = "b", _("b) The product no longer meets the criteria (inspection conclusion)")
    VIOLATION = "c", _("c) Violation of the law on quality, food safety, environment, "
                       "intellectual property, labelling or other law")
    MISUSE = "d", _("d) Misuse of the OCOP mark")
    STOPPED = "dd", _("đ) The producer stopped producing")
    OTHER = "e", _("e) Other cases concluded by a competent authority")


class RevocationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")


class Revocation(models.Model):
    """The revocation (thu hồi) of a rating on one ground, citing the conclusion it rests on
    — an inspection's (``inspection_item``) or another body's (``conclusion_reference``) —
    decided by a revocation ``decision`` within the regime's deadline from the conclusion."""

    rating = models.ForeignKey(Rating, models.PROTECT, related_name="revocations",
                               verbose_name=_("rating"))
    ground = models.CharField(_("ground"), max_length=2, choices=RevocationGround.choices)
    inspection_item = models.ForeignKey(
        InspectionItem, models.PROTECT, null=True, blank=True, related_name="revocations",
        verbose_name=_("inspection conclusion"))
    conclusion_reference = models.CharField(
        _("conclusion cited"), max_length=300, blank=True,
        help_text=_("The body, number and date of the conclusion, when not an inspection "
                    "recorded here."))
    conclusion_date = models.DateField(_("date of the conclusion"))
    deadline = models.DateField(_("decide by"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=RevocationState.choices,
                             default=RevocationState.DRAFT, db_index=True)
    decision = models.OneToOneField(Decision, models.PROTECT, null=True, blank=True,
                                    related_name="revocation",
                                    verbose_name=_("revocation decision"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("revocation")
        verbose_name_plural = _("revocations")
        ordering = ["-conclusion_date", "-id"]
        constraints = [
            # one revocation of a rating at a time (a draft counts)
            models.UniqueConstraint(fields=["rating"], name="one_revocation_per_rating"),
            models.CheckConstraint(
                condition=~Q(ground="b") | Q(inspection_item__isnull=False),
                name="revocation_b_cites_inspection"),
            models.CheckConstraint(
                condition=Q(inspection_item__isnull=False) | ~Q(conclusion_reference=""),
                name="revocation_cites_conclusion"),
        ]

    def __str__(self):
        return _("Revocation of %(rating)s") % {"rating": self.rating}


# --- the province's existing register, imported (docs/register-import.md) --------------------


class ImportState(models.TextChoices):
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked, waiting for confirmation")
    QUEUED = "queued", _("Confirmed, queued")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


class RowOutcome(models.TextChoices):
    CREATE = "create", _("Will create")
    MATCH = "match", _("Already present")
    REFUSED = "refused", _("Refused")


class RegisterImport(models.Model):
    """One upload of a register file: checked first (the dry run, one
    :class:`RegisterImportRow` per data row), imported once confirmed. The status row of
    both background jobs (docs/background-jobs.md); the file is kept."""

    province = models.ForeignKey("regions.AdministrativeUnit", models.PROTECT, null=True,
                                 blank=True, related_name="+", verbose_name=_("province"),
                                 help_text=_("Empty: an administrator's import, any province."))
    file = models.FileField(_("file"), upload_to="imports/", max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64)
    state = models.CharField(_("state"), max_length=10, choices=ImportState.choices,
                             default=ImportState.CHECKING, db_index=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows processed"), default=0)
    created_count = models.PositiveIntegerField(_("to create"), default=0)
    matched_count = models.PositiveIntegerField(_("already present"), default=0)
    refused_count = models.PositiveIntegerField(_("refused"), default=0)
    imported_count = models.PositiveIntegerField(_("imported"), default=0)
    reason = models.TextField(_("reason"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT,
                                   related_name="+", verbose_name=_("uploaded by"))
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                     blank=True, related_name="+",
                                     verbose_name=_("confirmed by"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("register import")
        verbose_name_plural = _("register imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.original_name

    @property
    def running(self):
        return self.state in (ImportState.CHECKING, ImportState.QUEUED, ImportState.RUNNING)


class RegisterImportRow(models.Model):
    """The dry run's verdict on one data row of the file (``row_no``: its line in the
    sheet), kept for the report and the error file; ``done`` once imported."""

    register_import = models.ForeignKey(RegisterImport, models.CASCADE, related_name="rows")
    row_no = models.PositiveIntegerField(_("row"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=RowOutcome.choices)
    reasons = models.TextField(_("reasons"), blank=True)
    product = models.CharField(_("product"), max_length=255, blank=True)
    producer = models.CharField(_("producer"), max_length=255, blank=True)
    decision_number = models.CharField(_("decision number"), max_length=60, blank=True)
    stars = models.PositiveSmallIntegerField(_("stars"), null=True, blank=True)
    #: The row as read from the file (dates as YYYY-MM-DD): the import and the error file
    #: read it here instead of parsing the file again.
    values = models.JSONField(_("values"), default=dict)
    done = models.BooleanField(_("imported"), default=False)
    rating = models.ForeignKey(Rating, models.SET_NULL, null=True, blank=True,
                               related_name="+")

    class Meta:
        verbose_name = _("register import row")
        verbose_name_plural = _("register import rows")
        ordering = ["register_import", "row_no"]
        constraints = [
            models.UniqueConstraint(fields=["register_import", "row_no"],
                                    name="one_verdict_per_import_row"),
        ]

    def __str__(self):
        return f"{self.register_import_id}:{self.row_no} {self.outcome}"
