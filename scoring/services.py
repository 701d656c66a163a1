"""Scoresheet services: the only way a sheet is created or changed.

Each function checks permission and preconditions, runs in one transaction and writes the
audit event for state changes. A refused action raises :class:`ScoringError` with a message
for the user; nothing is changed then.
"""

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ocop import rows
from ocop.audit.services import record

from . import rules
from .models import CriteriaSet, Criterion, Option, ScoreEntry, Scoresheet, SheetState
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


def _check_can_score(sheet_or_parts, user, facts=None):
    """Refuse unless ``user`` may score now. ``facts``: the agenda item's and the
    recusal's answers already read with the locked sheet (:func:`_locked_sheet`)."""
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
    if facts is None:
        item = session.agenda.filter(dossier=dossier).first()
        facts = {"on_agenda": item is not None,
                 "item_closed": item is not None and item.closed_at is not None,
                 "recused": None}
    if not facts["on_agenda"]:
        raise ScoringError(_("This dossier is not on the session's agenda."),
                           code="not_on_agenda")
    if facts["item_closed"]:
        raise ScoringError(_("Scoring of this product has been closed by the chair."),
                           code="item_closed")
    recused = facts["recused"]
    if recused is None:
        recused = session.recusals.filter(member=member, dossier=dossier).exists()
    if recused:
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


def _for_update():
    features = connection.features
    if features.has_select_for_update_of:
        return "\n    FOR UPDATE OF sh"
    return "\n    FOR UPDATE" if features.has_select_for_update else ""


def _locked_statement():
    # the session, dossier and member models of the layers above, reached through the
    # sheet's relations (scoring imports neither councils nor dossiers)
    session_model = Scoresheet._meta.get_field("session").related_model
    agenda = session_model._meta.get_field("agenda").related_model._meta.db_table
    recusals = session_model._meta.get_field("recusals").related_model._meta.db_table
    return rows.Statement(
        "locked_sheet",
        [("sh", Scoresheet), ("s", session_model),
         ("d", Scoresheet._meta.get_field("dossier").related_model),
         ("m", Scoresheet._meta.get_field("member").related_model), ("cs", CriteriaSet)],
        [f"EXISTS (SELECT 1 FROM {agenda} i WHERE i.session_id = sh.session_id"
         " AND i.dossier_id = sh.dossier_id)",
         f"EXISTS (SELECT 1 FROM {agenda} i WHERE i.session_id = sh.session_id"
         " AND i.dossier_id = sh.dossier_id AND i.closed_at IS NOT NULL)",
         f"EXISTS (SELECT 1 FROM {recusals} r WHERE r.session_id = sh.session_id"
         " AND r.member_id = sh.member_id AND r.dossier_id = sh.dossier_id)",
         "(SELECT e.id FROM scoring_scoreentry e WHERE e.sheet_id = sh.id"
         " AND e.criterion_id = %(criterion)s)",
         "(%(option)s IS NULL OR EXISTS (SELECT 1 FROM scoring_option o WHERE o.id = %(option)s"
         " AND o.criterion_id = %(criterion)s AND o.criteria_set_id = sh.criteria_set_id))"],
        f"""FROM scoring_scoresheet sh
    JOIN {session_model._meta.db_table} s ON s.id = sh.session_id
    JOIN {Scoresheet._meta.get_field("dossier").related_model._meta.db_table} d
      ON d.id = sh.dossier_id
    JOIN {Scoresheet._meta.get_field("member").related_model._meta.db_table} m
      ON m.id = sh.member_id
    JOIN scoring_criteriaset cs ON cs.id = sh.criteria_set_id
    WHERE sh.id = %(sheet)s""" + _for_update(),
        {"sheet": "bigint", "criterion": "bigint", "option": "bigint"})


def _locked_sheet(sheet_id, criterion_id=None, option_id=None):
    """The sheet locked for the transaction with its session, dossier, member and set, in
    one query (a prepared statement, ``ocop.rows``) that also asks what the rules need:
    whether its dossier is on the session's agenda (``on_agenda``) and closed there
    (``item_closed``), whether its member recused themselves (``recused``) and, for a
    change of ``criterion_id``, the entry to update (``entry_id``) and whether
    ``option_id`` is one of that criterion's options (``option_ok``)."""
    # lock the sheet row only: the joined session/dossier/member rows are shared by every
    # member of the session, and locking them would queue all autosaves behind each other
    found = rows.statement("locked_sheet", _locked_statement).run(
        {"sheet": sheet_id, "criterion": criterion_id, "option": option_id})
    if found is None:
        raise Scoresheet.DoesNotExist("Scoresheet matching query does not exist.")
    tables, (on_agenda, item_closed, recused, entry_id, option_ok) = found
    sheet = tables["sh"]
    sheet.session, sheet.dossier, sheet.member = tables["s"], tables["d"], tables["m"]
    sheet.criteria_set = tables["cs"]
    sheet.on_agenda, sheet.item_closed, sheet.recused = on_agenda, item_closed, recused
    sheet.entry_id, sheet.option_ok = entry_id, option_ok
    return sheet


def _facts(sheet):
    return {"on_agenda": sheet.on_agenda, "item_closed": sheet.item_closed,
            "recused": sheet.recused}


def save_entry(sheet, user, *, criterion_id, option_id, note=None, version):
    """Autosave one criterion's choice (and note). ``version`` is the sheet version the
    client last saw; a stale one raises :class:`StaleSheet` and changes nothing.

    Queries: the locked sheet asks, besides the rules' questions, for the criterion's
    entry and whether the option belongs to it; then the entry and the sheet are
    updated."""
    with transaction.atomic():
        sheet = _locked_sheet(sheet.pk, criterion_id, option_id)
        _check_can_score((sheet.session, sheet.dossier, sheet.member), user, _facts(sheet))
        if sheet.is_locked:
            raise ScoringError(_("The scoresheet has been submitted and can no longer be "
                                 "changed."), code="submitted")
        if int(version) != sheet.version:
            raise StaleSheet(
                _("This scoresheet was changed elsewhere (another tab or device). The "
                  "current values are shown; please check them and choose again."),
                code="stale", details={"version": sheet.version})
        if sheet.entry_id is None:
            raise ScoringError(_("This criterion is not part of the scoresheet."),
                               code="unknown_criterion")
        if not sheet.option_ok:
            raise ScoringError(_("The chosen option does not belong to this criterion."),
                               code="foreign_option")
        ScoreEntry.objects.filter(pk=sheet.entry_id).update(
            option_id=option_id, **({} if note is None else {"note": note}))
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
        _check_can_score((sheet.session, sheet.dossier, sheet.member), user, _facts(sheet))
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
