"""When a treatment session may be recorded as held. Pure functions; the instant is passed in.

A session is recorded from its start on: recording one still ahead would mark it completed
with monitoring times in the future, take it off the schedule and the patient's home, and
count REMS days from a date not yet reached.
"""

import zoneinfo
from datetime import datetime

from care.domain.dates import weekday_moment

NOT_STARTED = "This session starts on {start}; it can be recorded from then on."
STARTED_LATER = "Monitoring cannot have started in the future; enter the time it started."
ENDED_LATER = "Monitoring cannot have ended in the future; leave it empty until it ends."


def session_record_problems(
    *,
    scheduled_at: datetime,
    monitoring_started_at: datetime | None,
    monitoring_ended_at: datetime | None,
    now: datetime,
    tz: str,
) -> dict[str, str]:
    """Why the session cannot be recorded at `now`, by field name (start times shown in the
    clinic's zone `tz`); empty if it can."""
    problems = {}
    if now < scheduled_at:
        start = scheduled_at.astimezone(zoneinfo.ZoneInfo(tz))
        problems["scheduled_at"] = NOT_STARTED.format(start=weekday_moment(start))
    if monitoring_started_at is not None and monitoring_started_at > now:
        problems["monitoring_started_at"] = STARTED_LATER
    if monitoring_ended_at is not None and monitoring_ended_at > now:
        problems["monitoring_ended_at"] = ENDED_LATER
    return problems
