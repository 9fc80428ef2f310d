"""Booking a treatment session: opening hours, chairs and the patient's other bookings.

A session holds a chair for `[start, start + minutes)` (the clinic's chair time,
`Clinic.session_minutes`), in real time: a session across a change of the clocks is as long
as any other. A proposed booking has problems when

- the clinic is closed that local day ("closed on Sundays"), or the whole interval is not
  inside one open stretch of that local day (`care.domain.clinic_hours`, exact across
  daylight-saving changes: on the day the clocks go forward, a clinic open 00:00-06:00 has
  five hours to book in, on the day they go back seven); a clinic without any opening hours
  is not checked for hours (its free slots are any time of the day);
- no chair (1..chairs) is free for the whole interval (bookings without a chair, made over a
  conflict, hold none);
- the patient already has a booking that overlaps it, or any booking on the same local day
  (a patient has at most one session a day).

Free slots are starts on a grid of the clinic's wall clock (every 15 minutes by default)
inside the opening hours with a chair and the patient free, nearest to the time asked for
first (before or after it), never before `not_before` (now). An induction series of N
sessions over W weeks puts session i at day round(i x 7W / N) (halves up), at least a day
after the one before, at the first session's wall-clock time, each moved to its nearest
free slot on or after the day following the one before.

Pure: the standard library and the domain only; time and zone passed in, aware datetimes.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from care.domain.clinic_hours import DAY_NAMES, Week, day_text, has_hours, open_spans
from care.domain.clock import local_day_start
from care.domain.dates import weekday_moment

GRID_MINUTES = 15
SLOT_COUNT = 3
# How many days either side of the asked-for day the free-slot search looks at.
SEARCH_DAYS = 21
FULL_DAY_NAMES = (
    "Mondays",
    "Tuesdays",
    "Wednesdays",
    "Thursdays",
    "Fridays",
    "Saturdays",
    "Sundays",
)

CLOSED = "closed"
OUTSIDE_HOURS = "outside_hours"
NO_CHAIR = "no_chair"
PATIENT_BOOKED = "patient_booked"


# The instants a booking may start between (anything else is a typing slip, and would
# overflow the date arithmetic of the free-slot search).
BOOKABLE_FROM = datetime(2000, 1, 1, tzinfo=UTC)
BOOKABLE_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = "Choose a time between the years 2000 and 2099."


def out_of_range(start: datetime) -> str | None:
    """Why `start` cannot be booked at all (None when it is within the bookable years)."""
    return None if BOOKABLE_FROM <= _aware(start) < BOOKABLE_UNTIL else OUT_OF_RANGE


@dataclass(frozen=True)
class Rules:
    """A clinic's booking rules: its week (in zone `tz`), chairs and chair time."""

    week: Week
    tz: str
    chairs: int
    minutes: int

    def __post_init__(self) -> None:
        if self.chairs < 1 or self.minutes < 1:
            raise ValueError("A clinic books at least one chair for at least a minute.")

    @property
    def length(self) -> timedelta:
        return timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class Booking:
    """Another booking of the clinic: its start and its chair (None: booked without one)."""

    start: datetime
    chair: int | None = None


@dataclass(frozen=True)
class Problem:
    """Why a booking cannot be made: a code (`CLOSED`, `OUTSIDE_HOURS`, `NO_CHAIR`,
    `PATIENT_BOOKED`) and the words for the clinician."""

    code: str
    message: str


@dataclass(frozen=True)
class Placed:
    """A proposed session: where it was meant to be, where it was put and its chair (None
    when no free slot was found: `start` is then the wanted time, and it needs a person)."""

    wanted: datetime
    start: datetime
    chair: int | None
    problems: tuple[Problem, ...] = field(default=())

    @property
    def moved(self) -> bool:
        return self.start != self.wanted


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("A time-zone-aware instant is required.")
    return at.astimezone(UTC)


def _overlaps(a: datetime, b: datetime, length: timedelta) -> bool:
    """Whether sessions starting at `a` and `b`, both `length` long, overlap."""
    return a < b + length and b < a + length


def day_spans(rules: Rules, day: date) -> list[tuple[datetime, datetime]]:
    """The clinic's open stretches of local `day` (UTC instants), cut at the day's ends; a
    clinic without any hours is open all day."""
    start = local_day_start(day, rules.tz).astimezone(UTC)
    end = local_day_start(day + timedelta(days=1), rules.tz).astimezone(UTC)
    if not has_hours(rules.week):
        return [(start, end)] if end > start else []
    return list(open_spans(rules.week, start, rules.tz, until=end))


def _local(at: datetime, rules: Rules) -> datetime:
    return at.astimezone(ZoneInfo(rules.tz))


def hours_problem(rules: Rules, start: datetime) -> Problem | None:
    """Closed that day, or the session does not fit one open stretch of the day."""
    start = _aware(start)
    end = start + rules.length
    local = _local(start, rules)
    weekday = local.weekday()
    if not has_hours(rules.week):
        return None
    if not rules.week[weekday]:
        return Problem(CLOSED, f"The clinic is closed on {FULL_DAY_NAMES[weekday]}.")
    if any(a <= start and end <= b for a, b in day_spans(rules, local.date())):
        return None
    hours = day_text(rules.week[weekday], dash="\u2013")
    until = _local(end, rules)
    return Problem(
        OUTSIDE_HOURS,
        f"Outside opening hours: the session would run {local:%H:%M}\u2013{until:%H:%M}; "
        f"the clinic is open {DAY_NAMES[weekday]} {hours}.",
    )


def free_chair(rules: Rules, start: datetime, others: Iterable[Booking]) -> int | None:
    """The lowest chair free for the whole session starting at `start`, or None."""
    start = _aware(start)
    taken = {
        b.chair
        for b in others
        if b.chair is not None and _overlaps(_aware(b.start), start, rules.length)
    }
    return next((c for c in range(1, rules.chairs + 1) if c not in taken), None)


def patient_problem(rules: Rules, start: datetime, own: Iterable[datetime]) -> Problem | None:
    """The patient's own booking overlapping the session, or on the same local day."""
    start = _aware(start)
    day = _local(start, rules).date()
    for other in own:
        other = _aware(other)
        if _overlaps(other, start, rules.length) or _local(other, rules).date() == day:
            when = weekday_moment(_local(other, rules))
            return Problem(
                PATIENT_BOOKED,
                f"The patient already has a session on {when}: one session a day at most.",
            )
    return None


def booking_problems(
    rules: Rules, start: datetime, others: Sequence[Booking], own: Sequence[datetime]
) -> list[Problem]:
    """Everything that stops a session starting at `start` (empty: it can be booked).
    `others`: the clinic's other bookings (the patient's own among them); `own`: the
    patient's other bookings' starts. Neither holds the session being moved."""
    problems = []
    hours = hours_problem(rules, start)
    if hours is not None:
        problems.append(hours)
    if free_chair(rules, start, others) is None:
        chairs = "the chair is" if rules.chairs == 1 else f"all {rules.chairs} chairs are"
        problems.append(
            Problem(NO_CHAIR, f"No chair is free for the whole session: {chairs} taken.")
        )
    patient = patient_problem(rules, start, own)
    if patient is not None:
        problems.append(patient)
    return problems


def _grid_starts(rules: Rules, day: date, grid: int) -> Iterable[datetime]:
    """The starts of local `day` on the wall-clock grid that fit an open stretch."""
    step = timedelta(minutes=grid)
    for a, b in day_spans(rules, day):
        local = _local(a, rules)
        past = (local.hour * 60 + local.minute) % grid
        at = a - timedelta(minutes=past, seconds=local.second, microseconds=local.microsecond)
        if at < a:
            at += step
        while at + rules.length <= b:
            yield at
            at += step


def nearest_free_slots(
    rules: Rules,
    wanted: datetime,
    others: Sequence[Booking],
    own: Sequence[datetime],
    *,
    not_before: datetime | None = None,
    count: int = SLOT_COUNT,
    grid: int = GRID_MINUTES,
    days: int = SEARCH_DAYS,
) -> list[datetime]:
    """Up to `count` starts without problems nearest to `wanted` (before or after it; the
    earlier of two as near), within `days` local days of it and not before `not_before`,
    in time order."""
    wanted = _aware(wanted)
    floor = _aware(not_before) if not_before is not None else None
    day = _local(wanted, rules).date()
    found: list[datetime] = []
    enough_at: int | None = None
    for ring in range(days + 1):
        ring_days = [day] if ring == 0 else [day - timedelta(days=ring), day + timedelta(days=ring)]
        for each in ring_days:
            for start in _grid_starts(rules, each, grid):
                if floor is not None and start < floor:
                    continue
                if not booking_problems(rules, start, others, own):
                    found.append(start)
        if enough_at is None and len(found) >= count:
            enough_at = ring
        # Two more days either side make sure no nearer start lies a day further out (a
        # start a day away can be nearer than the latest of today's).
        if enough_at is not None and ring >= enough_at + 2:
            break
    found.sort(key=lambda s: (abs(s - wanted), s))
    return sorted(found[:count])


def series_offsets(sessions: int, weeks: int) -> list[int]:
    """Days after the first of each of `sessions` spread over `weeks` weeks: round(i x 7W/N),
    halves up, each at least a day after the one before. 6 over 2 weeks: 0 2 5 7 9 12; 6
    over 3: 0 4 7 11 14 18; 8 over 4 (esketamine twice weekly): 0 4 7 11 14 18 21 25."""
    if sessions < 1 or weeks < 1:
        raise ValueError("A series has at least one session over at least one week.")
    offsets: list[int] = []
    for i in range(sessions):
        # Halves up, in whole numbers: floor((2 * i * 7W + N) / 2N).
        day = (2 * i * 7 * weeks + sessions) // (2 * sessions)
        offsets.append(max(day, offsets[-1] + 1) if offsets else day)
    return offsets


def place(
    rules: Rules,
    wanted: datetime,
    others: Sequence[Booking],
    own: Sequence[datetime],
    *,
    not_before: datetime | None = None,
) -> Placed:
    """`wanted` if it can be booked, else its nearest free slot (not before `not_before`)."""
    wanted = _aware(wanted)
    if (not_before is None or wanted >= _aware(not_before)) and not booking_problems(
        rules, wanted, others, own
    ):
        return Placed(wanted, wanted, free_chair(rules, wanted, others))
    slots = nearest_free_slots(rules, wanted, others, own, not_before=not_before)
    if not slots:
        return Placed(wanted, wanted, None, tuple(booking_problems(rules, wanted, others, own)))
    # The nearest, not the earliest, of the slots found.
    start = min(slots, key=lambda s: (abs(s - wanted), s))
    return Placed(wanted, start, free_chair(rules, start, others))


def series_proposal(
    rules: Rules,
    first: datetime,
    sessions: int,
    weeks: int,
    others: Sequence[Booking],
    own: Sequence[datetime],
    *,
    not_before: datetime | None = None,
) -> list[Placed]:
    """An induction series from `first` (see `series_offsets`), each session at its wanted
    wall-clock time or the nearest free slot, on a later local day than the one before; the
    sessions proposed count as booked for the ones after them."""
    zone = ZoneInfo(rules.tz)
    local_first = _aware(first).astimezone(zone)
    others, own = list(others), list(own)
    placed: list[Placed] = []
    for offset in series_offsets(sessions, weeks):
        day = local_first.date() + timedelta(days=offset)
        # The same wall-clock time (a time the clocks skip reads as zoneinfo reads it).
        wanted = datetime.combine(day, local_first.timetz().replace(tzinfo=None), tzinfo=zone)
        floor = not_before
        if placed:
            next_day = _local(placed[-1].start, rules).date() + timedelta(days=1)
            after = local_day_start(next_day, rules.tz)
            floor = after if floor is None else max(_aware(floor), _aware(after))
        one = place(rules, wanted, others, own, not_before=floor)
        placed.append(one)
        if one.chair is not None:
            others.append(Booking(one.start, one.chair))
            own.append(one.start)
    return placed
