"""A reminder the rules skip is on record: a `skipped` Delivery row with the reason, once."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.schedule import (
    ReminderDecision,
    ReminderSettings,
    checkin_reminder_decision,
    look_back_start,
)
from notifications.selectors import reminder_candidates
from notifications.sending import delivery_send
from tests.factories import CheckInFactory, PatientFactory

NINE_NY = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)  # 09:00 in New York (EDT)
NY = "America/New_York"
# The last tick before the beat stalled at 08:59.
STALLED_AT = NINE_NY - timedelta(minutes=1)


@pytest.mark.parametrize(
    ("reminder", "now", "expected"),
    [
        (ReminderSettings(NY, checkin_time=time(9)), NINE_NY - timedelta(minutes=1), None),
        (ReminderSettings(NY, checkin_time=time(9)), NINE_NY, ReminderDecision(NINE_NY)),
        (
            ReminderSettings(NY, checkin_time=time(9)),
            NINE_NY + timedelta(hours=3),
            ReminderDecision(NINE_NY),
        ),
        (
            ReminderSettings(NY, checkin_time=time(9)),
            NINE_NY + timedelta(hours=3, seconds=1),
            ReminderDecision(NINE_NY, "too_late"),
        ),
        (
            ReminderSettings(NY, checkin_time=time(9), quiet_start=time(8), quiet_end=time(10)),
            NINE_NY,
            ReminderDecision(NINE_NY, "quiet_hours"),
        ),
        (
            ReminderSettings(NY, checkin_time=time(9), unsubscribed=("checkin_due",)),
            NINE_NY,
            ReminderDecision(NINE_NY, "unsubscribed"),
        ),
        (
            ReminderSettings(NY, checkin_time=time(9), paused_until=date(2026, 5, 4)),
            NINE_NY,
            ReminderDecision(NINE_NY, "paused"),
        ),
        (
            ReminderSettings(NY, checkin_time=time(9), email_enabled=False),
            NINE_NY,
            ReminderDecision(NINE_NY, "email_off"),
        ),
    ],
)
def test_a_reminder_whose_time_came_is_sent_or_skipped_with_its_reason(reminder, now, expected):
    assert checkin_reminder_decision(reminder, now=now) == expected


def _patient(clinic, **preference):
    patient = PatientFactory(clinic=clinic, tz=NY)
    ReminderPreference.objects.create(patient=patient, checkin_time=time(9), **preference)
    return patient


@pytest.mark.django_db
def test_a_reminder_dropped_after_a_stall_is_recorded_skipped_too_late_once(
    clinic, django_capture_on_commit_callbacks
):
    patient = _patient(clinic)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        # The beat stalled from 08:59 to 12:30: the first tick after is 3.5 hours late.
        first = NINE_NY + timedelta(hours=3, minutes=30)
        checkin_reminders_dispatch(now=first, last_tick=STALLED_AT)
        checkin_reminders_dispatch(now=first + timedelta(minutes=1), last_tick=first)
        # Even a tick that looks back past it does not record it twice.
        checkin_reminders_dispatch(now=NINE_NY + timedelta(hours=7), last_tick=STALLED_AT)

    [row] = Delivery.objects.values_list("patient_id", "status", "skip_reason", "due_at")
    assert row == (patient.pk, "skipped", "too_late", NINE_NY)
    assert callbacks == []  # nothing to send


@pytest.mark.django_db
def test_in_normal_operation_a_reminder_due_five_hours_ago_is_not_read_again(clinic):
    """The look-back stays LATE_AFTER when the last tick was a minute ago: a patient whose
    time was 5 hours ago today, with no row, is not a candidate (nor recorded)."""
    patient = _patient(clinic)
    now = NINE_NY + timedelta(hours=5)

    candidates = reminder_candidates(
        now=now, since=look_back_start(now=now, last_tick=now - timedelta(minutes=1))
    )

    assert patient.pk not in {c.pk for c in candidates}
    checkin_reminders_dispatch(now=now, last_tick=now - timedelta(minutes=1))
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_after_a_recorded_stall_a_reminder_due_five_hours_ago_is_recorded_skipped_too_late(
    clinic,
):
    patient = _patient(clinic)
    now = NINE_NY + timedelta(hours=5)
    since = look_back_start(now=now, last_tick=STALLED_AT)  # the beat stalled at 08:59

    assert patient.pk in {c.pk for c in reminder_candidates(now=now, since=since)}
    assert checkin_reminders_dispatch(now=now, last_tick=STALLED_AT) == 0

    rows = Delivery.objects.values_list("patient_id", "status", "skip_reason", "due_at")
    assert list(rows) == [(patient.pk, "skipped", "too_late", NINE_NY)]


@pytest.mark.django_db
def test_without_a_tick_on_record_the_look_back_is_three_hours(clinic):
    _patient(clinic)

    checkin_reminders_dispatch(now=NINE_NY + timedelta(hours=5), last_tick=None)

    assert not Delivery.objects.exists()


def test_the_look_back_is_the_earlier_of_the_last_tick_and_three_hours_ago():
    now = NINE_NY + timedelta(hours=5)
    assert look_back_start(now=now, last_tick=None) == now - timedelta(hours=3)
    assert look_back_start(now=now, last_tick=now - timedelta(minutes=1)) == now - timedelta(
        hours=3
    )
    assert look_back_start(now=now, last_tick=STALLED_AT) == STALLED_AT


@pytest.mark.django_db
def test_reminders_in_quiet_hours_or_unsubscribed_are_recorded_skipped(clinic):
    quiet = _patient(clinic, quiet_start=time(8), quiet_end=time(10))
    unsubscribed = _patient(clinic, unsubscribed=["checkin_due"])
    sent = _patient(clinic)

    assert checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1)) == 1

    rows = set(Delivery.objects.values_list("patient_id", "status", "skip_reason"))
    assert rows == {
        (quiet.pk, "skipped", "quiet_hours"),
        (unsubscribed.pk, "skipped", "unsubscribed"),
        (sent.pk, "pending", ""),
    }


@pytest.mark.django_db
def test_a_day_whose_reminder_was_skipped_gets_no_later_one(clinic):
    patient = _patient(clinic)
    # Too late after a stall: skipped.
    checkin_reminders_dispatch(now=NINE_NY + timedelta(hours=4), last_tick=STALLED_AT)
    # The patient then moves the time to later that day: the day's reminder stays skipped.
    ReminderPreference.objects.filter(patient=patient).update(checkin_time=time(14))
    checkin_reminders_dispatch(
        now=NINE_NY + timedelta(hours=5, minutes=1), last_tick=NINE_NY + timedelta(hours=5)
    )

    assert list(Delivery.objects.values_list("status", "skip_reason")) == [("skipped", "too_late")]


@pytest.mark.django_db
def test_a_reminder_no_longer_needed_when_sent_records_why(clinic):
    patient = _patient(clinic)
    checkin_reminders_dispatch(now=NINE_NY)
    CheckInFactory(patient=patient, local_date=date(2026, 5, 4))

    assert delivery_send(delivery_id=Delivery.objects.get().id, now=NINE_NY) == "skipped"
    assert Delivery.objects.get().skip_reason == "already_done"


@pytest.mark.django_db
def test_the_care_team_sees_skipped_reminders_with_the_reason_in_words(clinic, clinician_client):
    patient = _patient(clinic)
    checkin_reminders_dispatch(now=NINE_NY + timedelta(hours=4), last_tick=STALLED_AT)

    page = clinician_client.get(f"/staff/patients/{patient.public_id}/").content.decode()

    assert "Skipped" in page and "too late: more than 3 hours past its time" in page
