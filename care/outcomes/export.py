"""The outcome figures as they leave the clinic: JSON (the API) and CSV rows. Pure.

Both carry the same figures, and no patient rows. A count of 1 to 4 is written
"fewer than 5" (`count` null in JSON) and whatever is worked out from it is left out: a
percentage with such a count or denominator, a mean over fewer than 5 patients, a median
over fewer than 5 alerts or replied threads, and the time-to-response curve once fewer than
5 are at risk.
Zero stays 0. This is simple cell suppression: it does not stop every subtraction between
cells (e.g. a total minus the other rows), which is why no patient-level row is ever added.
"""

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from care.domain.outcomes import (
    SMALL_COUNT_BELOW,
    InstrumentOutcomes,
    OutcomeReport,
    one_decimal,
    percent,
    suppressed,
)

FEWER = f"fewer than {SMALL_COUNT_BELOW}"


def count_cell(count: int) -> dict:
    hidden = suppressed(count)
    return {"count": None if hidden else count, "text": FEWER if hidden else str(count)}


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def share_cell(count: int, of: int) -> dict:
    hidden = suppressed(count) or suppressed(of)
    return {
        "count": count_cell(count),
        "of": count_cell(of),
        "percent": None if hidden else _number(percent(count, of)),
    }


def _exact_enough(value: Fraction | None, count: int) -> float | None:
    """A mean or median, left out when it rests on fewer than 5 (or on none)."""
    if value is None or count < SMALL_COUNT_BELOW:
        return None
    return float(one_decimal(value))


def _instrument(item: InstrumentOutcomes) -> dict:
    return {
        "code": item.code,
        "name": item.name,
        "with_baseline": count_cell(item.with_baseline),
        "no_baseline": count_cell(item.no_baseline),
        "never_scored": count_cell(item.never_scored),
        "time_points": [
            {
                "key": tp.point.key,
                "label": tp.point.label,
                "first_day": tp.point.first_day,
                "last_day": tp.point.last_day,
                "scored": share_cell(tp.scored, tp.with_baseline),
                "response": share_cell(tp.responders, tp.scored),
                "remission": share_cell(tp.remitters, tp.scored),
            }
            for tp in item.time_points
        ],
        "time_to_response": [
            {
                "week": w.week,
                "at_risk": count_cell(w.at_risk),
                "responded": count_cell(w.responded),
                "censored": count_cell(w.censored),
                "cumulative_percent": (
                    float(one_decimal(100 * w.cumulative))
                    if w.at_risk >= SMALL_COUNT_BELOW
                    else None
                ),
            }
            for w in item.time_to_response
        ],
        "mean_change": [
            {
                "week": w.week,
                "patients": count_cell(w.patients),
                "mean_change": _exact_enough(w.mean, w.patients),
            }
            for w in item.mean_change
        ],
    }


def report_json(
    report: OutcomeReport,
    *,
    kind_labels: Mapping[str, str],
    filters: Mapping[str, object],
    reason_labels: Mapping[str, str] | None = None,
) -> dict:
    """The figures as the API returns them (see `care.api.outcomes` for the schema).

    `reason_labels` words each reason a reminder was skipped for (its code otherwise)."""
    adherence = report.adherence
    windows = adherence.windows
    alerts = report.alerts
    reminders = report.reminders
    messages = report.messages

    def kind(figures) -> dict:
        return {
            "kind": figures.kind,
            "label": kind_labels.get(figures.kind, "All kinds"),
            "alerts": count_cell(figures.alerts),
            "acknowledged": count_cell(figures.acknowledged),
            "median_minutes_to_acknowledge": _exact_enough(
                figures.median_minutes, figures.acknowledged
            ),
            "escalated": count_cell(figures.escalated),
            "still_open": count_cell(figures.still_open),
        }

    return {
        "period": {"start": report.period.start.isoformat(), "end": report.period.end.isoformat()},
        "filters": dict(filters),
        "suppressed_below": SMALL_COUNT_BELOW,
        "cohort": {
            "patients": count_cell(report.patients),
            "not_treated_yet": count_cell(report.not_treated_yet),
        },
        "instruments": [_instrument(item) for item in report.instruments],
        "adherence": {
            "first_day": windows.first.isoformat() if windows else None,
            "last_day": windows.last.isoformat() if windows else None,
            "patients": count_cell(adherence.patients),
            "left_out": count_cell(adherence.left_out),
            "checkins": share_cell(adherence.checkins_done, adherence.checkins_expected),
            "questionnaires": share_cell(
                adherence.questionnaires_done, adherence.questionnaires_expected
            ),
            "dropped": share_cell(len(adherence.dropped), adherence.with_earlier_share),
        },
        "alerts": {
            "kinds": [kind(k) for k in alerts.kinds],
            "total": kind(alerts.total),
        },
        "reminders": {
            "sent": count_cell(reminders.sent),
            "skipped": count_cell(reminders.skipped),
            "skipped_by_reason": [
                {
                    "reason": reason,
                    "label": (reason_labels or {}).get(reason, reason),
                    "count": count_cell(n),
                }
                for reason, n in reminders.skipped_by_reason
            ],
            "failed": count_cell(reminders.failed),
            "waiting": count_cell(reminders.waiting),
            "by_channel": [
                {
                    "channel": c.channel,
                    "sent": count_cell(c.sent),
                    "failed": count_cell(c.failed),
                    "skipped": count_cell(c.skipped),
                    "waiting": count_cell(c.waiting),
                    "delivered_share": share_cell(c.sent, c.sent + c.failed),
                }
                for c in reminders.by_channel
            ],
        },
        "messages": {
            "patient_messages": count_cell(messages.patient_messages),
            "care_team_replies": count_cell(messages.replies),
            "threads_started": count_cell(messages.threads_started),
            "replied": count_cell(messages.replied),
            "no_reply_yet": count_cell(messages.no_reply_yet),
            "median_hours_to_first_reply": _exact_enough(
                messages.median_hours_to_reply, messages.replied
            ),
        },
    }


CSV_HEADER = ["section", "questionnaire", "group", "measure", "count", "of", "percent", "value"]


def _value(number: float | None) -> Decimal | None:
    """A JSON number back as a Decimal (a CSV cell starting with "-" is not a formula)."""
    return None if number is None else Decimal(str(number))


def csv_rows(figures: dict) -> list[list]:
    """`report_json` figures as rows of CSV_HEADER (long format, one figure a row)."""
    rows: list[list] = []

    def add(section, code, group, measure, *, count=None, of=None, pct=None, value=None):
        counted = count["text"] if count else None
        out_of = of["text"] if of else None
        rows.append([section, code, group, measure, counted, out_of, _value(pct), value])

    def add_share(section, code, group, measure, cell):
        add(section, code, group, measure, count=cell["count"], of=cell["of"], pct=cell["percent"])

    period, cohort = figures["period"], figures["cohort"]
    add("report", "", "", "period start", value=period["start"])
    add("report", "", "", "period end", value=period["end"])
    for name, chosen in figures["filters"].items():
        add("report", "", "", f"filter: {name}", value=chosen if chosen is not None else "any")
    add("report", "", "", f"counts 1 to {SMALL_COUNT_BELOW - 1} written", value=FEWER)
    add("cohort", "", "", "patients", count=cohort["patients"])
    add("cohort", "", "", "not treated yet (not counted)", count=cohort["not_treated_yet"])
    for item in figures["instruments"]:
        code = item["name"]
        add("cohort", code, "", "with a baseline", count=item["with_baseline"])
        add("cohort", code, "", "no baseline (scored only after)", count=item["no_baseline"])
        add("cohort", code, "", "never scored", count=item["never_scored"])
        section = "response and remission"
        for tp in item["time_points"]:
            group = f"{tp['label']} (days {tp['first_day']}-{tp['last_day']})"
            add_share(section, code, group, "with a score, of those with a baseline", tp["scored"])
            add_share(section, code, group, "response, of those with a score", tp["response"])
            add_share(section, code, group, "remission, of those with a score", tp["remission"])
        section = "time to first response"
        for week in item["time_to_response"]:
            group = f"week {week['week']}"
            add(section, code, group, "at risk", count=week["at_risk"])
            add(section, code, group, "first response", count=week["responded"])
            add(section, code, group, "censored", count=week["censored"])
            add(section, code, group, "cumulative percent", pct=week["cumulative_percent"])
        section = "mean change from baseline"
        for week in item["mean_change"]:
            group = f"week {week['week']}"
            add(section, code, group, "patients with a score", count=week["patients"])
            add(section, code, group, "mean change", value=_value(week["mean_change"]))
    adherence = figures["adherence"]
    add("adherence", "", "", "first day", value=adherence["first_day"])
    add("adherence", "", "", "last day", value=adherence["last_day"])
    add("adherence", "", "", "active patients counted", count=adherence["patients"])
    add("adherence", "", "", "paused or discharged (not counted)", count=adherence["left_out"])
    add_share("adherence", "", "", "daily check-ins done, of expected", adherence["checkins"])
    add_share("adherence", "", "", "questionnaires done, of expected", adherence["questionnaires"])
    add_share("adherence", "", "", "adherence dropped, of patients", adherence["dropped"])
    for kind in [*figures["alerts"]["kinds"], figures["alerts"]["total"]]:
        group = kind["label"]
        median = _value(kind["median_minutes_to_acknowledge"])
        add("alerts", "", group, "raised in the period", count=kind["alerts"])
        add("alerts", "", group, "acknowledged", count=kind["acknowledged"])
        add("alerts", "", group, "median minutes to acknowledge", value=median)
        add("alerts", "", group, "escalated", count=kind["escalated"])
        add("alerts", "", group, "still open", count=kind["still_open"])
    reminders = figures["reminders"]
    add("reminders", "", "", "sent", count=reminders["sent"])
    add("reminders", "", "", "skipped", count=reminders["skipped"])
    for reason in reminders["skipped_by_reason"]:
        add("reminders", "", "skipped", reason["label"], count=reason["count"])
    add("reminders", "", "", "failed", count=reminders["failed"])
    add("reminders", "", "", "still waiting", count=reminders["waiting"])
    messages = figures["messages"]
    add("messages", "", "", "patients' messages sent", count=messages["patient_messages"])
    add("messages", "", "", "care team replies sent", count=messages["care_team_replies"])
    add("messages", "", "", "threads started", count=messages["threads_started"])
    add("messages", "", "threads started", "replied to", count=messages["replied"])
    add("messages", "", "threads started", "no reply yet", count=messages["no_reply_yet"])
    median = _value(messages["median_hours_to_first_reply"])
    add("messages", "", "threads started", "median hours to first reply", value=median)
    return rows
