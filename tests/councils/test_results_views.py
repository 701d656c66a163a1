"""Results pages (per session, per dossier) and downloads (minutes PDF with its status row,
Excel export): what each user sees before and after the close, and who may download."""

import io

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from councils import services
from councils.models import DocumentKind, DocumentStatus, GeneratedDocument, PeerVisibility
from ocop.accounts.models import Role
from tests import factories
from tests.councils import build, by_hand, meet, pick, score

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client(headers={"accept-language": "en"})


def login(client, user):
    client.force_login(user, backend="ocop.accounts.backends.UserWithRolesBackend")
    return client


def url(name, *args):
    return reverse(f"councils:{name}", args=args)


def text(response):
    return response.content.decode()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def scored(cantho, make_user, *, close=False, peer_visibility=PeerVisibility.AFTER_CLOSE,
           targets=(82, 76, 73), prefix="m", meeting=False):
    """A council of three scoring members (+ secretary) whose sheets are submitted; the
    meeting started (everybody present) when ``meeting`` or ``close``; the item and the
    session closed by the chair when ``close``."""
    world = build(cantho, make_user, n_members=3, peer_visibility=peer_visibility,
                  prefix=prefix)
    cs = world.dossier.criteria_set
    world.extra["chosen"] = [pick(cs, t, stars=4, reverse=bool(i % 2))
                             for i, t in enumerate(targets)]
    for member, choice in zip(world.members, world.extra["chosen"], strict=True):
        score(world.session, world.dossier, member, choice)
    if meeting or close:
        meet(world)
    if close:
        services.close_item(world.chair.user, world.session, world.dossier)
        services.close_session(world.chair.user, world.session)
        world.session.refresh_from_db()
    return world


@pytest.fixture
def outsider(cantho, make_user, criteria):
    user = make_user("ngoai", Role.LOCAL_OFFICER, cantho["phongdien"])
    round_ = factories.evaluation_round(cantho["phongdien"])
    factories.session(factories.council(cantho["phongdien"], [user]), round_,
                      [factories.dossier(round_, state="in_evaluation")])
    return user


# --- results pages -----------------------------------------------------------------------------


def test_session_results_after_close_show_every_product_to_members_and_staff(
        client, cantho, criteria, make_user):
    world = scored(cantho, make_user, close=True)
    product = world.dossier.product.name

    for user in (world.members[1].user, world.staff, world.secretary.user):
        html = text(login(client, user).get(url("session-results", world.session.pk)))
        assert product in html
        assert "77.00" in html  # (82 + 76 + 73) / 3
        assert "4 stars" in html
        assert "Forwarded to the next level" in html
        assert "provisional" not in html


def test_dossier_result_after_close_lists_each_members_total(
        client, cantho, criteria, make_user):
    world = scored(cantho, make_user, close=True)
    cs = world.dossier.criteria_set

    html = text(login(client, world.members[2].user).get(
        url("dossier-result", world.session.pk, world.dossier.pk)))

    assert "Each member's score" in html
    for member, choice in zip(world.members, world.extra["chosen"], strict=True):
        parts, total = by_hand(cs, choice)
        row = html.split(f'<tr data-member="{member.pk}">')[1].split("</tr>")[0]
        assert member.user.full_name in row
        assert f'<td class="num" data-field="member-total">{total:.2f}</td>' in row
        assert f'<td class="num">{parts["A"]:.2f}</td>' in row
    assert 'data-field="members-counted">3<' in html


def test_member_never_sees_others_totals_when_the_council_says_never(
        client, cantho, criteria, make_user):
    world = scored(cantho, make_user, close=True, peer_visibility=PeerVisibility.NEVER)

    own = text(login(client, world.members[1].user).get(
        url("dossier-result", world.session.pk, world.dossier.pk)))
    staff = text(login(client, world.staff).get(
        url("dossier-result", world.session.pk, world.dossier.pk)))

    assert f'<tr data-member="{world.members[1].pk}">' in own
    assert f'<tr data-member="{world.members[0].pk}">' not in own
    assert f'<tr data-member="{world.members[2].pk}">' not in own
    assert "77.00" in own  # the aggregates are public to the council after the close
    for member in world.members:
        assert f'<tr data-member="{member.pk}">' in staff


def test_results_before_close_are_hidden_from_members_and_staff(
        client, cantho, criteria, make_user):
    # in the meeting, every present member has submitted: the secretary sees the aggregates
    world = scored(cantho, make_user, meeting=True)

    member = login(client, world.members[1].user).get(url("session-results",
                                                          world.session.pk))
    staff = text(login(client, world.staff).get(url("session-results", world.session.pk)))
    secretary = text(login(client, world.secretary.user).get(
        url("session-results", world.session.pk)))

    assert member.status_code == 403
    assert "77.00" not in text(member)
    assert "Confidential until the session is closed." in staff and "77.00" not in staff
    assert "77.00" in secretary and "provisional" in secretary
    assert "Each member's score" not in secretary
    staff_item = text(login(client, world.staff).get(
        url("dossier-result", world.session.pk, world.dossier.pk)))
    assert "Each member's score" not in staff_item
    assert not any(f"{t}.00" in staff_item for t in (77, 82, 76, 73))


# --- minutes -----------------------------------------------------------------------------------


def test_closing_the_session_queues_the_minutes_and_shows_the_status_row(
        client, cantho, criteria, make_user):
    world = scored(cantho, make_user, close=True)

    html = text(login(client, world.staff).get(url("session-results", world.session.pk)))

    doc = GeneratedDocument.objects.get(session=world.session, kind=DocumentKind.MINUTES)
    assert doc.status == DocumentStatus.QUEUED
    assert 'data-status="queued"' in html and "Queued" in html
    assert f'hx-get="{url("minutes-status", world.session.pk)}" hx-trigger="every 3s"' in html
    assert "Download the minutes" not in html
    assert client.get(url("minutes-download", world.session.pk)).status_code == 404


def test_failed_minutes_show_the_reason_and_staff_can_regenerate(
        client, cantho, criteria, make_user):
    world = scored(cantho, make_user, close=True)
    GeneratedDocument.objects.filter(session=world.session).update(
        status=DocumentStatus.FAILED, reason="Không tìm thấy phông chữ")
    login(client, world.staff)

    html = text(client.get(url("session-results", world.session.pk)))
    assert 'data-status="failed"' in html
    assert "Failed: Không tìm thấy phông chữ" in html
    assert "Regenerate" in html
    response = client.post(url("minutes-regenerate", world.session.pk), follow=True)

    doc = GeneratedDocument.objects.get(session=world.session)
    assert (doc.status, doc.reason, doc.requested_by) == (DocumentStatus.QUEUED, "",
                                                          world.staff)
    assert "The minutes are being generated again." in text(response)


def test_member_cannot_regenerate_the_minutes(client, cantho, criteria, make_user):
    world = scored(cantho, make_user, close=True)
    GeneratedDocument.objects.filter(session=world.session).update(
        status=DocumentStatus.FAILED, reason="x")
    login(client, world.members[1].user)

    assert "Regenerate" not in text(client.get(url("session-results", world.session.pk)))
    assert client.post(url("minutes-regenerate", world.session.pk)).status_code == 403
    assert GeneratedDocument.objects.get(session=world.session).status == DocumentStatus.FAILED


def test_done_minutes_are_downloaded_through_the_permission_checked_view(
        client, cantho, criteria, make_user, media, outsider):
    world = scored(cantho, make_user, close=True)
    doc = GeneratedDocument.objects.get(session=world.session)
    doc.file.save("minutes/bien-ban.pdf", ContentFile(b"%PDF-1.7 bien ban"), save=False)
    doc.status = DocumentStatus.DONE
    doc.save()

    html = text(login(client, world.members[1].user).get(
        url("session-results", world.session.pk)))
    response = client.get(url("minutes-download", world.session.pk))

    assert 'data-status="done"' in html and "Download the minutes (PDF)" in html
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"%PDF-1.7 bien ban"
    assert login(client, outsider).get(
        url("minutes-download", world.session.pk)).status_code == 404


def test_minutes_are_built_by_the_task_after_the_close(
        client, cantho, criteria, make_user, media, django_capture_on_commit_callbacks):
    world = scored(cantho, make_user, meeting=True)
    services.close_item(world.chair.user, world.session, world.dossier)
    with django_capture_on_commit_callbacks(execute=True):
        services.close_session(world.chair.user, world.session)

    login(client, world.staff)
    status = text(client.get(url("minutes-status", world.session.pk)))
    response = client.get(url("minutes-download", world.session.pk))

    assert 'data-status="done"' in status
    assert "hx-trigger" not in status  # done: no more polling
    assert b"".join(response.streaming_content).startswith(b"%PDF")


# --- Excel export ------------------------------------------------------------------------------


def test_excel_export_after_close_for_staff(client, cantho, criteria, make_user):
    world = scored(cantho, make_user, close=True)
    login(client, world.staff)

    html = text(client.get(url("session-results", world.session.pk)))
    response = client.get(url("session-export", world.session.pk))

    assert url("session-export", world.session.pk) in html
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert ".xlsx" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    cells = {str(c.value) for ws in workbook.worksheets for row in ws.iter_rows()
             for c in row if c.value is not None}
    assert world.dossier.product.name in cells


def test_excel_export_refused_before_close_and_to_members_who_may_not_see_all(
        client, cantho, criteria, make_user, outsider):
    open_world = scored(cantho, make_user, prefix="o")
    never = scored(cantho, make_user, close=True, peer_visibility=PeerVisibility.NEVER,
                   prefix="n")

    assert login(client, open_world.chair.user).get(
        url("session-export", open_world.session.pk)).status_code == 403
    assert login(client, open_world.staff).get(
        url("session-export", open_world.session.pk)).status_code == 403
    refused = login(client, never.members[1].user).get(url("session-export", never.session.pk))
    assert refused.status_code == 403
    assert "Excel export of the scores" not in text(
        client.get(url("session-results", never.session.pk)))
    assert login(client, outsider).get(
        url("session-export", never.session.pk)).status_code == 404
