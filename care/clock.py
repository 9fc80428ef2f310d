"""Time helpers: pure functions, the instant is always passed in."""

import zoneinfo
from datetime import date, datetime, time


def local_date(now: datetime, tz: str) -> date:
    """The calendar date in time zone `tz` at the instant `now` (aware)."""
    return now.astimezone(zoneinfo.ZoneInfo(tz)).date()


def local_day_start(day: date, tz: str) -> datetime:
    """The instant the calendar date `day` begins in time zone `tz` (aware)."""
    return datetime.combine(day, time.min, tzinfo=zoneinfo.ZoneInfo(tz))
