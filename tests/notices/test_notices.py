"""Notifications (ocop.notices): pages, API, rules and the e-mail job, with the owner, a
colleague (same area, other role) and an outsider (other area, whose notices exist)."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from ocop.accounts.models import Role
from ocop.audit.models import AuditEvent
from ocop.notices import mailer, rules
from ocop.notices.models import Notification
from ocop.notices.services import notify
from ocop.regions.models import AdministrativeUnit, Level


@pytest.fixture(autouse=True)
def english(client):
    """The messages are asserted in their English source (the Vietnamese catalog is the
    lead's): pages asked in English, services run under English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def world(cantho, make_user):
    current = AdministrativeUnit.objects.current().filter(level=Level.COMMUNE)
    commune = current.get(code="31120")
    other = current.exclude(pk=commune.pk).order_by("code").first()
    owner = make_user("canbo.caikhe", Role.LOCAL_OFFICER, commune, email="caikhe@example.vn")
    colleague = make_user("sonn", Role.DEPARTMENT_STAFF, cantho["province"])
    outsider = make_user("canbo.khac", Role.LOCAL_OFFICER, other)

    def notice(key, **extra):
        return notify(key=key, kind="test", subject=f"Subject {key}", body="Body",
                      link="/ratings/1/", **extra)

    return {
        "owner": owner, "colleague": colleague, "outsider": outsider,
        "commune": commune, "other": other, "notice": notice,
        "mine": notice("mine", user=owner),
        "colleagues": notice("colleagues", user=colleague),
        "outsiders": notice("outsiders", user=outsider),
        "producer_here": notice("producer-here", email="htx@example.vn", unit=commune,
                                recipient_name="HTX Cái Khế"),
        "producer_there": notice("producer-there", email="khac@example.vn", unit=other),
    }


def listed(client, user, url=None):
    client.force_login(user)
    response = client.get(url or reverse("notices:list"))
    assert response.status_code == 200
    return {n.key for n in response.context["notifications"]}


# --- rules ------------------------------------------------------------------------------------

def test_only_the_recipient_may_mark_read(world):
    assert rules.can(world["owner"], "mark_read", world["mine"])
    assert not rules.can(world["colleague"], "mark_read", world["mine"])
    assert "recipient" in rules.refusal(world["owner"], "mark_read", world["producer_here"])


def test_notify_is_idempotent_by_key(world):
    assert world["notice"]("mine", user=world["owner"]) is None
    assert Notification.objects.filter(key="mine").count() == 1


# --- pages ------------------------------------------------------------------------------------

def test_each_sees_their_own_and_the_producer_notices_of_their_area(client, world):
    assert listed(client, world["owner"]) == {"mine", "producer-here"}
    # the department staff's province covers both communes
    assert listed(client, world["colleague"]) == {"colleagues", "producer-here",
                                                  "producer-there"}
    assert listed(client, world["outsider"]) == {"outsiders", "producer-there"}


def test_unread_is_highlighted_and_filtered(client, world):
    client.force_login(world["owner"])
    page = client.get(reverse("notices:list")).content.decode()
    assert f'class="unread" id="notice-{world["mine"].pk}"' in page
    assert f'class="" id="notice-{world["producer_here"].pk}"' in page
    assert "Sent to the producer's contact HTX Cái Khế" in page
    assert listed(client, world["owner"], reverse("notices:list") + "?unread=1") == {"mine"}


def test_list_query_count_does_not_grow(client, world, django_assert_num_queries):
    client.force_login(world["colleague"])
    url = reverse("notices:list")
    client.get(url)
    # the user with their roles (ocop.accounts.backends; the session from the cache), the
    # page's notifications and counts (the provinces the area absorbed: cached)
    with django_assert_num_queries(4):
        client.get(url)
    for n in range(40):
        world["notice"](f"more-{n}", email="x@example.vn", unit=world["commune"])
    with django_assert_num_queries(4):
        response = client.get(url)
    assert len(response.context["notifications"]) == 30  # a page
    assert response.context["page"].paginator.count == 43


def test_mark_read_by_the_recipient(client, world):
    client.force_login(world["owner"])
    response = client.post(reverse("notices:read", args=[world["mine"].pk]),
                           {"next": "/notifications/?unread=1"})
    assert response.status_code == 302 and response["Location"] == "/notifications/?unread=1"
    world["mine"].refresh_from_db()
    assert world["mine"].read_at is not None
    assert AuditEvent.objects.filter(action="notification.read",
                                     object_id=str(world["mine"].pk)).count() == 1
    # an outside "next" is not followed
    response = client.post(reverse("notices:read", args=[world["mine"].pk]),
                           {"next": "https://evil.example/"})
    assert response["Location"] == reverse("notices:list")


def test_mark_read_refused_to_a_reader_who_is_not_the_recipient(client, world):
    client.force_login(world["owner"])
    response = client.post(reverse("notices:read", args=[world["producer_here"].pk]))
    assert response.status_code == 403
    assert "Only its recipient" in response.content.decode()
    world["producer_here"].refresh_from_db()
    assert world["producer_here"].read_at is None


def test_foreign_notifications_are_404(client, world):
    client.force_login(world["outsider"])
    for key in ("mine", "producer_here"):
        response = client.post(reverse("notices:read", args=[world[key].pk]))
        assert response.status_code == 404
        world[key].refresh_from_db()
        assert world[key].read_at is None
    assert client.get(reverse("notices:read", args=[world["outsiders"].pk])).status_code == 405


def test_mark_all_read_marks_only_ones_own(client, world):
    world["notice"]("mine-2", user=world["owner"])
    client.force_login(world["owner"])
    response = client.post(reverse("notices:read-all"), follow=True)
    assert "2 notification(s) marked as read." in response.content.decode()
    assert not Notification.objects.filter(user=world["owner"], read_at__isnull=True).exists()
    assert Notification.objects.filter(read_at__isnull=True).count() == 4  # the others'
    response = client.post(reverse("notices:read-all"), follow=True)
    assert "You have no unread notifications." in response.content.decode()


def test_unread_counter_and_header_link(client, world, django_assert_num_queries):
    client.force_login(world["owner"])
    assert client.get(reverse("notices:unread")).json() == {"unread": 1}
    client.force_login(world["colleague"])
    home = client.get(reverse("home")).content.decode()
    assert 'id="nav-notices"' in home and reverse("notices:unread") in home
    assert client.get(reverse("notices:unread")).json() == {"unread": 1}


def test_pages_need_a_login(client, world):
    response = client.get(reverse("notices:list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- API --------------------------------------------------------------------------------------

API = "/api/v1/notifications/"


def api_keys(response):
    assert response.status_code == 200, response.content
    return {row["subject"].removeprefix("Subject ") for row in response.json()["results"]}


def test_api_lists_what_the_user_may_read(client, world, django_assert_num_queries):
    client.force_login(world["owner"])
    assert api_keys(client.get(API)) == {"mine", "producer-here"}
    assert api_keys(client.get(API + "?unread=1")) == {"mine"}
    assert api_keys(client.get(API + "?unread=0")) == {"producer-here"}
    client.force_login(world["outsider"])
    assert api_keys(client.get(API)) == {"outsiders", "producer-there"}
    client.force_login(world["colleague"])
    with django_assert_num_queries(4):  # the session and the absorbed provinces: cached
        rows = client.get(API).json()["results"]
    assert {row["mine"] for row in rows} == {True, False}


def test_api_refuses_a_bad_unread_value(client, world):
    client.force_login(world["owner"])
    response = client.get(API + "?unread=maybe")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["unread"] == [
        "Use unread=1 (unread only) or unread=0 (read only)."]


def test_api_detail_and_read(client, world):
    client.force_login(world["owner"])
    mine = world["mine"]
    assert client.get(f"{API}{mine.pk}/").json()["unread"] is True
    response = client.post(f"{API}{mine.pk}/read/")
    assert response.status_code == 200 and response.json()["unread"] is False
    # visible but someone else's: 403 with the reason, nothing changed
    response = client.post(f"{API}{world['producer_here'].pk}/read/")
    assert response.status_code == 403
    assert "recipient" in response.json()["error"]["message"]
    # another's: 404
    for key in ("colleagues", "outsiders", "producer_there"):
        assert client.get(f"{API}{world[key].pk}/").json()["error"]["code"] == "not_found"
        assert client.post(f"{API}{world[key].pk}/read/").status_code == 404
    assert Notification.objects.filter(read_at__isnull=False).count() == 1


def test_api_read_all(client, world):
    client.force_login(world["colleague"])
    assert client.post(API + "read-all/").json() == {"marked": 1}
    assert Notification.objects.filter(read_at__isnull=False).get() == world["colleagues"]


# --- e-mail -----------------------------------------------------------------------------------

def test_pending_emails_are_sent_once(world, settings):
    settings.PUBLIC_BASE_URL = "https://ocop.example.vn"
    assert mailer.send_pending() == {"sent": 3, "failed": 0}  # owner + the two producers
    assert sorted(m.to[0] for m in mail.outbox) == [
        "caikhe@example.vn", "htx@example.vn", "khac@example.vn"]
    owner_mail = next(m for m in mail.outbox if m.to == ["caikhe@example.vn"])
    assert "https://ocop.example.vn/ratings/1/" in owner_mail.body
    assert mailer.send_pending() == {"sent": 0, "failed": 0}
    assert len(mail.outbox) == 3
    assert Notification.objects.filter(email_status="sent").count() == 3
    assert Notification.objects.get(key="colleagues").email_status == ""  # no address


def test_a_failing_email_is_retried_then_marked_failed(world, monkeypatch):
    from django.core.mail import EmailMessage

    def refuse(self, fail_silently=False):
        raise OSError("connection refused")

    monkeypatch.setattr(EmailMessage, "send", refuse)
    assert mailer.send_pending() == {"sent": 0, "failed": 3}  # each tried once per call
    row = Notification.objects.get(key="mine")
    assert (row.email_status, row.email_attempts) == ("pending", 1)
    assert "connection refused" in row.email_error
    for _ in range(mailer.MAX_ATTEMPTS - 1):
        mailer.send_pending()
    row.refresh_from_db()
    assert (row.email_status, row.email_attempts) == ("failed", mailer.MAX_ATTEMPTS)
    assert mailer.send_pending() == {"sent": 0, "failed": 0}


def test_notify_wakes_the_mailer_after_the_commit(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        world["notice"]("late", email="late@example.vn", unit=world["commune"])
    assert "late@example.vn" in [m.to[0] for m in mail.outbox]
    assert Notification.objects.get(key="late").email_status == "sent"


def test_the_mail_task_carries_on_past_its_batch(world, monkeypatch):
    from ocop.notices import tasks

    monkeypatch.setattr(tasks, "BATCH_LIMIT", 2)
    tasks.send_pending_emails.delay()  # in-process: wakes itself again after 2
    assert len(mail.outbox) == 3
    assert not Notification.objects.filter(email_status="pending").exists()
