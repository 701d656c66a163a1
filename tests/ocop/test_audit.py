"""The audit log is append-only; on PostgreSQL a trigger refuses UPDATE and DELETE."""

import pytest
from django.db import DatabaseError, connection, transaction

from ocop.audit.models import AuditEvent
from ocop.audit.services import record, snapshot

pytestmark = pytest.mark.django_db


def test_record_stores_actor_object_before_after_and_ip(cantho, make_user, rf):
    from ocop.audit.context import reset_request, set_request

    user = make_user("auditor")
    request = rf.post("/", REMOTE_ADDR="10.1.2.3")
    request.user = user
    token = set_request(request)
    try:
        event = record("unit.renamed", cantho["ninhkieu"], before={"name": "A"},
                       after=snapshot(cantho["ninhkieu"], fields=["name", "code"]),
                       reason="test")
    finally:
        reset_request(token)
    event.refresh_from_db()
    assert event.actor == user
    assert event.ip == "10.1.2.3"
    assert event.object_type == "regions.administrativeunit"
    assert event.object_id == str(cantho["ninhkieu"].pk)
    assert event.object_repr == "Quận Ninh Kiều"
    assert event.after == {"name": "Quận Ninh Kiều", "code": "916"}
    assert event.before == {"name": "A"}


def test_audit_event_model_refuses_update_and_delete(db):
    event = record("something.happened")
    event.action = "changed"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "something.happened"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigger exists on PostgreSQL")
def test_postgres_trigger_refuses_sql_update_and_delete(db):
    event = record("something.happened")
    for statement in (
        "UPDATE audit_auditevent SET action = 'tampered' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, action="something.happened").exists()
    # the queryset API is refused too
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
