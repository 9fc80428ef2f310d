"""Reminder times: exactly one per local day across DST, never in quiet hours. No DB."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifications.schedule import (
    LATE_AFTER,
    ReminderSettings,
    checkin_reminder_due,
    chosen_time_window,
    in_quiet_hours,
)

TRANSITIONS = [
    ("America/New_York", date(2026, 3, 7)),  # clocks forward 8 March
    ("America/New_York", date(2026, 10, 31)),  # clocks back 1 November
    ("Europe/London", date(2026, 3, 28)),  # forward 29 March
    ("Europe/London", date(2026, 10, 24)),  # back 25 October
    ("Asia/Kathmandu", date(2026, 3, 7)),  # UTC+05:45, no DST
    ("Australia/Lord_Howe", date(2026, 4, 4)),  # half-hour DST change on 5 April
]


def due_moments(settings: ReminderSettings, start: date, days: int) -> list[datetime]:
    """Every distinct due instant found by asking every five minutes for `days` days."""
    now = datetime.combine(start, time(0), ZoneInfo(settings.tz)).astimezone(UTC)
    seen = []
    for _ in range(days * 24 * 12):
        due = checkin_reminder_due(settings, now=now)
        if due is not None and due not in seen:
            seen.append(due)
        now += timedelta(minutes=5)
    return seen


@pytest.mark.parametrize(("tz", "start"), TRANSITIONS)
@pytest.mark.parametrize("at", [time(9, 0), time(1, 30), time(2, 30)])
def test_one_reminder_per_local_day_across_dst(tz, start, at):
    settings = ReminderSettings(tz=tz, checkin_time=at, quiet_start=time(23), quiet_end=time(0, 30))

    moments = due_moments(settings, start, 3)

    local_days = [m.astimezone(ZoneInfo(tz)).date() for m in moments]
    assert local_days == [start, start + timedelta(days=1), start + timedelta(days=2)]


def test_a_9_am_reminder_is_at_9_local_on_both_sides_of_the_change():
    settings = ReminderSettings(tz="America/New_York", checkin_time=time(9, 0))

    moments = due_moments(settings, date(2026, 3, 7), 3)

    assert [m.astimezone(ZoneInfo("America/New_York")).hour for m in moments] == [9, 9, 9]
    assert [m.hour for m in moments] == [14, 13, 13]  # EST, then EDT, in UTC


# Wall times in a gap or a fold: tests/notifications/test_nonexistent_local_times.py.


@pytest.mark.parametrize(
    ("at", "start", "end", "quiet"),
    [
        (time(23), time(22), time(8), True),
        (time(7, 59), time(22), time(8), True),
        (time(8), time(22), time(8), False),
        (time(21, 59), time(22), time(8), False),
        (time(13), time(12), time(14), True),
        (time(14), time(12), time(14), False),
        (time(3), time(0), time(0), False),
    ],
)
def test_quiet_hours_may_run_over_midnight(at, start, end, quiet):
    assert in_quiet_hours(at, start, end) is quiet


def test_no_reminder_inside_quiet_hours():
    settings = ReminderSettings(tz="UTC", checkin_time=time(23, 0))

    assert due_moments(settings, date(2026, 5, 1), 2) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"email_enabled": False},
        {"paused_until": date(2026, 5, 3)},
        {"unsubscribed": ("checkin_due",)},
    ],
)
def test_no_reminder_when_off_paused_or_unsubscribed(changes):
    settings = ReminderSettings(tz="UTC", checkin_time=time(9), **changes)

    assert due_moments(settings, date(2026, 5, 1), 3) == []


def test_a_pause_ends_the_day_after_its_last_day():
    settings = ReminderSettings(tz="UTC", checkin_time=time(9), paused_until=date(2026, 5, 1))

    assert [m.date() for m in due_moments(settings, date(2026, 5, 1), 2)] == [date(2026, 5, 2)]


def test_nothing_is_due_before_the_time_or_long_after_it():
    settings = ReminderSettings(tz="UTC", checkin_time=time(9))
    nine = datetime(2026, 5, 1, 9, tzinfo=UTC)

    assert checkin_reminder_due(settings, now=nine - timedelta(minutes=1)) is None
    assert checkin_reminder_due(settings, now=nine) == nine
    assert checkin_reminder_due(settings, now=nine + LATE_AFTER) == nine
    assert checkin_reminder_due(settings, now=nine + LATE_AFTER + timedelta(minutes=1)) is None


@pytest.mark.parametrize(
    ("chosen", "session_local", "expected"),
    [
        (time(9), time(10), time(13)),  # morning choice moves to the evening after
        (time(19), time(10), time(19)),  # already after the session
        (time(9), time(20), time(9)),  # three hours later would be in quiet hours
        (time(9), time(22, 30), time(9)),  # or tomorrow
    ],
)
def test_on_a_session_day_the_checkin_comes_after_the_session(chosen, session_local, expected):
    from notifications.schedule import checkin_time_for_day

    settings = ReminderSettings(tz="UTC", checkin_time=chosen)
    session_at = datetime.combine(date(2026, 5, 6), session_local, tzinfo=UTC)

    assert checkin_time_for_day(settings, session_at=session_at) == expected
    assert checkin_time_for_day(settings, session_at=None) == chosen


@pytest.mark.parametrize(("tz", "start"), [*TRANSITIONS, ("Pacific/Chatham", date(2026, 4, 4))])
def test_the_chosen_time_window_holds_every_time_whose_reminder_is_due(tz, start):
    """The database picks candidates by this window: it may be wider, never narrower."""
    times = [time(h, m) for h in range(24) for m in range(0, 60, 10)] + [time(2, 29, 59)]
    now = datetime.combine(start, time(0), ZoneInfo(tz)).astimezone(UTC)
    for _ in range(3 * 24 * 2):
        window = chosen_time_window(tz, now=now)
        for at in times:
            settings = ReminderSettings(
                tz=tz, checkin_time=at, quiet_start=time(0), quiet_end=time(0)
            )
            if checkin_reminder_due(settings, now=now) is not None:
                assert window is not None and window.earliest <= at <= window.latest, (now, at)
        now += timedelta(minutes=29)


def test_on_an_ordinary_day_the_window_is_the_last_three_hours_of_wall_time():
    now = datetime(2026, 5, 5, 23, 30, tzinfo=UTC)  # 19:30 in New York

    window = chosen_time_window("America/New_York", now=now)

    assert (window.today, window.earliest, window.latest) == (
        date(2026, 5, 5),
        time(16, 30),
        time(19, 30),
    )


def test_the_window_stays_within_the_local_day():
    window = chosen_time_window("UTC", now=datetime(2026, 5, 5, 1, 0, tzinfo=UTC))

    assert (window.today, window.earliest, window.latest) == (date(2026, 5, 5), time(0), time(1))
