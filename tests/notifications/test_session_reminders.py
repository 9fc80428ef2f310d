"""'Session tomorrow' reminders: the evening before, once, and re-anchored when moved."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from care.models import TreatmentSession
from notifications.dispatch.sessions import session_reminders_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.sending import delivery_send
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

SESSION = datetime(2026, 5, 6, 14, 0, tzinfo=UTC)  # Wednesday 10:00 in New York
EVE = datetime(2026, 5, 5, 23, 0, tzinfo=UTC)  # Tuesday 19:00 in New York


@pytest.fixture
def booked(clinic):
    patient = PatientFactory(clinic=clinic, tz="America/New_York", preferred_name="Sam")
    ReminderPreference.objects.create(patient=patient, checkin_time=time(19, 0))
    return TreatmentSession.objects.create(patient=patient, scheduled_at=SESSION, route="iv")


def test_the_reminder_is_due_at_the_chosen_time_the_evening_before_and_made_once(booked):
    session_reminders_dispatch(now=EVE - timedelta(minutes=1))
    assert not Delivery.objects.exists()

    session_reminders_dispatch(now=EVE)
    session_reminders_dispatch(now=EVE + timedelta(minutes=5))

    [delivery] = Delivery.objects.all()
    assert (delivery.kind, delivery.due_at, delivery.subject_key) == (
        "session_tomorrow",
        EVE,
        f"session:{booked.pk}:2026-05-06",
    )


def test_the_email_gives_the_time_and_nothing_about_treatment(booked, mailoutbox):
    session_reminders_dispatch(now=EVE)

    assert delivery_send(delivery_id=Delivery.objects.get().id, now=EVE) == "sent"
    [message] = mailoutbox
    text = (message.subject + message.body + message.alternatives[0].content).lower()
    assert message.subject == "Your appointment is tomorrow"
    assert "wednesday at 10:00 am" in text
    for word in ("infusion", "ketamine", "iv ", "dose", "treatment", "clinic a"):
        assert word not in text


def test_a_moved_session_skips_the_old_reminder_and_gets_a_new_one(booked, mailoutbox):
    session_reminders_dispatch(now=EVE)
    old = Delivery.objects.get()
    booked.scheduled_at = SESSION + timedelta(days=1)
    booked.save()

    skipped = delivery_send(delivery_id=old.id, now=EVE + timedelta(minutes=1))
    session_reminders_dispatch(now=EVE + timedelta(days=1))

    assert skipped == "skipped" and mailoutbox == []
    assert Delivery.objects.filter(kind="session_tomorrow").count() == 2


def test_a_cancelled_session_is_not_reminded(booked, mailoutbox):
    session_reminders_dispatch(now=EVE)
    booked.status = "cancelled"
    booked.save()

    assert delivery_send(delivery_id=Delivery.objects.get().id, now=EVE) == "skipped"
    session_reminders_dispatch(now=EVE + timedelta(minutes=10))
    assert Delivery.objects.count() == 1 and mailoutbox == []


def test_unsubscribed_patients_get_no_session_reminders(booked):
    preference = booked.patient.reminder_preference
    preference.unsubscribed = ["session_tomorrow"]
    preference.save()

    session_reminders_dispatch(now=EVE)

    # On record as skipped, never sent.
    assert list(Delivery.objects.values_list("status", "skip_reason")) == [
        ("skipped", "unsubscribed")
    ]


def test_the_tick_reads_the_booked_sessions_once_for_both_of_their_reminders(booked):
    from notifications.dispatch.sessions import booked_session_reminders_dispatch

    booked.patient.has_depression = True  # a questionnaire to ask for before the session
    booked.patient.save(update_fields=["has_depression"])
    monday_evening = EVE - timedelta(days=1)  # the first evening of the 48 hours before it

    booked_session_reminders_dispatch(now=monday_evening)
    with CaptureQueriesContext(connection) as queries:
        booked_session_reminders_dispatch(now=EVE)

    reads = [q for q in queries if 'FROM "care_treatmentsession"' in q["sql"]]
    assert len(reads) == 1

    kinds = sorted(Delivery.objects.values_list("kind", "due_at"))
    assert kinds == [("questionnaire_due", monday_evening), ("session_tomorrow", EVE)]


def skipped_rows() -> list[tuple[str, datetime]]:
    return list(
        Delivery.objects.filter(status=Delivery.Status.SKIPPED).values_list("skip_reason", "due_at")
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"unsubscribed": ["session_tomorrow"]}, "unsubscribed"),
        ({"quiet_start": time(18, 0), "quiet_end": time(8, 0)}, "quiet_hours"),
        ({"paused_until": datetime(2026, 5, 5).date()}, "paused"),
    ],
)
def test_a_reminder_the_rules_skip_is_recorded_once_with_its_reason(booked, change, reason):
    ReminderPreference.objects.filter(patient=booked.patient).update(**change)
    session_reminders_dispatch(now=EVE - timedelta(minutes=1))
    assert not Delivery.objects.exists()  # before its time: nothing decided

    for minutes in (0, 1, 60, 300):  # every tick until the session decides it again
        session_reminders_dispatch(now=EVE + timedelta(minutes=minutes))

    assert skipped_rows() == [(reason, EVE)]
    assert not Delivery.objects.exclude(status=Delivery.Status.SKIPPED).exists()


def test_a_session_booked_after_its_reminder_time_is_recorded_too_late(booked):
    session_reminders_dispatch(now=EVE + timedelta(hours=4))  # booked at 23:00 for 10:00

    assert skipped_rows() == [("too_late", EVE)]


def test_a_reminder_made_in_time_is_not_recorded_skipped_later(booked):
    session_reminders_dispatch(now=EVE)
    session_reminders_dispatch(now=EVE + timedelta(hours=4))  # past its 3 hours now

    [delivery] = Delivery.objects.all()
    assert delivery.status == Delivery.Status.PENDING and delivery.due_at == EVE


def test_a_recorded_skip_stands_when_its_reason_goes(booked):
    """As for check-ins: one decision per reminder; subscribing again counts from the next."""
    ReminderPreference.objects.filter(patient=booked.patient).update(
        unsubscribed=["session_tomorrow"]
    )
    session_reminders_dispatch(now=EVE)
    ReminderPreference.objects.filter(patient=booked.patient).update(unsubscribed=[])
    session_reminders_dispatch(now=EVE + timedelta(minutes=30))

    assert list(Delivery.objects.values_list("status", "skip_reason")) == [
        ("skipped", "unsubscribed")
    ]
