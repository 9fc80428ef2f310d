"""When the reflection prompt after a held session is due: a pure rule, no database.

At the patient's check-in reminder time on the first local day whose reminder time is at
least 24 hours after the session's start, moved out of quiet hours, never past 72 hours.
"""

from datetime import UTC, date, datetime, time, timedelta

from notifications.schedule import (
    EMAIL_OFF,
    PAUSED,
    TOO_LATE,
    UNSUBSCRIBED,
    WINDOW_PASSED,
    ReminderDecision,
    ReminderSettings,
    integration_prompt_decision,
    integration_prompt_due,
)

NY = "America/New_York"
EVENING = ReminderSettings(tz=NY, checkin_time=time(19))  # quiet 22:00-08:00
MONDAY_10 = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)  # Monday 10:00 in New York (EDT)


def ny(day: int, hour: int, minute: int = 0, month: int = 5) -> datetime:
    """A wall time in New York in 2026 as UTC (EDT: -4, EST: -5)."""
    offset = 4 if date(2026, 3, 8) <= date(2026, month, day) < date(2026, 11, 1) else 5
    return datetime(2026, month, day, tzinfo=UTC) + timedelta(hours=hour + offset, minutes=minute)


def test_the_prompt_is_due_at_the_reminder_time_of_the_day_after():
    # 24 hours after Monday 10:00 is Tuesday 10:00; the reminder time that day is 19:00.
    assert integration_prompt_due(EVENING, session_at=MONDAY_10) == ny(5, 19)


def test_a_reminder_time_earlier_in_the_day_than_the_session_waits_a_day_more():
    # Monday 20:00: Tuesday's 19:00 is only 23 hours later, so Wednesday's.
    assert integration_prompt_due(EVENING, session_at=ny(4, 20)) == ny(6, 19)
    # Exactly 24 hours is enough.
    assert integration_prompt_due(EVENING, session_at=ny(4, 19)) == ny(5, 19)


def test_a_reminder_time_inside_quiet_hours_moves_to_their_end():
    late = ReminderSettings(tz=NY, checkin_time=time(21, 30), quiet_start=time(21))
    assert integration_prompt_due(late, session_at=MONDAY_10) == ny(6, 8)  # Wednesday 08:00

    early = ReminderSettings(tz=NY, checkin_time=time(6, 30), quiet_end=time(7))
    # Tuesday 06:30 is before 24 hours; Wednesday 06:30 is quiet until 07:00.
    assert integration_prompt_due(early, session_at=MONDAY_10) == ny(6, 7)

    afternoon = ReminderSettings(
        tz=NY, checkin_time=time(14), quiet_start=time(13), quiet_end=time(15)
    )
    assert integration_prompt_due(afternoon, session_at=MONDAY_10) == ny(5, 15)


def test_twenty_four_real_hours_across_the_spring_change_of_clocks():
    # Saturday 7 March 10:00 EST; 24 hours later is Sunday 11:00 EDT (clocks went forward).
    saturday = datetime(2026, 3, 7, 15, 0, tzinfo=UTC)
    half_past_ten = ReminderSettings(tz=NY, checkin_time=time(10, 30))
    assert integration_prompt_due(half_past_ten, session_at=saturday) == ny(9, 10, 30, month=3)
    assert integration_prompt_due(EVENING, session_at=saturday) == ny(8, 19, month=3)


def test_twenty_four_real_hours_across_the_autumn_change_of_clocks():
    # Saturday 31 October 10:00 EDT; 24 hours later is Sunday 09:00 EST (clocks went back).
    saturday = datetime(2026, 10, 31, 14, 0, tzinfo=UTC)
    nine = ReminderSettings(tz=NY, checkin_time=time(9))
    half_past_eight = ReminderSettings(tz=NY, checkin_time=time(8, 30))
    assert integration_prompt_due(nine, session_at=saturday) == ny(1, 9, month=11)
    assert integration_prompt_due(half_past_eight, session_at=saturday) == ny(2, 8, 30, month=11)


def test_a_reminder_time_that_does_not_exist_that_day_leaves_after_the_gap():
    # 02:30 on 8 March does not exist in New York: the first instant after the gap.
    friday_night = datetime(2026, 3, 7, 7, 0, tzinfo=UTC)  # Saturday 02:00 EST
    small_hours = ReminderSettings(
        tz=NY, checkin_time=time(2, 30), quiet_start=time(23), quiet_end=time(1)
    )
    due = integration_prompt_due(small_hours, session_at=friday_night)
    assert due == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT


def test_nothing_before_its_time_then_a_decision_to_send():
    due = ny(5, 19)
    assert (
        integration_prompt_decision(EVENING, session_at=MONDAY_10, now=due - timedelta(minutes=1))
        is None
    )
    assert integration_prompt_decision(EVENING, session_at=MONDAY_10, now=due) == ReminderDecision(
        due
    )


def reason(settings: ReminderSettings, now: datetime, session_at: datetime = MONDAY_10) -> str:
    decision = integration_prompt_decision(settings, session_at=session_at, now=now)
    assert decision is not None
    return decision.skip_reason


def test_the_reasons_not_to_send():
    due = ny(5, 19)
    assert (
        reason(ReminderSettings(tz=NY, checkin_time=time(19), email_enabled=False), due)
        == EMAIL_OFF
    )
    paused = ReminderSettings(tz=NY, checkin_time=time(19), paused_until=date(2026, 5, 5))
    assert reason(paused, due) == PAUSED
    paused_before = ReminderSettings(tz=NY, checkin_time=time(19), paused_until=date(2026, 5, 4))
    assert reason(paused_before, due) == ""
    off = ReminderSettings(tz=NY, checkin_time=time(19), unsubscribed=("integration_prompt",))
    assert reason(off, due) == UNSUBSCRIBED
    other = ReminderSettings(tz=NY, checkin_time=time(19), unsubscribed=("checkin_due",))
    assert reason(other, due) == ""
    assert reason(EVENING, due + timedelta(hours=3)) == ""
    assert reason(EVENING, due + timedelta(hours=3, minutes=1)) == TOO_LATE


def test_a_prompt_that_could_not_go_within_72_hours_is_skipped():
    # Monday 08:00; 07:59 is before 24 hours on Tuesday, so Wednesday 07:59, inside quiet
    # hours until 06:00 on Thursday: 70 hours after the session.
    monday_8 = ny(4, 8)
    nearly_all_day = ReminderSettings(
        tz=NY, checkin_time=time(7, 59), quiet_start=time(7), quiet_end=time(6)
    )
    due = integration_prompt_due(nearly_all_day, session_at=monday_8)
    assert due == ny(7, 6) and due - monday_8 == timedelta(hours=70)
    assert reason(nearly_all_day, due + timedelta(hours=2), monday_8) == ""
    # A tick 2.5 hours late (not too late by the 3-hour rule) is past the 72 hours.
    assert reason(nearly_all_day, due + timedelta(hours=2, minutes=30), monday_8) == WINDOW_PASSED
