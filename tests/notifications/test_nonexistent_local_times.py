"""Local times that do not exist (clocks go forward) are the first instant after the gap, in
every zone and whatever the size of the shift; times that happen twice are the first. Pure
rules, and one run of the dispatcher over New York's spring-forward night."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from care.domain.clock import local_day_start, local_instant
from notifications.models import Delivery, ReminderPreference
from notifications.schedule import (
    LATE_AFTER,
    ReminderSettings,
    checkin_reminder_due,
    chosen_time_window,
    digest_due,
    local_moment,
    pre_session_questionnaire_due,
    session_reminder_due,
)
from notifications.tasks import dispatch_reminders
from tests.factories import PatientFactory

# (zone, day, a wall time inside the gap, the first instant after the gap in UTC)
GAPS = [
    # 02:00 EST -> 03:00 EDT
    ("America/New_York", date(2026, 3, 8), time(2, 30), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
    ("America/New_York", date(2026, 3, 8), time(2, 0), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
    # 01:00 GMT -> 02:00 BST
    ("Europe/London", date(2026, 3, 29), time(1, 30), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    # 02:00 +10:30 -> 02:30 +11 (a 30-minute shift)
    (
        "Australia/Lord_Howe",
        date(2026, 10, 4),
        time(2, 15),
        datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
    ),
    # Samoa skipped 30 December 2011: 23:59:59 -10 on the 29th, then 00:00 +14 on the 31st.
    ("Pacific/Apia", date(2011, 12, 30), time(19, 0), datetime(2011, 12, 30, 10, 0, tzinfo=UTC)),
    ("Pacific/Apia", date(2011, 12, 30), time(0, 0), datetime(2011, 12, 30, 10, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize(("tz", "day", "at", "after_gap"), GAPS)
def test_a_wall_time_in_a_gap_is_the_first_instant_after_the_gap(tz, day, at, after_gap):
    assert local_moment(day, at, tz) == after_gap
    assert local_instant(day, at, tz) == after_gap
    assert local_instant(day, at, tz).tzinfo == ZoneInfo(tz)


def test_a_new_york_reminder_at_2_30_on_the_spring_forward_day_leaves_at_3_00_edt():
    moment = local_moment(date(2026, 3, 8), time(2, 30), "America/New_York")

    assert moment.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M %Z") == "03:00 EDT"


@pytest.mark.parametrize(
    ("tz", "day", "at", "first"),
    [
        ("America/New_York", date(2026, 11, 1), time(1, 30), datetime(2026, 11, 1, 5, 30)),
        ("Europe/London", date(2026, 10, 25), time(1, 15), datetime(2026, 10, 25, 0, 15)),
        ("Australia/Lord_Howe", date(2026, 4, 5), time(1, 45), datetime(2026, 4, 4, 14, 45)),
    ],
)
def test_a_wall_time_that_happens_twice_is_its_first_occurrence(tz, day, at, first):
    assert local_moment(day, at, tz) == first.replace(tzinfo=UTC)


@pytest.mark.parametrize(("tz", "day"), [("America/New_York", date(2026, 3, 8))])
def test_wall_times_that_exist_are_unchanged(tz, day):
    for hour in (0, 1, 3, 12, 23):
        expected = datetime.combine(day, time(hour), tzinfo=ZoneInfo(tz)).astimezone(UTC)
        assert local_moment(day, time(hour), tz) == expected


def test_a_day_that_was_skipped_starts_and_ends_at_the_same_instant():
    skipped = local_day_start(date(2011, 12, 30), "Pacific/Apia")

    assert skipped == local_day_start(date(2011, 12, 31), "Pacific/Apia")
    assert skipped == datetime(2011, 12, 30, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("tz", "day", "at", "after_gap"), GAPS[:4])
def test_the_daily_reminder_at_a_time_in_the_gap_is_due_from_the_end_of_the_gap(
    tz, day, at, after_gap
):
    settings = ReminderSettings(tz=tz, checkin_time=at, quiet_start=time(23), quiet_end=time(0))

    assert checkin_reminder_due(settings, now=after_gap - timedelta(seconds=1)) is None
    assert checkin_reminder_due(settings, now=after_gap) == after_gap
    assert checkin_reminder_due(settings, now=after_gap + LATE_AFTER) == after_gap


@pytest.mark.parametrize(("tz", "day", "at", "after_gap"), GAPS[:4])
def test_the_database_window_holds_a_time_in_the_gap_while_it_is_due(tz, day, at, after_gap):
    for now in (after_gap, after_gap + LATE_AFTER / 2, after_gap + LATE_AFTER):
        window = chosen_time_window(tz, now=now)
        assert window is not None and window.today == day
        assert window.earliest <= at <= window.latest, now


def test_the_session_eve_and_questionnaire_reminders_leave_at_the_end_of_the_gap():
    settings = ReminderSettings(
        tz="America/New_York", checkin_time=time(2, 30), quiet_start=time(23), quiet_end=time(0)
    )
    after_gap = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    session_at = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # 11:00 EDT the next day

    assert session_reminder_due(settings, session_at=session_at, now=after_gap) == after_gap
    early = datetime(2026, 3, 10, 6, 45, tzinfo=UTC)  # its 48 hours open 01:45 EST on the 8th
    assert pre_session_questionnaire_due(settings, session_at=early, now=after_gap) == after_gap


def test_a_reminder_sent_at_the_end_of_the_gap_respects_quiet_hours_from_then():
    # 02:30 is outside quiet hours 03:00-07:00, but it leaves at 03:00, inside them.
    settings = ReminderSettings(
        tz="America/New_York", checkin_time=time(2, 30), quiet_start=time(3), quiet_end=time(7)
    )

    for minutes in range(0, 180, 5):
        now = datetime(2026, 3, 8, 7, 0, tzinfo=UTC) + timedelta(minutes=minutes)
        assert checkin_reminder_due(settings, now=now) is None


def test_a_chosen_time_inside_quiet_hours_stays_silent_on_the_spring_forward_day():
    # 02:15 is inside quiet hours 22:00-02:45; it would leave at 03:00, outside them.
    settings = ReminderSettings(
        tz="America/New_York", checkin_time=time(2, 15), quiet_start=time(22), quiet_end=time(2, 45)
    )

    assert checkin_reminder_due(settings, now=datetime(2026, 3, 8, 7, 30, tzinfo=UTC)) is None


def test_the_digest_is_due_at_its_time_in_a_zone_whose_day_was_skipped():
    # 07:30 on 31 December 2011 in Apia (+14) is 17:30 UTC on the 30th.
    due = digest_due(tz="Pacific/Apia", now=datetime(2011, 12, 30, 18, 0, tzinfo=UTC))

    assert due == datetime(2011, 12, 30, 17, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_the_dispatcher_sends_a_2_30_reminder_at_3_00_edt_on_the_spring_forward_night(clinic):
    patient = PatientFactory(clinic=clinic, tz="America/New_York")
    ReminderPreference.objects.create(
        patient=patient, checkin_time=time(2, 30), quiet_start=time(22), quiet_end=time(1)
    )
    moment = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)  # 01:00 EST
    while moment < datetime(2026, 3, 8, 9, 0, tzinfo=UTC):
        with time_machine.travel(moment, tick=False):
            dispatch_reminders()
        moment += timedelta(minutes=5)

    [delivery] = Delivery.objects.filter(patient=patient)
    assert delivery.due_at == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT
