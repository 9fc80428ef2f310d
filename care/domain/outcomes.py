"""Clinic outcomes: pure functions over plain values (no database, no clock).

The figures of the outcomes page, its CSV and `/api/v1/outcomes/`. The database applies
the per-patient part of these definitions where the rows are and sums it over the cohort
(`care.outcomes.sql`: a few dozen rows whatever the clinic's size); these functions take
those counts as frozen dataclasses and work out the rest (the Kaplan-Meier curve, means,
medians, shares). Time is an argument (`today`, the clinic's calendar date). The page shows
these definitions in the same plain words:

- **Cohort**: the clinic's patients who match the filters (condition; route: at least one
  held session of that route; primary clinician; current treatment phase), were enrolled
  by the end of the period and had their first held (completed) session by then. Patients
  enrolled by then with no session held yet are counted apart ("not treated yet") and are
  in no other figure. Scores after the end of the period are not used.
- **Baseline** (`rules.baseline`): the first score of a questionnaire at or before the first
  held session. A patient without one is left out of that questionnaire's figures and
  counted as "no baseline" (scored only after treatment began) or "never scored".
- **Time points**, by days since the first held session (the patient's local days): end of
  induction = days 21-42, 3 months = days 70-112, 6 months = days 154-210. A patient's
  score at a time point is their latest score in that window. Patients with a baseline but
  no score in the window (discharged early, not that far yet, or a missed questionnaire)
  are not in that time point's denominator: it reads "n with a score of N with a baseline".
- **Response**: a score at least 50% below the baseline (`rules.is_response`; a baseline of
  0 cannot respond). **Remission**: a score below 5 (`rules.is_remission`). PHQ-9 and GAD-7
  apart.
- **Time to first response**: weeks since the first held session (week 0 = days 0-6),
  weeks 0 to 26, from the scores after the first held session. A patient is at risk in a
  week if they have not responded before it and have a score in that week or later
  (patients are censored at their last score). The cumulative share is 1 minus the product
  over the weeks so far of (1 - responders / at risk): a Kaplan-Meier estimate.
- **Mean change from baseline by week**: in each week, the patients with a score after the
  first held session that week (their latest that week), the mean of score minus baseline
  and their number.
- **Adherence**, for the cohort's active patients, over the period from their enrolment to
  yesterday (today is not over): daily check-ins done of one expected per local day;
  questionnaires: each held session in that time expects one of the patient's
  questionnaires completed in the 48 hours before it, and for patients in maintenance
  each full 14-day block (counted from the start) without a held session expects one in the
  block. **Adherence dropped**: the share of check-ins in the last 14 days of that time is
  at least 25 percentage points below the share in the 14 days before, which was 50% or
  more.
- **Alert workload**: alerts about the cohort raised in the period, by kind; the median
  minutes from raised to acknowledged (acknowledged ones); escalated (the response target
  passed and the clinicians were e-mailed); still open now.
- **Messages** between the cohort and the care team: the patients' messages and the care
  team's replies sent in the period (staff notes are neither), and the threads the patients
  started in it. Of those threads, the ones the care team has replied to and the median
  hours that passed (wall-clock: nights and weekends count, not only opening hours) from
  the thread's first message (the patient's) to the care team's first reply, whenever it
  came; the others are counted as "no reply yet".

Counts are exact here; `suppressed` and the CSV / API shapes in `care.outcomes.export`
write counts of 1 to 4 as "fewer than 5".
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from statistics import median

from care.domain.clock import local_day_start
from care.domain.instruments import INSTRUMENTS

INSTRUMENT_CODES = ("phq9", "gad7")
LAST_WEEK = 26
QUESTIONNAIRE_LEAD = timedelta(hours=48)
BLOCK_DAYS = 14
RECENT_DAYS = 14
DROP_POINTS = Fraction(1, 4)
DROP_FROM_AT_LEAST = Fraction(1, 2)
SMALL_COUNT_BELOW = 5
ADHERENCE_ROWS = 100  # the patients the page lists by lowest check-in share
DEFAULT_MONTHS = 6  # the period shown unless asked: the last six months


@dataclass(frozen=True)
class TimePoint:
    key: str
    label: str
    first_day: int
    last_day: int


TIME_POINTS = (
    TimePoint("induction_end", "End of induction", 21, 42),
    TimePoint("month_3", "3 months", 70, 112),
    TimePoint("month_6", "6 months", 154, 210),
)


# Inputs


@dataclass(frozen=True)
class Period:
    """Calendar dates at the clinic, both included."""

    start: date
    end: date
    tz: str

    @property
    def starts_at(self) -> datetime:
        return local_day_start(self.start, self.tz)

    @property
    def ends_at(self) -> datetime:
        """The first instant after the period."""
        return local_day_start(self.end + timedelta(days=1), self.tz)


@dataclass(frozen=True)
class PointCounts:
    """At one time point, the patients with a baseline and a score in its window, and how
    many of those scores are a response and a remission."""

    scored: int = 0
    responders: int = 0
    remitters: int = 0


@dataclass(frozen=True)
class InstrumentCounts:
    """One questionnaire's counts over the cohort, as the database sums them
    (`care.outcomes.sql`): the patients with and without a baseline; per time point (in the
    order of TIME_POINTS); per week since the first held session, the patients whose first
    response fell in it (`responded`), whose last score did without a response
    (`censored`), and the number and sum of each patient's latest score minus baseline
    (`changes`)."""

    code: str
    with_baseline: int = 0
    no_baseline: int = 0  # scored, but only after the first held session
    never_scored: int = 0
    points: tuple[PointCounts, ...] = ()
    responded: Mapping[int, int] = field(default_factory=dict)
    censored: Mapping[int, int] = field(default_factory=dict)
    changes: Mapping[int, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertRecord:
    kind: str
    created_at: datetime
    acknowledged_at: datetime | None = None
    escalated: bool = False


@dataclass(frozen=True)
class ReminderCount:
    """How many reminders to the cohort due in the period ended with a status (and, if
    skipped, a reason)."""

    status: str
    skip_reason: str
    count: int
    channel: str = "email"  # or "text"


@dataclass(frozen=True)
class ThreadRecord:
    """A message thread of a cohort patient, started before the end of the period, with a
    message the patient can see in it (staff notes are not messages here)."""

    started_at: datetime  # its first message, the patient's
    first_reply_at: datetime | None  # the care team's first reply, whenever it came
    patient_messages: int  # the patient's messages sent in the period
    replies: int  # the care team's replies sent in the period


@dataclass(frozen=True)
class OutcomeData:
    period: Period
    patients: int  # the cohort: treated by the end of the period
    not_treated_yet: int = 0
    instruments: tuple[InstrumentCounts, ...] = ()
    adherence: "AdherenceFigures | None" = None  # None: nobody to count
    alerts: tuple[AlertRecord, ...] = ()
    alert_kinds: tuple[str, ...] = ()  # every kind, in the order tables list them
    reminders: tuple[ReminderCount, ...] = ()
    threads: tuple[ThreadRecord, ...] = ()


# Outputs


@dataclass(frozen=True)
class TimePointFigures:
    point: TimePoint
    with_baseline: int
    scored: int
    responders: int
    remitters: int


@dataclass(frozen=True)
class ResponseWeek:
    week: int
    at_risk: int
    responded: int
    censored: int  # last seen this week, without a response
    cumulative: Fraction  # share responded by the end of this week (Kaplan-Meier)


@dataclass(frozen=True)
class ChangeWeek:
    week: int
    patients: int
    mean: Fraction | None  # score minus baseline; None when no patient


@dataclass(frozen=True)
class InstrumentOutcomes:
    code: str
    name: str
    with_baseline: int
    no_baseline: int  # scored, but only after the first held session
    never_scored: int
    time_points: tuple[TimePointFigures, ...]
    time_to_response: tuple[ResponseWeek, ...]
    mean_change: tuple[ChangeWeek, ...]


@dataclass(frozen=True)
class PatientAdherence:
    key: int
    checkins_done: int
    checkins_expected: int
    questionnaires_done: int
    questionnaires_expected: int
    recent_done: int
    recent_expected: int
    earlier_done: int
    earlier_expected: int
    dropped: bool


@dataclass(frozen=True)
class AdherenceWindows:
    """The days adherence looks at (None: the period has no day before today)."""

    first: date
    last: date
    recent_first: date
    earlier_first: date
    earlier_last: date


@dataclass(frozen=True)
class AdherenceFigures:
    windows: AdherenceWindows | None
    patients: int  # active patients with at least one day expected
    left_out: int  # cohort patients not active (paused or discharged)
    checkins_done: int
    checkins_expected: int
    questionnaires_done: int
    questionnaires_expected: int
    with_earlier_share: int  # patients the drop rule could be checked for (both windows)
    dropped: tuple[PatientAdherence, ...] = ()  # every patient whose adherence dropped
    # The lowest check-in shares, lowest first (ties by name), at most ADHERENCE_ROWS.
    lowest: tuple[PatientAdherence, ...] = ()


@dataclass(frozen=True)
class AlertKindFigures:
    kind: str
    alerts: int
    acknowledged: int
    median_minutes: Fraction | None
    escalated: int
    still_open: int


@dataclass(frozen=True)
class AlertWorkload:
    kinds: tuple[AlertKindFigures, ...]
    total: AlertKindFigures


@dataclass(frozen=True)
class ChannelFigures:
    """One channel's reminders (e-mail, text): sent and failed (what delivery success is
    the share of: sent of sent and failed), skipped, waiting."""

    channel: str
    sent: int
    failed: int
    skipped: int
    waiting: int


@dataclass(frozen=True)
class ReminderFigures:
    sent: int
    skipped: int
    skipped_by_reason: tuple[tuple[str, int], ...]  # most first
    failed: int
    waiting: int  # pending or being sent
    by_channel: tuple[ChannelFigures, ...] = ()  # e-mail first, each channel with any


@dataclass(frozen=True)
class MessageFigures:
    patient_messages: int  # sent in the period
    replies: int  # the care team's, sent in the period
    threads_started: int  # in the period
    replied: int  # of the threads started, those the care team has replied to
    median_hours_to_reply: Fraction | None  # of those; None when none
    no_reply_yet: int  # of the threads started, those not replied to yet


@dataclass(frozen=True)
class OutcomeReport:
    period: Period
    patients: int
    not_treated_yet: int
    instruments: tuple[InstrumentOutcomes, ...]
    adherence: AdherenceFigures
    alerts: AlertWorkload
    reminders: ReminderFigures
    messages: MessageFigures


# Questionnaire outcomes


def time_point_figures(
    point: TimePoint, with_baseline: int, counts: PointCounts
) -> TimePointFigures:
    return TimePointFigures(
        point, with_baseline, counts.scored, counts.responders, counts.remitters
    )


def time_to_response(
    responded: Mapping[int, int], censored: Mapping[int, int]
) -> tuple[ResponseWeek, ...]:
    """Kaplan-Meier cumulative share with a first response, weeks 0..LAST_WEEK, from the
    weeks of each patient's first response (an event) or last score (censored)."""
    # Those seen beyond the last week shown are at risk throughout it.
    at_risk = sum(responded.values()) + sum(censored.values())
    survival = Fraction(1)
    rows = []
    for week in range(LAST_WEEK + 1):
        events = responded.get(week, 0)
        gone = censored.get(week, 0)
        if at_risk:
            survival *= 1 - Fraction(events, at_risk)
        rows.append(ResponseWeek(week, at_risk, events, gone, 1 - survival))
        at_risk -= events + gone
    return tuple(rows)


def mean_change_by_week(changes: Mapping[int, tuple[int, int]]) -> tuple[ChangeWeek, ...]:
    """Mean score minus baseline per week, from (patients, sum of changes) per week."""
    rows = []
    for week in range(LAST_WEEK + 1):
        patients, total = changes.get(week, (0, 0))
        rows.append(ChangeWeek(week, patients, Fraction(total, patients) if patients else None))
    return tuple(rows)


def instrument_outcomes(counts: InstrumentCounts) -> InstrumentOutcomes:
    points = counts.points or tuple(PointCounts() for _ in TIME_POINTS)
    return InstrumentOutcomes(
        code=counts.code,
        name=INSTRUMENTS[counts.code].name,
        with_baseline=counts.with_baseline,
        no_baseline=counts.no_baseline,
        never_scored=counts.never_scored,
        time_points=tuple(
            time_point_figures(point, counts.with_baseline, c)
            for point, c in zip(TIME_POINTS, points, strict=True)
        ),
        time_to_response=time_to_response(counts.responded, counts.censored),
        mean_change=mean_change_by_week(counts.changes),
    )


# Adherence


def adherence_windows(period: Period, *, today: date) -> AdherenceWindows | None:
    """The days adherence covers: the period up to yesterday, and its last 2 x 14 days."""
    last = min(period.end, today - timedelta(days=1))
    if last < period.start:
        return None
    recent_first = last - timedelta(days=RECENT_DAYS - 1)
    return AdherenceWindows(
        first=period.start,
        last=last,
        recent_first=recent_first,
        earlier_first=recent_first - timedelta(days=RECENT_DAYS),
        earlier_last=recent_first - timedelta(days=1),
    )


def share(done: int, expected: int) -> Fraction | None:
    return Fraction(done, expected) if expected else None


def no_adherence(windows: AdherenceWindows | None, *, left_out: int = 0) -> AdherenceFigures:
    """Adherence with nobody counted."""
    return AdherenceFigures(windows, 0, left_out, 0, 0, 0, 0, 0)


# Alert workload


MICROSECOND = timedelta(microseconds=1)
MICROSECONDS_A_MINUTE = 60_000_000


def median_minutes(waits: Sequence[int]) -> Fraction | None:
    """The exact median in minutes of waits in whole microseconds, sorted (None: none)."""
    if not waits:
        return None
    middle = len(waits) // 2
    if len(waits) % 2:
        return Fraction(waits[middle], MICROSECONDS_A_MINUTE)
    return Fraction(waits[middle - 1] + waits[middle], 2 * MICROSECONDS_A_MINUTE)


def _kind_figures(kind: str, alerts: Sequence[AlertRecord]) -> AlertKindFigures:
    # Whole microseconds, not a Fraction each: tens of thousands at a large clinic.
    waits = sorted(
        (a.acknowledged_at - a.created_at) // MICROSECOND
        for a in alerts
        if a.acknowledged_at is not None
    )
    return AlertKindFigures(
        kind=kind,
        alerts=len(alerts),
        acknowledged=len(waits),
        median_minutes=median_minutes(waits),
        escalated=sum(1 for a in alerts if a.escalated),
        still_open=len(alerts) - len(waits),
    )


def alert_workload(
    alerts: Sequence[AlertRecord], period: Period, *, kinds: Sequence[str] = ()
) -> AlertWorkload:
    """Alerts raised in the period: by kind (every kind of `kinds`, then any other), total."""
    starts_at, ends_at = period.starts_at, period.ends_at
    inside = [a for a in alerts if starts_at <= a.created_at < ends_at]
    by_kind: dict[str, list[AlertRecord]] = {}
    for alert in inside:
        by_kind.setdefault(alert.kind, []).append(alert)
    order = list(kinds) + sorted(set(by_kind) - set(kinds))
    return AlertWorkload(
        kinds=tuple(_kind_figures(k, by_kind.get(k, [])) for k in order),
        total=_kind_figures("all", inside),
    )


def reminder_figures(counts: Sequence[ReminderCount]) -> ReminderFigures:
    """Reminders sent, skipped (by reason, most first), failed and still waiting."""
    by_status: dict[str, int] = {}
    by_reason: dict[str, int] = {}
    channels: dict[str, dict[str, int]] = {}
    for c in counts:
        by_status[c.status] = by_status.get(c.status, 0) + c.count
        if c.status == "skipped":
            reason = c.skip_reason or "unknown"
            by_reason[reason] = by_reason.get(reason, 0) + c.count
        of_channel = channels.setdefault(c.channel, {})
        of_channel[c.status] = of_channel.get(c.status, 0) + c.count
    return ReminderFigures(
        sent=by_status.get("sent", 0),
        skipped=by_status.get("skipped", 0),
        skipped_by_reason=tuple(sorted(by_reason.items(), key=lambda item: (-item[1], item[0]))),
        failed=by_status.get("failed", 0),
        waiting=by_status.get("pending", 0) + by_status.get("sending", 0),
        by_channel=tuple(
            ChannelFigures(
                channel=channel,
                sent=statuses.get("sent", 0),
                failed=statuses.get("failed", 0),
                skipped=statuses.get("skipped", 0),
                waiting=statuses.get("pending", 0) + statuses.get("sending", 0),
            )
            for channel, statuses in sorted(channels.items(), key=lambda i: i[0] != "email")
        ),
    )


def hours_between(start: datetime, end: datetime) -> Fraction:
    """The time that passed, in hours (in UTC: a change of the clocks is no hour of waiting)."""
    elapsed = end.astimezone(UTC) - start.astimezone(UTC)
    return Fraction(elapsed // timedelta(microseconds=1), 3_600_000_000)


def message_figures(threads: Sequence[ThreadRecord], period: Period) -> MessageFigures:
    """Messages sent in the period, and the time to a first reply of the threads started in
    it (wall-clock hours)."""
    starts_at, ends_at = period.starts_at, period.ends_at
    started = [t for t in threads if starts_at <= t.started_at < ends_at]
    waits = [
        hours_between(t.started_at, t.first_reply_at)
        for t in started
        if t.first_reply_at is not None
    ]
    return MessageFigures(
        patient_messages=sum(t.patient_messages for t in threads),
        replies=sum(t.replies for t in threads),
        threads_started=len(started),
        replied=len(waits),
        median_hours_to_reply=median(waits) if waits else None,
        no_reply_yet=len(started) - len(waits),
    )


def outcome_report(data: OutcomeData, *, today: date) -> OutcomeReport:
    """Every figure of the outcomes page for the cohort in `data` (each questionnaire of
    INSTRUMENT_CODES, with nobody counted where `data` has none)."""
    given = {counts.code: counts for counts in data.instruments}
    return OutcomeReport(
        period=data.period,
        patients=data.patients,
        not_treated_yet=data.not_treated_yet,
        instruments=tuple(
            instrument_outcomes(given.get(code) or InstrumentCounts(code))
            for code in INSTRUMENT_CODES
        ),
        adherence=data.adherence or no_adherence(adherence_windows(data.period, today=today)),
        alerts=alert_workload(data.alerts, data.period, kinds=data.alert_kinds),
        reminders=reminder_figures(data.reminders),
        messages=message_figures(data.threads, data.period),
    )


# Helpers for showing the figures


def suppressed(count: int) -> bool:
    """A count of 1 to 4, written "fewer than 5" where figures leave the clinic."""
    return 0 < count < SMALL_COUNT_BELOW


def one_decimal(value: Fraction) -> Decimal:
    """A value to one decimal, halves away from zero (-4.25 -> -4.3)."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def percent(count: int, of: int) -> Decimal | None:
    """count / of as a percentage to one decimal; None when `of` is 0."""
    return one_decimal(Fraction(100 * count, of)) if of else None


def default_period(today: date) -> tuple[date, date]:
    """The period the outcomes page shows unless asked: the last six months to today."""
    return months_before(today, DEFAULT_MONTHS), today


def months_before(day: date, months: int) -> date:
    """The same day of the month `months` earlier (the month's last day if it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (following - timedelta(days=1)).day))
