"""The response target of patients' messages, counted in clinic hours: the pure rule."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from care.domain.clinic_hours import CLOSED_WEEK, DAY_KEYS, week_from_json
from care.domain.reply_target import (
    message_waiting_alert,
    reply_due,
    reply_overdue,
    waiting_cause,
)

NEW_YORK, SYDNEY, LONDON = "America/New_York", "Australia/Sydney", "Europe/London"
OFFICE = week_from_json({key: [["09:00", "17:00"]] for key in DAY_KEYS[:5]})  # Mon-Fri
SUNDAYS = week_from_json({"sun": [["00:00", "24:00"]]})  # open all Sunday, only Sunday
ROUND_THE_CLOCK = week_from_json({key: [["00:00", "24:00"]] for key in DAY_KEYS})


def at(zone: str, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone), fold=fold)


@pytest.mark.parametrize(
    ("week", "tz", "sent", "hours", "due"),
    [
        # A Friday-afternoon message: two hours on Friday, six on Monday.
        pytest.param(
            OFFICE,
            NEW_YORK,
            at(NEW_YORK, 2026, 3, 20, 15),
            8,
            at(NEW_YORK, 2026, 3, 23, 15),
            id="friday-afternoon-due-monday",
        ),
        # Sent while closed (a Saturday, or before opening): counts from the next opening.
        pytest.param(
            OFFICE,
            NEW_YORK,
            at(NEW_YORK, 2026, 3, 21, 10),
            8,
            at(NEW_YORK, 2026, 3, 23, 17),
            id="saturday-counts-from-monday-opening",
        ),
        pytest.param(
            OFFICE,
            NEW_YORK,
            at(NEW_YORK, 2026, 3, 23, 7, 30),
            4,
            at(NEW_YORK, 2026, 3, 23, 13),
            id="before-opening-counts-from-opening",
        ),
        # Sent at closing time: the whole target is the next working day.
        pytest.param(
            OFFICE,
            NEW_YORK,
            at(NEW_YORK, 2026, 3, 23, 17),
            8,
            at(NEW_YORK, 2026, 3, 24, 17),
            id="at-closing-counts-from-next-opening",
        ),
        # Two working days from a Thursday: Thursday's rest, Friday, Monday's start.
        pytest.param(
            OFFICE,
            NEW_YORK,
            at(NEW_YORK, 2026, 3, 19, 13),
            16,
            at(NEW_YORK, 2026, 3, 23, 13),
            id="two-working-days-over-a-weekend",
        ),
        # US spring forward (Sun Mar 8, 2026): Monday's 15:00 is EDT, an hour earlier in UTC.
        pytest.param(
            OFFICE,
            NEW_YORK,
            at(NEW_YORK, 2026, 3, 6, 15),
            8,
            at(NEW_YORK, 2026, 3, 9, 15),
            id="us-spring-forward-weekend",
        ),
        # US fall back (Sun Nov 1, 2026): Monday's 15:00 is EST.
        pytest.param(
            OFFICE,
            NEW_YORK,
            at(NEW_YORK, 2026, 10, 30, 15),
            8,
            at(NEW_YORK, 2026, 11, 2, 15),
            id="us-fall-back-weekend",
        ),
        # A clinic open on Sundays only: the spring-forward Sunday has 23 hours of opening,
        # so a 24-hour target runs into the next Sunday by one hour...
        pytest.param(
            SUNDAYS,
            NEW_YORK,
            at(NEW_YORK, 2026, 3, 7, 12),
            24,
            at(NEW_YORK, 2026, 3, 15, 1),
            id="us-spring-forward-day-is-23-working-hours",
        ),
        # ...and the fall-back Sunday 25, so it ends at 23:00 the same day.
        pytest.param(
            SUNDAYS,
            NEW_YORK,
            at(NEW_YORK, 2026, 10, 31, 12),
            24,
            at(NEW_YORK, 2026, 11, 1, 23),
            id="us-fall-back-day-is-25-working-hours",
        ),
        # Australia (Sydney) ends daylight saving on Sun Apr 5, 2026: Friday 15:00 AEDT is
        # due Monday 15:00 AEST.
        pytest.param(
            OFFICE,
            SYDNEY,
            at(SYDNEY, 2026, 4, 3, 15),
            8,
            at(SYDNEY, 2026, 4, 6, 15),
            id="australia-autumn-weekend",
        ),
        # ...and starts it on Sun Oct 4, 2026: around the clock, 48 real hours are 49 on the
        # wall clock.
        pytest.param(
            ROUND_THE_CLOCK,
            SYDNEY,
            at(SYDNEY, 2026, 10, 3, 12),
            48,
            at(SYDNEY, 2026, 10, 5, 13),
            id="australia-spring-forward-round-the-clock",
        ),
        # No opening hours: hours of the clock (24 real hours across the US change).
        pytest.param(
            CLOSED_WEEK,
            NEW_YORK,
            at(NEW_YORK, 2026, 3, 7, 12),
            24,
            at(NEW_YORK, 2026, 3, 8, 13),
            id="no-hours-counts-the-clock-across-dst",
        ),
        pytest.param(
            CLOSED_WEEK,
            LONDON,
            at(LONDON, 2026, 3, 20, 15),
            8,
            at(LONDON, 2026, 3, 20, 23),
            id="no-hours-counts-the-clock",
        ),
    ],
)
def test_a_reply_is_due_after_the_target_in_clinic_hours(week, tz, sent, hours, due):
    result = reply_due(waiting_since=sent, hours=hours, week=week, tz=tz)

    assert result == due
    assert result.tzinfo is UTC
    assert not reply_overdue(
        waiting_since=sent, hours=hours, week=week, tz=tz, now=due - timedelta(seconds=1)
    )
    assert reply_overdue(waiting_since=sent, hours=hours, week=week, tz=tz, now=due)


def test_the_dst_cases_land_on_the_right_utc_instants():
    # The same Monday 15:00 in New York is 20:00 UTC in winter and 19:00 UTC in summer.
    winter = reply_due(
        waiting_since=at(NEW_YORK, 2026, 10, 30, 15), hours=8, week=OFFICE, tz=NEW_YORK
    )
    summer = reply_due(
        waiting_since=at(NEW_YORK, 2026, 3, 6, 15), hours=8, week=OFFICE, tz=NEW_YORK
    )
    assert (winter, summer) == (
        datetime(2026, 11, 2, 20, tzinfo=UTC),
        datetime(2026, 3, 9, 19, tzinfo=UTC),
    )
    # The fall-back Sunday's 23:00 EST is 25 real hours after its midnight EDT.
    sunday = reply_due(
        waiting_since=at(NEW_YORK, 2026, 10, 31, 12), hours=24, week=SUNDAYS, tz=NEW_YORK
    )
    assert sunday == datetime(2026, 11, 2, 4, tzinfo=UTC)


@pytest.mark.parametrize("week", [OFFICE, CLOSED_WEEK])
def test_no_target_is_never_overdue(week):
    sent = at(NEW_YORK, 2026, 3, 20, 15)

    assert reply_due(waiting_since=sent, hours=0, week=week, tz=NEW_YORK) is None
    for later in (timedelta(0), timedelta(days=1), timedelta(days=3650)):
        assert not reply_overdue(
            waiting_since=sent, hours=0, week=week, tz=NEW_YORK, now=sent + later
        )
    assert (
        message_waiting_alert(
            thread_id=1,
            waiting_since=sent,
            hours=0,
            week=week,
            tz=NEW_YORK,
            now=sent + timedelta(days=30),
        )
        is None
    )


def test_a_bad_target_or_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="negative"):
        reply_due(waiting_since=at(NEW_YORK, 2026, 3, 20, 15), hours=-1, week=OFFICE, tz=NEW_YORK)
    with pytest.raises(ValueError, match="aware"):
        reply_due(waiting_since=datetime(2026, 3, 20, 15), hours=8, week=OFFICE, tz=NEW_YORK)


def test_the_alert_says_since_when_and_the_target_and_never_quotes_the_message():
    sent = at(NEW_YORK, 2026, 3, 20, 15)
    monday = at(NEW_YORK, 2026, 3, 23, 15)

    before = message_waiting_alert(
        thread_id=7,
        waiting_since=sent,
        hours=8,
        week=OFFICE,
        tz=NEW_YORK,
        now=monday - timedelta(minutes=1),
    )
    draft = message_waiting_alert(
        thread_id=7, waiting_since=sent, hours=8, week=OFFICE, tz=NEW_YORK, now=monday
    )

    assert before is None
    assert draft is not None
    assert (draft.kind, draft.priority) == ("message_waiting", "routine")
    assert draft.cause == waiting_cause(7, sent) == "message_waiting:7:20260320T190000.000000Z"
    assert "since Fri, Mar 20, 15:00 (clinic time)" in draft.reason
    assert "8 working hours" in draft.reason
    clock = message_waiting_alert(
        thread_id=7, waiting_since=sent, hours=1, week=CLOSED_WEEK, tz=NEW_YORK, now=monday
    )
    assert clock is not None and "target of 1 hour." in clock.reason


def test_each_waiting_episode_has_its_own_cause():
    first = at(NEW_YORK, 2026, 3, 20, 15)
    again = first + timedelta(days=3, microseconds=1)

    assert waiting_cause(7, first) != waiting_cause(7, again) != waiting_cause(8, again)
    # The same instant in any zone is the same episode.
    assert waiting_cause(7, first) == waiting_cause(7, first.astimezone(ZoneInfo(SYDNEY)))
    assert len(waiting_cause(2**63 - 1, first)) <= 100  # fits Alert.cause
