"""Opening hours: reading them, "open at t" and "N working hours from t", across DST."""

from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import pytest

from care.domain.clinic_hours import (
    CLOSED_WEEK,
    DAY_KEYS,
    HoursInvalid,
    Interval,
    NoOpeningHours,
    add_working_hours,
    day_text,
    is_open,
    open_spans,
    open_state,
    parse_day,
    week_from_json,
    week_summary,
    week_to_json,
)

NEW_YORK, LONDON, SYDNEY = "America/New_York", "Europe/London", "Australia/Sydney"
OFFICE = week_from_json({key: [["09:00", "17:00"]] for key in DAY_KEYS[:5]})  # Mon-Fri
ROUND_THE_CLOCK = week_from_json({key: [["00:00", "24:00"]] for key in DAY_KEYS})
NIGHT_SUNDAY = week_from_json({"sun": [["01:00", "03:00"]]})  # spans the clocks changing


def at(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


def local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-17:00", (Interval(540, 1020),)),
        ("9:00 - 12:00, 13:00\u201317:30", (Interval(540, 720), Interval(780, 1050))),
        ("13:00-17:00; 08:00-12:00", (Interval(480, 720), Interval(780, 1020))),  # sorted
        ("00:00-24:00", (Interval(0, 1440),)),
        ("", ()),
        ("  Closed ", ()),
    ],
)
def test_a_day_is_read_as_typed(text, expected):
    assert parse_day(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9-17", "not a time"),
        ("17:00-09:00", "closing time must be after"),
        ("09:00-12:00, 11:30-13:00", "overlap"),
        ("09:00", "not an opening"),
        ("24:30-24:45", "past midnight"),
        ("09:00-12:60", "not a time"),
    ],
)
def test_a_day_that_cannot_be_read_says_why(text, message):
    with pytest.raises(HoursInvalid, match=message):
        parse_day(text)


def test_the_week_round_trips_through_json_and_reads_as_people_write_it():
    week = week_from_json(
        {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]], "sat": [["10:00", "13:00"]]}
    )

    assert week_from_json(week_to_json(week)) == week
    assert week_to_json(CLOSED_WEEK) == {}
    assert day_text(week[0]) == "09:00-17:00"
    assert week_summary(week) == [
        ("Mon\u2013Tue", "09:00\u201317:00"),
        ("Wed\u2013Fri", "closed"),
        ("Sat", "10:00\u201313:00"),
        ("Sun", "closed"),
    ]


def test_open_at_an_instant_follows_the_clinics_wall_clock_across_dst():
    # 13:30 UTC is 08:30 in New York in winter (closed) and 09:30 in summer (open).
    assert not is_open(OFFICE, datetime(2026, 3, 6, 13, 30, tzinfo=UTC), NEW_YORK)
    assert is_open(OFFICE, datetime(2026, 3, 9, 13, 30, tzinfo=UTC), NEW_YORK)
    assert is_open(OFFICE, at(NEW_YORK, 2026, 3, 9, 16, 59), NEW_YORK)
    assert not is_open(OFFICE, at(NEW_YORK, 2026, 3, 9, 17, 0), NEW_YORK)  # closes at 17:00
    assert not is_open(OFFICE, at(NEW_YORK, 2026, 3, 7, 12, 0), NEW_YORK)  # Saturday
    # The same instant in another zone is another wall-clock time.
    assert is_open(OFFICE, at(LONDON, 2026, 3, 9, 9, 30), LONDON)
    assert not is_open(OFFICE, at(LONDON, 2026, 3, 9, 9, 30), NEW_YORK)  # 05:30 there


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="aware"):
        is_open(OFFICE, datetime(2026, 3, 9, 10, 0), NEW_YORK)


@pytest.mark.parametrize(
    ("start", "hours", "end"),
    [
        (datetime(2026, 3, 6, 16, 0), 2, datetime(2026, 3, 9, 10, 0)),  # Fri 16:00 -> Mon
        (datetime(2026, 3, 7, 11, 0), 1, datetime(2026, 3, 9, 10, 0)),  # from a closed day
        (datetime(2026, 3, 9, 7, 0), 8, datetime(2026, 3, 9, 17, 0)),  # ends at closing
        (datetime(2026, 3, 9, 9, 30), 40, datetime(2026, 3, 16, 9, 30)),  # a working week
        (datetime(2026, 3, 9, 18, 0), 0.5, datetime(2026, 3, 10, 9, 30)),  # after closing
    ],
)
def test_working_hours_skip_nights_and_weekends(start, hours, end):
    start = start.replace(tzinfo=ZoneInfo(NEW_YORK))

    result = add_working_hours(OFFICE, start, timedelta(hours=hours), NEW_YORK)

    assert local(result, NEW_YORK) == end


def test_working_hours_are_real_hours_when_the_clocks_change():
    # Open round the clock: 24 working hours from Saturday noon are 24 real hours, which in
    # New York end at 13:00 on Sunday in spring (an hour skipped) and 11:00 in autumn.
    spring = add_working_hours(
        ROUND_THE_CLOCK, at(NEW_YORK, 2026, 3, 7, 12, 0), timedelta(hours=24), NEW_YORK
    )
    autumn = add_working_hours(
        ROUND_THE_CLOCK, at(NEW_YORK, 2026, 10, 31, 12, 0), timedelta(hours=24), NEW_YORK
    )

    assert local(spring, NEW_YORK) == datetime(2026, 3, 8, 13, 0)
    assert local(autumn, NEW_YORK) == datetime(2026, 11, 1, 11, 0)


def test_an_opening_that_spans_the_clock_change_is_shorter_or_longer():
    # Sunday 01:00-03:00: one real hour on the day New York skips 02:00-03:00, three on the
    # day it repeats 01:00-02:00; London changes on other days, Sydney the other way round.
    [(spring_open, spring_close)] = islice(
        open_spans(NIGHT_SUNDAY, datetime(2026, 3, 7, tzinfo=UTC), NEW_YORK), 1
    )
    [(autumn_open, autumn_close)] = islice(
        open_spans(NIGHT_SUNDAY, datetime(2026, 10, 31, tzinfo=UTC), NEW_YORK), 1
    )
    [(sydney_open, sydney_close)] = islice(
        open_spans(NIGHT_SUNDAY, datetime(2026, 4, 4, tzinfo=UTC), SYDNEY), 1
    )

    assert spring_close - spring_open == timedelta(hours=1)
    assert autumn_close - autumn_open == timedelta(hours=3)
    assert sydney_close - sydney_open == timedelta(hours=3)  # Sydney's clocks go back 5 April
    assert local(spring_close, NEW_YORK) == datetime(2026, 3, 8, 3, 0)
    halfway = add_working_hours(
        NIGHT_SUNDAY, datetime(2026, 10, 31, tzinfo=UTC), timedelta(hours=2), NEW_YORK
    )
    assert halfway == datetime(2026, 11, 1, 7, 0, tzinfo=UTC)  # 01:00 EST, the second time
    assert not is_open(NIGHT_SUNDAY, halfway - timedelta(hours=2, seconds=1), NEW_YORK)
    assert is_open(NIGHT_SUNDAY, halfway, NEW_YORK)


def test_working_time_agrees_with_open_at_every_quarter_hour_of_a_dst_week():
    week = week_from_json(
        {
            "sat": [["00:30", "02:30"], ["22:00", "24:00"]],
            "sun": [["00:00", "01:30"], ["02:15", "02:45"], ["03:00", "12:00"]],
            "mon": [["08:00", "18:00"]],
        }
    )
    start = datetime(2026, 3, 6, 0, 0, tzinfo=UTC)
    spans = list(islice(open_spans(week, start, NEW_YORK), 20))
    moment = start
    while moment < start + timedelta(days=7):
        inside = any(a <= moment < b for a, b in spans)
        assert inside == is_open(week, moment, NEW_YORK), moment
        moment += timedelta(minutes=15)


def test_zero_negative_and_impossible_amounts():
    start = at(NEW_YORK, 2026, 3, 7, 12, 0)

    assert add_working_hours(OFFICE, start, timedelta(0), NEW_YORK) == start
    assert add_working_hours(CLOSED_WEEK, start, timedelta(0), NEW_YORK) == start
    with pytest.raises(ValueError, match="negative"):
        add_working_hours(OFFICE, start, timedelta(hours=-1), NEW_YORK)
    with pytest.raises(NoOpeningHours):
        add_working_hours(CLOSED_WEEK, start, timedelta(hours=1), NEW_YORK)
    assert list(open_spans(CLOSED_WEEK, start, NEW_YORK)) == []


def test_the_open_state_says_until_when_in_the_clinics_time():
    monday_morning = at(NEW_YORK, 2026, 3, 9, 10, 0)
    friday_evening = at(NEW_YORK, 2026, 3, 6, 18, 0)
    early_monday = at(NEW_YORK, 2026, 3, 9, 7, 0)

    def words(week, now):
        return open_state(week, now, NEW_YORK).words(NEW_YORK, now=now)

    assert words(OFFICE, monday_morning) == "Open now, until 17:00"
    assert words(OFFICE, friday_evening) == "Closed now; opens Mon 09:00"
    assert words(OFFICE, early_monday) == "Closed now; opens 09:00"
    assert words(ROUND_THE_CLOCK, monday_morning) == "Open now"
    assert words(CLOSED_WEEK, monday_morning) == "Closed now"
    state = open_state(OFFICE, monday_morning, NEW_YORK)
    assert state.is_open and state.changes_at == at(NEW_YORK, 2026, 3, 9, 17, 0)


def test_a_day_open_until_midnight_runs_into_the_next_days_early_hours():
    week = week_from_json({"fri": [["18:00", "24:00"]], "sat": [["00:00", "02:00"]]})

    state = open_state(week, at(LONDON, 2026, 3, 6, 23, 0), LONDON)

    assert state.changes_at == at(LONDON, 2026, 3, 7, 2, 0)


def test_open_spans_join_across_midnight_and_stop_where_asked():
    start = at(NEW_YORK, 2026, 3, 7, 12, 0)
    until = start + timedelta(days=3)

    assert list(open_spans(ROUND_THE_CLOCK, start, NEW_YORK, until=until)) == [
        (start.astimezone(UTC), until.astimezone(UTC))
    ]
    office = [
        (local(a, NEW_YORK), local(b, NEW_YORK))
        for a, b in open_spans(OFFICE, start, NEW_YORK, until=until)  # Saturday to Tuesday noon
    ]
    assert office == [
        (datetime(2026, 3, 9, 9, 0), datetime(2026, 3, 9, 17, 0)),
        (datetime(2026, 3, 10, 9, 0), datetime(2026, 3, 10, 12, 0)),  # cut at `until`
    ]
