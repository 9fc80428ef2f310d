"""The day view of a clinic's sessions laid out for the page: chairs as columns, a row every
30 minutes of the day's opening hours (in the clinic's zone), each session in the row its
start falls in, and a column for bookings without a chair (booked over a conflict)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ObjectDoesNotExist

from care.domain.booking import Rules, day_spans
from care.domain.clinic_hours import EN_DASH, day_text, has_hours
from care.domain.clock import local_instant
from care.models import TreatmentSession

ROW_MINUTES = 30
# The rows drawn on a day without opening hours (closed, or a clinic without hours) and
# without sessions: the usual working day.
DEFAULT_HOURS = (8, 18)

READY, NOT_READY, NOT_ANSWERED = "ready", "not ready", "not answered"


def readiness_label(session: TreatmentSession) -> str:
    """ "ready", "not ready" or "not answered", from the patient's readiness check."""
    try:
        readiness = session.readiness
    except ObjectDoesNotExist:
        return NOT_ANSWERED
    return READY if readiness.is_ready else NOT_READY


@dataclass
class DayEntry:
    session: TreatmentSession
    start: datetime  # in the clinic's zone
    end: datetime
    readiness: str
    move_request_id: int | None


@dataclass
class DayRow:
    at: datetime  # the row's first instant, in the clinic's zone
    cells: list[list[DayEntry]] = field(default_factory=list)  # one per column


@dataclass
class DayGrid:
    columns: list[str]
    rows: list[DayRow]
    open_text: str


def _row_starts(rules: Rules, day: date, starts: Sequence[datetime]) -> list[datetime]:
    """The rows' instants: every ROW_MINUTES of the wall clock over the day's open stretches
    (extended to the sessions booked outside them)."""
    step = timedelta(minutes=ROW_MINUTES)
    spans = day_spans(rules, day) if has_hours(rules.week) else []
    first = min([a for a, _ in spans] + list(starts), default=None)
    last = max([b for _, b in spans] + [s + step for s in starts], default=None)
    if first is None or last is None:
        first = local_instant(day, time(DEFAULT_HOURS[0]), rules.tz)
        last = local_instant(day, time(DEFAULT_HOURS[1]), rules.tz)
    zone = ZoneInfo(rules.tz)
    local = first.astimezone(zone)
    at = first - timedelta(
        minutes=(local.hour * 60 + local.minute) % ROW_MINUTES,
        seconds=local.second,
        microseconds=local.microsecond,
    )
    rows = []
    while at < last:
        rows.append(at.astimezone(zone))
        at += step
    return rows


def day_grid(
    *,
    rules: Rules,
    day: date,
    sessions: Iterable[TreatmentSession],
    move_requests: dict[int, int],
) -> DayGrid:
    """The grid of `day`: a column per chair (1..chairs, and any higher chair a session still
    holds), then "No chair"; `move_requests` maps a session to its pending request."""
    zone = ZoneInfo(rules.tz)
    sessions = list(sessions)
    top = max([rules.chairs] + [s.chair for s in sessions if s.chair is not None])
    columns = [f"Chair {n}" for n in range(1, top + 1)] + ["No chair"]
    starts = [s.scheduled_at for s in sessions]
    rows = [DayRow(at, [[] for _ in columns]) for at in _row_starts(rules, day, starts)]
    length = timedelta(minutes=rules.minutes)
    for session in sessions:
        entry = DayEntry(
            session=session,
            start=session.scheduled_at.astimezone(zone),
            end=(session.scheduled_at + length).astimezone(zone),
            readiness=readiness_label(session),
            move_request_id=move_requests.get(session.pk),
        )
        column = session.chair - 1 if session.chair is not None else len(columns) - 1
        row = next(
            (r for r in reversed(rows) if r.at <= session.scheduled_at), rows[0] if rows else None
        )
        if row is not None:
            row.cells[column].append(entry)
    if not has_hours(rules.week):
        open_text = "no opening hours set"
    else:
        open_text = day_text(rules.week[day.weekday()], dash=EN_DASH) or "closed"
    return DayGrid(columns=columns, rows=rows, open_text=open_text)
