"""The audit trail is append-only: in the model, its QuerySet, the database and the admin.

The raw-SQL tests run against PostgreSQL's triggers (care/migrations/0004_audit_events.py).
"""

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.test import RequestFactory

from care.audit.services import audit_record
from care.models import AuditEvent, AuditEventImmutable
from tests.factories import give_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(clinician, patient):
    return audit_record(
        action=AuditEvent.Action.VIEWED,
        what=AuditEvent.What.PATIENT,
        patient=patient,
        object_id=patient.public_id,
        actor=clinician,
    )


def stored(event) -> dict:
    return AuditEvent.objects.values().get(pk=event.pk)


def test_a_saved_event_cannot_be_saved_again_or_deleted(event):
    before = stored(event)
    event.action = AuditEvent.Action.CHANGED

    with pytest.raises(AuditEventImmutable):
        event.save()
    with pytest.raises(AuditEventImmutable):
        event.save(update_fields=["action"])
    with pytest.raises(AuditEventImmutable):
        event.delete()
    assert stored(event) == before


def test_a_new_event_with_the_id_of_an_old_one_does_not_overwrite_it(event):
    before = stored(event)
    copy = AuditEvent(**{**before, "action": AuditEvent.Action.CHANGED})

    with pytest.raises(DatabaseError), transaction.atomic():
        copy.save()  # always an INSERT: the id is taken

    assert stored(event) == before


@pytest.mark.parametrize(
    "change",
    [
        lambda events: events.update(action="changed"),
        lambda events: events.delete(),
        lambda events: events.bulk_update(list(events), ["action"]),
        lambda events: AuditEvent._base_manager.all().update(action="changed"),
        lambda events: AuditEvent._base_manager.all().delete(),
    ],
    ids=["update", "delete", "bulk_update", "base_manager_update", "base_manager_delete"],
)
def test_querysets_refuse_updates_and_deletes(event, change):
    before = stored(event)

    with pytest.raises(AuditEventImmutable):
        change(AuditEvent.objects.all())

    assert stored(event) == before


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE care_auditevent SET action = 'changed' WHERE id = %s",
        "UPDATE care_auditevent SET actor_id = NULL WHERE id = %s",
        "DELETE FROM care_auditevent WHERE id = %s",
    ],
    ids=["update", "update_actor", "delete"],
)
def test_the_database_refuses_raw_updates_and_deletes(event, sql):
    before = stored(event)

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk])

    assert stored(event) == before


def test_the_database_refuses_to_empty_the_table(event):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # Run the test transaction's deferred foreign-key checks now: PostgreSQL refuses
        # TRUNCATE while some are pending, before any trigger is asked.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE care_auditevent")

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_database_still_takes_new_events(event):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO care_auditevent (at, actor_email, actor_role, action, what, object_id,"
            " channel, path) VALUES (%s, '', 'system', 'viewed', 'caseload', '', 'system', '')",
            [event.at],
        )

    assert AuditEvent.objects.count() == 2


def test_people_and_patients_with_events_cannot_be_deleted(event, clinician, patient):
    with pytest.raises(ProtectedError):
        clinician.delete()
    with pytest.raises(ProtectedError):
        patient.delete()

    assert AuditEvent.objects.filter(actor=clinician, patient=patient).exists()


@pytest.fixture
def operator(django_user_model):
    user = django_user_model.objects.create_superuser(
        email="operator@example.org", password="an-operator-passphrase"
    )
    give_second_factor(user)  # admin users need two-step sign-in like staff
    return user


def test_the_django_admin_grants_no_add_change_or_delete_even_to_superusers(event, operator):
    model_admin = admin.site._registry[AuditEvent]
    request = RequestFactory().get("/admin/")
    request.user = operator

    assert model_admin.has_view_permission(request, event)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert not model_admin.get_actions(request)


def test_the_admin_pages_cannot_add_change_or_delete(client, event, operator):
    client.force_login(operator)
    change_url = f"/admin/care/auditevent/{event.pk}/change/"
    before = stored(event)

    assert client.get("/admin/care/auditevent/").status_code == 200
    assert client.get(change_url).status_code == 200  # a read-only view
    assert client.post(change_url, {"action": "changed"}).status_code == 403
    assert client.get("/admin/care/auditevent/add/").status_code == 403
    delete = client.post(f"/admin/care/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert stored(event) == before


def test_the_triggers_exist_once_and_their_migration_reverses():
    """Migration 0004 makes the two PostgreSQL triggers (no other set); unapplying it drops
    them with their function, and applying it again makes them again."""
    from django.db.migrations.executor import MigrationExecutor

    def triggers() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tgname FROM pg_trigger"
                " WHERE tgrelid = 'care_auditevent'::regclass AND NOT tgisinternal"
                " ORDER BY tgname"
            )
            return [name for (name,) in cursor.fetchall()]

    assert triggers() == ["care_auditevent_no_truncate", "care_auditevent_no_update_delete"]
    migration = AuditEvent._meta.app_label, "0004_audit_events"
    executor = MigrationExecutor(connection)
    operation = executor.loader.get_migration(*migration).operations[-1]
    state = executor.loader.project_state(migration)
    with connection.schema_editor() as editor:
        operation.database_backwards("care", editor, state, state)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = 'care_auditevent_refuse'")
        assert cursor.fetchone() == (0,)
    assert triggers() == []
    with connection.schema_editor() as editor:
        operation.database_forwards("care", editor, state, state)
    assert triggers() == ["care_auditevent_no_truncate", "care_auditevent_no_update_delete"]
