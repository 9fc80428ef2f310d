"""A clinic's opening hours: is it open at an instant, and N working hours from an instant.

Hours are wall-clock times in the clinic's zone, per weekday (Monday first), as intervals
`[opens, closes)` in minutes after local midnight (`closes` may be 1440, "24:00"); a day
without intervals is closed. The clinic is open at an instant when the wall-clock time
there, at that instant, falls in one of that weekday's intervals. Everything else follows
from that definition, so daylight-saving changes are handled exactly: a working day whose
clocks go forward is an hour shorter, one whose clocks go back an hour longer, and an
interval that falls in the skipped hour has no working time at all.

Pure: the standard library only, the time and the zone passed in. Stored as JSON on the
clinic (`week_to_json`, `week_from_json`); typed into the clinic settings one day at a
time ("09:00-12:00, 13:00-17:00"; `parse_day`).
"""

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MINUTES_A_DAY = 24 * 60
# How far ahead a search for working time goes before it gives up (a week with open hours
# always has some within this; the bound only stops a pathological week looping for ever).
SEARCH_DAYS = 800
# "Open until …" looks this far ahead; a clinic open for longer without a break is open
# around the clock for the purpose of saying so.
HORIZON = timedelta(days=8)

_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
EN_DASH = "\u2013"  # between times and days shown to people: "Mon\u2013Fri 09:00\u201317:00"
_DASHES = re.compile(r"\s*(?:-|\u2013|\u2014|to)\s*")


class HoursInvalid(ValueError):
    """Opening hours that cannot be read; the message says why, in plain words."""


class NoOpeningHours(ValueError):
    """The week has no open hours: there is no working time to count."""


@dataclass(frozen=True, order=True)
class Interval:
    """Open from `opens` to `closes`, minutes after local midnight (0 <= opens < closes <= 1440)."""

    opens: int
    closes: int

    def __post_init__(self) -> None:
        if not 0 <= self.opens < self.closes <= MINUTES_A_DAY:
            raise HoursInvalid(
                f"{minutes_text(self.opens)}-{minutes_text(self.closes)}: "
                "the closing time must be after the opening time, on the same day."
            )


type Day = tuple[Interval, ...]
type Week = tuple[Day, Day, Day, Day, Day, Day, Day]

CLOSED_WEEK: Week = ((), (), (), (), (), (), ())


def minutes_text(minutes: int) -> str:
    """570 -> "09:30"; 1440 -> "24:00"."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text: str) -> int:
    match = _TIME.match(text.strip())
    if match is None:
        raise HoursInvalid(f"“{text.strip()}” is not a time: write it as 09:00 or 17:30.")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours == 24 and minutes:
        raise HoursInvalid(f"“{text.strip()}” is past midnight: the latest closing is 24:00.")
    return hours * 60 + minutes


def _checked(intervals: Sequence[Interval]) -> Day:
    ordered = tuple(sorted(intervals))
    for before, after in pairwise(ordered):
        if after.opens < before.closes:
            raise HoursInvalid(
                f"{day_text((before,))} and {day_text((after,))} overlap: "
                "give each stretch of opening once."
            )
    return ordered


def parse_day(text: str) -> Day:
    """ "09:00-12:00, 13:00-17:00" -> two intervals; "" or "closed" -> closed. Intervals may
    be separated by commas or semicolons, and the times by a hyphen, an en or em dash, or "to"."""
    text = text.strip()
    if not text or text.lower() == "closed":
        return ()
    intervals = []
    for part in re.split(r"[,;]", text):
        if not part.strip():
            continue
        times = _DASHES.split(part.strip())
        if len(times) != 2:
            raise HoursInvalid(
                f"“{part.strip()}” is not an opening: write it as 09:00-17:00 "
                "(several separated by commas)."
            )
        intervals.append(Interval(_minutes(times[0]), _minutes(times[1])))
    return _checked(intervals)


def day_text(day: Day, dash: str = "-") -> str:
    """The inverse of `parse_day` ("" for a closed day); `dash=EN_DASH` for display."""
    return ", ".join(f"{minutes_text(i.opens)}{dash}{minutes_text(i.closes)}" for i in day)


def week_from_json(data: Mapping[str, Sequence[Sequence[str]]] | None) -> Week:
    """{"mon": [["09:00", "17:00"]], …} (a missing day is closed) -> a Week."""
    data = data or {}
    days = []
    for key in DAY_KEYS:
        pairs = data.get(key) or ()
        days.append(_checked([Interval(_minutes(a), _minutes(b)) for a, b in pairs]))
    return (days[0], days[1], days[2], days[3], days[4], days[5], days[6])


def week_to_json(week: Week) -> dict[str, list[list[str]]]:
    """A Week as stored: only open days, each as [["09:00", "17:00"], …]."""
    return {
        key: [[minutes_text(i.opens), minutes_text(i.closes)] for i in day]
        for key, day in zip(DAY_KEYS, week, strict=True)
        if day
    }


def has_hours(week: Week) -> bool:
    return any(week)


def week_summary(week: Week) -> list[tuple[str, str]]:
    """Consecutive days with the same hours together, for people to read:
    [("Mon-Fri", "09:00-17:00"), ("Sat", "10:00-13:00"), ("Sun", "closed")], each dash an
    en dash."""
    groups: list[tuple[int, int, Day]] = []
    for index, day in enumerate(week):
        if groups and groups[-1][2] == day:
            groups[-1] = (groups[-1][0], index, day)
        else:
            groups.append((index, index, day))
    return [
        (
            DAY_NAMES[first] if first == last else f"{DAY_NAMES[first]}{EN_DASH}{DAY_NAMES[last]}",
            day_text(day, dash=EN_DASH) or "closed",
        )
        for first, last, day in groups
    ]


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("A time-zone-aware instant is required.")
    return at


def _open_at(week: Week, at: datetime, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone)
    second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    return any(i.opens * 60 <= second < i.closes * 60 for i in week[local.weekday()])


def is_open(week: Week, at: datetime, tz: str) -> bool:
    """Whether the clinic is open at the instant `at` (wall-clock time in zone `tz`)."""
    return _open_at(week, _aware(at), ZoneInfo(tz))


def _wall(day: date, minute: int, zone: ZoneInfo, fold: int) -> datetime:
    """The instant at which the clock in `zone` reads `minute` after midnight of `day` (the
    first or, with fold=1, the second time; for a time the clocks skip, zoneinfo's reading)."""
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    return naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)


def _transition(start: datetime, end: datetime, zone: ZoneInfo) -> datetime | None:
    """The instant in [start, end] at which the zone's offset changes, if it does (to the
    second: every zone changes on a whole second)."""
    if start.astimezone(zone).utcoffset() == end.astimezone(zone).utcoffset():
        return None
    before, after = start, end
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        if middle.astimezone(zone).utcoffset() == before.astimezone(zone).utcoffset():
            before = middle
        else:
            after = middle
    return after.replace(microsecond=0) if after.microsecond else after


def _day_spans(week: Week, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The stretches of real time during local `day` when the clinic is open, in order.

    Between two consecutive instants at which the answer can change (a boundary of an
    interval, read as both the first and the second time the clock shows it, a change of
    offset, the day's ends) the answer is the same throughout, so it is read at the middle.
    """
    start, end = _wall(day, 0, zone, 0), _wall(day, MINUTES_A_DAY, zone, 0)
    points = {start, end}
    for interval in week[day.weekday()]:
        for minute in (interval.opens, interval.closes):
            points.update(_wall(day, minute, zone, fold) for fold in (0, 1))
    changed = _transition(start, end, zone)
    if changed is not None:
        points.add(changed)
    ordered = sorted(p for p in points if start <= p <= end)
    spans: list[tuple[datetime, datetime]] = []
    for a, b in pairwise(ordered):
        if _open_at(week, a + (b - a) / 2, zone):
            if spans and spans[-1][1] == a:
                spans[-1] = (spans[-1][0], b)
            else:
                spans.append((a, b))
    return spans


def _spans_from(week: Week, start: datetime, zone: ZoneInfo) -> Iterator[tuple[datetime, datetime]]:
    """Each day's stretches of open time from `start` on (the first cut at `start`), not
    joined across midnight; for SEARCH_DAYS days."""
    day = start.astimezone(zone).date() - timedelta(days=1)
    for _ in range(SEARCH_DAYS):
        for a, b in _day_spans(week, day, zone):
            if b > start:
                yield max(a, start), b
        day += timedelta(days=1)


def open_spans(
    week: Week, start: datetime, tz: str, *, until: datetime | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """The stretches of open time from `start` on, in order, as UTC instants (the first cut
    at `start`); adjacent stretches (a day open until 24:00, the next from 00:00) are joined.
    Stops at `until` (a stretch running past it is cut there), else after SEARCH_DAYS days;
    at once for a week without hours."""
    start = _aware(start).astimezone(UTC)
    if not has_hours(week):
        return
    pending: tuple[datetime, datetime] | None = None
    for a, b in _spans_from(week, start, ZoneInfo(tz)):
        if until is not None and a >= until:
            break
        if pending is not None and pending[1] == a:
            pending = (pending[0], b)
        else:
            if pending is not None:
                yield pending
            pending = (a, b)
        if until is not None and pending[1] >= until:
            break
    if pending is not None:
        yield (pending[0], min(pending[1], until)) if until is not None else pending


def add_working_hours(week: Week, start: datetime, amount: timedelta, tz: str) -> datetime:
    """The instant at which `amount` of open time has passed since `start` (UTC). A start
    while closed counts from the next opening; an amount that ends exactly at a closing
    time ends there (not at the next opening). Zero returns `start`.

    Raises NoOpeningHours for a week without open hours, ValueError for a negative amount
    or a naive `start`.
    """
    if amount < timedelta(0):
        raise ValueError("The amount of working time cannot be negative.")
    start = _aware(start)
    if not amount:
        return start.astimezone(UTC)
    if not has_hours(week):
        raise NoOpeningHours("The clinic has no opening hours to count working time in.")
    remaining = amount
    for a, b in _spans_from(week, start.astimezone(UTC), ZoneInfo(tz)):
        if b - a >= remaining:
            return a + remaining
        remaining -= b - a
    raise NoOpeningHours(f"Not enough open hours within {SEARCH_DAYS} days.")


@dataclass(frozen=True)
class OpenState:
    """Open or closed at an instant, and when that changes (None: not within HORIZON)."""

    is_open: bool
    changes_at: datetime | None

    def words(self, tz: str, *, now: datetime) -> str:
        """ "Open now, until 17:00", "Closed now; opens Mon 09:00", "Open now" (around the
        clock), "Closed now" (no opening within HORIZON). Times are the clinic's."""
        head = "Open now" if self.is_open else "Closed now"
        if self.changes_at is None:
            return head
        local = self.changes_at.astimezone(ZoneInfo(tz))
        today = now.astimezone(ZoneInfo(tz)).date()
        moment = local.strftime("%H:%M")
        if local.date() != today:
            moment = f"{DAY_NAMES[local.weekday()]} {moment}"
        return f"{head}, until {moment}" if self.is_open else f"{head}; opens {moment}"


def open_state(week: Week, at: datetime, tz: str) -> OpenState:
    """Open or closed at `at`, and the next instant (within HORIZON) at which that changes."""
    at = _aware(at).astimezone(UTC)
    horizon = at + HORIZON
    currently = is_open(week, at, tz)
    for a, b in open_spans(week, at, tz, until=horizon):
        if not currently:
            return OpenState(False, a)
        # Open: the first stretch starts at `at`; it ends where the open time stops.
        return OpenState(True, b if b < horizon else None)
    return OpenState(currently, None)
