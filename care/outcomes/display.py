"""How the outcomes page reads: plain strings worked out once in Python.

Each figure is a `Cell` with the exact text the care team sees on screen and the text of
the printed report, where counts of 1 to 4 read "fewer than 5" and what rests on them is
left out (as in the CSV): a printed report is meant to be shared.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.urls import reverse
from django.utils.html import format_html

from care.domain.dates import day_month_year
from care.domain.outcomes import (
    SMALL_COUNT_BELOW,
    AlertKindFigures,
    InstrumentOutcomes,
    MessageFigures,
    OutcomeReport,
    PatientAdherence,
    ReminderFigures,
    one_decimal,
    percent,
    suppressed,
)
from care.outcomes.export import FEWER
from care.outcomes.reminders import skip_reason_labels
from care.outcomes.selectors import CohortMember

PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
# Per-patient adherence rows shown (lowest first); the figures above count everyone.


@dataclass(frozen=True)
class Cell:
    text: str
    shared: str

    def __str__(self) -> str:
        """The HTML of the cell (templates call str() first): the printed text apart
        when it differs."""
        if self.text == self.shared:
            return format_html("{}", self.text)
        return format_html(
            '<span class="screen-only">{}</span><span class="print-only">{}</span>',
            self.text,
            self.shared,
        )

    __html__ = __str__


def _count(n: int) -> str:
    return FEWER if suppressed(n) else str(n)


def count(n: int) -> Cell:
    return Cell(str(n), _count(n))


def share(n: int, of: int, *, none: str = "none") -> Cell:
    """'12 of 30 (40.0%)'; 'none' when there is no denominator."""
    if not of:
        return Cell(none, none)
    text = f"{n} of {of} ({percent(n, of)}%)"
    if suppressed(n) or suppressed(of):
        return Cell(text, f"{_count(n)} of {_count(of)}")
    return Cell(text, text)


def _signed(value: Fraction) -> str:
    rounded = one_decimal(value)
    return f"+{rounded}" if rounded > 0 else f"{rounded}".replace("-", "\u2212")


def mean(value: Fraction | None, n: int) -> Cell:
    if value is None:
        return Cell("none", "none")
    text = _signed(value)
    return Cell(text, text if n >= SMALL_COUNT_BELOW else "left out")


def minutes(value: Fraction | None, n: int) -> Cell:
    """'35 min' or '20 h 5 min'."""
    if value is None:
        return Cell("none", "none")
    whole = int(one_decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    hours, rest = divmod(whole, 60)
    text = f"{whole} min" if whole < 120 else f"{hours} h {rest} min"
    return Cell(text, text if n >= SMALL_COUNT_BELOW else "left out")


def hours(value: Fraction | None, n: int) -> Cell:
    """'3.5 hours' (wall-clock), or 'none'."""
    if value is None:
        return Cell("none", "none")
    rounded = one_decimal(value)
    text = f"{rounded} hour" if rounded == 1 else f"{rounded} hours"
    return Cell(text, text if n >= SMALL_COUNT_BELOW else "left out")


def cumulative(value: Fraction, at_risk: int) -> Cell:
    text = f"{one_decimal(100 * value)}%"
    return Cell(text, text if at_risk >= SMALL_COUNT_BELOW else "left out")


@dataclass(frozen=True)
class TimePointLine:
    label: str
    days: str
    scored: Cell
    response: Cell
    remission: Cell


@dataclass(frozen=True)
class WeekLine:
    week: int
    at_risk: Cell
    responded: Cell
    censored: Cell
    cumulative: Cell
    patients: Cell
    mean: Cell


@dataclass(frozen=True)
class InstrumentView:
    code: str
    name: str
    with_baseline: Cell
    no_baseline: Cell
    never_scored: Cell
    time_points: list[TimePointLine]
    weeks: list[WeekLine]
    has_follow_up: bool


@dataclass(frozen=True)
class PatientLine:
    name: str
    url: str
    checkins: str
    questionnaires: str
    recent: str
    earlier: str
    dropped: bool


@dataclass(frozen=True)
class AlertLine:
    label: str
    alerts: Cell
    acknowledged: Cell
    median: Cell
    escalated: Cell
    still_open: Cell


def _instrument(item: InstrumentOutcomes) -> InstrumentView:
    points = [
        TimePointLine(
            label=tp.point.label,
            days=f"days {tp.point.first_day}\u2013{tp.point.last_day}",
            scored=share(tp.scored, tp.with_baseline, none="none with a baseline"),
            response=share(tp.responders, tp.scored),
            remission=share(tp.remitters, tp.scored),
        )
        for tp in item.time_points
    ]
    weeks = [
        WeekLine(
            week=k.week,
            at_risk=count(k.at_risk),
            responded=count(k.responded),
            censored=count(k.censored),
            cumulative=cumulative(k.cumulative, k.at_risk),
            patients=count(c.patients),
            mean=mean(c.mean, c.patients),
        )
        for k, c in zip(item.time_to_response, item.mean_change, strict=True)
    ]
    return InstrumentView(
        code=item.code,
        name=item.name,
        with_baseline=count(item.with_baseline),
        no_baseline=count(item.no_baseline),
        never_scored=count(item.never_scored),
        time_points=points,
        weeks=weeks,
        has_follow_up=bool(item.time_to_response and item.time_to_response[0].at_risk),
    )


def _ratio(done: int, expected: int) -> str:
    return f"{done} of {expected} ({percent(done, expected)}%)" if expected else "none expected"


def _patients(rows, members: Mapping[int, CohortMember]) -> list[PatientLine]:
    detail = reverse("care:patient-detail", args=[PLACEHOLDER])

    def line(row: PatientAdherence) -> PatientLine:
        member = members[row.key]
        return PatientLine(
            name=member.name,
            url=detail.replace(PLACEHOLDER, str(member.public_id)),
            checkins=_ratio(row.checkins_done, row.checkins_expected),
            questionnaires=_ratio(row.questionnaires_done, row.questionnaires_expected),
            recent=_ratio(row.recent_done, row.recent_expected),
            earlier=_ratio(row.earlier_done, row.earlier_expected),
            dropped=row.dropped,
        )

    return [line(row) for row in rows]


def _alerts(figures: AlertKindFigures, label: str) -> AlertLine:
    return AlertLine(
        label=label,
        alerts=count(figures.alerts),
        acknowledged=count(figures.acknowledged),
        median=minutes(figures.median_minutes, figures.acknowledged),
        escalated=count(figures.escalated),
        still_open=count(figures.still_open),
    )


def _reminders(figures: ReminderFigures) -> dict:
    words = skip_reason_labels()
    return {
        "sent": count(figures.sent),
        "skipped": count(figures.skipped),
        "by_reason": [
            (words.get(reason, reason), count(n)) for reason, n in figures.skipped_by_reason
        ],
        "failed": count(figures.failed),
        "waiting": count(figures.waiting),
        "channels": [
            {
                "label": CHANNEL_WORDS.get(c.channel, c.channel),
                "sent": count(c.sent),
                "failed": count(c.failed),
                "skipped": count(c.skipped),
                "waiting": count(c.waiting),
                "success": share(c.sent, c.sent + c.failed),
            }
            for c in figures.by_channel
        ],
    }


CHANNEL_WORDS = {"email": "E-mail", "text": "Text message"}


def _messages(figures: MessageFigures) -> dict:
    return {
        "patient_messages": count(figures.patient_messages),
        "replies": count(figures.replies),
        "threads_started": count(figures.threads_started),
        "replied": share(figures.replied, figures.threads_started),
        "no_reply_yet": count(figures.no_reply_yet),
        "median": hours(figures.median_hours_to_reply, figures.replied),
    }


def chart_data(report: OutcomeReport) -> dict:
    """The two charts' series (json_script), per questionnaire and week:

    - `cumulative`: % with a first response (None once nobody is at risk); as printed,
      `cumulative_shared`, None where fewer than 5 are at risk;
    - `mean`: mean change where at least 5 patients scored, and `mean_small` where 1 to 4
      did (drawn as loose points: a mean of so few is mostly noise; not printed).
    """
    series = []
    for item in report.instruments:
        km, change = item.time_to_response, item.mean_change
        cumulative = [float(one_decimal(100 * w.cumulative)) if w.at_risk else None for w in km]
        means = [float(one_decimal(w.mean)) if w.mean is not None else None for w in change]
        enough = [w.patients >= SMALL_COUNT_BELOW for w in change]
        series.append(
            {
                "name": item.name,
                "cumulative": cumulative,
                "cumulative_shared": [
                    v if w.at_risk >= SMALL_COUNT_BELOW else None
                    for v, w in zip(cumulative, km, strict=True)
                ],
                "at_risk": [w.at_risk for w in km],
                "mean": [v if ok else None for v, ok in zip(means, enough, strict=True)],
                "mean_small": [None if ok else v for v, ok in zip(means, enough, strict=True)],
                "patients": [w.patients for w in change],
            }
        )
    return {"weeks": [w.week for w in report.instruments[0].mean_change], "series": series}


def outcome_page(
    report: OutcomeReport, members: Mapping[int, CohortMember], *, kind_labels: Mapping[str, str]
) -> dict:
    """Everything the outcomes template places."""
    adherence = report.adherence
    windows = adherence.windows
    return {
        "period": f"{day_month_year(report.period.start)} \u2013 "
        f"{day_month_year(report.period.end)}",
        "patients": count(report.patients),
        "not_treated_yet": count(report.not_treated_yet),
        "instruments": [_instrument(item) for item in report.instruments],
        "adherence": {
            "window": (
                f"{day_month_year(windows.first)} \u2013 {day_month_year(windows.last)}"
                if windows
                else ""
            ),
            "recent": (
                f"{day_month_year(windows.recent_first)} \u2013 {day_month_year(windows.last)}"
                if windows
                else ""
            ),
            "patients": count(adherence.patients),
            "left_out": count(adherence.left_out),
            "checkins": share(
                adherence.checkins_done, adherence.checkins_expected, none="none expected"
            ),
            "questionnaires": share(
                adherence.questionnaires_done,
                adherence.questionnaires_expected,
                none="none expected",
            ),
            "dropped": share(len(adherence.dropped), adherence.with_earlier_share),
            "dropped_patients": _patients(
                sorted(adherence.dropped, key=lambda r: members[r.key].name.casefold()), members
            ),
            "rows": _patients(adherence.lowest, members),
            "rows_total": adherence.patients,
            "rows_cut": adherence.patients > len(adherence.lowest),
        },
        "alerts": [_alerts(k, kind_labels.get(k.kind, k.kind)) for k in report.alerts.kinds],
        "alerts_total": _alerts(report.alerts.total, "All kinds"),
        "reminders": _reminders(report.reminders),
        "messages": _messages(report.messages),
        "chart": chart_data(report),
    }
