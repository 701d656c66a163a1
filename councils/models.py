"""Councils (Hội đồng đánh giá, phân hạng sản phẩm OCOP), their members, evaluation
sessions with their agenda, and recusals. State changes go through ``councils.services``."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CouncilLevel(models.TextChoices):
    DISTRICT = "district", _("District")
    PROVINCE = "province", _("Province")
    CENTRAL = "central", _("Central (Ministry)")


class PeerVisibility(models.TextChoices):
    NEVER = "never", _("Never")
    AFTER_OWN_SUBMIT = "after_submit", _("After submitting their own sheet")
    AFTER_CLOSE = "after_close", _("After the session closes")


class Council(models.Model):
    name = models.CharField(_("name"), max_length=300)
    level = models.CharField(_("level"), max_length=10, choices=CouncilLevel.choices)
    unit = models.ForeignKey("regions.AdministrativeUnit", models.PROTECT,
                             related_name="councils", verbose_name=_("area"))
    decision_number = models.CharField(_("establishing decision number"), max_length=60)
    decision_date = models.DateField(_("decision date"))
    decision_signer = models.CharField(_("signed by"), max_length=150)
    term_start = models.DateField(_("term from"), null=True, blank=True)
    term_end = models.DateField(_("term until"), null=True, blank=True)
    quorum_ratio = models.DecimalField(_("quorum ratio"), max_digits=3, decimal_places=2,
                                       default=Decimal("0.75"))
    chair_required = models.BooleanField(_("chair must be present"), default=True)
    divergence_threshold = models.DecimalField(_("divergence threshold (points)"),
                                               max_digits=5, decimal_places=2,
                                               default=Decimal("10"))
    peer_visibility = models.CharField(_("members see each other's sheets"), max_length=15,
                                       choices=PeerVisibility.choices,
                                       default=PeerVisibility.AFTER_CLOSE)

    class Meta:
        verbose_name = _("council")
        verbose_name_plural = _("councils")
        ordering = ["-decision_date"]
        constraints = [
            models.CheckConstraint(condition=Q(quorum_ratio__gt=0) & Q(quorum_ratio__lte=1),
                                   name="council_quorum_ratio_range"),
        ]

    def __str__(self):
        return self.name


class MemberRole(models.TextChoices):
    CHAIR = "chair", _("Chair")
    VICE_CHAIR = "vice_chair", _("Vice-chair")
    MEMBER = "member", _("Member")
    SECRETARY = "secretary", _("Secretary")


class CouncilMember(models.Model):
    council = models.ForeignKey(Council, models.CASCADE, related_name="members",
                                verbose_name=_("council"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT,
                             related_name="council_memberships", verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=12, choices=MemberRole.choices,
                            default=MemberRole.MEMBER)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    advisory = models.BooleanField(
        _("advisory team"), default=False,
        help_text=_("Member of the advisory team (tổ tư vấn), who does not score."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("council member")
        verbose_name_plural = _("council members")
        ordering = ["council", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["council", "user"], name="unique_council_member"),
        ]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()})"

    @property
    def scores(self):
        return not self.advisory and self.role != MemberRole.SECRETARY


class SessionState(models.TextChoices):
    PREPARING = "preparing", _("Preparing")
    OPEN = "open", _("Open for scoring")
    MEETING = "meeting", _("In meeting")
    CLOSED = "closed", _("Closed")


#: Session states in which members fill in and submit their sheets ("open for scoring").
SCORING_STATES = (SessionState.OPEN, SessionState.MEETING)


class SessionMode(models.TextChoices):
    MEETING = "meeting", _("Meeting")
    WRITTEN = "written", _("Written opinions (no meeting)")


class EvaluationSession(models.Model):
    council = models.ForeignKey(Council, models.PROTECT, related_name="sessions",
                                verbose_name=_("council"))
    round = models.ForeignKey("dossiers.EvaluationRound", models.PROTECT,
                              related_name="sessions", verbose_name=_("evaluation round"))
    date = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=300, blank=True)
    mode = models.CharField(
        _("how the council decides"), max_length=10, choices=SessionMode.choices,
        default=SessionMode.MEETING,
        help_text=_("Written opinions: re-evaluations only, where the regime allows it "
                    "(26/2026) — members submit the same scoresheets by a deadline."))
    opinions_due = models.DateField(_("written opinions due by"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=SessionState.choices,
                             default=SessionState.PREPARING)
    dossiers = models.ManyToManyField("dossiers.Dossier", through="AgendaItem",
                                      related_name="sessions", verbose_name=_("agenda"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation session")
        verbose_name_plural = _("evaluation sessions")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(mode="meeting") | Q(opinions_due__isnull=False),
                name="written_session_has_deadline"),
        ]

    def __str__(self):
        return _("%(council)s — session of %(date)s") % {
            "council": self.council, "date": self.date.strftime("%d/%m/%Y")}

    @property
    def is_open_for_scoring(self):
        return self.state in SCORING_STATES


class AgendaItem(models.Model):
    session = models.ForeignKey(EvaluationSession, models.CASCADE, related_name="agenda",
                                verbose_name=_("session"))
    dossier = models.ForeignKey("dossiers.Dossier", models.PROTECT,
                                related_name="agenda_items", verbose_name=_("dossier"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["session", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "dossier"], name="unique_agenda_item"),
        ]

    def __str__(self):
        return f"{self.order}. {self.dossier}"


class Recusal(models.Model):
    """A member declares a conflict of interest with a producer: they do not score its
    dossiers in the session and are left out of their results."""

    session = models.ForeignKey(EvaluationSession, models.CASCADE, related_name="recusals",
                                verbose_name=_("session"))
    member = models.ForeignKey(CouncilMember, models.CASCADE, related_name="recusals",
                               verbose_name=_("member"))
    dossier = models.ForeignKey("dossiers.Dossier", models.PROTECT, related_name="recusals",
                                verbose_name=_("dossier"))
    reason = models.TextField(_("reason"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT,
                                    related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("recusal")
        verbose_name_plural = _("recusals")
        constraints = [
            models.UniqueConstraint(fields=["session", "member", "dossier"],
                                    name="unique_recusal"),
        ]

    def __str__(self):
        return f"{self.member} ✕ {self.dossier}"


class Attendance(models.Model):
    """Who was present at the session's meeting; one row per council member, written by
    ``councils.services.start_meeting`` (absent members have ``present=False``)."""

    session = models.ForeignKey(EvaluationSession, models.CASCADE, related_name="attendance",
                                verbose_name=_("session"))
    member = models.ForeignKey(CouncilMember, models.CASCADE, related_name="attendance",
                               verbose_name=_("member"))
    present = models.BooleanField(_("present"), default=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT,
                                    related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["session", "member__order", "member_id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "member"], name="unique_attendance"),
        ]

    def __str__(self):
        return f"{self.member} — {_('present') if self.present else _('absent')}"


class ItemResultRecord(models.Model):
    """The council's result for one agenda item, recorded when the chair closes it
    (``councils.services.close_item``). Numbers are stored as computed by
    ``scoring.rules.evaluate``; ``members`` keeps each counted member's totals so that the
    minutes and exports print exactly what was recorded."""

    item = models.OneToOneField(AgendaItem, models.CASCADE, related_name="result",
                                verbose_name=_("agenda item"))
    members_counted = models.PositiveSmallIntegerField(_("members counted"))
    members = models.JSONField(
        _("counted members"), default=list,
        help_text=_("[{member, name, role, sheet, parts: {A, B, C}, total}] as strings."),
    )
    mean_a = models.DecimalField(_("mean of part A"), max_digits=5, decimal_places=2)
    mean_b = models.DecimalField(_("mean of part B"), max_digits=5, decimal_places=2)
    mean_c = models.DecimalField(_("mean of part C"), max_digits=5, decimal_places=2)
    mean_total = models.DecimalField(_("mean total"), max_digits=5, decimal_places=2)
    band_stars = models.PositiveSmallIntegerField(_("band (stars)"))
    stars = models.PositiveSmallIntegerField(_("stars after the minimum-star marks"))
    cap_reasons = models.JSONField(_("conditions that capped the star"), default=list,
                                   blank=True)
    divergence = models.DecimalField(_("spread of the members' totals"), max_digits=5,
                                     decimal_places=2)
    divergence_threshold = models.DecimalField(_("divergence threshold"), max_digits=5,
                                               decimal_places=2)
    divergence_flagged = models.BooleanField(_("divergence above the threshold"))
    outcome = models.CharField(_("outcome"), max_length=20)
    outcome_stars = models.PositiveSmallIntegerField(_("recognised stars"), null=True,
                                                     blank=True)
    quorum = models.JSONField(_("quorum"), default=dict, blank=True)
    divergence_statement = models.TextField(
        _("statement on the divergence"), blank=True,
        help_text=_("When the spread was above the threshold: the chair's record that the "
                    "council discussed it and the members confirm their scores."))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT,
                                    related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("recorded result")
        verbose_name_plural = _("recorded results")
        ordering = ["item__session", "item__order"]

    def __str__(self):
        return f"{self.item} — {self.mean_total} ({self.stars}★)"

    @property
    def mean_parts(self):
        return {"A": self.mean_a, "B": self.mean_b, "C": self.mean_c}


class DocumentKind(models.TextChoices):
    MINUTES = "minutes", _("Minutes of the council meeting")


class DocumentStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class GeneratedDocument(models.Model):
    """A file built in the background (Celery) for a session, with a status the user can
    watch: queued → running → done, or failed with the reason."""

    session = models.ForeignKey(EvaluationSession, models.CASCADE, related_name="documents",
                                verbose_name=_("session"))
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=DocumentStatus.choices,
                              default=DocumentStatus.QUEUED)
    reason = models.TextField(_("reason of the failure"), blank=True)
    file = models.FileField(_("file"), upload_to="councils/", blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                     blank=True, related_name="+",
                                     verbose_name=_("requested by"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    #: When a worker was last asked (queued, or woken up again by the sweep).
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("generated document")
        verbose_name_plural = _("generated documents")
        ordering = ["session", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["session", "kind"],
                                    name="unique_generated_document"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.session_id} ({self.get_status_display()})"
