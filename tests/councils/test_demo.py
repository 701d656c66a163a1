"""The demo councils (``councils.demo.seed_councils``, a step of ``seed_demo``)."""

from decimal import ROUND_HALF_UP, Decimal

import pytest

from councils import models as cm
from councils.models import MemberRole, SessionState
from ocop.demo import DEMO_PASSWORD, seed_demo
from scoring import models as sm
from scoring.models import SheetState
from scoring.services import summarise

pytestmark = pytest.mark.django_db

TABLES = [cm.Council, cm.CouncilMember, cm.EvaluationSession, cm.AgendaItem, cm.Recusal,
          cm.Attendance, cm.ItemResultRecord, cm.GeneratedDocument, sm.Scoresheet,
          sm.ScoreEntry]


def counts():
    return {model.__name__: model.objects.count() for model in TABLES}


@pytest.fixture
def seeded(settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        seed_demo()
    return counts()


def test_seeding_twice_changes_nothing_and_the_accounts_log_in(seeded, client):
    assert seeded["Council"] == 2
    seed_demo()
    assert counts() == seeded
    for username in ("hd.ninhkieu.1", "hd.ninhkieu.7", "hd.cantho.1", "hd.cantho.9"):
        client.post("/login/", {"username": username, "password": DEMO_PASSWORD})
        assert client.session.get("_auth_user_id") == str(
            cm.CouncilMember.objects.get(user__username=username).user_id), username
        client.post("/logout/")
        client.cookies.clear()


def _council(prefix, size):
    council = cm.Council.objects.get(members__user__username=f"{prefix}.1")
    members = list(council.members.select_related("user").order_by("order"))
    assert [m.user.username for m in members] == [f"{prefix}.{i}"
                                                  for i in range(1, size + 1)]
    assert members[0].role == MemberRole.CHAIR
    assert members[1].role == MemberRole.VICE_CHAIR
    assert {m.role for m in members[2:]} == {MemberRole.MEMBER}
    assert all(m.scores and m.organisation for m in members)
    return council


def test_councils_and_their_sessions(seeded):
    check_councils()
    check_closed_session()
    check_open_session()
    check_history_and_decisions()


def check_history_and_decisions():
    """The 148 district session and its decision are dated while 148 and the districts
    were in force; the forwarded product reached the province with its district result;
    the province's closed session waits for the department's decision."""
    import datetime

    from dossiers.decisions import pending_results
    from dossiers.models import Decision, Dossier, JobStatus, Rating
    from ocop.accounts.models import User

    session = cm.EvaluationSession.objects.get(council__members__user__username="hd.ninhkieu.1")
    district = session.council.unit
    assert session.date < datetime.date(2025, 7, 1) <= district.valid_to + datetime.timedelta(
        days=1)
    assert session.round.regime.is_in_force(session.date)
    decision = Decision.objects.get(issuer_unit=district, date__year=2025)  # 2023 has its own
    assert decision.reference == "245/QĐ-UBND" and decision.date <= district.valid_to
    assert decision.job_status == JobStatus.DONE and decision.file and decision.bundle
    outcomes = {item.dossier_id: item.result for item in session.agenda.all()}
    recognised = {pk for pk, r in outcomes.items() if r.outcome == "recognise"}
    assert set(decision.items.values_list("dossier_id", flat=True)) == recognised
    capped = [r for r in outcomes.values() if r.band_stars == 4 and r.stars == 3]
    assert capped and all(r.outcome == "recognise" for r in capped)
    ratings = Rating.objects.filter(decision=decision)
    assert ratings.count() == len(recognised)
    assert all(r.certificate and r.state == "valid" for r in ratings)
    forwarded = [pk for pk, r in outcomes.items() if r.outcome == "forward"]
    assert len(forwarded) == 1
    arrived = Dossier.objects.get(forwarded_from_id=forwarded[0])
    assert arrived.state == "submitted" and arrived.round.level.admin_level == "province"
    assert arrived.files.count() == Dossier.objects.get(pk=forwarded[0]).files.count() > 0
    staff = User.objects.get(username="sonn.cantho")
    waiting = pending_results(staff)
    province_closed = cm.EvaluationSession.objects.get(
        council__members__user__username="hd.cantho.1", state="closed")
    assert {d.pk for d in waiting} >= set(province_closed.agenda.values_list(
        "dossier_id", flat=True))


def check_councils():
    ninh_kieu = _council("hd.ninhkieu", 7)
    can_tho = _council("hd.cantho", 9)
    assert (ninh_kieu.level, ninh_kieu.unit.code) == ("district", "916")
    assert (can_tho.level, can_tho.unit.code) == ("province", "92")
    assert ninh_kieu.sessions.get().round.regime.slug == "148"
    assert {s.round.regime.slug for s in can_tho.sessions.all()} == {"26/2026"}
    assert sorted(s.state for s in can_tho.sessions.all()) == ["closed", "open"]


def check_closed_session():
    """The closed session's results: means of the counted sheets' totals."""
    session = cm.EvaluationSession.objects.get(council__members__user__username="hd.ninhkieu.1")
    assert session.state == SessionState.CLOSED
    items = list(session.agenda.order_by("order"))
    assert len(items) >= 2
    assert session.recusals.count() == 1
    assert session.attendance.filter(present=True).count() == 7
    totals = set()
    for item in items:
        record = item.result
        recused = set(session.recusals.filter(dossier=item.dossier)
                      .values_list("member_id", flat=True))
        sheets = [s for s in sm.Scoresheet.objects.filter(session=session, dossier=item.dossier)
                  if s.member_id not in recused]
        assert all(s.state == SheetState.SUBMITTED for s in sheets)
        assert record.members_counted == len(sheets) == 7 - len(recused)
        sheet_totals = [summarise(s).totals.total for s in sheets]
        mean = (sum(sheet_totals, Decimal(0)) / len(sheet_totals)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert record.mean_total == mean
        assert sorted(Decimal(m["total"]) for m in record.members) == sorted(sheet_totals)
        assert item.dossier.state in ("recognised", "forwarded", "not_recognised")
        totals.add(record.mean_total)
    assert len(totals) == len(items)  # the products got different results
    minutes = session.documents.get()
    assert minutes.status == cm.DocumentStatus.DONE and minutes.file


def check_open_session():
    """The open session: 2 submitted sheets, 5 partly filled drafts."""
    session = cm.EvaluationSession.objects.get(council__members__user__username="hd.cantho.1",
                                               state=SessionState.OPEN)
    sheets = sm.Scoresheet.objects.filter(session=session)
    submitted = sheets.filter(state=SheetState.SUBMITTED)
    drafts = sheets.filter(state=SheetState.DRAFT)
    assert submitted.count() == 2
    assert drafts.count() == 5
    for sheet in drafts:
        answered = sheet.entries.filter(option__isnull=False).count()
        assert 0 < answered < sheet.entries.count()
    assert not session.agenda.filter(closed_at__isnull=False).exists()
