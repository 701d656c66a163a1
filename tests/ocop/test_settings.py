"""Settings come from the environment: the embedded default, DATABASE_URL, production."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'name': str(settings.DATABASES['default']['NAME']), "
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL, "
    "'email': settings.EMAIL_BACKEND, 'cache': settings.CACHES['default']['BACKEND'], "
    "'tz': settings.TIME_ZONE, 'lang': settings.LANGUAGE_CODE}))"
)
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x9!kQ2@vLm#7pZr$4TbW8&nYc^1HsJd*6FgAe(3Uo)5Ri-0Xq+Ev_Ck=Bl~Mt.Na",
    "DATABASE_URL": "postgres://ocop:secret@db:5432/ocop",
    "REDIS_URL": "redis://redis:6379/0",
    "ALLOWED_HOSTS": "ocop.cantho.gov.vn",
    "CSRF_TRUSTED_ORIGINS": "https://ocop.cantho.gov.vn",
    "DEFAULT_FROM_EMAIL": "ocop@cantho.gov.vn",
}
OWN_VARIABLES = {
    "DEBUG", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS",
    "DEFAULT_FROM_EMAIL", "EMAIL_HOST", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def run_python(args, extra_env=None):
    env = {k: v for k, v in os.environ.items() if k not in OWN_VARIABLES}
    env["DJANGO_SETTINGS_MODULE"] = "ocop.settings"
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def probe(extra_env=None):
    result = run_python(["-c", PROBE], extra_env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_settings_embedded_default_when_nothing_set():
    values = probe()
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(ROOT / "db.sqlite3")
    assert values["eager"] is True
    assert values["broker"] == "memory://"
    assert values["email"] == "django.core.mail.backends.console.EmailBackend"
    assert values["cache"].endswith("LocMemCache")
    assert values["tz"] == "Asia/Ho_Chi_Minh"
    assert values["lang"] == "vi"


def test_settings_database_and_redis_from_environment():
    values = probe({"DATABASE_URL": "postgres://u:p@dbhost:5433/ocopdb",
                    "REDIS_URL": "redis://cachehost:6379/2"})
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "ocopdb"
    assert values["eager"] is False
    assert values["broker"] == "redis://cachehost:6379/2"
    assert values["cache"].endswith("RedisCache")


def test_production_settings_name_each_missing_variable():
    env = dict(PRODUCTION)
    del env["SECRET_KEY"]
    del env["REDIS_URL"]
    result = run_python(["-c", PROBE], env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "REDIS_URL" in result.stderr
    assert "DATABASE_URL" not in result.stderr.split("ImproperlyConfigured")[-1]


def test_production_settings_pass_check_deploy_without_warnings():
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
