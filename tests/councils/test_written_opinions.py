"""Written opinions without a meeting (26/2026 re-evaluations, docs/councils.md): created
only where the regime allows it and with a deadline; re-evaluation dossiers only; no
meeting, attendance or quorum — items close once every scoring member has submitted or
after the deadline, by the chair or the secretary; sheets are not changed after the
deadline; the minutes say "lấy ý kiến bằng văn bản". Dates are computed by hand."""

import datetime

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from councils import rules, services
from councils.minutes import minutes_context
from councils.models import (
    EvaluationSession,
    ItemResultRecord,
    SessionMode,
    SessionState,
)
from dossiers.models import Dossier, DossierState, RegistrationType
from ocop.audit.models import AuditEvent
from scoring.services import ScoringError
from tests import factories
from tests.councils import build, pick, score

pytestmark = pytest.mark.django_db

D = datetime.date


def on(monkeypatch, day):
    monkeypatch.setattr(timezone, "localdate", lambda *args: day)


@pytest.fixture
def world(cantho, criteria, make_user, monkeypatch):
    """A provincial 26/2026 council of three scoring members and a secretary; one written
    session (sent 01/12/2026, opinions due 10/12/2026) with two re-evaluation dossiers."""
    on(monkeypatch, D(2026, 12, 1))
    w = build(cantho, make_user, n_members=3, regime="26/2026", admin_level="province",
              unit="province", set_no=1, n_dossiers=2)
    Dossier.objects.filter(pk__in=[d.pk for d in w.dossiers]).update(
        registration_type=RegistrationType.REEVALUATION)
    EvaluationSession.objects.filter(pk=w.session.pk).update(
        mode=SessionMode.WRITTEN, date=D(2026, 12, 1), opinions_due=D(2026, 12, 10))
    w.session.refresh_from_db()
    # the 26/2026 calendar: received by 30/10, finished by 30/12
    type(w.round).objects.filter(pk=w.round.pk).update(intake_deadline=D(2026, 10, 30))
    w.round.refresh_from_db()
    w.chosen = pick(w.dossier.criteria_set, 80, stars=4)
    return w


def rows():
    return (EvaluationSession.objects.count(), AuditEvent.objects.count())


# --- creating the session --------------------------------------------------------------------


def test_a_written_session_is_created_under_26_2026_with_its_deadline(world):
    session = services.create_session(world.staff, council=world.council, round=world.round,
                                      date=D(2026, 12, 1), mode="written",
                                      opinions_due=D(2026, 12, 10))
    assert (session.mode, session.opinions_due) == ("written", D(2026, 12, 10))
    event = AuditEvent.objects.filter(action="session.created").latest("pk")
    assert event.after["mode"] == "written" and event.after["opinions_due"] == "2026-12-10"


@pytest.mark.parametrize(("due", "field"), [(None, "opinions_due"),
                                            (D(2026, 11, 30), "opinions_due")])
def test_a_written_session_needs_a_deadline_not_before_its_date(world, due, field):
    before = rows()
    with pytest.raises(services.CouncilError) as refused:
        services.create_session(world.staff, council=world.council, round=world.round,
                                date=D(2026, 12, 1), mode="written", opinions_due=due)
    assert field in refused.value.details["fields"]
    assert rows() == before


def test_written_opinions_are_refused_under_148(cantho, criteria, make_user, monkeypatch):
    on(monkeypatch, D(2025, 3, 1))
    w = build(cantho, make_user, prefix="o")  # a 148 district council
    before = rows()
    with pytest.raises(services.CouncilError) as refused:
        services.create_session(w.staff, council=w.council, round=w.round,
                                date=D(2025, 3, 10), mode="written",
                                opinions_due=D(2025, 3, 20))
    assert refused.value.code == "written_not_allowed"
    assert "148/QĐ-TTg" in refused.value.message
    assert rows() == before


def test_the_agenda_of_a_written_session_takes_reevaluations_only(world):
    first = factories.dossier(world.round, set_no=1, state=DossierState.PRE_ASSESSED,
                              product_name="Bánh pía lần đầu")
    upgrade = factories.dossier(world.round, set_no=1, state=DossierState.PRE_ASSESSED,
                                registration_type=RegistrationType.UPGRADE)
    again = factories.dossier(world.round, set_no=1, state=DossierState.PRE_ASSESSED,
                              registration_type=RegistrationType.REEVALUATION)
    session = services.create_session(world.staff, council=world.council, round=world.round,
                                      date=D(2026, 12, 1), mode="written",
                                      opinions_due=D(2026, 12, 10))
    before = AuditEvent.objects.count()
    with pytest.raises(services.CouncilError) as refused:
        services.set_agenda(world.staff, session, [again, first, upgrade])
    assert refused.value.code == "not_reevaluation"
    assert "Bánh pía lần đầu" in refused.value.message
    assert refused.value.details["dossiers"] == [first.pk, upgrade.pk]
    assert not session.agenda.exists() and AuditEvent.objects.count() == before
    assert Dossier.objects.get(pk=again.pk).state == DossierState.PRE_ASSESSED
    services.set_agenda(world.staff, session, [again])
    assert Dossier.objects.get(pk=again.pk).state == DossierState.IN_EVALUATION


# --- no meeting ------------------------------------------------------------------------------


def test_a_written_session_has_no_meeting_and_no_attendance(world):
    with pytest.raises(services.CouncilError) as refused:
        services.start_meeting(world.staff, world.session, present=world.members)
    assert refused.value.code == "written"
    assert EvaluationSession.objects.get(pk=world.session.pk).state == SessionState.OPEN
    assert not world.session.attendance.exists()


def test_items_close_without_quorum_once_every_member_has_submitted(world):
    for member in world.members:
        score(world.session, world.dossier, member, world.chosen)
    # no attendance recorded, before the deadline: the secretary closes it
    item = services.close_item(world.secretary.user, world.session, world.dossier)
    record = ItemResultRecord.objects.get(item=item)
    assert record.members_counted == 3
    assert record.quorum["by_meeting"] is False


def test_before_the_deadline_a_missing_opinion_blocks_closing(world, monkeypatch):
    for member in world.members[:2]:
        score(world.session, world.dossier, member, world.chosen)
    on(monkeypatch, D(2026, 12, 10))  # the deadline's own day
    with pytest.raises(services.CouncilError) as refused:
        services.close_item(world.chair.user, world.session, world.dossier)
    assert refused.value.code == "opinions_pending"
    assert "10/12/2026" in refused.value.message
    assert world.members[2].user.full_name in refused.value.message
    assert not ItemResultRecord.objects.exists()


def test_after_the_deadline_the_submitted_opinions_decide(world, monkeypatch):
    for member in world.members[:2]:
        score(world.session, world.dossier, member, world.chosen)
    late = world.members[2]
    score(world.session, world.dossier, late, world.chosen, submit=False)  # a draft
    on(monkeypatch, D(2026, 12, 11))
    with pytest.raises(ScoringError) as refused:  # too late to submit
        score(world.session, world.dossiers[1], late, world.chosen)
    assert refused.value.code == "opinions_closed"
    item = services.close_item(world.chair.user, world.session, world.dossier)
    assert ItemResultRecord.objects.get(item=item).members_counted == 2


def test_a_member_cannot_close_and_the_session_closes_without_a_meeting(world, monkeypatch):
    for dossier in world.dossiers:
        for member in world.members:
            score(world.session, dossier, member, world.chosen)
    with pytest.raises(services.CouncilError) as refused:
        services.close_item(world.members[1].user, world.session, world.dossier)
    assert refused.value.code == "permission"
    for dossier in world.dossiers:
        services.close_item(world.chair.user, world.session, dossier)
    session = services.close_session(world.secretary.user, world.session)
    assert session.state == SessionState.CLOSED
    assert all(d.state != DossierState.IN_EVALUATION
               for d in Dossier.objects.filter(pk__in=[d.pk for d in world.dossiers]))


def test_meeting_sessions_are_unchanged(cantho, criteria, make_user):
    w = build(cantho, make_user, prefix="q")
    assert rules.check(w.secretary.user, "close_item", w.session).code == "permission"
    assert rules.check(w.chair.user, "close_item", w.session).code == "state"  # no meeting


def test_the_minutes_say_written_opinions_instead_of_a_meeting(world):
    for member in world.members[:2]:
        score(world.session, world.dossier, member, world.chosen)
    ctx = minutes_context(world.session)
    assert ctx["written"] and ctx["opinions_due"] == "10/12/2026"
    html = render_to_string("councils/minutes.html", ctx)
    assert "lấy ý kiến bằng văn bản" in html
    assert "hạn gửi ý kiến ngày 10/12/2026" in html
    assert "Thành viên gửi ý kiến bằng văn bản (2 người)" in html
    assert "vắng mặt" not in html and "thông qua tại phiên họp" not in html
    assert "đủ điều kiện theo Quy chế" not in html


def test_the_api_shows_the_mode_and_the_deadline(world):
    from tests.dossiers.test_api_recognition import client_for

    response = client_for(world.staff).get(f"/api/v1/sessions/{world.session.pk}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mode"] == "written" and body["opinions_due"] == "2026-12-10"
