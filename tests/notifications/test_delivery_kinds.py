"""What a delivery is about is in its columns (session, recipient, day), filled by every
dispatcher and by the migration for the rows made before; one entry per kind sends it."""

import importlib
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection, transaction
from django.db.models import RestrictedError

from care.models import Alert, TreatmentSession
from care.records.services import assessment_submit
from notifications.dispatch.alerts import digests_dispatch, escalations_dispatch
from notifications.dispatch.patients import (
    checkin_reminders_dispatch,
    maintenance_questionnaire_reminders_dispatch,
)
from notifications.dispatch.sessions import (
    integration_prompts_dispatch,
    questionnaire_reminders_dispatch,
    session_reminders_dispatch,
)
from notifications.kinds import ENTRIES, KINDS
from notifications.models import Delivery, ReminderPreference
from notifications.schedule import local_moment
from notifications.sending import delivery_send
from tests.factories import PatientFactory, StaffFactory

pytestmark = pytest.mark.django_db

NY = "America/New_York"
NINE_NY = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)  # Monday 09:00 in New York
SESSION = datetime(2026, 5, 6, 14, 0, tzinfo=UTC)  # Wednesday 10:00 in New York


def columns(delivery: Delivery) -> tuple:
    return (
        delivery.patient_id,
        delivery.alert_id,
        delivery.session_id,
        delivery.recipient_id,
        delivery.day,
    )


def test_every_kind_has_exactly_one_entry():
    kinds = [entry.kind for entry in ENTRIES]

    assert sorted(kinds) == sorted(Delivery.Kind.values)
    assert len(kinds) == len(set(kinds)) == len(KINDS)
    assert {k for k, entry in KINDS.items() if entry.to_staff} == {
        Delivery.Kind.SAFETY_ONCALL,
        Delivery.Kind.SAFETY_ESCALATION,
        Delivery.Kind.MESSAGE_STAFF,
    }


@pytest.fixture
def patient_ny(clinic):
    patient = PatientFactory(clinic=clinic, tz=NY, has_depression=True)
    ReminderPreference.objects.create(patient=patient, checkin_time=time(9))
    return patient


def test_a_checkin_reminder_names_its_patient_and_local_day(patient_ny):
    checkin_reminders_dispatch(now=NINE_NY)

    [delivery] = Delivery.objects.all()
    assert columns(delivery) == (patient_ny.pk, None, None, None, date(2026, 5, 4))


def test_a_skipped_checkin_reminder_names_its_day_too(patient_ny):
    # Inside quiet hours: recorded as skipped (the statement of skipped rows).
    ReminderPreference.objects.filter(patient=patient_ny).update(
        quiet_start=time(8), quiet_end=time(10)
    )
    checkin_reminders_dispatch(now=NINE_NY)

    [delivery] = Delivery.objects.all()
    assert (delivery.status, delivery.skip_reason) == ("skipped", "quiet_hours")
    assert columns(delivery) == (patient_ny.pk, None, None, None, date(2026, 5, 4))


def test_session_reminders_name_their_session_and_its_local_day(patient_ny):
    session = TreatmentSession.objects.create(patient=patient_ny, scheduled_at=SESSION, route="iv")
    patient_ny.reminder_preference.checkin_time = time(19)
    patient_ny.reminder_preference.save()

    questionnaire_reminders_dispatch(now=datetime(2026, 5, 4, 23, 0, tzinfo=UTC))
    session_reminders_dispatch(now=datetime(2026, 5, 5, 23, 0, tzinfo=UTC))

    by_kind = {d.kind: columns(d) for d in Delivery.objects.all()}
    about = (patient_ny.pk, None, session.pk, None, date(2026, 5, 6))
    assert by_kind == {"questionnaire_due": about, "session_tomorrow": about}


def test_an_integration_prompt_names_its_session_and_its_local_day(patient_ny):
    held = TreatmentSession.objects.create(
        patient=patient_ny, scheduled_at=SESSION, route="iv", status="completed"
    )

    # Thursday 09:00 is under 24 hours after Wednesday 10:00: Friday 09:00.
    integration_prompts_dispatch(now=datetime(2026, 5, 8, 13, 0, tzinfo=UTC))

    [delivery] = Delivery.objects.all()
    assert delivery.kind == "integration_prompt"
    assert columns(delivery) == (patient_ny.pk, None, held.pk, None, date(2026, 5, 6))


def test_a_maintenance_questionnaire_reminder_names_its_anchor_and_no_session(clinic):
    anchored = PatientFactory(
        clinic=clinic, tz=NY, has_depression=True, treatment_phase="maintenance"
    )
    never = PatientFactory(clinic=clinic, tz=NY, has_depression=True, treatment_phase="maintenance")
    for patient in (anchored, never):
        ReminderPreference.objects.create(patient=patient, checkin_time=time(9))
    assessment_submit(
        patient=anchored,
        instrument_code="phq9",
        difficulty=None,
        client_id=None,
        entered_by=None,
        now=NINE_NY - timedelta(days=14),
        answers={str(n): 1 for n in range(1, 10)},
    )

    maintenance_questionnaire_reminders_dispatch(now=NINE_NY)

    assert {d.patient_id: columns(d) for d in Delivery.objects.all()} == {
        anchored.pk: (anchored.pk, None, None, None, date(2026, 4, 20)),
        never.pk: (never.pk, None, None, None, None),
    }


def test_safety_emails_name_the_alert_and_the_clinician(patient, clinic, clinician):
    clinic.on_call_email = "on-call@clinic.example"
    clinic.alert_response_minutes = 30
    clinic.save()
    alert = Alert.objects.create(
        patient=patient, kind="safety", priority="urgent", cause="c", reason="r", created_at=NINE_NY
    )

    escalations_dispatch(now=NINE_NY + timedelta(minutes=31))

    by_kind = {d.kind: columns(d) for d in Delivery.objects.all()}
    assert by_kind == {
        "safety_oncall": (patient.pk, alert.pk, None, None, None),
        "safety_escalation": (patient.pk, alert.pk, None, clinician.pk, None),
    }


def test_a_digest_names_its_recipient_and_the_clinics_day(clinic, patient, clinician):
    clinic.tz = "Asia/Tokyo"  # 07:30 there is 22:30 UTC the day before
    clinic.save()
    Alert.objects.create(
        patient=patient, kind="safety", priority="urgent", cause="c", reason="r", created_at=NINE_NY
    )

    digests_dispatch(now=local_moment(date(2026, 5, 5), time(7, 30), "Asia/Tokyo"))

    [delivery] = Delivery.objects.all()
    assert columns(delivery) == (None, None, None, clinician.pk, date(2026, 5, 5))


def test_the_digest_goes_by_its_recipient_column(clinic, patient, clinician, mailoutbox):
    """The digest's clinic and name come from the recipient column, not the key."""
    clinician.full_name = "Robin Ash"
    clinician.save()
    Alert.objects.create(
        patient=patient, kind="safety", priority="urgent", cause="c", reason="r", created_at=NINE_NY
    )
    digests_dispatch(now=local_moment(date(2026, 5, 5), time(7, 30), clinic.tz))
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(subject_key="digest:user:0:2026-05-05")

    assert delivery_send(delivery_id=delivery.pk, now=delivery.due_at) == "sent"
    assert mailoutbox[0].to == [clinician.email] and "Robin" in mailoutbox[0].body


def test_a_session_reminder_goes_by_its_session_column(patient_ny, mailoutbox):
    """The session is the column's (the key is only ever compared whole)."""
    session = TreatmentSession.objects.create(patient=patient_ny, scheduled_at=SESSION, route="iv")
    patient_ny.reminder_preference.checkin_time = time(19)
    patient_ny.reminder_preference.save()
    eve = datetime(2026, 5, 5, 23, 0, tzinfo=UTC)
    session_reminders_dispatch(now=eve)
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(subject_key="session:0:2026-05-06")

    assert delivery_send(delivery_id=delivery.pk, now=eve) == "sent"
    assert "wednesday at 10:00 am" in mailoutbox[0].body.lower()

    session.scheduled_at = SESSION + timedelta(days=1)
    session.save()
    session_reminders_dispatch(now=eve + timedelta(days=1))
    moved = Delivery.objects.exclude(pk=delivery.pk).get()
    session.scheduled_at = SESSION + timedelta(days=2)
    session.save()
    # Moved again: the new reminder no longer matches its session.
    assert delivery_send(delivery_id=moved.pk, now=moved.due_at) == "skipped"


def test_a_session_with_reminders_is_not_deleted_alone_but_goes_with_its_patient(patient_ny):
    """A reminder always knows its session (a pre-session questionnaire reminder must never
    pass for a maintenance one): the session cannot be deleted under it; the app cancels
    sessions, and deleting the patient deletes both."""
    session = TreatmentSession.objects.create(patient=patient_ny, scheduled_at=SESSION, route="iv")
    patient_ny.reminder_preference.checkin_time = time(19)
    patient_ny.reminder_preference.save()
    session_reminders_dispatch(now=datetime(2026, 5, 5, 23, 0, tzinfo=UTC))

    with pytest.raises(RestrictedError), transaction.atomic():
        session.delete()
    assert Delivery.objects.get().session_id == session.pk

    patient_ny.delete()
    assert not Delivery.objects.exists() and not TreatmentSession.objects.exists()


def test_the_migration_fills_the_columns_of_existing_rows_from_their_keys(clinic, patient):
    """Rows made before the columns (only their keys) get them from migration 0008."""
    migration = importlib.import_module("notifications.migrations.0008_delivery_subject_columns")
    clinic.tz = "Asia/Tokyo"
    clinic.save()
    clinician = StaffFactory(clinic=clinic).user
    session = TreatmentSession.objects.create(patient=patient, scheduled_at=SESSION, route="iv")
    alert = Alert.objects.create(
        patient=patient, kind="safety", priority="urgent", cause="c", reason="r", created_at=NINE_NY
    )
    digest_due = datetime(2026, 5, 4, 22, 30, tzinfo=UTC)  # 07:30 on 5 May in Tokyo
    keys = {
        "checkin_due": f"patient:{patient.pk}:2026-05-04",
        "session_tomorrow": f"session:{session.pk}:2026-05-06",
        "questionnaire_due": f"questionnaire:session:{session.pk}:2026-05-06",
        "safety_oncall": f"alert:{alert.pk}:oncall",
        "safety_escalation": f"alert:{alert.pk}:user:{clinician.pk}",
        "digest": f"digest:user:{clinician.pk}:{digest_due.date()}",
    }
    made = {
        kind: Delivery.objects.create(
            kind=kind,
            subject_key=key,
            due_at=digest_due if kind == "digest" else NINE_NY,
            patient=None if kind == "digest" else patient,
            alert=alert if kind.startswith("safety") else None,
            to_email="x@example.com",
        )
        for kind, key in keys.items()
    }
    cycles = [
        Delivery.objects.create(
            kind="questionnaire_due",
            subject_key=f"questionnaire:cycle:{patient.pk}:{anchor}",
            due_at=NINE_NY,
            patient=patient,
            to_email="x@example.com",
        )
        for anchor in ("2026-04-20", "never")
    ]
    gone = Delivery.objects.create(
        kind="session_tomorrow",
        subject_key="session:999999999:2026-05-06",  # a session deleted since
        due_at=NINE_NY,
        patient=patient,
        to_email="x@example.com",
    )

    with connection.cursor() as cursor:
        cursor.execute(migration.FILL)

    got = {kind: columns(Delivery.objects.get(pk=d.pk)) for kind, d in made.items()}
    assert got == {
        "checkin_due": (patient.pk, None, None, None, date(2026, 5, 4)),
        "session_tomorrow": (patient.pk, None, session.pk, None, date(2026, 5, 6)),
        "questionnaire_due": (patient.pk, None, session.pk, None, date(2026, 5, 6)),
        "safety_oncall": (patient.pk, alert.pk, None, None, None),
        "safety_escalation": (patient.pk, alert.pk, None, clinician.pk, None),
        "digest": (None, None, None, clinician.pk, date(2026, 5, 5)),
    }
    assert [Delivery.objects.get(pk=d.pk).day for d in cycles] == [date(2026, 4, 20), None]
    assert columns(Delivery.objects.get(pk=gone.pk)) == (
        patient.pk,
        None,
        None,
        None,
        date(2026, 5, 6),
    )


def test_migration_0009_records_earlier_escalations_on_their_alerts(clinic, patient):
    """Alerts escalated before the alert recorded it (e-mails sent, escalated_at empty) get
    it from their escalation e-mails; others are left as they are."""
    migration = importlib.import_module(
        "notifications.migrations.0009_alert_escalated_from_deliveries"
    )

    def alert(cause: str, **fields) -> Alert:
        return Alert.objects.create(
            patient=patient,
            kind="safety",
            priority="urgent",
            cause=cause,
            reason="r",
            created_at=NINE_NY,
            **fields,
        )

    legacy, recorded, unsent = alert("a"), alert("b", escalated_at=NINE_NY), alert("c")
    due = NINE_NY + timedelta(minutes=30)
    for target, to, status in [
        (legacy, "b@example.org", "sent"),
        (legacy, "a@example.org", "sent"),
        (recorded, "a@example.org", "sent"),
        (unsent, "a@example.org", "failed"),
    ]:
        Delivery.objects.create(
            kind="safety_escalation",
            subject_key=f"alert:{target.pk}:{to}",
            due_at=due,
            alert=target,
            patient=patient,
            to_email=to,
            status=status,
        )

    with connection.cursor() as cursor:
        cursor.execute(migration.FILL)

    legacy.refresh_from_db(), recorded.refresh_from_db(), unsent.refresh_from_db()
    assert (legacy.escalated_at, legacy.escalated_to) == (due, "a@example.org, b@example.org")
    assert (recorded.escalated_at, recorded.escalated_to) == (NINE_NY, "")
    assert (unsent.escalated_at, unsent.escalated_to) == (None, "")
