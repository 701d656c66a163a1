"""Scoresheet services: the only way a sheet is created or changed.

Each function checks permission and preconditions, runs in one transaction and writes the
audit event for state changes. A refused action raises :class:`ScoringError` with a message
for the user; nothing is changed then.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ocop.audit.services import record

from . import rules
from .models import Criterion, Option, ScoreEntry, Scoresheet, SheetState
from .queries import star_bands


class ScoringError(Exception):
    """A refused scoring action; ``str(error)`` is the message for the user."""

    def __init__(self, message, *, code="refused", details=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details or {}


class StaleSheet(ScoringError):
    """The sheet changed since the client loaded it (another tab, another device)."""


# --- Reading the criteria tree as a pure spec ---------------------------------------------

_SPEC_CACHE = {}


def sheet_spec(criteria_set):
    """The criteria set as ``rules.SheetSpec`` (criterion key = criterion id, option key =
    option id). Published sets never change, so the spec is cached per set id."""
    key = (criteria_set.pk, criteria_set.updated_at)
    spec = _SPEC_CACHE.get(key)
    if spec is None:
        options = {}
        for option in Option.objects.filter(criteria_set=criteria_set).order_by(
                "criterion_id", "order"):
            options.setdefault(option.criterion_id, []).append(
                rules.OptionSpec(key=option.pk, points=option.points or 0,
                                 min_star=option.min_star, case=option.case or None))
        criteria = [
            rules.CriterionSpec(key=c.pk, part=c.section.part.code,
                                options=tuple(options.get(c.pk, ())), min_star=c.min_star)
            for c in Criterion.objects.filter(criteria_set=criteria_set)
            .select_related("section__part").order_by("order")
        ]
        spec = rules.SheetSpec(criteria=tuple(criteria))
        _SPEC_CACHE[key] = spec
    return spec


def sheet_choices(sheet, entries=None):
    """{criterion id: option id or None} of one sheet."""
    entries = sheet.entries.all() if entries is None else entries
    return {entry.criterion_id: entry.option_id for entry in entries}


@dataclass(frozen=True)
class SheetSummary:
    totals: rules.Totals
    band_stars: int
    cap: rules.CapResult
    unanswered: int


def summarise(sheet, entries=None, bands=None):
    """Totals per part, the band and the capped star this sheet alone would give."""
    spec = sheet_spec(sheet.criteria_set)
    choices = sheet_choices(sheet, entries)
    totals = rules.sheet_totals(spec, choices)
    bands = bands or star_bands(sheet.criteria_set.regime_id)
    band_stars = rules.band(totals.total, bands)
    return SheetSummary(
        totals=totals,
        band_stars=band_stars,
        cap=rules.cap(spec, [choices], band_stars),
        unanswered=sum(1 for option in choices.values() if option is None),
    )


# --- Permission and preconditions ------------------------------------------------------------


def _check_can_score(sheet_or_parts, user):
    session, dossier, member = sheet_or_parts
    if member.user_id != user.pk:
        raise ScoringError(_("This scoresheet belongs to another council member."),
                           code="not_owner")
    if not member.scores:
        raise ScoringError(_("Advisory-team members and the secretary do not score."),
                           code="not_scoring_member")
    if not session.is_open_for_scoring:
        raise ScoringError(_("The session is not open for scoring."), code="session_closed")
    due = getattr(session, "opinions_due", None)
    if getattr(session, "mode", "") == "written" and due and timezone.localdate() > due:
        # written opinions are sent by their deadline (docs/councils.md)
        raise ScoringError(_("The written opinions were due by %(date)s; the scoresheet can "
                             "no longer be changed.") % {"date": due.strftime("%d/%m/%Y")},
                           code="opinions_closed")
    item = session.agenda.filter(dossier=dossier).first()
    if item is None:
        raise ScoringError(_("This dossier is not on the session's agenda."),
                           code="not_on_agenda")
    if item.closed_at is not None:
        raise ScoringError(_("Scoring of this product has been closed by the chair."),
                           code="item_closed")
    if session.recusals.filter(member=member, dossier=dossier).exists():
        raise ScoringError(
            _("You have declared a conflict of interest with this producer and cannot "
              "score this dossier."), code="recused")


def open_sheet(session, dossier, member, user):
    """The member's sheet for this dossier in this session, created with one empty entry
    per criterion on first opening."""
    _check_can_score((session, dossier, member), user)
    if member.council_id != session.council_id:
        raise ScoringError(_("You are not a member of this session's council."),
                           code="not_member")
    criteria_set = dossier.criteria_set
    if not criteria_set.is_scorable:
        raise ScoringError(_("The dossier's criteria set is not published; it cannot be "
                             "scored."), code="set_not_scorable")
    with transaction.atomic():
        sheet, created = Scoresheet.objects.get_or_create(
            session=session, dossier=dossier, member=member,
            defaults={"criteria_set": criteria_set},
        )
        if created:
            ScoreEntry.objects.bulk_create(
                ScoreEntry(sheet=sheet, criteria_set=criteria_set, criterion_id=pk)
                for pk in Criterion.objects.filter(criteria_set=criteria_set)
                .order_by("order").values_list("pk", flat=True)
            )
            record("scoresheet.opened", sheet, actor=user)
    return sheet


def _locked_sheet(sheet_id):
    # lock the sheet row only: the joined session/dossier/member rows are shared by every
    # member of the session, and locking them would queue all autosaves behind each other
    return Scoresheet.objects.select_for_update(of=("self",)).select_related(
        "session", "dossier", "member", "criteria_set").get(pk=sheet_id)


def save_entry(sheet, user, *, criterion_id, option_id, note=None, version):
    """Autosave one criterion's choice (and note). ``version`` is the sheet version the
    client last saw; a stale one raises :class:`StaleSheet` and changes nothing."""
    with transaction.atomic():
        sheet = _locked_sheet(sheet.pk)
        _check_can_score((sheet.session, sheet.dossier, sheet.member), user)
        if sheet.is_locked:
            raise ScoringError(_("The scoresheet has been submitted and can no longer be "
                                 "changed."), code="submitted")
        if int(version) != sheet.version:
            raise StaleSheet(
                _("This scoresheet was changed elsewhere (another tab or device). The "
                  "current values are shown; please check them and choose again."),
                code="stale", details={"version": sheet.version})
        entry = sheet.entries.filter(criterion_id=criterion_id).first()
        if entry is None:
            raise ScoringError(_("This criterion is not part of the scoresheet."),
                               code="unknown_criterion")
        if option_id is not None and not Option.objects.filter(
                pk=option_id, criterion_id=criterion_id,
                criteria_set_id=sheet.criteria_set_id).exists():
            raise ScoringError(_("The chosen option does not belong to this criterion."),
                               code="foreign_option")
        entry.option_id = option_id
        if note is not None:
            entry.note = note
        entry.save(update_fields=["option", "note"])
        sheet.version += 1
        sheet.save(update_fields=["version", "updated_at"])
    return sheet


def unanswered_criteria(sheet):
    return list(Criterion.objects.filter(
        pk__in=sheet.entries.filter(option__isnull=True).values("criterion_id")
    ).order_by("order"))


def submit_sheet(sheet, user):
    """Lock the sheet. Refused while any criterion is unanswered (they are listed)."""
    with transaction.atomic():
        sheet = _locked_sheet(sheet.pk)
        _check_can_score((sheet.session, sheet.dossier, sheet.member), user)
        if sheet.is_locked:
            raise ScoringError(_("The scoresheet has already been submitted."),
                               code="submitted")
        missing = unanswered_criteria(sheet)
        if missing:
            raise ScoringError(
                _("Please answer every criterion before submitting. Unanswered: %(list)s")
                % {"list": ", ".join(c.code for c in missing)},
                code="unanswered", details={"criteria": [c.pk for c in missing]})
        before = {"state": sheet.state}
        sheet.state = SheetState.SUBMITTED
        sheet.submitted_at = timezone.now()
        sheet.version += 1
        sheet.save(update_fields=["state", "submitted_at", "version", "updated_at"])
        record("scoresheet.submitted", sheet, actor=user, before=before,
               after={"state": sheet.state, "total": str(summarise(sheet).totals.total)})
    return sheet
