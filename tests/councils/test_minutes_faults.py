"""The minutes job under faults: the broker down, a worker killed mid-render, a message
delivered twice or lost. The status row is the truth; the message only wakes a worker up;
the previous file stays until the new one exists (docs/background-jobs.md)."""

from datetime import timedelta

import psycopg2
import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from councils import minutes, services, tasks
from councils.models import DocumentKind, DocumentStatus, GeneratedDocument
from tests.councils import build, meet, pick, quick_sheet

pytestmark = pytest.mark.django_db

OLD_PDF = b"%PDF-1.7 the previous good minutes"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def minutes_files(media):
    folder = media / "councils" / "minutes"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def closed_session(cantho, make_user, prefix="m"):
    """A closed session of three members whose minutes row is done with a known file."""
    world = build(cantho, make_user, n_members=3, prefix=prefix)
    cs = world.dossier.criteria_set
    for member, target in zip(world.members, (72, 75, 81), strict=True):
        quick_sheet(world.session, world.dossier, member, pick(cs, target, stars=4))
    meet(world)
    services.close_item(world.chair.user, world.session, world.dossier)
    services.close_session(world.chair.user, world.session)  # on commit: never, in a test
    doc = GeneratedDocument.objects.get(session=world.session, kind=DocumentKind.MINUTES)
    doc.file.save(minutes.file_name(world.session), ContentFile(OLD_PDF), save=False)
    doc.status, doc.finished_at, doc.attempts = DocumentStatus.DONE, timezone.now(), 1
    doc.save()
    world.extra["doc"] = doc
    return world


@pytest.fixture
def world(cantho, criteria, make_user):
    return closed_session(cantho, make_user)


@pytest.fixture
def broker_down(monkeypatch):
    """``.delay()`` fails as kombu does when Redis refuses the connection."""
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(tasks.build_minutes, "apply_async", refuse)
    return calls


@pytest.fixture
def postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("the job lock is PostgreSQL's (elsewhere: STALE_RUNNING, tested below)")


@pytest.fixture
def other_worker(db):
    """A second database connection standing for another worker: ``hold(session)`` takes
    the job's lock as a running worker holds it (released on close, as when it dies)."""
    if connection.vendor != "postgresql":
        pytest.skip("the job lock is PostgreSQL's")
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    conns = []

    def hold(session):
        conn = psycopg2.connect(dbname=params["dbname"], user=params.get("user"),
                                host=params.get("host"), port=params.get("port"),
                                password=params.get("password"))
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", minutes.lock_key(session.pk))
        conns.append(conn)
        return conn

    yield hold
    for conn in conns:
        conn.close()


def render_counter(monkeypatch, content=b"%PDF-1.7 new minutes", during=None):
    calls = []

    def render(session):
        calls.append(session.pk)
        if during:
            during()
        return content

    monkeypatch.setattr(minutes, "render_minutes", render)
    return calls


def mark_running(doc, *, ago=timedelta(seconds=5)):
    doc.status, doc.started_at, doc.finished_at = (DocumentStatus.RUNNING,
                                                    timezone.now() - ago, None)
    doc.save()


# --- 2. the previous file stays until the new one exists ------------------------------------


def test_regeneration_keeps_the_previous_file_until_the_new_one_is_written(
        world, media, monkeypatch, django_capture_on_commit_callbacks):
    doc = world.extra["doc"]
    old_name = doc.file.name
    seen = {}

    def during():
        row = GeneratedDocument.objects.get(pk=doc.pk)
        seen["row_file"] = row.file.name
        seen["old_bytes"] = row.file.storage.open(old_name).read()

    render_counter(monkeypatch, during=during)
    services.queue_minutes(world.chair.user, world.session)
    queued = GeneratedDocument.objects.get(pk=doc.pk)
    assert queued.status == DocumentStatus.QUEUED
    assert queued.file.name == old_name and queued.file.storage.exists(old_name)

    with django_capture_on_commit_callbacks(execute=True):
        services.queue_minutes(world.chair.user, world.session)

    assert seen == {"row_file": old_name, "old_bytes": OLD_PDF}
    done = GeneratedDocument.objects.get(pk=doc.pk)
    assert done.status == DocumentStatus.DONE
    assert done.file.read() == b"%PDF-1.7 new minutes"
    assert len(minutes_files(media)) == 1  # the old file went once the new one existed


def test_failed_regeneration_keeps_the_previous_file_downloadable(
        client, world, media, monkeypatch, django_capture_on_commit_callbacks):
    doc = world.extra["doc"]

    def broken(session):
        raise RuntimeError("font missing")

    monkeypatch.setattr(minutes, "render_minutes", broken)
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_minutes(world.secretary.user, world.session)

    failed = GeneratedDocument.objects.get(pk=doc.pk)
    assert failed.status == DocumentStatus.FAILED and "font missing" in failed.reason
    assert failed.file.name == doc.file.name and failed.file.read() == OLD_PDF
    client.force_login(world.staff, backend="ocop.accounts.backends.UserWithRolesBackend")
    html = client.get(reverse("councils:session-results", args=[world.session.pk]),
                      HTTP_ACCEPT_LANGUAGE="en").content
    assert b"Failed: RuntimeError: font missing" in html
    assert b"Download the minutes" in html and b"(the previous version)" in html
    download = client.get(reverse("councils:minutes-download", args=[world.session.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == OLD_PDF
    assert minutes_files(media) == [doc.file.name.rsplit("/", 1)[1]]


# --- 1. the broker down when the wake-up is sent ---------------------------------------------


@pytest.fixture
def outermost(monkeypatch):
    """The view's transaction is the outermost one, as in production (no ATOMIC_REQUESTS):
    on-commit work runs before the view answers. (The test's own wrapping transaction would
    otherwise hold it back until the test ends.)"""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


def test_regenerate_with_the_broker_down_keeps_the_file_and_says_it_will_be_retried(
        client, world, media, broker_down, outermost):
    doc = world.extra["doc"]
    client.force_login(world.chair.user, backend="ocop.accounts.backends.UserWithRolesBackend")

    response = client.post(reverse("councils:minutes-regenerate", args=[world.session.pk]),
                           follow=True, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    html = response.content.decode()
    assert "will be retried automatically" in html
    assert "The minutes are being generated again." not in html
    assert len(broker_down) == 1
    row = GeneratedDocument.objects.get(pk=doc.pk)
    assert row.status == DocumentStatus.QUEUED and row.queued_at is not None
    assert row.file.name == doc.file.name and row.file.read() == OLD_PDF
    assert "Download the minutes" in html


def test_closing_a_session_with_the_broker_down_still_closes_it(
        client, cantho, criteria, make_user, broker_down, outermost):
    world = build(cantho, make_user, n_members=3)
    cs = world.dossier.criteria_set
    for member, target in zip(world.members, (72, 75, 81), strict=True):
        quick_sheet(world.session, world.dossier, member, pick(cs, target, stars=4))
    meet(world)
    services.close_item(world.chair.user, world.session, world.dossier)
    client.force_login(world.chair.user, backend="ocop.accounts.backends.UserWithRolesBackend")

    response = client.post(reverse("councils:session-close", args=[world.session.pk]),
                           follow=True, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    world.session.refresh_from_db()
    assert world.session.state == "closed"
    assert len(broker_down) == 1
    row = GeneratedDocument.objects.get(session=world.session)
    assert row.status == DocumentStatus.QUEUED
    assert "will be retried automatically" in response.content.decode()


def test_the_sweep_sends_the_lost_wake_up_again(
        world, media, monkeypatch, broker_down, outermost):
    doc = services.queue_minutes(world.chair.user, world.session)
    assert doc.wake_failed is True
    monkeypatch.undo()  # the broker is back
    render_counter(monkeypatch)
    assert minutes.sweep_stale() == []  # queued a moment ago: not stale yet

    GeneratedDocument.objects.filter(pk=doc.pk).update(
        queued_at=timezone.now() - minutes.QUEUED_STALE - timedelta(seconds=1))
    assert minutes.sweep_stale() == [world.session.pk]

    row = GeneratedDocument.objects.get(pk=doc.pk)
    assert row.status == DocumentStatus.DONE and row.file.read() == b"%PDF-1.7 new minutes"
    assert len(minutes_files(media)) == 1


# --- 3. two deliveries, a crash ----------------------------------------------------------------


def test_second_delivery_while_the_first_is_genuinely_running_leaves_it(
        world, monkeypatch, other_worker):
    doc = world.extra["doc"]
    mark_running(doc, ago=minutes.STALE_RUNNING * 3)  # slow, but its worker is alive
    other_worker(world.session)
    calls = render_counter(monkeypatch)

    result = tasks.build_minutes(world.session.pk)

    assert result == DocumentStatus.RUNNING and calls == []
    row = GeneratedDocument.objects.get(pk=doc.pk)
    assert (row.status, row.attempts, row.file.name) == (DocumentStatus.RUNNING, 1,
                                                         doc.file.name)


def test_redelivery_after_a_crash_takes_over_at_once(world, media, monkeypatch, postgres_only):
    doc = world.extra["doc"]
    mark_running(doc, ago=timedelta(seconds=3))  # its worker was killed 3 s after starting
    calls = render_counter(monkeypatch)

    assert tasks.build_minutes(world.session.pk) == DocumentStatus.DONE
    assert tasks.build_minutes(world.session.pk) == DocumentStatus.DONE  # a third delivery

    assert calls == [world.session.pk]
    row = GeneratedDocument.objects.get(pk=doc.pk)
    assert (row.status, row.attempts) == (DocumentStatus.DONE, 2)
    assert row.file.read() == b"%PDF-1.7 new minutes"
    assert len(minutes_files(media)) == 1


def test_a_job_that_keeps_killing_its_worker_stops_with_a_reason(world, monkeypatch, postgres_only):
    doc = world.extra["doc"]
    GeneratedDocument.objects.filter(pk=doc.pk).update(attempts=minutes.MAX_ATTEMPTS)
    mark_running(GeneratedDocument.objects.get(pk=doc.pk))
    calls = render_counter(monkeypatch)

    assert tasks.build_minutes(world.session.pk) == DocumentStatus.FAILED

    row = GeneratedDocument.objects.get(pk=doc.pk)
    assert calls == [] and row.status == DocumentStatus.FAILED
    assert f"{minutes.MAX_ATTEMPTS}" in row.reason and row.file.read() == OLD_PDF


def test_regeneration_is_allowed_at_once_when_the_running_worker_died(
        world, monkeypatch, django_capture_on_commit_callbacks, postgres_only):
    doc = world.extra["doc"]
    mark_running(doc, ago=timedelta(seconds=30))
    render_counter(monkeypatch)

    with django_capture_on_commit_callbacks(execute=True):
        services.queue_minutes(world.chair.user, world.session)

    assert GeneratedDocument.objects.get(pk=doc.pk).status == DocumentStatus.DONE


def test_regeneration_is_refused_while_a_worker_is_really_on_it(world, other_worker):
    doc = world.extra["doc"]
    mark_running(doc, ago=minutes.STALE_RUNNING * 3)
    other_worker(world.session)

    with pytest.raises(services.CouncilError) as refused:
        services.queue_minutes(world.chair.user, world.session)

    assert refused.value.code == "running"
    assert "please wait" in refused.value.message
    row = GeneratedDocument.objects.get(pk=doc.pk)
    assert row.status == DocumentStatus.RUNNING and row.file.read() == OLD_PDF


def test_without_the_lock_a_running_row_is_taken_over_after_stale_running(world, monkeypatch):
    """The embedded SQLite default has no advisory lock: a recent start counts as alive."""
    monkeypatch.setattr(minutes.jobs, "locks_supported", lambda: False)
    doc = world.extra["doc"]
    calls = render_counter(monkeypatch)
    mark_running(doc, ago=minutes.STALE_RUNNING - timedelta(seconds=30))
    assert tasks.build_minutes(world.session.pk) == DocumentStatus.RUNNING and calls == []

    mark_running(doc, ago=minutes.STALE_RUNNING + timedelta(seconds=1))
    assert tasks.build_minutes(world.session.pk) == DocumentStatus.DONE
    assert calls == [world.session.pk]
    assert minutes.STALE_RUNNING <= timedelta(minutes=2)


# --- 4. the sweep ------------------------------------------------------------------------------


def test_sweep_wakes_up_stale_rows_only(cantho, criteria, make_user, monkeypatch,
                                        other_worker):
    sent = []
    monkeypatch.setattr(tasks.build_minutes, "apply_async",
                        lambda args=None, kwargs=None, **kw: sent.append(args[0]))
    long_ago = timezone.now() - minutes.QUEUED_STALE - timedelta(minutes=1)
    worlds = [closed_session(cantho, make_user, f"s{i}") for i in range(5)]
    lost, fresh, crashed, alive, done = (w.extra["doc"] for w in worlds)
    for doc in (lost, fresh):
        doc.status, doc.queued_at = DocumentStatus.QUEUED, long_ago
        doc.save()
    GeneratedDocument.objects.filter(pk=fresh.pk).update(queued_at=timezone.now())
    for doc in (crashed, alive):  # queued 10 s ago, the run started 5 s ago
        mark_running(doc)
        GeneratedDocument.objects.filter(pk=doc.pk).update(
            queued_at=timezone.now() - timedelta(seconds=10))
    other_worker(alive.session)

    woken = minutes.sweep_stale()

    assert sorted(woken) == sorted([lost.session_id, crashed.session_id])
    assert sorted(sent) == sorted(woken)
    assert minutes.sweep_stale() == []  # not again before QUEUED_STALE has passed
    statuses = dict(GeneratedDocument.objects.values_list("pk", "status"))
    assert statuses[done.pk] == DocumentStatus.DONE
    assert statuses[alive.pk] == statuses[crashed.pk] == DocumentStatus.RUNNING


def test_sweep_task_is_scheduled_every_minute(settings):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values()
                 if e["task"] == "councils.sweep_minutes")
    assert entry["schedule"] <= 60
    assert tasks.sweep_minutes.name == "councils.sweep_minutes"
