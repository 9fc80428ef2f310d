"""Booking rules (care/domain/booking.py): hours, closed days, chairs, the patient's own
bookings, nearest free slots and induction series, in the clinic's zone across DST. No
database."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from care.domain.booking import (
    CLOSED,
    NO_CHAIR,
    OUTSIDE_HOURS,
    PATIENT_BOOKED,
    Booking,
    Rules,
    booking_problems,
    day_spans,
    free_chair,
    nearest_free_slots,
    place,
    series_offsets,
    series_proposal,
)
from care.domain.clinic_hours import CLOSED_WEEK, DAY_KEYS, week_from_json

NY = "America/New_York"
ZONE = ZoneInfo(NY)
# Mon-Fri 09:00-17:00 (a lunch break on Fridays), Saturday mornings, closed on Sundays.
WEEK = week_from_json(
    {
        **{key: [["09:00", "17:00"]] for key in DAY_KEYS[:4]},
        "fri": [["09:00", "12:00"], ["13:00", "17:00"]],
        "sat": [["09:00", "13:00"]],
    }
)
EVERY_DAY = week_from_json({key: [["08:00", "18:00"]] for key in DAY_KEYS})
# Open on Sundays through the night the clocks change (02:00 is skipped / repeated).
NIGHT = week_from_json({"sun": [["00:00", "06:00"]]})
RULES = Rules(week=WEEK, tz=NY, chairs=2, minutes=120)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZONE)


def codes(problems) -> list[str]:
    return [p.code for p in problems]


# 2026-06-15 is a Monday.
MONDAY_10 = local(2026, 6, 15, 10, 0)


def test_a_session_inside_hours_with_chairs_and_patient_free_has_no_problem():
    assert booking_problems(RULES, MONDAY_10, [], []) == []
    assert booking_problems(RULES, local(2026, 6, 15, 15, 0), [], []) == []  # ends 17:00


def test_closed_day_is_named():
    problems = booking_problems(RULES, local(2026, 6, 14, 10, 0), [], [])
    assert codes(problems) == [CLOSED]
    assert "closed on Sundays" in problems[0].message


@pytest.mark.parametrize(
    "start",
    [
        local(2026, 6, 15, 8, 45),  # starts before opening
        local(2026, 6, 15, 15, 15),  # ends after closing
        local(2026, 6, 19, 11, 0),  # Friday: runs into the lunch break
        local(2026, 6, 20, 11, 30),  # Saturday: runs past 13:00
    ],
)
def test_the_whole_session_must_fit_one_open_stretch(start):
    problems = booking_problems(RULES, start, [], [])
    assert codes(problems) == [OUTSIDE_HOURS]
    assert "Outside opening hours" in problems[0].message


def test_friday_afternoon_after_the_break_fits():
    assert booking_problems(RULES, local(2026, 6, 19, 13, 0), [], []) == []


def test_a_clinic_without_hours_is_not_checked_for_hours():
    rules = Rules(week=CLOSED_WEEK, tz=NY, chairs=1, minutes=120)
    assert booking_problems(rules, local(2026, 6, 14, 3, 0), [], []) == []


def test_chairs_lowest_free_and_none_when_all_taken():
    one = [Booking(MONDAY_10, 1)]
    assert free_chair(RULES, MONDAY_10, []) == 1
    assert free_chair(RULES, MONDAY_10 + timedelta(minutes=60), one) == 2
    both = [*one, Booking(MONDAY_10 + timedelta(minutes=119), 2)]
    problems = booking_problems(RULES, MONDAY_10 + timedelta(minutes=90), both, [])
    assert codes(problems) == [NO_CHAIR]
    assert "all 2 chairs" in problems[0].message


def test_a_chair_is_free_again_when_the_session_before_ends():
    both = [Booking(MONDAY_10, 1), Booking(MONDAY_10, 2)]
    assert free_chair(RULES, MONDAY_10 + timedelta(minutes=120), both) == 1
    assert free_chair(RULES, MONDAY_10 - timedelta(minutes=120), both) == 1
    assert free_chair(RULES, MONDAY_10 + timedelta(minutes=119), both) is None


def test_bookings_without_a_chair_hold_none():
    overrides = [Booking(MONDAY_10, None), Booking(MONDAY_10, None)]
    assert free_chair(RULES, MONDAY_10, overrides) == 1


def test_patient_booked_overlapping_or_the_same_day():
    overlapping = booking_problems(RULES, MONDAY_10, [], [MONDAY_10 + timedelta(hours=1)])
    assert codes(overlapping) == [PATIENT_BOOKED]
    same_day = booking_problems(RULES, MONDAY_10, [], [local(2026, 6, 15, 14, 0)])
    assert codes(same_day) == [PATIENT_BOOKED]
    assert "one session a day" in same_day[0].message
    assert booking_problems(RULES, MONDAY_10, [], [local(2026, 6, 16, 10, 0)]) == []


def test_every_problem_is_listed():
    start = local(2026, 6, 15, 16, 0)
    both = [Booking(start, 1), Booking(start, 2)]
    assert codes(booking_problems(RULES, start, both, [start])) == [
        OUTSIDE_HOURS,
        NO_CHAIR,
        PATIENT_BOOKED,
    ]


def test_naive_instants_are_refused():
    with pytest.raises(ValueError):
        booking_problems(RULES, datetime(2026, 6, 15, 10), [], [])


# Nearest free slots.


def test_nearest_slots_around_a_full_time_before_and_after():
    full = [Booking(MONDAY_10, 1), Booking(MONDAY_10, 2)]
    slots = nearest_free_slots(RULES, MONDAY_10, full, [])
    # Every start from 09:00 to 11:45 overlaps 10:00-12:00; the nearest: 12:00, 12:15, 12:30.
    assert slots == [
        local(2026, 6, 15, 12, 0),
        local(2026, 6, 15, 12, 15),
        local(2026, 6, 15, 12, 30),
    ]


def test_nearest_slots_before_and_after_when_both_are_near():
    full = [Booking(local(2026, 6, 15, 11, 0), 1), Booking(local(2026, 6, 15, 11, 0), 2)]
    slots = nearest_free_slots(RULES, local(2026, 6, 15, 11, 0), full, [])
    assert slots == [
        local(2026, 6, 15, 9, 0),
        local(2026, 6, 15, 13, 0),
        local(2026, 6, 15, 13, 15),
    ]


def test_nearest_slots_skip_a_closed_day_and_the_patients_day():
    sunday = local(2026, 6, 14, 10, 0)
    slots = nearest_free_slots(RULES, sunday, [], [local(2026, 6, 15, 9, 0)])
    # Saturday 09:00-13:00 (latest start 11:00) is nearer than Tuesday.
    assert slots == [
        local(2026, 6, 13, 10, 30),
        local(2026, 6, 13, 10, 45),
        local(2026, 6, 13, 11, 0),
    ]


def test_nearest_slots_never_before_now():
    slots = nearest_free_slots(RULES, MONDAY_10, [], [], not_before=local(2026, 6, 15, 14, 5))
    assert slots == [
        local(2026, 6, 15, 14, 15),
        local(2026, 6, 15, 14, 30),
        local(2026, 6, 15, 14, 45),
    ]


def test_nearest_slots_on_the_wall_clock_grid():
    rules = Rules(week=week_from_json({"mon": [["09:10", "17:00"]]}), tz=NY, chairs=1, minutes=60)
    slots = nearest_free_slots(rules, local(2026, 6, 15, 9, 0), [], [])
    assert slots == [
        local(2026, 6, 15, 9, 15),
        local(2026, 6, 15, 9, 30),
        local(2026, 6, 15, 9, 45),
    ]


def test_no_slot_when_nothing_is_open():
    rules = Rules(week=week_from_json({"mon": [["09:00", "10:00"]]}), tz=NY, chairs=1, minutes=120)
    assert nearest_free_slots(rules, MONDAY_10, [], []) == []
    assert place(rules, MONDAY_10, [], []).chair is None


# Across the changes of the clocks (America/New_York, 2026-03-08 and 2026-11-01, Sundays).

SPRING = Rules(week=EVERY_DAY, tz=NY, chairs=1, minutes=120)


@pytest.mark.parametrize("day", [7, 8, 9])
def test_nine_in_the_morning_is_bookable_either_side_of_spring_forward(day):
    start = local(2026, 3, day, 9, 0)
    assert booking_problems(SPRING, start, [], []) == []
    assert start.astimezone(UTC).hour == (14 if day < 8 else 13)


@pytest.mark.parametrize("day", [10, 31])
def test_nine_in_the_morning_is_bookable_either_side_of_fall_back(day):
    month = 10 if day == 31 else 11
    start = local(2026, month, day if month == 10 else 2, 9, 0)
    assert booking_problems(SPRING, start, [], []) == []
    assert start.astimezone(UTC).hour == (13 if month == 10 else 14)


def test_a_chair_taken_at_nine_before_the_change_is_free_at_nine_after_it():
    saturday, monday = local(2026, 3, 7, 9, 0), local(2026, 3, 9, 9, 0)
    assert free_chair(SPRING, monday, [Booking(saturday, 1)]) == 1
    slots = nearest_free_slots(SPRING, monday, [Booking(monday, 1)], [])
    assert slots == [local(2026, 3, 9, 11, 0), local(2026, 3, 9, 11, 15), local(2026, 3, 9, 11, 30)]


def test_night_hours_through_the_skipped_hour_have_five_real_hours():
    rules = Rules(week=NIGHT, tz=NY, chairs=1, minutes=120)
    (span,) = day_spans(rules, local(2026, 3, 8, 0, 0).date())
    assert span[1] - span[0] == timedelta(hours=5)
    # 01:30 EST + 2 h = 04:30 EDT: fits; 04:15 EDT + 2 h = 06:15 EDT: does not.
    assert booking_problems(rules, local(2026, 3, 8, 1, 30), [], []) == []
    late = booking_problems(rules, local(2026, 3, 8, 4, 15), [], [])
    assert codes(late) == [OUTSIDE_HOURS]
    assert "04:15\u201306:15" in late[0].message
    starts = nearest_free_slots(rules, local(2026, 3, 8, 0, 0), [], [], count=100, days=0)
    assert len(starts) == 13  # 00:00-01:45 EST (8), 03:00-04:00 EDT (5)
    assert local(2026, 3, 8, 4, 0) in starts


def test_night_hours_through_the_repeated_hour_have_seven_real_hours():
    rules = Rules(week=NIGHT, tz=NY, chairs=1, minutes=120)
    (span,) = day_spans(rules, local(2026, 11, 1, 0, 0).date())
    assert span[1] - span[0] == timedelta(hours=7)
    assert booking_problems(rules, local(2026, 11, 1, 4, 0), [], []) == []  # to 06:00 EST
    assert codes(booking_problems(rules, local(2026, 11, 1, 4, 15), [], [])) == [OUTSIDE_HOURS]
    starts = nearest_free_slots(rules, local(2026, 11, 1, 0, 0), [], [], count=100, days=0)
    assert len(starts) == 21  # every quarter hour of 04:00Z-09:00Z, the repeated hour twice
    assert len({s.astimezone(ZONE).strftime("%H:%M") for s in starts}) == 17


def test_chair_overlap_is_in_real_time_across_the_repeated_hour():
    rules = Rules(week=NIGHT, tz=NY, chairs=1, minutes=120)
    first = local(2026, 11, 1, 0, 0)  # EDT, ends 01:00 EST (the second 01:00)
    taken = [Booking(first, 1)]
    second_one = datetime(2026, 11, 1, 1, 0, tzinfo=ZONE, fold=1)
    assert free_chair(rules, datetime(2026, 11, 1, 1, 0, tzinfo=ZONE), taken) is None
    assert free_chair(rules, second_one, taken) == 1


# Induction series.


@pytest.mark.parametrize(
    ("sessions", "weeks", "offsets"),
    [
        (6, 2, [0, 2, 5, 7, 9, 12]),
        (6, 3, [0, 4, 7, 11, 14, 18]),
        (8, 4, [0, 4, 7, 11, 14, 18, 21, 25]),
        (1, 1, [0]),
        (12, 1, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),  # at least a day apart
    ],
)
def test_series_offsets(sessions, weeks, offsets):
    assert series_offsets(sessions, weeks) == offsets


def test_series_offsets_refuse_nothing():
    with pytest.raises(ValueError):
        series_offsets(0, 2)


def test_series_moves_sessions_off_closed_days_and_taken_chairs():
    rules = Rules(week=WEEK, tz=NY, chairs=1, minutes=120)
    first = local(2026, 6, 15, 10, 0)  # Monday; 6 over 3 weeks: days 0 4 7 11 14 18
    taken = [Booking(local(2026, 6, 19, 10, 0), 1)]  # Friday 10:00 (day 4)
    placed = series_proposal(rules, first, 6, 3, taken, [])
    starts = [p.start for p in placed]
    assert starts[0] == first
    assert starts[1] == local(2026, 6, 19, 13, 0)  # Friday after the lunch break
    assert starts[2] == local(2026, 6, 22, 10, 0)  # Monday
    assert starts[3] == local(2026, 6, 26, 10, 0)  # Friday
    assert starts[4] == local(2026, 6, 29, 10, 0)
    assert starts[5] == local(2026, 7, 3, 10, 0)
    assert [p.moved for p in placed] == [False, True, False, False, False, False]
    assert all(p.chair == 1 for p in placed)


def test_series_across_spring_forward_keeps_the_wall_clock_time():
    placed = series_proposal(SPRING, local(2026, 3, 6, 9, 0), 3, 1, [], [])
    # 3 over 1 week: days 0, 2, 5 (Fri 6, Sun 8, Wed 11).
    assert [p.start.astimezone(ZONE).strftime("%a %H:%M") for p in placed] == [
        "Fri 09:00",
        "Sun 09:00",
        "Wed 09:00",
    ]
    assert placed[1].start - placed[0].start == timedelta(days=2, hours=-1)


def test_series_sessions_a_day_apart_even_when_moved():
    # A closed Sunday pushes the session to Saturday or Monday, never onto a day already used.
    rules = Rules(week=WEEK, tz=NY, chairs=1, minutes=120)
    placed = series_proposal(rules, local(2026, 6, 13, 10, 0), 2, 1, [], [])  # Sat, then day 4
    days = [p.start.astimezone(ZONE).date() for p in placed]
    assert days[1] > days[0]
    both = series_proposal(rules, local(2026, 6, 13, 10, 0), 7, 1, [], [])
    local_days = [p.start.astimezone(ZONE).date() for p in both]
    assert len(set(local_days)) == 7
    assert all(d.weekday() != 6 for d in local_days)  # no Sundays


def test_series_counts_the_patients_own_bookings():
    own = [local(2026, 6, 15, 14, 0)]
    placed = series_proposal(RULES, local(2026, 6, 15, 10, 0), 1, 1, [], own)
    assert placed[0].start.astimezone(ZONE).date() != own[0].astimezone(ZONE).date()
