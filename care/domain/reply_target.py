"""The clinic's response target for patients' messages: when a reply is due, and the
routine alert of a message that waits past it.

A clinic sets how long a patient's message may wait for a reply, in hours of the clinic's
opening (default 8: one working day; 0: no target). The time runs from the first of the
patient's messages the care team has not answered (`waiting_since`) and only while the
clinic is open, so a message sent on a Friday afternoon is due on Monday, one sent while
the clinic is closed counts from the next opening, and a working day whose clocks change is
counted as the hours it really has (care/domain/clinic_hours.py). A clinic that has given no
opening hours counts the target in hours of the clock instead.

Pure: the standard library only, the time and the zone passed in.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from care.domain.clinic_hours import NoOpeningHours, Week, add_working_hours, has_hours
from care.domain.dates import weekday_moment
from care.domain.rules import AlertDraft

DEFAULT_HOURS = 8
MAX_HOURS = 10 * 24  # a fortnight of eight-hour days, or ten days around the clock

KIND = "message_waiting"
PRIORITY = "routine"


def reply_due(*, waiting_since: datetime, hours: int, week: Week, tz: str) -> datetime | None:
    """The instant (UTC) by which the care team should have replied to a message waiting
    since `waiting_since`: `hours` of the clinic's open time later, or `hours` of the clock
    for a clinic without opening hours. None when the clinic has no target (`hours` 0).

    Raises ValueError for a negative target or a naive `waiting_since`.
    """
    if hours < 0:
        raise ValueError("The response target cannot be negative.")
    if waiting_since.tzinfo is None or waiting_since.utcoffset() is None:
        raise ValueError("A time-zone-aware instant is required.")
    if hours == 0:
        return None
    amount = timedelta(hours=hours)
    if has_hours(week):
        try:
            return add_working_hours(week, waiting_since, amount, tz)
        except NoOpeningHours:
            pass  # hours that never come round (only in a clocks-skipped hour): the clock
    # In UTC: adding to a zoned time would add to its wall clock, not to real time.
    return waiting_since.astimezone(UTC) + amount


def reply_overdue(
    *, waiting_since: datetime, hours: int, week: Week, tz: str, now: datetime
) -> bool:
    """Whether, at `now`, the message waiting since `waiting_since` has passed its target."""
    due = reply_due(waiting_since=waiting_since, hours=hours, week=week, tz=tz)
    return due is not None and now >= due


def waiting_cause(thread_id: int, waiting_since: datetime) -> str:
    """One alert per thread and waiting episode: a reply ends the episode, the patient's
    next message starts another (with its own `waiting_since`)."""
    return f"{KIND}:{thread_id}:{waiting_since.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}"


def target_words(hours: int, week: Week) -> str:
    """ "8 working hours" (counted in opening hours), "24 hours" (without them)."""
    unit = "working hour" if has_hours(week) else "hour"
    return f"{hours} {unit}{'' if hours == 1 else 's'}"


def message_waiting_alert(
    *,
    thread_id: int,
    waiting_since: datetime,
    hours: int,
    week: Week,
    tz: str,
    now: datetime,
) -> AlertDraft | None:
    """A routine alert when the patient's message has waited past the clinic's target.

    Its reason says since when (in the clinic's time) and the target; never the subject or
    the words of the message.
    """
    if not reply_overdue(waiting_since=waiting_since, hours=hours, week=week, tz=tz, now=now):
        return None
    since = weekday_moment(waiting_since.astimezone(ZoneInfo(tz)))
    return AlertDraft(
        KIND,
        PRIORITY,
        waiting_cause(thread_id, waiting_since),
        f"A message from the patient has waited for a reply since {since} (clinic time), "
        f"past the clinic's response target of {target_words(hours, week)}. "
        "Read it in Messages.",
    )
