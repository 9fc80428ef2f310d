"""Time helpers: pure functions, the instant is always passed in."""

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta


def utc_offset(moment: datetime) -> timedelta:
    """The UTC offset of an aware datetime: never None for one with a ZoneInfo or UTC."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError(f"{moment!r} is naive: it has no UTC offset")
    return offset


def local_date(now: datetime, tz: str) -> date:
    """The calendar date in time zone `tz` at the instant `now` (aware)."""
    return now.astimezone(zoneinfo.ZoneInfo(tz)).date()


def local_instant(day: date, at: time, tz: str) -> datetime:
    """The instant of wall time `at` on `day` in time zone `tz` (aware, in `tz`).

    A wall time that happens twice (clocks go back) is its first occurrence. One that does
    not exist (clocks go forward, by an hour, half an hour or a whole day) is the first
    instant after the gap: 02:30 on New York's spring-forward day is 03:00 EDT, not the
    03:30 that reading it with the offset before the change would give.
    """
    zone = zoneinfo.ZoneInfo(tz)
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone)  # fold=0: the offset before any change
    after = utc_offset(first.replace(fold=1))
    if utc_offset(first) >= after:  # no change, or clocks go back: the first occurrence
        return first
    # In the gap. Its end is the change: after the instant read with the later offset
    # (still before the change), at or before the one read with the earlier offset.
    low = int((wall - after - datetime(1970, 1, 1)).total_seconds()) - 1
    high = int((wall - utc_offset(first) - datetime(1970, 1, 1)).total_seconds()) + 1
    while high - low > 1:  # bisect whole seconds: the change is the first past `wall`
        middle = (low + high) // 2
        local = datetime.fromtimestamp(middle, UTC).astimezone(zone).replace(tzinfo=None)
        low, high = (low, middle) if local > wall else (middle, high)
    return datetime.fromtimestamp(high, UTC).astimezone(zone)


def local_day_start(day: date, tz: str) -> datetime:
    """The instant the calendar date `day` begins in time zone `tz` (aware); a day that was
    skipped (Samoa's 30 December 2011) begins and ends at the instant the next one begins."""
    return local_instant(day, time.min, tz)
