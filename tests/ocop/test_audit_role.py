"""The application's database role cannot rewrite the audit log.

Production runs web and workers as a role that owns nothing; ``manage.py grant_app_role``
(run by the owner after ``migrate``) gives it SELECT/INSERT/UPDATE/DELETE on the tables, USAGE
on the sequences, and on the audit table only SELECT and INSERT. Here a throw-away role gets
exactly those grants and the test switches to it with ``SET ROLE`` inside the test
transaction (the role and the grants are rolled back with it).
"""

import uuid

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from ocop.accounts.models import User
from ocop.audit.models import AuditEvent
from ocop.audit.services import record

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="database roles: PostgreSQL"),
]

TABLE = AuditEvent._meta.db_table


@pytest.fixture
def app_role(db):
    """A role with the grants ``grant_app_role`` gives, active for the rest of the test."""
    name = f"ocop_test_app_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{name}" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
    call_command("grant_app_role", name, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{name}"')
    yield name
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def refused(sql, params=None):
    """Run ``sql`` in a savepoint; return the database's refusal (or None if it ran)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as error:
        return str(error)
    return None


def test_app_role_cannot_disable_or_drop_the_trigger_or_truncate(app_role):
    event = record("something.happened")
    for statement in (
        f"ALTER TABLE {TABLE} DISABLE TRIGGER audit_event_no_update_delete",
        f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL",
        f"DROP TRIGGER audit_event_no_update_delete ON {TABLE}",
        "DROP FUNCTION audit_event_append_only() CASCADE",
        f"TRUNCATE {TABLE}",
        f"DROP TABLE {TABLE}",
    ):
        error = refused(statement)
        assert error is not None, f"{statement!r} was allowed"
        assert "must be owner" in error or "permission denied" in error, error
    assert AuditEvent.objects.filter(pk=event.pk, action="something.happened").exists()


def test_app_role_cannot_update_or_delete_audit_events(app_role):
    event = record("something.happened")
    for statement in (
        f"UPDATE {TABLE} SET action = 'tampered' WHERE id = %s",
        f"DELETE FROM {TABLE} WHERE id = %s",
    ):
        error = refused(statement, [event.pk])
        # refused by the missing privilege itself, before the trigger is reached
        assert error is not None and "permission denied" in error, error
    assert AuditEvent.objects.get(pk=event.pk).action == "something.happened"


def test_app_role_can_insert_and_read_audit_events(app_role):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == app_role
    event = record("dossier.submitted", reason="as the application")
    assert AuditEvent.objects.get(pk=event.pk).reason == "as the application"
    assert AuditEvent.objects.filter(action="dossier.submitted").count() == 1


def test_app_role_uses_other_tables_normally(app_role, cantho):
    user = User.objects.create_user("role.test", password="pw-Test-2026")
    user.full_name = "Nguyễn Văn Vai"
    user.save()
    assert User.objects.get(pk=user.pk).full_name == "Nguyễn Văn Vai"
    user.delete()
    assert not User.objects.filter(username="role.test").exists()
    # but it owns nothing: no schema changes
    error = refused("ALTER TABLE accounts_user ADD COLUMN x integer")
    assert error is not None and "must be owner" in error, error


def test_default_privileges_cover_tables_created_later(db):
    name = f"ocop_test_app_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{name}" NOLOGIN')
    call_command("grant_app_role", name, verbosity=0)
    with connection.cursor() as cursor:
        # a table a later migration adds, created by the owner
        cursor.execute("CREATE TABLE ocop_later_table (id bigserial PRIMARY KEY, v text)")
        cursor.execute(f'SET ROLE "{name}"')
        try:
            cursor.execute("INSERT INTO ocop_later_table (v) VALUES ('a') RETURNING id")
            row_id = cursor.fetchone()[0]
            cursor.execute("UPDATE ocop_later_table SET v = 'b' WHERE id = %s", [row_id])
            cursor.execute("SELECT v FROM ocop_later_table")
            assert cursor.fetchall() == [("b",)]
            cursor.execute("DELETE FROM ocop_later_table")
        finally:
            cursor.execute("RESET ROLE")


def test_grant_app_role_refuses_an_unknown_role(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="does not exist"):
        call_command("grant_app_role", "no_such_role_ocop", verbosity=0)
