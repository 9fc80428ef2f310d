"""Clinic outcome figures from plain values (pure functions: no database). The per-patient
definitions, which the database applies, are tested in test_outcome_definitions.py."""

import random
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from statistics import median

import pytest

from care.domain.outcomes import (
    AlertRecord,
    InstrumentCounts,
    OutcomeData,
    Period,
    ThreadRecord,
    adherence_windows,
    alert_workload,
    mean_change_by_week,
    median_minutes,
    message_figures,
    months_before,
    outcome_report,
    percent,
    time_to_response,
)
from care.outcomes.display import chart_data, hours, mean, minutes, share
from care.outcomes.export import count_cell, csv_rows, report_json, share_cell

PERIOD = Period(date(2025, 12, 1), date(2026, 11, 30), "UTC")
TODAY = date(2026, 12, 15)


def report_of(*instruments: InstrumentCounts, patients=None):
    counts = {c.code: c for c in instruments}
    data = OutcomeData(
        PERIOD,
        patients
        if patients is not None
        else max((c.with_baseline for c in instruments), default=0),
        instruments=tuple(counts.get(code, InstrumentCounts(code)) for code in ("phq9", "gad7")),
    )
    return outcome_report(data, today=TODAY)


# Time to first response (Kaplan-Meier) and mean change, from the weeks' counts


def test_time_to_first_response_is_a_kaplan_meier_curve_censored_at_the_last_score():
    # First responses in weeks 2, 2 and 7; last scores without one in weeks 1 and 8.
    weeks = time_to_response({2: 2, 7: 1}, {1: 1, 8: 1})

    table = {w.week: (w.at_risk, w.responded, w.censored, w.cumulative) for w in weeks}
    assert [w.week for w in weeks] == list(range(27))
    assert table[0] == (5, 0, 0, 0)
    assert table[1] == (5, 0, 1, 0)
    assert table[2] == (4, 2, 0, Fraction(1, 2))
    assert table[3] == (2, 0, 0, Fraction(1, 2))
    assert table[7] == (2, 1, 0, Fraction(3, 4))
    assert table[8] == (1, 0, 1, Fraction(3, 4))
    assert table[9] == (0, 0, 0, Fraction(3, 4))
    assert table[26] == (0, 0, 0, Fraction(3, 4))


def test_patients_seen_after_week_26_stay_at_risk_to_the_end():
    weeks = time_to_response({30: 1}, {28: 2})

    assert [w.at_risk for w in weeks] == [3] * 27
    assert sum(w.censored for w in weeks) == sum(w.responded for w in weeks) == 0


def test_mean_change_by_week_from_the_number_and_sum_of_changes():
    change = mean_change_by_week({0: (2, -7), 1: (1, -4), 2: (2, -21)})

    table = {w.week: (w.patients, w.mean) for w in change}
    assert table[0] == (2, Fraction(-7, 2))
    assert table[1] == (1, Fraction(-4))
    assert table[2] == (2, Fraction(-21, 2))
    assert table[3] == (0, None)
    assert mean(table[0][1], 2).text == "\u22123.5"
    assert mean(Fraction(-17, 4), 5).text == "\u22124.3"  # halves away from zero
    assert mean(Fraction(5, 2), 5).text == "+2.5"
    assert mean(None, 0).text == "none"


# Adherence


def test_adherence_windows_end_yesterday_and_split_the_last_28_days():
    period = Period(date(2026, 3, 1), date(2026, 4, 30), "UTC")

    windows = adherence_windows(period, today=date(2026, 4, 10))

    assert (windows.first, windows.last) == (date(2026, 3, 1), date(2026, 4, 9))
    assert (windows.recent_first, windows.earlier_first, windows.earlier_last) == (
        date(2026, 3, 27),
        date(2026, 3, 13),
        date(2026, 3, 26),
    )
    assert adherence_windows(period, today=date(2026, 3, 1)) is None


# Alert workload


def test_alert_workload_by_kind_with_medians_of_odd_and_even_counts():
    t0 = datetime(2026, 6, 1, 9, tzinfo=UTC)

    def raised(kind, waited=None, *, escalated=False, at=t0):
        acked = at + timedelta(minutes=waited) if waited is not None else None
        return AlertRecord(kind, at, acked, escalated)

    alerts = [
        raised("safety", 10),
        raised("safety", 30, escalated=True),
        raised("safety", 20),
        raised("safety"),  # still open
        raised("worsening", 60),
        raised("worsening", 90),
        raised("safety", 5, at=datetime(2025, 11, 30, 23, tzinfo=UTC)),  # before the period
    ]

    workload = alert_workload(alerts, PERIOD, kinds=("safety", "worsening", "high_bp"))

    by_kind = {k.kind: k for k in workload.kinds}
    safety, worsening, high_bp = by_kind["safety"], by_kind["worsening"], by_kind["high_bp"]
    assert (safety.alerts, safety.acknowledged, safety.escalated, safety.still_open) == (4, 3, 1, 1)
    assert safety.median_minutes == 20  # 10, 20, 30
    assert worsening.median_minutes == 75  # 60 and 90
    assert (high_bp.alerts, high_bp.median_minutes) == (0, None)
    total = workload.total
    assert (total.alerts, total.acknowledged, total.median_minutes) == (6, 5, 30)
    assert minutes(Fraction(75), 5).text == "75 min"
    assert minutes(Fraction(61, 2), 5).text == "31 min"  # 30.5: halves up
    assert minutes(Fraction(1200), 5).text == "20 h 0 min"
    assert minutes(Fraction(75), 2).shared == "left out"


# Messages


def test_message_volume_and_the_median_wall_clock_hours_to_a_first_reply():
    t0 = datetime(2026, 6, 5, 17, tzinfo=UTC)  # a Friday evening

    def thread(waited_hours=None, *, at=t0, sent=1, replies=None):
        replied = at + timedelta(hours=waited_hours) if waited_hours is not None else None
        return ThreadRecord(
            at, replied, sent, replies if replies is not None else int(bool(replied))
        )

    threads = [
        thread(1),
        thread(64),  # over the weekend: wall-clock hours count
        thread(3, sent=2),
        thread(None, sent=3),  # no reply yet
        thread(None),
        # Started before the period, answered in it: its messages count, not its wait.
        thread(2, at=datetime(2025, 11, 30, 22, tzinfo=UTC), sent=0, replies=1),
    ]

    figures = message_figures(threads, PERIOD)

    assert (figures.patient_messages, figures.replies) == (8, 4)
    assert (figures.threads_started, figures.replied, figures.no_reply_yet) == (5, 3, 2)
    assert figures.median_hours_to_reply == 3  # 1, 3, 64
    even = message_figures([thread(1), thread(2)], PERIOD)
    assert even.median_hours_to_reply == Fraction(3, 2)
    assert message_figures([thread(None)], PERIOD).median_hours_to_reply is None
    assert hours(Fraction(3, 2), 5).text == "1.5 hours"
    assert hours(Fraction(1), 5).text == "1.0 hour"
    assert hours(Fraction(3, 2), 4).shared == "left out"
    assert hours(None, 0).text == "none"


def test_message_figures_leave_the_clinic_with_small_counts_suppressed():
    t0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
    five = tuple(ThreadRecord(t0, t0 + timedelta(hours=n), 1, 1) for n in range(1, 6))
    few = five[:4]

    def exported(threads):
        data = OutcomeData(PERIOD, 0, threads=threads)
        return report_json(outcome_report(data, today=TODAY), kind_labels={}, filters={})

    assert exported(five)["messages"] == {
        "patient_messages": {"count": 5, "text": "5"},
        "care_team_replies": {"count": 5, "text": "5"},
        "threads_started": {"count": 5, "text": "5"},
        "replied": {"count": 5, "text": "5"},
        "no_reply_yet": {"count": 0, "text": "0"},
        "median_hours_to_first_reply": 3.0,
    }
    small = exported(few)["messages"]
    assert small["replied"] == {"count": None, "text": "fewer than 5"}
    assert small["median_hours_to_first_reply"] is None
    rows = {tuple(r[:4]): r[4:] for r in csv_rows(exported(few))}
    assert rows[("messages", "", "threads started", "replied to")][0] == "fewer than 5"
    assert rows[("messages", "", "threads started", "median hours to first reply")][3] is None
    five_rows = {tuple(r[:4]): r[4:] for r in csv_rows(exported(five))}
    assert str(
        five_rows[("messages", "", "threads started", "median hours to first reply")][3]
    ) == ("3.0")


# Empty cohorts, and what leaves the clinic


def test_an_empty_cohort_gives_figures_that_say_none():
    report = outcome_report(OutcomeData(PERIOD, 0), today=TODAY)

    phq9 = report.instruments[0]
    assert report.patients == 0 and phq9.with_baseline == 0
    assert all(tp.scored == 0 for tp in phq9.time_points)
    assert {(w.at_risk, w.cumulative) for w in phq9.time_to_response} == {(0, 0)}
    assert {w.mean for w in phq9.mean_change} == {None}
    assert (report.adherence.checkins_expected, report.alerts.total.alerts) == (0, 0)
    assert (report.messages.threads_started, report.messages.median_hours_to_reply) == (0, None)
    figures = report_json(report, kind_labels={}, filters={})
    assert figures["instruments"][0]["time_points"][0]["response"]["percent"] is None
    assert figures["adherence"]["checkins"]["percent"] is None
    assert share(0, 0).text == "none" and percent(0, 0) is None
    assert csv_rows(figures)  # no division by zero anywhere


@pytest.mark.parametrize(
    ("n", "count", "text"),
    [(0, 0, "0"), (1, None, "fewer than 5"), (4, None, "fewer than 5"), (5, 5, "5")],
)
def test_counts_of_1_to_4_are_not_shown_outside_the_page(n, count, text):
    assert count_cell(n) == {"count": count, "text": text}


def test_a_share_with_a_small_count_or_denominator_loses_its_percentage():
    assert share_cell(3, 10)["percent"] is None
    assert share_cell(0, 3) == {
        "count": {"count": 0, "text": "0"},
        "of": {"count": None, "text": "fewer than 5"},
        "percent": None,
    }
    assert share_cell(5, 8)["percent"] == 62.5
    assert share(3, 10).text == "3 of 10 (30.0%)"
    assert share(3, 10).shared == "fewer than 5 of 10"


def test_means_and_curves_resting_on_fewer_than_5_are_left_out_of_exports():
    # Three patients with a baseline of 20 and a 10 in week 0.
    report = report_of(InstrumentCounts("phq9", 3, responded={0: 3}, changes={0: (3, -30)}))

    phq9 = report_json(report, kind_labels={}, filters={})["instruments"][0]

    assert phq9["with_baseline"] == {"count": None, "text": "fewer than 5"}
    assert phq9["mean_change"][0] == {
        "week": 0,
        "patients": {"count": None, "text": "fewer than 5"},
        "mean_change": None,
    }
    assert phq9["time_to_response"][0]["cumulative_percent"] is None
    assert report.instruments[0].time_to_response[0].cumulative == 1  # exact on the page


def test_charts_draw_means_of_fewer_than_5_apart_and_print_without_them():
    # Five patients (baseline 20) score 10 in week 0; two score 14 in week 1.
    report = report_of(
        InstrumentCounts(
            "phq9", 7, responded={0: 5}, censored={1: 2}, changes={0: (5, -50), 1: (2, -12)}
        )
    )

    phq9 = chart_data(report)["series"][0]

    assert (phq9["mean"][:3], phq9["mean_small"][:3]) == ([-10.0, None, None], [None, -6.0, None])
    assert phq9["cumulative"][:3] == [71.4, 71.4, None]  # 5 of 7 in week 0; then nobody
    assert phq9["cumulative_shared"][:3] == [71.4, None, None]  # 2 at risk in week 1
    figures = report_json(report, kind_labels={"safety": "Safety"}, filters={})
    assert figures["alerts"]["total"]["label"] == "All kinds"


@pytest.mark.parametrize(
    ("today", "before"),
    [
        (date(2026, 11, 27), date(2026, 5, 27)),
        (date(2026, 8, 31), date(2026, 2, 28)),
        (date(2024, 8, 31), date(2024, 2, 29)),
        (date(2026, 3, 15), date(2025, 9, 15)),
    ],
)
def test_six_months_before(today, before):
    assert months_before(today, 6) == before


def test_the_median_wait_is_exactly_the_median_of_the_minutes():
    """Waits kept as whole microseconds give the exact median in minutes, odd and even."""
    rng = random.Random(5)
    for count in [1, 2, 3, 4, 7, 10, 51]:
        waits = sorted(rng.randrange(0, 10**12) for _ in range(count))
        as_minutes = [Fraction(wait, 60_000_000) for wait in waits]
        assert median_minutes(waits) == median(as_minutes)
    assert median_minutes([]) is None
    assert median_minutes([1, 2]) == Fraction(3, 120_000_000)
