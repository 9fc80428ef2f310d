"""How each caseload row reads on the page: plain strings, worked out once in Python.

The caseload page shows up to a page of patients with a dozen facts each; formatting them
here (rather than with template tags and filters per cell) keeps the page's cost close to
that of an empty page. The template only places these strings (and escapes them).
"""

from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from html import escape

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from care.caseload.selectors import CaseloadRow, ScoreSummary
from care.common.phones import phone_display, phone_href
from care.domain.dates import day_month, weekday_moment
from care.models import Patient

PLACEHOLDER = "00000000-0000-0000-0000-000000000000"

TRENDS = {
    "up": ("up", "Better than a week ago", "▲ up"),
    "down": ("down", "Worse than a week ago", "▼ down"),
    "flat": ("flat", "", "▶ steady"),
}


@dataclass(frozen=True)
class Badge:
    css: str
    title: str
    text: str


@dataclass(frozen=True)
class ScoreCell:
    latest: str = ""
    change: str = ""
    badge: str = ""


@dataclass(frozen=True)
class CaseloadLine:
    name: str
    url: str
    subtitle: str
    row_class: str
    alerts: list[Badge]
    last_checkin: str
    last_checkin_note: str
    last_checkin_class: str
    mood: str
    trend: tuple[str, str, str]
    phq9: ScoreCell
    gad7: ScoreCell
    next_session: str
    clinician: str
    messages: str = ""  # "2 unread messages"
    phone: str = ""  # the number to call the patient on, as dialled in the clinic's country
    phone_href: str = ""  # its tel: link


def session_moment(at: datetime, tz: tzinfo | None = None) -> str:
    """'Thu, Nov 27, 09:30' in the viewer's time zone (`tz`, if already looked up)."""
    return weekday_moment(at.astimezone(tz or timezone.get_current_timezone()))


def _one_decimal(value: float) -> str:
    """6.25 -> '6.3' (half up, as people round)."""
    return str(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _checkin(row: CaseloadRow, missed_days: int) -> tuple[str, str, str]:
    days = row.days_since_checkin
    if row.last_checkin_on is None or days is None:  # both or neither (caseload._row)
        return "", "none yet", "muted"
    note = "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"
    late = days >= missed_days
    return day_month(row.last_checkin_on), f"({note})", "overdue" if late else "muted"


def _signed(change: int) -> str:
    return f"+{change}" if change > 0 else "±0" if change == 0 else str(change)


def _score(summary: ScoreSummary | None) -> ScoreCell:
    """'17 (+10 from 7; -1 from baseline 18)': the change since the previous score first,
    then from baseline (one figure when the previous score is the baseline)."""
    if summary is None or summary.latest is None:
        return ScoreCell()
    parts = []
    if summary.since_previous is not None and (
        summary.change is None
        or (summary.previous, summary.since_previous) != (summary.baseline, summary.change)
    ):
        parts.append(f"{_signed(summary.since_previous)} from {summary.previous}")
    if summary.change is not None:
        base = f"baseline {summary.baseline}" if parts else str(summary.baseline)
        parts.append(f"{_signed(summary.change)} from {base}")
    elif summary.baseline is not None and not parts:
        parts.append("baseline")  # the only score so far
    change = f"({'; '.join(parts)})" if parts else ""
    badge = "Remission" if summary.remission else "Response" if summary.response else ""
    return ScoreCell(str(summary.latest), change, badge)


def _unread(count: int) -> str:
    return "" if not count else "1 unread message" if count == 1 else f"{count} unread messages"


def caseload_lines(
    rows: list[CaseloadRow], *, missed_checkin_days: int, country: str = "US"
) -> list[CaseloadLine]:
    """The page's reading of each row (same order); phone numbers as dialled in `country`
    (the clinic's)."""
    detail = reverse("care:patient-detail", args=[PLACEHOLDER])
    viewer_tz = timezone.get_current_timezone()
    # Labels are translated once per page, not once per row.
    phases = {value: str(label) for value, label in Patient.Phase.choices}
    statuses = {value: str(label) for value, label in Patient.Status.choices}
    conditions = [(flag, str(label)) for flag, label in Patient.CONDITION_LABELS]
    lines = []
    for row in rows:
        patient = row.patient
        named = ", ".join(label for flag, label in conditions if getattr(patient, flag))
        facts = [phases.get(patient.treatment_phase, ""), named]
        if patient.status != Patient.Status.ACTIVE:
            facts.append(statuses.get(patient.status, patient.status))
        if not patient.is_active:
            facts.append("not activated")
        top = row.alerts[0].priority if row.alerts else ""
        last, note, note_class = _checkin(row, missed_checkin_days)
        lines.append(
            CaseloadLine(
                name=patient.name,
                url=detail.replace(PLACEHOLDER, str(patient.public_id)),
                subtitle=" · ".join(facts),
                row_class={"urgent": "row-urgent", "high": "row-high"}.get(top, ""),
                alerts=[
                    Badge(
                        {"urgent": "badge badge-urgent", "high": "badge badge-high"}.get(
                            a.priority, "badge"
                        ),
                        a.priority.capitalize(),
                        f"{a.label} \u00d7{a.count}" if a.count > 1 else a.label,  # times sign
                    )
                    for a in row.alerts
                ],
                last_checkin=last,
                last_checkin_note=note,
                last_checkin_class=note_class,
                mood="" if row.mood_avg is None else _one_decimal(row.mood_avg),
                trend=TRENDS[row.mood_direction],
                phq9=_score(row.scores.get("phq9")),
                gad7=_score(row.scores.get("gad7")),
                next_session=session_moment(row.next_session_at, viewer_tz)
                if row.next_session_at
                else "",
                clinician=patient.primary_clinician or "—",
                messages=_unread(row.unread_messages),
                phone=phone_display(patient.phone, country),
                phone_href=phone_href(patient.phone),
            )
        )
    return lines


# The rows of the caseload table, made here rather than by a template loop: Django's template
# engine resolves each of a row's two dozen variables through its lookup rules, and
# format_html escapes through lazy-text wrappers; on a page of 50 rows either costs more than
# everything else the page does beyond an empty page (docs/benchmarks.md). Every value goes
# through `html.escape`, which is what Django's `escape` does; the rest is fixed markup.
NONE = '<span class="muted">—</span>'


def caseload_rows_html(lines: list[CaseloadLine]) -> SafeString:
    """The caseload table's rows (its <tbody>), every value escaped."""
    # Safe: every value went through html.escape in _row_html; the rest is fixed markup
    # (tests/care/test_caseload_display.py renders the template loop it replaced).
    return SafeString("".join(_row_html(line) for line in lines))  # nosec B703


def _row_html(line: CaseloadLine) -> str:
    e = escape
    row_class = f' class="{e(line.row_class)}"' if line.row_class else ""
    phone = (
        f'<div class="small no-print">Call <a href="{e(line.phone_href)}">{e(line.phone)}</a></div>'
        if line.phone
        else ""
    )
    attention = "".join(
        f'<span class="{e(a.css)}" title="{e(a.title)}">{e(a.text)}</span> ' for a in line.alerts
    )
    if line.messages:
        attention += f'<span class="badge badge-messages">{e(line.messages)}</span>'
    elif not line.alerts:
        attention = NONE
    css, title, arrow = line.trend
    titled = f' title="{e(title)}"' if title else ""
    mood = f'{e(line.mood)} <span class="trend {e(css)}"{titled}>{e(arrow)}</span>'
    unbooked = '<span class="muted">none booked</span>'
    session = e(line.next_session) if line.next_session else unbooked
    return (
        f"<tr{row_class}>\n"
        f'<th scope="row"><a href="{e(line.url)}">{e(line.name)}</a>\n'
        f'<div class="muted small">{e(line.subtitle)}</div>\n'
        f"{phone}</th>\n"
        f"<td>{attention}</td>\n"
        f"<td>{e(line.last_checkin)} "
        f'<span class="{e(line.last_checkin_class)}">{e(line.last_checkin_note)}</span></td>\n'
        f"<td>{mood if line.mood else NONE}</td>\n"
        f"<td>{_score_html(line.phq9)}</td><td>{_score_html(line.gad7)}</td>\n"
        f"<td>{session}</td>\n"
        f"<td>{e(line.clinician)}</td>\n"
        "</tr>\n"
    )


def _score_html(cell: ScoreCell) -> str:
    if not cell.latest:
        return NONE
    change = f' <span class="muted">{escape(cell.change)}</span>' if cell.change else ""
    badge = f' <span class="badge badge-ok">{escape(cell.badge)}</span>' if cell.badge else ""
    return f"<strong>{escape(cell.latest)}</strong>{change}{badge}"


@dataclass(frozen=True)
class FilterControl:
    """One filter of the caseload form, ready to place: a text box or a list to pick from."""

    name: str
    id: str
    label: str
    value: str
    max_length: int | None = None
    options: tuple[tuple[str, str, bool], ...] = ()  # (value, label, selected)


def filter_controls(form) -> list[FilterControl]:
    """The caseload filter form as plain controls (placed by the page without rendering a
    widget template per field and per option)."""
    controls = []
    for field in form:
        value = field.value()
        value = "" if value is None else str(value)
        choices = getattr(field.field, "choices", None)
        if isinstance(field.field, forms.ModelChoiceField):
            # As its own choices would list them, from one plain read (they iterate the
            # query through a server-side cursor: three round trips for a handful of rows).
            model_field = field.field
            objects = model_field.queryset if model_field.queryset is not None else []
            empty = [] if model_field.empty_label is None else [("", model_field.empty_label)]
            choices = [
                *empty,
                *(
                    (model_field.prepare_value(o), model_field.label_from_instance(o))
                    for o in objects
                ),
            ]
        options: tuple[tuple[str, str, bool], ...] = ()
        if choices is not None:
            options = tuple(
                (str(option), str(label), str(option) == value) for option, label in choices
            )
        controls.append(
            FilterControl(
                name=field.html_name,
                id=field.id_for_label,
                label=str(field.label),
                value=value,
                max_length=getattr(field.field, "max_length", None),
                options=options,
            )
        )
    return controls
