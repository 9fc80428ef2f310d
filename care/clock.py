"""Time helpers: pure functions, the instant is always passed in."""

import zoneinfo
from datetime import date, datetime


def local_date(now: datetime, tz: str) -> date:
    """The calendar date in time zone `tz` at the instant `now` (aware)."""
    return now.astimezone(zoneinfo.ZoneInfo(tz)).date()
