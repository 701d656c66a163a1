"""docker-compose runs web and workers as the application role; only the one-shot `migrate`
service knows the owner (tests/ocop/test_audit_role.py shows what the application role
cannot do). Plain file checks, no database."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_web_and_workers_connect_as_the_application_role_without_the_owner_password():
    services = compose()["services"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://${POSTGRES_APP_USER:-ocop_app}:"), name
        assert env["POSTGRES_PASSWORD"] == "", name
        assert "MIGRATION_DATABASE_URL" not in env, name
    assert services["web"]["environment"]["MIGRATE_ON_START"] == "0"
    assert services["web"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"}


def test_only_migrate_runs_as_the_owner_and_the_db_creates_the_app_role():
    services = compose()["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["bash", "scripts/migrate.sh"]
    assert migrate["restart"] == "no"
    assert migrate["environment"]["MIGRATION_DATABASE_URL"].startswith(
        "postgres://${POSTGRES_USER:-ocop}:")
    db = services["db"]
    assert "./scripts/postgres-init:/docker-entrypoint-initdb.d:ro" in db["volumes"]
    assert "POSTGRES_APP_PASSWORD" in db["environment"]
    assert os.access(ROOT / "scripts/postgres-init/10-app-role.sh", os.X_OK)


def test_migrate_script_refuses_the_owner_as_application_role():
    env = {
        **os.environ,
        "OCOP_PYTHON": sys.executable,
        "DATABASE_URL": "postgres://ocop:pw@127.0.0.1:1/ocop",
        "MIGRATION_DATABASE_URL": "postgres://ocop:pw@127.0.0.1:1/ocop",
    }
    result = subprocess.run(["bash", str(ROOT / "scripts/migrate.sh")], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "another role than the owner" in result.stderr
