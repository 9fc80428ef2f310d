"""When reminders are due: pure functions of plain values and `now` (DST-safe)."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from care.domain.clock import local_instant, utc_offset

# A reminder more than this late (beat or the whole system was down) is not sent any more:
# "check in now" three hours after the chosen time is no longer the reminder promised.
LATE_AFTER = timedelta(hours=3)


@dataclass(frozen=True)
class ReminderSettings:
    tz: str
    email_enabled: bool = True
    checkin_time: time = time(19, 0)
    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)
    paused_until: date | None = None
    unsubscribed: tuple[str, ...] = field(default=())


def local_moment(day: date, at: time, tz: str) -> datetime:
    """The instant (UTC) of wall time `at` on `day` in `tz`.

    A wall time that does not exist that day (clocks go forward) is the first instant after
    the gap (02:30 on New York's spring-forward day is 03:00 EDT), whatever the size of the
    shift; one that happens twice (clocks go back) is its first occurrence. Either way each
    local day has exactly one instant (care.domain.clock.local_instant).
    """
    return local_instant(day, at, tz).astimezone(UTC)


def in_quiet_hours(at: time, start: time, end: time) -> bool:
    """Whether a wall time falls in quiet hours (which may run over midnight)."""
    if start == end:
        return False
    if start < end:
        return start <= at < end
    return at >= start or at < end


def _quiet_at(settings: ReminderSettings, chosen: time, due: datetime) -> bool:
    """Whether a reminder chosen for `chosen` and due at `due` falls in quiet hours: the
    chosen time, or the wall time it leaves at (later than chosen only when the chosen time
    does not exist that day and it leaves at the end of the gap)."""
    quiet = (settings.quiet_start, settings.quiet_end)
    leaves = due.astimezone(ZoneInfo(settings.tz)).time()
    return in_quiet_hours(chosen, *quiet) or in_quiet_hours(leaves, *quiet)


# Why a reminder whose time came is not sent (notifications.models.Delivery.SkipReason).
EMAIL_OFF = "email_off"
UNSUBSCRIBED = "unsubscribed"
PAUSED = "paused"
QUIET_HOURS = "quiet_hours"
TOO_LATE = "too_late"


@dataclass(frozen=True)
class ReminderDecision:
    """A reminder whose time has come: sent if `skip_reason` is empty, else recorded as
    skipped for that reason."""

    due: datetime
    skip_reason: str = ""


def _sent_at(decision: ReminderDecision | None) -> datetime | None:
    """The due time of a decision to send; None for none, or for a skip."""
    return None if decision is None or decision.skip_reason else decision.due


def look_back_start(*, now: datetime, last_tick: datetime | None) -> datetime:
    """The earliest due time a dispatcher tick at `now` decides on: the LATE_AFTER before
    it, or, after a stall, back to the moment of the last tick (`last_tick`, None when none
    is on record), so the reminders the stall dropped are recorded as skipped, too late."""
    start = now - LATE_AFTER
    return start if last_tick is None else min(last_tick, start)


def checkin_reminder_decision(
    settings: ReminderSettings,
    *,
    now: datetime,
    kind: str = "checkin_due",
    since: datetime | None = None,
) -> ReminderDecision | None:
    """Today's reminder at the chosen time (the patient's local day) once that time has
    come by `now`, with why it is not sent if it is not; None before its time, and None if
    it was due before `since` (the tick's look_back_start, if given: an earlier tick
    decided on it).

    Not sent when reminders are off, paused, unsubscribed from `kind`, the chosen time is
    inside quiet hours, or it is too late to be the reminder promised (more than LATE_AFTER
    past it: the beat or the whole system was down); the first of these that holds is the
    reason.
    """
    zone = ZoneInfo(settings.tz)
    today = now.astimezone(zone).date()
    due = local_moment(today, settings.checkin_time, settings.tz)
    if due > now or (since is not None and due < since):
        return None
    return ReminderDecision(due, _skip_reason(settings, kind=kind, day=today, due=due, now=now))


def _skip_reason(
    settings: ReminderSettings, *, kind: str, day: date, due: datetime, now: datetime
) -> str:
    """Why a reminder of `kind` for the local `day`, due at `due`, is not sent at `now`
    ("" if it is sent): the first of e-mails off, paused that day, unsubscribed from the
    kind, the chosen time inside quiet hours, more than LATE_AFTER late."""
    if not settings.email_enabled:
        return EMAIL_OFF
    if settings.paused_until is not None and day <= settings.paused_until:
        return PAUSED
    if kind in settings.unsubscribed:
        return UNSUBSCRIBED
    if _quiet_at(settings, settings.checkin_time, due):
        return QUIET_HOURS
    if now - due > LATE_AFTER:
        return TOO_LATE
    return ""


def checkin_reminder_due(
    settings: ReminderSettings, *, now: datetime, kind: str = "checkin_due"
) -> datetime | None:
    """Today's reminder at the chosen time, if due by `now` and to be sent
    (checkin_reminder_decision without a skip reason)."""
    decision = checkin_reminder_decision(settings, now=now, kind=kind)
    return _sent_at(decision)


@dataclass(frozen=True)
class ChosenTimeWindow:
    """The chosen times of day whose reminder may be due at one moment in one zone."""

    today: date
    earliest: time
    latest: time
    # The earliest chosen time whose check-in reminder the tick decides on: `earliest`,
    # or earlier after a stall (back to the last tick: look_back_start).
    look_back: time


def chosen_time_window(
    tz: str, *, now: datetime, since: datetime | None = None
) -> ChosenTimeWindow | None:
    """The local date at `now` in `tz` and the range of chosen times whose daily reminder can
    be due then, or None when no time of that day can be; `look_back` from the wall time
    of `since` (look_back_start, if earlier than LATE_AFTER before `now`) on.

    A wide enough range, never too narrow, so that a database can pick out the candidates:
    `checkin_reminder_due` still decides for each. On a day without a change of offset it is
    exactly the last LATE_AFTER of wall time; on a DST day it stretches by the change.
    """
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    # The offsets a wall time of that day can be read with (the one before a change, and
    # the one after; noon too, for a zone that changes twice in a day).
    offsets = {
        utc_offset(datetime.combine(today, at, tzinfo=zone))
        for at in (time.min, time(12), time.max)
    }
    naive_now = now.astimezone(UTC).replace(tzinfo=None)
    day_start = datetime.combine(today, time.min)
    start = max(naive_now - LATE_AFTER + min(offsets), day_start)
    end = min(naive_now + max(offsets), datetime.combine(today, time.max))
    if start > end:
        return None
    look_back = start
    if since is not None:
        naive_since = since.astimezone(UTC).replace(tzinfo=None)
        look_back = min(start, max(naive_since + min(offsets), day_start))
    return ChosenTimeWindow(today, start.time(), end.time(), look_back.time())


def session_reminder_decision(
    settings: ReminderSettings, *, session_at: datetime, now: datetime
) -> ReminderDecision | None:
    """The "session tomorrow" reminder, at the chosen time on the local day before the
    session, once that time has come by `now`, with why it is not sent if it is not; None
    before its time (or if that time is not before the session)."""
    zone = ZoneInfo(settings.tz)
    eve = session_at.astimezone(zone).date() - timedelta(days=1)
    due = local_moment(eve, settings.checkin_time, settings.tz)
    if due > now or due >= session_at:
        return None
    reason = _skip_reason(settings, kind="session_tomorrow", day=eve, due=due, now=now)
    return ReminderDecision(due, reason)


def session_reminder_due(
    settings: ReminderSettings, *, session_at: datetime, now: datetime
) -> datetime | None:
    """The "session tomorrow" reminder's time, if it has come by `now` and it is sent."""
    decision = session_reminder_decision(settings, session_at=session_at, now=now)
    return _sent_at(decision)


UNANSWERED_LIMIT = 3


def reminders_capped(*, unanswered: int, last_sent_on: date | None, today: date) -> bool:
    """After 3 check-in reminders in a row without a check-in, no more that (ISO) week."""
    if unanswered < UNANSWERED_LIMIT or last_sent_on is None:
        return False
    return last_sent_on.isocalendar()[:2] == today.isocalendar()[:2]


DIGEST_TIME = time(7, 30)


def digest_due(*, tz: str, now: datetime) -> datetime | None:
    """The clinic's daily digest moment (07:30 local) if it is due by `now`, else None."""
    due = local_moment(now.astimezone(ZoneInfo(tz)).date(), DIGEST_TIME, tz)
    return due if due <= now <= due + LATE_AFTER else None


QUESTIONNAIRE_WINDOW = timedelta(hours=48)


def pre_session_questionnaire_decision(
    settings: ReminderSettings, *, session_at: datetime, now: datetime
) -> ReminderDecision | None:
    """ "Questionnaire due" before a session: at the chosen time on the first local day of
    the 48 hours before it (the window opening later that day: the next day's time), once
    that time has come by `now`, with why it is not sent if it is not; None before its
    time (or if that time is not before the session)."""
    zone = ZoneInfo(settings.tz)
    opens = session_at - QUESTIONNAIRE_WINDOW
    day = opens.astimezone(zone).date()
    due = local_moment(day, settings.checkin_time, settings.tz)
    if due < opens:
        day += timedelta(days=1)
        due = local_moment(day, settings.checkin_time, settings.tz)
    if due > now or due >= session_at:
        return None
    reason = _skip_reason(settings, kind="questionnaire_due", day=day, due=due, now=now)
    return ReminderDecision(due, reason)


def pre_session_questionnaire_due(
    settings: ReminderSettings, *, session_at: datetime, now: datetime
) -> datetime | None:
    """The pre-session questionnaire reminder's time, if it has come by `now` and it is sent."""
    decision = pre_session_questionnaire_decision(settings, session_at=session_at, now=now)
    return _sent_at(decision)


AFTER_SESSION = timedelta(hours=3)


def checkin_time_for_day(settings: ReminderSettings, *, session_at: datetime | None) -> time:
    """The check-in reminder time of a day: on a session day, the evening after it.

    The chosen time moves to three hours after the session when it would come earlier, so
    the check-in tells how the session went; unless that would fall in quiet hours.
    """
    if session_at is None:
        return settings.checkin_time
    local = session_at.astimezone(ZoneInfo(settings.tz))
    after = local + AFTER_SESSION
    if after.date() != local.date():
        return settings.checkin_time
    evening = after.time().replace(second=0, microsecond=0)
    if settings.checkin_time >= evening or in_quiet_hours(
        evening, settings.quiet_start, settings.quiet_end
    ):
        return settings.checkin_time
    return evening


# The reflection after a held session ("integration prompt"): offered from 24 hours after
# the session's start, never later than 72 hours after it.
INTEGRATION_OPENS = timedelta(hours=24)
INTEGRATION_CLOSES = timedelta(hours=72)
WINDOW_PASSED = "window_passed"


def _after_quiet_hours(settings: ReminderSettings, due: datetime) -> datetime:
    """`due`, or, when its wall time falls in quiet hours, the first end of quiet hours after
    it (the next morning for quiet hours over midnight)."""
    zone = ZoneInfo(settings.tz)
    local = due.astimezone(zone)
    if not in_quiet_hours(local.time(), settings.quiet_start, settings.quiet_end):
        return due
    ends = local_moment(local.date(), settings.quiet_end, settings.tz)
    if ends <= due:
        ends = local_moment(local.date() + timedelta(days=1), settings.quiet_end, settings.tz)
    return ends


def integration_prompt_due(settings: ReminderSettings, *, session_at: datetime) -> datetime:
    """When the reflection prompt of a session held at `session_at` is due: at the chosen
    (check-in reminder) time on the first local day whose chosen time is at least
    INTEGRATION_OPENS after the session's start, moved to the end of quiet hours when it
    falls inside them. Real elapsed time, not wall time: across a change of the clocks the
    24 hours are still 24 hours."""
    opens = session_at + INTEGRATION_OPENS
    day = opens.astimezone(ZoneInfo(settings.tz)).date()
    due = local_moment(day, settings.checkin_time, settings.tz)
    if due < opens:
        due = local_moment(day + timedelta(days=1), settings.checkin_time, settings.tz)
    return _after_quiet_hours(settings, due)


def integration_prompt_decision(
    settings: ReminderSettings, *, session_at: datetime, now: datetime
) -> ReminderDecision | None:
    """The reflection prompt of a session held at `session_at`, once its time
    (integration_prompt_due) has come by `now`, with why it is not sent if it is not; None
    before its time.

    Not sent, the first reason that holds: reminder e-mails off, paused that day,
    unsubscribed from the kind, it could not go before INTEGRATION_CLOSES after the session
    (its time, or `now`, later than that), more than LATE_AFTER late.
    """
    due = integration_prompt_due(settings, session_at=session_at)
    if due > now:
        return None
    day = due.astimezone(ZoneInfo(settings.tz)).date()
    reason = ""
    if not settings.email_enabled:
        reason = EMAIL_OFF
    elif settings.paused_until is not None and day <= settings.paused_until:
        reason = PAUSED
    elif "integration_prompt" in settings.unsubscribed:
        reason = UNSUBSCRIBED
    elif max(due, now) > session_at + INTEGRATION_CLOSES:
        reason = WINDOW_PASSED
    elif now - due > LATE_AFTER:
        reason = TOO_LATE
    return ReminderDecision(due, reason)


# Texts go only between these wall times of the patient's zone (and outside their quiet
# hours): a text wakes a phone, an e-mail does not.
TEXT_DAY_START = time(8, 0)
TEXT_DAY_END = time(21, 0)
TEXT_HOURS = "text_hours"
# A text whose time falls outside those hours waits for them, unless that is too long for
# what it says: a day's reminders (the check-in, a questionnaire, tomorrow's session) wait
# within their local day only; a new message's notice or a reflection prompt up to a day.
TEXT_MAY_WAIT = timedelta(hours=24)
SAME_DAY_KINDS = ("checkin_due", "questionnaire_due", "session_tomorrow")


def text_allowed(local_wall: time, quiet_start: time, quiet_end: time) -> bool:
    """Whether a text may go at this wall time: in the day's text hours and not in quiet
    hours."""
    in_day = TEXT_DAY_START <= local_wall < TEXT_DAY_END
    return in_day and not in_quiet_hours(local_wall, quiet_start, quiet_end)


def text_send_at(
    *,
    kind: str,
    due: datetime,
    tz: str,
    quiet_start: time,
    quiet_end: time,
    not_before: datetime | None = None,
) -> datetime | None:
    """When a text of `kind` due at `due` may go, from `not_before` on (`due` if not
    given; a send that comes later asks again): that moment itself, or the first one after
    it inside the text hours and outside quiet hours, on the due day's local date for a
    day's reminders, within TEXT_MAY_WAIT of `due` for the rest; None when there is none
    (recorded skipped, TEXT_HOURS).

    The candidates are the wall times where "allowed" can change (08:00, the end of quiet
    hours) on that local day and the next, each as an instant of its day (DST-exact, as
    local_moment)."""
    zone = ZoneInfo(tz)
    start = max(due, not_before) if not_before is not None else due
    limit = (
        local_moment(due.astimezone(zone).date() + timedelta(days=1), time(0), tz)
        if kind in SAME_DAY_KINDS
        else due + TEXT_MAY_WAIT
    )
    if start >= limit:
        return None
    local = start.astimezone(zone)
    if text_allowed(local.time(), quiet_start, quiet_end):
        return start
    moments = sorted(
        local_moment(local.date() + timedelta(days=d), at, tz)
        for d in (0, 1)
        for at in (TEXT_DAY_START, quiet_end)
    )
    for moment in moments:
        wall = moment.astimezone(zone).time()
        if start < moment < limit and text_allowed(wall, quiet_start, quiet_end):
            return moment
    return None
