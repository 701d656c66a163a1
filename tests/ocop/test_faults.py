"""Redis down: the cache degrades to "no cache" (ocop/cache.py) and pages answer as usual.

The cache configuration under test is the one production settings build from REDIS_URL
(read in a subprocess), pointed at a closed port.
"""

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from pypdf import PdfReader
from rest_framework.test import APIClient

from ocop import cache as resilient
from scoring.models import CriteriaSet

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CLOSED = "redis://127.0.0.1:1/0"


def production_settings(redis_url):
    """CACHES and the Celery options of production settings for ``redis_url``."""
    probe = ("import json, django; from django.conf import settings; django.setup(); "
             "print(json.dumps({'caches': settings.CACHES, 'celery': {k: v for k, v in "
             "vars(settings._wrapped).items() if k.startswith('CELERY_') "
             "and isinstance(v, (bool, int, str, dict, type(None)))}}, default=str))")
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "ocop.settings",
           "DEBUG": "0", "SECRET_KEY": "k" * 60, "DATABASE_URL": "postgres://o:p@db/ocop",
           "REDIS_URL": redis_url, "ALLOWED_HOSTS": "ocop.example.vn",
           "CSRF_TRUSTED_ORIGINS": "https://ocop.example.vn",
           "DEFAULT_FROM_EMAIL": "ocop@example.vn"}
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def redis_down():
    caches = production_settings(CLOSED)["caches"]
    resilient.ResilientRedisCache._down_until = 0.0
    with override_settings(CACHES=caches):
        yield caches
    resilient.ResilientRedisCache._down_until = 0.0


def test_production_cache_is_the_degrading_redis_backend():
    caches = production_settings("redis://redis:6379/0")["caches"]
    assert caches["default"]["BACKEND"] == "ocop.cache.ResilientRedisCache"
    assert caches["default"]["LOCATION"] == "redis://redis:6379/0"


def test_blank_scoresheet_pdf_is_served_while_redis_is_down(
        client, criteria, django_user_model, redis_down, caplog):
    cs = CriteriaSet.objects.filter(regime__slug="26/2026", set_no=1).first()
    client.force_login(django_user_model.objects.create(username="pdf.reader"))

    with caplog.at_level(logging.WARNING, logger="ocop.cache"):
        response = client.get(f"/criteria/{cs.pk}/scoresheet.pdf", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert "PHIẾU ĐÁNH GIÁ" in reader.pages[0].extract_text()
    assert "Cache unavailable" in caplog.text


def test_token_login_works_while_redis_is_down(demo, redis_down):
    api = APIClient()
    response = api.post("/api/v1/auth/token/",
                        {"username": "canbo.ninhkieu", "password": "ocop-demo-2026"},
                        format="json")

    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/me/").json()["username"] == "canbo.ninhkieu"


def test_wrong_password_while_redis_is_down_gets_the_usual_error(demo, redis_down):
    response = APIClient().post("/api/v1/auth/token/",
                                {"username": "canbo.ninhkieu", "password": "wrong"},
                                format="json", HTTP_ACCEPT_LANGUAGE="vi")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Sai tên đăng nhập hoặc mật khẩu."
    assert "token" not in response.json()


# --- the backend itself ------------------------------------------------------------------------


def test_unreachable_cache_reads_miss_and_writes_are_dropped(redis_down, monkeypatch):
    from django.core.cache import cache

    assert cache.get("k", "fallback") == "fallback"
    assert cache.set("k", "v") is None
    assert cache.add("k", "v") is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.set_many({"a": 1}) == ["a"]
    assert cache.delete("k") is False
    assert cache.has_key("k") is False
    with pytest.raises(ValueError):
        cache.incr("k")
    assert cache.get_or_set("k", "computed") == "computed"


def test_after_a_failure_redis_is_not_tried_again_for_a_while(redis_down, monkeypatch):
    from django.core.cache import cache

    clock = [1000.0]
    monkeypatch.setattr(resilient.time, "monotonic", lambda: clock[0])
    calls = []
    client_class = type(cache._cache)
    original = client_class.get

    def counting(self, key, default):
        calls.append(key)
        return original(self, key, default)

    monkeypatch.setattr(client_class, "get", counting)
    cache.get("a")
    cache.get("b")
    assert len(calls) == 1  # the second read did not wait for Redis
    clock[0] += resilient.RETRY_AFTER + 1
    cache.get("c")
    assert len(calls) == 2


def test_working_cache_still_caches(settings):
    import os

    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs REDIS_URL (make test sets it)")
    caches = production_settings(url)["caches"]
    caches["default"]["KEY_PREFIX"] = "ocop-test-faults"
    with override_settings(CACHES=caches):
        from django.core.cache import cache

        cache.set("answer", 42, 30)
        assert cache.get("answer") == 42
        cache.delete("answer")
        assert cache.get("answer") is None


def test_healthz_still_reports_redis_down_through_the_degrading_cache(client, db, redis_down):
    body = client.get("/healthz").json()

    assert body == {"status": "degraded", "database": "ok", "redis": "down"}


def test_production_celery_acknowledges_late_and_redelivers_on_worker_loss():
    from councils.tasks import TIME_LIMIT

    celery = production_settings("redis://redis:6379/0")["celery"]

    assert celery["CELERY_TASK_ACKS_LATE"] is True
    assert celery["CELERY_TASK_REJECT_ON_WORKER_LOST"] is True
    assert celery["CELERY_WORKER_PREFETCH_MULTIPLIER"] == 1
    assert celery["CELERY_BROKER_TRANSPORT_OPTIONS"]["visibility_timeout"] > TIME_LIMIT
    assert celery["CELERY_TASK_ALWAYS_EAGER"] is False
    schedule = celery["CELERY_BEAT_SCHEDULE"]
    assert {entry["task"] for entry in schedule.values()} >= {"councils.sweep_minutes"}
