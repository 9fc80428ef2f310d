"""How caseload rows read: score changes, check-in notes, dates and averages."""

import re
from datetime import date
from pathlib import Path

import pytest
from django.template import engines

from care.caseload.display import (
    TRENDS,
    Badge,
    CaseloadLine,
    ScoreCell,
    _checkin,
    _one_decimal,
    _score,
    caseload_rows_html,
)
from care.caseload.selectors import CaseloadRow, ScoreSummary
from care.domain.dates import day_month


@pytest.mark.parametrize(
    ("latest", "baseline", "expected"),
    [
        (6, 18, "(-12 from 18)"),
        (9, 9, "(±0 from 9)"),  # no change reads as such, not as "(0 from 9)"
        (14, 9, "(+5 from 9)"),
    ],
)
def test_a_score_reads_with_its_change_from_baseline(latest, baseline, expected):
    cell = _score(ScoreSummary(latest=latest, baseline=baseline, change=latest - baseline))

    assert (cell.latest, cell.change) == (str(latest), expected)


def test_a_score_reads_with_its_change_since_the_previous_score_first():
    jump = ScoreSummary(latest=17, previous=7, since_previous=10, baseline=18, change=-1)
    no_baseline = ScoreSummary(latest=12, previous=9, since_previous=3)
    second = ScoreSummary(latest=6, previous=18, since_previous=-12, baseline=18, change=-12)

    assert _score(jump).change == "(+10 from 7; -1 from baseline 18)"
    assert _score(no_baseline).change == "(+3 from 9)"
    assert _score(second).change == "(-12 from 18)"  # the previous score is the baseline


def test_a_score_without_a_baseline_has_no_change_and_none_reads_empty():
    assert _score(ScoreSummary(latest=7)).change == ""
    assert _score(ScoreSummary()).latest == _score(None).latest == ""


def test_remission_outranks_response_in_the_badge():
    both = ScoreSummary(latest=3, baseline=20, change=-17, response=True, remission=True)
    only_response = ScoreSummary(latest=9, baseline=20, change=-11, response=True)

    assert (_score(both).badge, _score(only_response).badge) == ("Remission", "Response")


def _row(last: date | None, days: int | None) -> CaseloadRow:
    return CaseloadRow(
        patient=None,
        last_checkin_on=last,
        days_since_checkin=days,
        mood_avg=None,
        mood_direction="flat",
    )


@pytest.mark.parametrize(
    ("days", "note", "css"),
    [(0, "(today)", "muted"), (1, "(yesterday)", "muted"), (2, "(2 days ago)", "muted")],
)
def test_a_recent_check_in_reads_as_people_say_it(days, note, css):
    assert _checkin(_row(date(2026, 11, 7), days), missed_days=3) == ("Nov 7", note, css)


def test_a_check_in_as_old_as_the_clinics_missed_days_is_overdue():
    assert _checkin(_row(date(2026, 11, 7), 3), missed_days=3)[2] == "overdue"
    assert _checkin(_row(None, None), missed_days=3) == ("", "none yet", "muted")


def test_dates_and_averages_are_written_as_people_write_them():
    assert day_month(date(2026, 1, 5)) == "Jan 5"
    assert (_one_decimal(6.25), _one_decimal(6.24), _one_decimal(5.0)) == ("6.3", "6.2", "5.0")


# The caseload rows as the page's template made them until they were made in Python
# (care.caseload.display.caseload_rows_html): the same HTML, whitespace aside.
TEMPLATE_ROWS = (
    Path(__file__).parent.parent / "fixtures" / "caseload_rows_template.html"
).read_text()


def _line(**changes) -> CaseloadLine:
    line = CaseloadLine(
        name='Ann <script>alert("x")</script> O\'Neil & co',
        url="/staff/patients/0f/",
        subtitle="Acute · Depression, Anxiety",
        row_class="row-urgent",
        alerts=[
            Badge("badge badge-urgent", "Urgent", "Safety"),
            Badge("badge", "Routine", "Missed check-ins \u00d72"),
        ],
        last_checkin="Nov 27",
        last_checkin_note="(3 days ago)",
        last_checkin_class="overdue",
        mood="6.3",
        trend=TRENDS["up"],
        phq9=ScoreCell("17", "(+10 from 7; -1 from baseline 18)", "Response"),
        gad7=ScoreCell(),
        next_session="Thu, Nov 27, 09:30",
        clinician='Dr "Q" <b>',
        messages="2 unread messages",
        phone="(202) 555-0143",
        phone_href="tel:+12025550143",
    )
    return CaseloadLine(**(vars(line) | changes))


LINES = [
    _line(),
    _line(row_class="", alerts=[], messages="", phone="", mood="", gad7=ScoreCell("4")),
    _line(alerts=[], messages="1 unread message", trend=TRENDS["flat"], next_session=""),
    _line(messages="", phq9=ScoreCell("9", "", "Remission"), clinician="—"),
]


def _squeezed(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()


def test_the_rows_made_in_python_are_the_html_the_template_made():
    template = engines["django"].from_string(TEMPLATE_ROWS)

    made = caseload_rows_html(LINES)

    assert _squeezed(made) == _squeezed(template.render({"lines": LINES}))
    assert "<script>" not in made and "&lt;script&gt;" in made
    assert "O&#x27;Neil &amp; co" in made and "Dr &quot;Q&quot; &lt;b&gt;" in made
