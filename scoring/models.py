"""Regimes (legal instruments) and criteria sets as data.

A regime has ordered process levels and star bands (seeded from ``scoring/regimes.py``).
A criteria set (bộ tiêu chí) is a versioned tree loaded from ``scoring/data/criteria``:

    CriteriaSet → Part (A/B/C) → Section → [CriterionGroup] → Criterion → Option

Criterion codes are not unique inside a set (some 148 sets reuse them), so a criterion is
identified by its ``position`` ("A.3.2": part, section code, 1-based place in the section).
Criterion and Option carry a denormalised ``criteria_set`` so that later constraints
("an entry's option belongs to the sheet's criteria set") can be checked in one join.

A published set that a scoresheet uses is immutable: change goes through
``scoring.loader.new_version()`` (a draft copy), and the admin edits drafts only.
"""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

POINTS = {"max_digits": 5, "decimal_places": 2}
STAR_MARKS = (3, 4, 5)


class AdminLevel(models.TextChoices):
    """Where a process level sits; the first three values equal ``regions.Level``."""

    COMMUNE = "commune", _("Commune")
    DISTRICT = "district", _("District")
    PROVINCE = "province", _("Province")
    CENTRAL = "central", _("Central (Ministry)")


class Regime(models.Model):
    code = models.CharField(
        _("code"), max_length=80, unique=True,
        help_text=_("The instrument as cited, e.g. “26/2026/QĐ-TTg”."),
    )
    slug = models.CharField(
        _("short code"), max_length=20, unique=True,
        validators=[RegexValidator(r"^[0-9a-z][0-9a-z/-]*$")],
        help_text=_("Short code for URLs and query strings, e.g. “148-1489” or “26/2026”."),
    )
    title = models.CharField(_("title"), max_length=300)
    effective_from = models.DateField(_("in force from"))
    effective_to = models.DateField(
        _("in force until"), null=True, blank=True,
        help_text=_("Last day the regime applies (inclusive); empty while it is current."),
    )
    validity_months = models.PositiveSmallIntegerField(_("validity of a rating (months)"),
                                                       default=36)
    notify_days_before_expiry = models.PositiveSmallIntegerField(
        _("notify the producer (days before expiry)"), null=True, blank=True)
    filing_window_start_days_before = models.PositiveSmallIntegerField(
        _("re-evaluation filing opens (days before expiry)"), null=True, blank=True)
    filing_window_end_days_before = models.PositiveSmallIntegerField(
        _("re-evaluation filing closes (days before expiry)"), null=True, blank=True)
    grace_days_after_expiry = models.PositiveSmallIntegerField(
        _("late filer keeps the certificate (days after expiry)"), null=True, blank=True)
    processing_days = models.PositiveSmallIntegerField(
        _("re-evaluation processing (days)"), null=True, blank=True)
    commune_deadline_working_days = models.PositiveSmallIntegerField(
        _("commune pre-assessment deadline (working days)"), null=True, blank=True)
    revocation_deadline_days = models.PositiveSmallIntegerField(
        _("revocation decided within (days after the conclusion)"), null=True, blank=True,
        help_text=_("26/2026 Điều 8: 15 days from the conclusion that grounds it."))
    written_reevaluation = models.BooleanField(
        _("re-evaluation by written opinions allowed"), default=False,
        help_text=_("A council may decide a re-evaluation by its members' written opinions "
                    "instead of a meeting (26/2026)."))
    part_a_max = models.PositiveSmallIntegerField(_("part A maximum"), default=40)
    part_b_max = models.PositiveSmallIntegerField(_("part B maximum"), default=25)
    part_c_max = models.PositiveSmallIntegerField(_("part C maximum"), default=35)
    legal_basis = models.TextField(
        _("legal basis of its recognition decisions"), blank=True,
        help_text=_("The “Căn cứ …;” line citing this regime on a recognition decision."),
    )
    criteria_from = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("criteria sets of"),
        help_text=_("Use the criteria sets of this regime (an amendment that changed the "
                    "process only)."),
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("regime")
        verbose_name_plural = _("regimes")
        ordering = ["effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F(
                    "effective_from")),
                name="regime_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(filing_window_start_days_before__isnull=True)
                | Q(filing_window_end_days_before__isnull=True)
                | Q(filing_window_start_days_before__gte=models.F(
                    "filing_window_end_days_before")),
                name="regime_filing_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(part_a_max__gt=0) & Q(part_b_max__gt=0) & Q(part_c_max__gt=0),
                name="regime_part_maxima_positive",
            ),
        ]

    def __str__(self):
        return self.code

    @property
    def part_maxima(self):
        return {"A": self.part_a_max, "B": self.part_b_max, "C": self.part_c_max}

    @property
    def criteria_regime(self):
        """The regime whose criteria sets this one scores with."""
        return self.criteria_from if self.criteria_from_id else self

    def is_in_force(self, day):
        return self.effective_from <= day and (self.effective_to is None
                                               or day <= self.effective_to)


class RoundWindow(models.Model):
    """One slot of a regime's round calendar (docs/regimes-and-levels.md): requests received
    by ``receive_by`` (day/month) are finished by ``finish_by`` of the same year — under
    26/2026, by 30/4 → by 30/6 and by 30/10 → by 30/12."""

    regime = models.ForeignKey(Regime, models.CASCADE, related_name="round_windows",
                               verbose_name=_("regime"))
    order = models.PositiveSmallIntegerField(_("order"))
    receive_by_month = models.PositiveSmallIntegerField(
        _("requests received by (month)"), validators=[MinValueValidator(1),
                                                       MaxValueValidator(12)])
    receive_by_day = models.PositiveSmallIntegerField(
        _("requests received by (day)"), validators=[MinValueValidator(1),
                                                     MaxValueValidator(31)])
    finish_by_month = models.PositiveSmallIntegerField(
        _("finished by (month)"), validators=[MinValueValidator(1), MaxValueValidator(12)])
    finish_by_day = models.PositiveSmallIntegerField(
        _("finished by (day)"), validators=[MinValueValidator(1), MaxValueValidator(31)])

    class Meta:
        verbose_name = _("round window")
        verbose_name_plural = _("round calendar")
        ordering = ["regime", "order"]
        constraints = [
            models.UniqueConstraint(fields=["regime", "order"], name="unique_round_window"),
        ]

    def __str__(self):
        return _("received by %(receive)s, finished by %(finish)s") % {
            "receive": f"{self.receive_by_day:02d}/{self.receive_by_month:02d}",
            "finish": f"{self.finish_by_day:02d}/{self.finish_by_month:02d}"}


class ProcessKind(models.TextChoices):
    PRE_ASSESSMENT = "pre_assessment", _("Pre-assessment")
    COUNCIL = "council", _("Council")


class ProcessLevel(models.Model):
    regime = models.ForeignKey(Regime, models.CASCADE, related_name="levels",
                               verbose_name=_("regime"))
    order = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(_("kind"), max_length=20, choices=ProcessKind.choices)
    admin_level = models.CharField(_("administrative level"), max_length=10,
                                   choices=AdminLevel.choices)
    recognises = models.JSONField(
        _("recognises (stars)"), default=list, blank=True,
        help_text=_("Star levels this level's authority recognises, e.g. [3, 4]."),
    )
    forward_from = models.DecimalField(
        _("forward from (points)"), **POINTS, null=True, blank=True,
        help_text=_("A product scoring at least this is sent on to the next level; empty "
                    "when the level forwards every complete dossier or is the last one."),
    )
    forward_min_stars = models.PositiveSmallIntegerField(
        _("forward from (stars after the minimum-star marks)"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("A product reaching the points above is sent on only when its capped "
                    "star is at least this (a star the next level recognises); otherwise "
                    "this level decides on its capped star."),
    )
    decision_symbol = models.CharField(
        _("symbol of its decisions"), max_length=30, default="QĐ-UBND",
        help_text=_("The part after the number on this level's decisions, e.g. “QĐ-UBND”."),
    )

    class Meta:
        verbose_name = _("process level")
        verbose_name_plural = _("process levels")
        ordering = ["regime", "order"]
        constraints = [
            models.UniqueConstraint(fields=["regime", "order"], name="unique_level_order"),
            models.UniqueConstraint(fields=["regime", "admin_level"],
                                    name="unique_level_admin_level"),
        ]

    def __str__(self):
        return f"{self.regime} · {self.order}. {self.get_admin_level_display()}"


class StarBand(models.Model):
    regime = models.ForeignKey(Regime, models.CASCADE, related_name="bands",
                               verbose_name=_("regime"))
    stars = models.PositiveSmallIntegerField(
        _("stars"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    min_score = models.DecimalField(_("minimum score"), **POINTS)

    class Meta:
        verbose_name = _("star band")
        verbose_name_plural = _("star bands")
        ordering = ["regime", "-stars"]
        constraints = [
            models.UniqueConstraint(fields=["regime", "stars"], name="unique_band_stars"),
            models.CheckConstraint(condition=Q(stars__gte=1) & Q(stars__lte=5),
                                   name="band_stars_1_to_5"),
        ]

    def __str__(self):
        return f"{self.regime} · {self.stars}★ ≥ {self.min_score}"


# --- Criteria sets ---------------------------------------------------------------------------


class ProductGroup(models.Model):
    """Nhóm (QĐ 26/2026 Phụ lục I), with its product category (ngành)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    category = models.CharField(_("product category"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("product group")
        verbose_name_plural = _("product groups")
        ordering = ["category", "name"]

    def __str__(self):
        return self.name


class ProductSubgroup(models.Model):
    """Phân nhóm; a criteria set has none where Phụ lục I has none."""

    group = models.ForeignKey(ProductGroup, models.PROTECT, related_name="subgroups",
                              verbose_name=_("group"))
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("product subgroup")
        verbose_name_plural = _("product subgroups")
        ordering = ["group", "name"]
        constraints = [
            models.UniqueConstraint(fields=["group", "name"], name="unique_subgroup_name"),
        ]

    def __str__(self):
        return self.name


class CriteriaSetStatus(models.TextChoices):
    DRAFT = "draft", _("Draft (not scorable)")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class CriteriaSetQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=CriteriaSetStatus.PUBLISHED)

    def scorable_for(self, regime):
        return self.published().filter(regime=regime.criteria_regime)


class CriteriaSet(models.Model):
    regime = models.ForeignKey(Regime, models.PROTECT, related_name="criteria_sets",
                               verbose_name=_("regime"))
    set_no = models.PositiveSmallIntegerField(
        _("set number"), validators=[MinValueValidator(1), MaxValueValidator(26)])
    version = models.PositiveIntegerField(_("version"), default=1)
    status = models.CharField(_("status"), max_length=10, choices=CriteriaSetStatus.choices,
                              default=CriteriaSetStatus.DRAFT)
    name = models.CharField(_("name"), max_length=300)
    slug = models.SlugField(_("slug"), max_length=200)
    group = models.ForeignKey(ProductGroup, models.PROTECT, related_name="criteria_sets",
                              verbose_name=_("product group"))
    subgroup = models.ForeignKey(ProductSubgroup, models.PROTECT, null=True, blank=True,
                                 related_name="criteria_sets",
                                 verbose_name=_("product subgroup"))
    max_score = models.DecimalField(_("maximum score"), **POINTS, default=100)
    source = models.JSONField(_("source"), default=dict, blank=True)
    disqualification = models.TextField(_("disqualification grounds"), blank=True)
    product_code_format = models.TextField(_("product code format"), blank=True)
    star_rule = models.TextField(_("star rule"), blank=True)
    notes = models.JSONField(_("notes"), default=list, blank=True)
    unresolved_reasons = models.JSONField(
        _("unresolved reasons"), default=list, blank=True,
        help_text=_("Why the source could not be validated (ERRATA.md IDs); such a set stays "
                    "a draft and cannot be scored."),
    )
    source_file = models.CharField(_("source file"), max_length=300, blank=True)
    content_hash = models.CharField(
        _("content hash"), max_length=64, blank=True,
        help_text=_("SHA-256 of the loaded file's content; empty for an edited copy."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CriteriaSetQuerySet.as_manager()

    class Meta:
        verbose_name = _("criteria set")
        verbose_name_plural = _("criteria sets")
        ordering = ["regime", "set_no", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["regime", "set_no", "version"],
                                    name="unique_criteria_set_version"),
            models.UniqueConstraint(
                fields=["regime", "set_no"], condition=Q(status="published"),
                name="one_published_criteria_set",
            ),
            models.CheckConstraint(condition=Q(set_no__gte=1) & Q(set_no__lte=26),
                                   name="criteria_set_no_1_to_26"),
        ]

    def __str__(self):
        return f"{self.regime.slug} · {self.set_no:02d} {self.name} (v{self.version})"

    @property
    def is_scorable(self):
        return self.status == CriteriaSetStatus.PUBLISHED

    @property
    def is_editable(self):
        return self.status == CriteriaSetStatus.DRAFT

    def is_in_use(self):
        """True when a scoresheet uses this version (then it must never change)."""
        return self.scoresheets.exists()


class Corrected(models.Model):
    """An element of a criteria-set tree that may carry a correction of the printed text
    (``erratum``: the ERRATA.md ID, what was printed and what is used) or a warning that its
    printed numbers do not add up (unresolved sets only)."""

    erratum = models.TextField(_("erratum"), blank=True)
    data_warning = models.TextField(_("data warning"), blank=True)

    class Meta:
        abstract = True


class Annotated(Corrected):
    """A tree element that may also carry requirement/note rows printed on the sheet."""

    notes = models.JSONField(_("notes"), default=list, blank=True)

    class Meta:
        abstract = True


class Part(Annotated):
    criteria_set = models.ForeignKey(CriteriaSet, models.CASCADE, related_name="parts",
                                     verbose_name=_("criteria set"))
    code = models.CharField(_("code"), max_length=2)
    title = models.CharField(_("title"), max_length=300)
    max = models.DecimalField(_("maximum"), **POINTS, null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("order"))

    class Meta:
        verbose_name = _("part")
        verbose_name_plural = _("parts")
        ordering = ["criteria_set", "order"]
        constraints = [
            models.UniqueConstraint(fields=["criteria_set", "code"], name="unique_part_code"),
        ]

    def __str__(self):
        return self.title


class Section(Annotated):
    criteria_set = models.ForeignKey(CriteriaSet, models.CASCADE, related_name="sections",
                                     verbose_name=_("criteria set"))
    part = models.ForeignKey(Part, models.CASCADE, related_name="sections",
                             verbose_name=_("part"))
    code = models.CharField(_("code"), max_length=10)
    title = models.TextField(_("title"))
    max = models.DecimalField(_("maximum"), **POINTS, null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("order"))

    class Meta:
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ["criteria_set", "order"]
        constraints = [
            models.UniqueConstraint(fields=["criteria_set", "code"],
                                    name="unique_section_code"),
        ]

    def __str__(self):
        return f"{self.code}. {self.title}"


class CriterionGroup(Annotated):
    """A heading row with its own maximum over sub-criteria (tea/coffee sets, e.g. 6.1)."""

    criteria_set = models.ForeignKey(CriteriaSet, models.CASCADE,
                                     related_name="criterion_groups",
                                     verbose_name=_("criteria set"))
    section = models.ForeignKey(Section, models.CASCADE, related_name="criterion_groups",
                                verbose_name=_("section"))
    code = models.CharField(_("code"), max_length=20)
    title = models.TextField(_("title"))
    max = models.DecimalField(_("maximum"), **POINTS, null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("order"))

    class Meta:
        verbose_name = _("criterion group")
        verbose_name_plural = _("criterion groups")
        ordering = ["criteria_set", "section", "order"]
        constraints = [
            models.UniqueConstraint(fields=["section", "code"],
                                    name="unique_criterion_group_code"),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"


class Criterion(Annotated):
    criteria_set = models.ForeignKey(CriteriaSet, models.CASCADE, related_name="criteria",
                                     verbose_name=_("criteria set"))
    section = models.ForeignKey(Section, models.CASCADE, related_name="criteria",
                                verbose_name=_("section"))
    group = models.ForeignKey(CriterionGroup, models.CASCADE, null=True, blank=True,
                              related_name="criteria", verbose_name=_("criterion group"))
    order = models.PositiveSmallIntegerField(_("order"), help_text=_("Place in the whole set."))
    position = models.CharField(
        _("position"), max_length=20,
        help_text=_("Part, section and place in the section, e.g. “A.3.2”; unique in the set."),
    )
    code = models.CharField(_("code"), max_length=20,
                            help_text=_("As printed; not unique in some 148 sets."))
    title = models.TextField(_("title"))
    max = models.DecimalField(_("maximum"), **POINTS, null=True, blank=True)
    min_star = models.PositiveSmallIntegerField(
        _("minimum star (whole criterion)"), null=True, blank=True,
        help_text=_("The criterion must score more than 0 for this star level and above."),
    )
    mandatory_for_stars = models.JSONField(_("mandatory for stars"), default=list, blank=True)
    implicit = models.BooleanField(
        _("implicit"), default=False,
        help_text=_("The section is scored directly; the criterion stands for the section."),
    )
    cases = models.JSONField(_("cases"), default=list, blank=True)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["criteria_set", "order"]
        constraints = [
            models.UniqueConstraint(fields=["criteria_set", "position"],
                                    name="unique_criterion_position"),
            models.UniqueConstraint(fields=["criteria_set", "order"],
                                    name="unique_criterion_order"),
            models.UniqueConstraint(fields=["id", "criteria_set"],
                                    name="criterion_id_criteria_set"),
            models.CheckConstraint(condition=Q(min_star__isnull=True)
                                   | Q(min_star__in=STAR_MARKS),
                                   name="criterion_min_star_3_to_5"),
        ]

    def __str__(self):
        return f"{self.position} ({self.code}) {self.title[:60]}"


class Option(Corrected):
    criteria_set = models.ForeignKey(CriteriaSet, models.CASCADE, related_name="options",
                                     verbose_name=_("criteria set"))
    criterion = models.ForeignKey(Criterion, models.CASCADE, related_name="options",
                                  verbose_name=_("criterion"))
    order = models.PositiveSmallIntegerField(_("order"))
    label = models.TextField(_("label"))
    points = models.DecimalField(
        _("points"), **POINTS, null=True, blank=True,
        help_text=_("Empty only in an unresolved (draft) set where the printed value could "
                    "not be read."),
    )
    points_raw = models.CharField(_("printed points"), max_length=40, blank=True)
    min_star = models.PositiveSmallIntegerField(_("minimum star"), null=True, blank=True)
    case = models.CharField(_("case"), max_length=10, blank=True,
                            help_text=_("Code of the criterion case this option belongs to."))

    class Meta:
        verbose_name = _("option")
        verbose_name_plural = _("options")
        ordering = ["criterion", "order"]
        constraints = [
            models.UniqueConstraint(fields=["criterion", "order"], name="unique_option_order"),
            models.UniqueConstraint(fields=["id", "criterion", "criteria_set"],
                                    name="option_id_criterion_criteria_set"),
            models.CheckConstraint(condition=Q(min_star__isnull=True)
                                   | Q(min_star__in=STAR_MARKS),
                                   name="option_min_star_3_to_5"),
        ]

    def __str__(self):
        return f"{self.label[:60]} ({self.points})"


# --- Scoresheets -----------------------------------------------------------------------------


class SheetState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    REOPENED = "reopened", _("Reopened")


class Scoresheet(models.Model):
    """One council member's sheet for one dossier in one session.

    ``version`` grows with every saved change: autosave sends the version it started from
    and a stale save is refused (no lost update).
    """

    session = models.ForeignKey("councils.EvaluationSession", models.PROTECT,
                                related_name="scoresheets", verbose_name=_("session"))
    dossier = models.ForeignKey("dossiers.Dossier", models.PROTECT, related_name="scoresheets",
                                verbose_name=_("dossier"))
    member = models.ForeignKey("councils.CouncilMember", models.PROTECT,
                               related_name="scoresheets", verbose_name=_("council member"))
    criteria_set = models.ForeignKey(CriteriaSet, models.PROTECT, related_name="scoresheets",
                                     verbose_name=_("criteria set"))
    state = models.CharField(_("state"), max_length=10, choices=SheetState.choices,
                             default=SheetState.DRAFT)
    version = models.PositiveIntegerField(_("version"), default=1)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reopen_reason = models.TextField(_("reason for reopening"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("scoresheet")
        verbose_name_plural = _("scoresheets")
        ordering = ["session", "dossier", "member"]
        constraints = [
            models.UniqueConstraint(fields=["member", "dossier", "session"],
                                    name="one_sheet_per_member_dossier_session"),
            models.UniqueConstraint(fields=["id", "criteria_set"],
                                    name="scoresheet_id_criteria_set"),
        ]

    def __str__(self):
        return f"{self.member} · {self.dossier}"

    @property
    def is_locked(self):
        return self.state == SheetState.SUBMITTED


class ScoreEntry(models.Model):
    """The option a member chose on one criterion (empty = not answered yet).

    The option must belong to the entry's criterion, and both to the sheet's criteria set:
    ``criteria_set`` is repeated here so that PostgreSQL enforces it with composite foreign
    keys (migration ``0004``); the services check it on every database.
    """

    sheet = models.ForeignKey(Scoresheet, models.CASCADE, related_name="entries",
                              verbose_name=_("scoresheet"))
    criteria_set = models.ForeignKey(CriteriaSet, models.PROTECT, related_name="+",
                                     verbose_name=_("criteria set"))
    criterion = models.ForeignKey(Criterion, models.PROTECT, related_name="+",
                                  verbose_name=_("criterion"))
    option = models.ForeignKey(Option, models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("option"))
    note = models.TextField(_("evidence note"), blank=True)

    class Meta:
        verbose_name = _("score entry")
        verbose_name_plural = _("score entries")
        ordering = ["sheet", "criterion__order"]
        constraints = [
            models.UniqueConstraint(fields=["sheet", "criterion"],
                                    name="one_entry_per_criterion"),
        ]

    def __str__(self):
        return f"{self.sheet_id} · {self.criterion_id} → {self.option_id}"
