"""Scoresheet models and services: one sheet per member/dossier/session, autosave with a
version (no lost update), submit, and every refusal changes nothing. (Reopening a sheet is
the council's: ``councils.services.reopen_sheet``, tests/councils/.)"""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from councils.models import MemberRole, Recusal
from ocop.audit.models import AuditEvent
from scoring import services
from scoring.models import Criterion, Option, ScoreEntry, Scoresheet, SheetState
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(cantho, criteria, make_user):
    chair, member, other = (make_user(f"hd.{i}") for i in range(3))
    round_ = factories.evaluation_round(cantho["ninhkieu"])
    dossier = factories.dossier(round_, state="in_evaluation")
    council = factories.council(cantho["ninhkieu"], [chair, member, other])
    session = factories.session(council, round_, [dossier])
    members = {m.user.username: m for m in council.members.select_related("user")}
    return {"session": session, "dossier": dossier, "council": council,
            "chair": chair, "member": member, "other": other, "members": members}


def open_for(setting, username):
    user = setting[{"hd.0": "chair", "hd.1": "member", "hd.2": "other"}[username]]
    return services.open_sheet(setting["session"], setting["dossier"],
                               setting["members"][username], user)


def first_options(sheet):
    """{criterion id: its best option} for every criterion of the sheet."""
    best = {}
    for option in Option.objects.filter(criteria_set=sheet.criteria_set).order_by("points"):
        best[option.criterion_id] = option
    return best


def fill(sheet, user, choose=None):
    for criterion_id, option in first_options(sheet).items():
        option = choose(criterion_id, option) if choose else option
        sheet = services.save_entry(sheet, user, criterion_id=criterion_id,
                                    option_id=option.pk, version=sheet.version)
    return sheet


def test_open_sheet_creates_one_empty_entry_per_criterion(setting):
    sheet = open_for(setting, "hd.1")
    n_criteria = setting["dossier"].criteria_set.criteria.count()
    assert n_criteria == 32
    assert sheet.entries.count() == n_criteria
    assert not sheet.entries.filter(option__isnull=False).exists()
    assert open_for(setting, "hd.1").pk == sheet.pk  # opening again reuses it
    assert sheet.criteria_set.is_in_use()


def test_database_refuses_a_second_sheet_for_same_member_dossier_session(setting):
    sheet = open_for(setting, "hd.1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Scoresheet.objects.create(session=sheet.session, dossier=sheet.dossier,
                                  member=sheet.member, criteria_set=sheet.criteria_set)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="composite FKs on PostgreSQL")
def test_database_refuses_an_option_of_another_criterion(setting):
    sheet = open_for(setting, "hd.1")
    entry = sheet.entries.order_by("criterion__order").first()
    foreign = Option.objects.filter(criteria_set=sheet.criteria_set).exclude(
        criterion_id=entry.criterion_id).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        ScoreEntry.objects.filter(pk=entry.pk).update(option=foreign)
        connection.check_constraints()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_save_entry_bumps_version_and_stale_version_is_refused(setting):
    sheet = open_for(setting, "hd.1")
    criterion_id, option = next(iter(first_options(sheet).items()))
    start = sheet.version
    sheet = services.save_entry(sheet, setting["member"], criterion_id=criterion_id,
                                option_id=option.pk, note="Có giấy chứng nhận", version=start)
    assert sheet.version == start + 1
    # a second tab still holding the old version is told, and nothing changes
    other = Option.objects.filter(criterion_id=criterion_id).exclude(pk=option.pk).first()
    with pytest.raises(services.StaleSheet) as refused:
        services.save_entry(sheet, setting["member"], criterion_id=criterion_id,
                            option_id=other.pk, version=start)
    assert refused.value.details == {"version": start + 1}
    entry = sheet.entries.get(criterion_id=criterion_id)
    assert (entry.option_id, entry.note) == (option.pk, "Có giấy chứng nhận")


def test_save_entry_refuses_option_of_another_criterion(setting):
    sheet = open_for(setting, "hd.1")
    options = list(first_options(sheet).items())
    (criterion_id, _), (_, foreign) = options[0], options[1]
    with pytest.raises(services.ScoringError) as refused:
        services.save_entry(sheet, setting["member"], criterion_id=criterion_id,
                            option_id=foreign.pk, version=sheet.version)
    assert refused.value.code == "foreign_option"
    assert Scoresheet.objects.get(pk=sheet.pk).version == sheet.version


def test_save_entry_on_someone_elses_sheet_is_refused(setting):
    sheet = open_for(setting, "hd.1")
    criterion_id, option = next(iter(first_options(sheet).items()))
    with pytest.raises(services.ScoringError) as refused:
        services.save_entry(sheet, setting["other"], criterion_id=criterion_id,
                            option_id=option.pk, version=sheet.version)
    assert refused.value.code == "not_owner"
    assert not sheet.entries.filter(option__isnull=False).exists()


def test_submit_with_unanswered_criteria_lists_them(setting):
    sheet = open_for(setting, "hd.1")
    best = list(first_options(sheet).items())
    for criterion_id, option in best[:-2]:
        sheet = services.save_entry(sheet, setting["member"], criterion_id=criterion_id,
                                    option_id=option.pk, version=sheet.version)
    with pytest.raises(services.ScoringError) as refused:
        services.submit_sheet(sheet, setting["member"])
    assert refused.value.code == "unanswered"
    # the two left out, in the order of the scoresheet
    left_out = Criterion.objects.filter(pk__in=[best[-2][0], best[-1][0]]).order_by("order")
    assert refused.value.details["criteria"] == list(left_out.values_list("pk", flat=True))
    assert Scoresheet.objects.get(pk=sheet.pk).state == SheetState.DRAFT


def test_submit_locks_sheet_and_change_after_submit_is_refused(setting):
    sheet = fill(open_for(setting, "hd.1"), setting["member"])
    sheet = services.submit_sheet(sheet, setting["member"])
    assert sheet.state == SheetState.SUBMITTED
    summary = services.summarise(sheet)
    assert summary.totals.total == Decimal("100.00")
    assert summary.band_stars == 5 and summary.cap.stars == 5
    assert AuditEvent.objects.filter(action="scoresheet.submitted",
                                     object_id=str(sheet.pk)).exists()
    criterion_id, option = next(iter(first_options(sheet).items()))
    with pytest.raises(services.ScoringError) as refused:
        services.save_entry(sheet, setting["member"], criterion_id=criterion_id,
                            option_id=None, version=sheet.version)
    assert refused.value.code == "submitted"


def test_recused_member_cannot_open_or_score(setting):
    member = setting["members"]["hd.2"]
    Recusal.objects.create(session=setting["session"], member=member,
                           dossier=setting["dossier"], reason="Người thân của chủ thể",
                           recorded_by=setting["other"])
    with pytest.raises(services.ScoringError) as refused:
        open_for(setting, "hd.2")
    assert refused.value.code == "recused"
    assert not Scoresheet.objects.filter(member=member).exists()


def test_closed_session_refuses_scoring(setting):
    sheet = open_for(setting, "hd.1")
    setting["session"].state = "closed"
    setting["session"].save()
    criterion_id, option = next(iter(first_options(sheet).items()))
    with pytest.raises(services.ScoringError) as refused:
        services.save_entry(sheet, setting["member"], criterion_id=criterion_id,
                            option_id=option.pk, version=sheet.version)
    assert refused.value.code == "session_closed"


def test_summary_caps_star_on_a_starred_criterion(setting):
    """Best option everywhere except the lowest option on one criterion whose better
    option is marked: the band stays high, the cap holds the star back with a reason."""
    sheet = open_for(setting, "hd.1")
    starred = next(
        option for option in Option.objects.filter(
            criteria_set=sheet.criteria_set, min_star__isnull=False).order_by("min_star", "id")
        if Option.objects.filter(criterion_id=option.criterion_id,
                                 points__lt=option.points).exists()
    )
    lowest = Option.objects.filter(criterion_id=starred.criterion_id).order_by("points").first()

    def choose(criterion_id, best):
        return lowest if criterion_id == starred.criterion_id else best

    sheet = fill(sheet, setting["member"], choose)
    summary = services.summarise(sheet)
    best_total = sum(o.points for o in first_options(sheet).values())
    expected_total = best_total - first_options(sheet)[starred.criterion_id].points + lowest.points
    assert summary.totals.total == expected_total
    assert summary.cap.stars == starred.min_star - 1
    assert summary.cap.stars < summary.band_stars
    assert starred.criterion_id in {r.criterion_key for r in summary.cap.reasons}


def test_member_role_secretary_does_not_score(setting, make_user):
    from councils.models import CouncilMember

    secretary_user = make_user("thuky")
    secretary = CouncilMember.objects.create(council=setting["council"], user=secretary_user,
                                             role=MemberRole.SECRETARY)
    with pytest.raises(services.ScoringError) as refused:
        services.open_sheet(setting["session"], setting["dossier"], secretary, secretary_user)
    assert refused.value.code == "not_scoring_member"
