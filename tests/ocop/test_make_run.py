"""`make run` (scripts/run.sh, OCOP_DEMO=1): the demo shows the project's own Vietnamese
404/500 pages (DEBUG off, never Django's debug page), serves its static files without
collectstatic, and installs only what running needs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.views import defaults

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'debug': settings.DEBUG, 'hosts': settings.ALLOWED_HOSTS, "
    "'finders': getattr(settings, 'WHITENOISE_USE_FINDERS', None), "
    "'static_root': settings.STATIC_ROOT and str(settings.STATIC_ROOT), "
    "'storage': settings.STORAGES['staticfiles']['BACKEND'], "
    "'ssl': getattr(settings, 'SECURE_SSL_REDIRECT', False), "
    "'engine': settings.DATABASES['default']['ENGINE'], "
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'axes_verbose': settings.AXES_VERBOSE}))"
)
OWN_VARIABLES = {
    "DEBUG", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS",
    "DEFAULT_FROM_EMAIL", "OCOP_DEMO", "OCOP_RUN_ADDR", "CELERY_TASK_ALWAYS_EAGER",
}


def probe(extra_env):
    env = {k: v for k, v in os.environ.items() if k not in OWN_VARIABLES}
    env["DJANGO_SETTINGS_MODULE"] = "ocop.settings"
    env.update(extra_env)
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_demo_settings_turn_debug_off_without_production_variables():
    values = probe({"OCOP_DEMO": "1", "OCOP_RUN_ADDR": "127.0.0.1:8161"})
    assert values["debug"] is False
    assert values["hosts"] == ["127.0.0.1", "localhost", "testserver", "127.0.0.1"]
    # static files straight from the apps' folders: no staticfiles/ manifest needed
    assert values["finders"] is True
    assert values["static_root"] is None
    assert values["storage"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert values["ssl"] is False  # plain http on the run address
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["eager"] is True
    assert values["axes_verbose"] is False


def test_demo_on_every_interface_accepts_any_host_name():
    values = probe({"OCOP_DEMO": "1", "OCOP_RUN_ADDR": "0.0.0.0:8000"})
    assert "*" in values["hosts"]
    values = probe({"OCOP_DEMO": "1", "OCOP_RUN_ADDR": "192.168.1.20:8000"})
    assert "192.168.1.20" in values["hosts"] and "*" not in values["hosts"]


def test_without_demo_the_embedded_default_keeps_debug_on():
    values = probe({})
    assert values["debug"] is True
    assert values["finders"] is None
    assert values["axes_verbose"] is True


@pytest.mark.django_db
def test_missing_page_with_debug_off_is_the_projects_vietnamese_404(client, settings):
    settings.DEBUG = False
    response = client.get("/khong-co-trang-nay/")
    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "<title>Không tìm thấy trang · OCOP</title>" in html
    assert "<h1>Không tìm thấy trang</h1>" in html
    assert "URLconf" not in html and "urlpatterns" not in html


def test_server_error_page_is_the_projects_vietnamese_500():
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "<h1>Lỗi hệ thống</h1>" in html
    assert "Dữ liệu bạn đã lưu không bị mất" in html


def test_make_run_uses_the_run_venv_and_the_demo_script():
    result = subprocess.run(["make", "-n", "run", "RUN_ADDR=127.0.0.1:8161"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert 'scripts/venv.sh ".venv" run' in result.stdout
    assert "scripts/run.sh 127.0.0.1:8161" in result.stdout
    script = (ROOT / "scripts/run.sh").read_text()
    assert "OCOP_DEMO=1" in script and "migrate --noinput -v0" in script
    # the accounts and the address are the last thing printed before the server starts
    tail = script.rsplit("demo_accounts.py", 1)[1]
    assert "OCOP demo: http://$ADDR/" in tail and tail.rstrip().endswith(
        'exec "$PY" manage.py runserver "$ADDR"')


def test_run_venv_skips_install_when_either_stamp_is_current(tmp_path):
    """`scripts/venv.sh VENV run` installs nothing when the run stamp, or the test-extras
    stamp of `make test`, is newer than pyproject.toml (and only `-e .` otherwise)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin/python").symlink_to(sys.executable)
    for stamp in (".ocop-installed-run", ".ocop-installed"):
        for old in venv.glob(".ocop-installed*"):
            old.unlink()
        (venv / stamp).touch()
        result = subprocess.run(["bash", "scripts/venv.sh", str(venv), "run"], cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""  # quiet: nothing to install, nothing printed
    assert "pip install --quiet" in (ROOT / "scripts/venv.sh").read_text()
    assert "-e .\n" in (ROOT / "scripts/venv.sh").read_text()
