"""After three unanswered check-in reminders: none for the rest of the week, an alert instead."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from care.models import Alert
from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.schedule import reminders_capped
from tests.factories import CheckInFactory, PatientFactory

MONDAY = date(2026, 5, 4)


def nine(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC)


@pytest.mark.parametrize(
    ("unanswered", "last_sent", "today", "capped"),
    [
        (3, MONDAY + timedelta(days=2), MONDAY + timedelta(days=3), True),
        (2, MONDAY + timedelta(days=2), MONDAY + timedelta(days=3), False),
        (3, MONDAY + timedelta(days=6), MONDAY + timedelta(days=7), False),  # a new week
        (5, None, MONDAY, False),
    ],
)
def test_reminders_capped(unanswered, last_sent, today, capped):
    assert reminders_capped(unanswered=unanswered, last_sent_on=last_sent, today=today) is capped


@pytest.fixture
def quiet_patient(clinic):
    patient = PatientFactory(clinic=clinic, tz="UTC")
    patient.enrolled_at = nine(MONDAY) - timedelta(days=10)
    patient.save()
    ReminderPreference.objects.create(patient=patient, checkin_time=time(9))
    for offset in range(3):  # Monday to Wednesday: sent, never answered
        Delivery.objects.create(
            kind="checkin_due",
            subject_key=f"patient:{patient.pk}",
            due_at=nine(MONDAY + timedelta(days=offset)),
            patient=patient,
            to_email=patient.user.email,
            status="sent",
        )
    return patient


@pytest.mark.django_db
def test_the_fourth_reminder_of_the_week_is_not_sent_and_the_team_is_told(quiet_patient):
    checkin_reminders_dispatch(now=nine(MONDAY + timedelta(days=3)))
    checkin_reminders_dispatch(now=nine(MONDAY + timedelta(days=4)))

    # Thursday's and Friday's are on record as skipped, capped.
    assert Delivery.objects.filter(status="sent").count() == 3
    assert list(Delivery.objects.exclude(status="sent").values_list("status", "skip_reason")) == [
        ("skipped", "capped"),
        ("skipped", "capped"),
    ]
    [alert] = Alert.objects.filter(patient=quiet_patient)
    assert (alert.kind, alert.priority, alert.cause) == (
        "missed_checkins",
        "routine",
        "reminders_capped:2026-W19",
    )


@pytest.mark.django_db
def test_reminders_resume_the_next_week(quiet_patient):
    checkin_reminders_dispatch(now=nine(MONDAY + timedelta(days=7)))

    assert Delivery.objects.count() == 4


@pytest.mark.django_db
def test_a_checkin_resets_the_count(quiet_patient):
    CheckInFactory(
        patient=quiet_patient,
        local_date=MONDAY + timedelta(days=2),
        submitted_at=nine(MONDAY + timedelta(days=2)) + timedelta(hours=2),
    )

    checkin_reminders_dispatch(now=nine(MONDAY + timedelta(days=3)))

    assert Delivery.objects.count() == 4 and not Alert.objects.exists()
