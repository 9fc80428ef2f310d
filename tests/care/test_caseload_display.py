"""How caseload rows read: score changes, check-in notes, dates and averages."""

from datetime import date

import pytest

from care.caseload.display import _checkin, _one_decimal, _score
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
