"""Clinic outcome figures from hand-built cohorts (pure functions: no database)."""

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest

from care.domain.outcomes import (
    AlertRecord,
    CheckInCounts,
    CohortPatient,
    OutcomeData,
    Period,
    ThreadRecord,
    adherence,
    adherence_dropped,
    adherence_windows,
    alert_workload,
    instrument_outcomes,
    message_figures,
    months_before,
    outcome_report,
    percent,
    questionnaire_adherence,
)
from care.domain.rules import ScorePoint
from care.outcomes.display import chart_data, hours, mean, minutes, share
from care.outcomes.export import count_cell, csv_rows, report_json, share_cell

FIRST = datetime(2026, 1, 5, 10, tzinfo=UTC)  # every patient's first held session
PERIOD = Period(date(2025, 12, 1), date(2026, 11, 30), "UTC")
TODAY = date(2026, 12, 15)


def day(n: int, hour: int = 12) -> datetime:
    """`n` days after the first session's day, at `hour` (UTC)."""
    return FIRST.replace(hour=hour) + timedelta(days=n)


def points(*scores: tuple[int, int]) -> tuple[ScorePoint, ...]:
    return tuple(ScorePoint(day(n), total) for n, total in scores)


def person(key=1, *, phq9=(), gad7=(), **fields) -> CohortPatient:
    values = {
        "key": key,
        "tz": "UTC",
        "status": "active",
        "phase": "induction",
        "enrolled_on": date(2025, 12, 20),
        "first_held_at": FIRST,
        "instruments": ("phq9",),
        "scores": {"phq9": points(*phq9), "gad7": points(*gad7)},
    }
    return CohortPatient(**(values | fields))


def figures(code, *patients, period=PERIOD):
    return instrument_outcomes(code, patients, period)


def at_point(outcomes, key):
    [tp] = [tp for tp in outcomes.time_points if tp.point.key == key]
    return tp.with_baseline, tp.scored, tp.responders, tp.remitters


# Baseline, time points, response and remission


def test_patients_without_a_baseline_are_left_out_and_counted():
    with_baseline = person(1, phq9=[(-3, 20), (30, 10)])
    first_scored_after = person(2, phq9=[(10, 15), (30, 5)])  # no score before the session
    never = person(3, phq9=[], gad7=[(-2, 12)])

    phq9 = figures("phq9", with_baseline, first_scored_after, never)

    assert (phq9.with_baseline, phq9.no_baseline, phq9.never_scored) == (1, 1, 1)
    assert at_point(phq9, "induction_end") == (1, 1, 1, 0)


def test_a_score_on_the_first_session_day_is_a_baseline_only_if_taken_before_it():
    after = person(phq9=[(0, 18)])  # at noon; the session began at 10:00
    before = person(scores={"phq9": (ScorePoint(FIRST - timedelta(hours=1), 18),)})

    assert (figures("phq9", after).with_baseline, figures("phq9", after).no_baseline) == (0, 1)
    assert figures("phq9", before).with_baseline == 1


def test_each_time_point_takes_the_latest_score_in_its_window():
    patient = person(phq9=[(-3, 20), (25, 8), (40, 12), (90, 4), (180, 5)])

    phq9 = figures("phq9", patient)

    assert at_point(phq9, "induction_end") == (1, 1, 0, 0)  # 12 on day 40, not 8 on day 25
    assert at_point(phq9, "month_3") == (1, 1, 1, 1)  # 4: response and remission
    assert at_point(phq9, "month_6") == (1, 1, 1, 0)  # 5: response, not remission


@pytest.mark.parametrize(
    ("score_day", "inside"),
    [(20, False), (21, True), (42, True), (43, False), (69, False), (70, True), (112, True)],
)
def test_window_edges(score_day, inside):
    patient = person(phq9=[(-1, 20), (score_day, 6)])

    phq9 = figures("phq9", patient)

    scored = sum(tp.scored for tp in phq9.time_points)
    assert scored == (1 if inside else 0)


@pytest.mark.parametrize(
    ("baseline", "score", "response", "remission"),
    [
        (20, 10, True, False),  # exactly 50% below: a response
        (20, 11, False, False),  # 45% below
        (9, 4, True, True),  # 4.5 is half of 9: 4 is below it; 4 is below 5
        (9, 5, False, False),  # 5 is above 4.5; 5 is not below 5
        (8, 4, True, True),  # exactly half, and below 5
        (0, 0, False, True),  # a baseline of 0 cannot respond; 0 is a remission
    ],
)
def test_response_and_remission_boundaries(baseline, score, response, remission):
    phq9 = figures("phq9", person(phq9=[(-1, baseline), (30, score)]))

    assert at_point(phq9, "induction_end") == (1, 1, int(response), int(remission))


def test_patients_discharged_early_are_absent_from_later_time_points():
    stayed = person(1, phq9=[(-2, 20), (30, 9), (80, 6), (160, 3)])
    discharged = person(2, status="discharged", phase="discharged", phq9=[(-2, 18), (28, 15)])

    phq9 = figures("phq9", stayed, discharged)

    assert at_point(phq9, "induction_end") == (2, 2, 1, 0)
    assert at_point(phq9, "month_3") == (2, 1, 1, 0)  # "1 with a score of 2 with a baseline"
    assert at_point(phq9, "month_6") == (2, 1, 1, 1)


def test_gad7_is_counted_apart_from_phq9():
    patient = person(phq9=[(-1, 20), (30, 15)], gad7=[(-1, 12), (30, 4)])

    report = outcome_report(OutcomeData(PERIOD, (patient,)), today=TODAY)
    phq9, gad7 = report.instruments

    assert (phq9.code, gad7.code) == ("phq9", "gad7")
    assert at_point(phq9, "induction_end") == (1, 1, 0, 0)
    assert at_point(gad7, "induction_end") == (1, 1, 1, 1)


def test_scores_after_the_end_of_the_period_are_not_used():
    patient = person(phq9=[(-1, 20), (30, 8)])
    period = Period(date(2025, 12, 1), day(29).date(), "UTC")

    phq9 = figures("phq9", patient, period=period)

    assert at_point(phq9, "induction_end") == (1, 0, 0, 0)


# Time to first response (Kaplan-Meier)


def km_cohort():
    return [
        person(1, phq9=[(-1, 20), (1, 19), (3, 15), (14, 10)]),  # responds in week 2
        person(2, phq9=[(-1, 20), (3, 18), (10, 16)]),  # last seen week 1: censored
        person(3, phq9=[(-1, 20), (20, 9)]),  # responds in week 2
        person(4, phq9=[(-1, 20), (30, 15), (60, 12)]),  # last seen week 8: censored
        person(5, phq9=[(-1, 20), (50, 10)]),  # responds in week 7
        person(6, phq9=[(-1, 20)]),  # never seen after baseline: not at risk
        person(7, phq9=[(2, 20), (9, 5)]),  # no baseline: left out
    ]


def test_time_to_first_response_is_a_kaplan_meier_curve_censored_at_the_last_score():
    weeks = figures("phq9", *km_cohort()).time_to_response

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
    late = person(phq9=[(-1, 20), (5, 18), (200, 17)])

    weeks = figures("phq9", late).time_to_response

    assert [w.at_risk for w in weeks] == [1] * 27
    assert sum(w.censored for w in weeks) == 0


# Mean change from baseline by week


def test_mean_change_by_week_uses_each_patients_latest_score_that_week():
    change = figures("phq9", *km_cohort()).mean_change

    table = {w.week: (w.patients, w.mean) for w in change}
    assert table[0] == (2, Fraction(-7, 2))  # patient 1: 15 (latest of 19, 15); patient 2: 18
    assert table[1] == (1, Fraction(-4))
    assert table[2] == (2, Fraction(-21, 2))
    assert table[4] == (1, Fraction(-5))
    assert table[7] == (1, Fraction(-10))
    assert table[8] == (1, Fraction(-8))
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


@pytest.mark.parametrize(
    ("earlier", "recent", "dropped"),
    [
        ((10, 20), (5, 20), True),  # 50% -> 25%: exactly 25 points
        ((10, 20), (6, 20), False),  # 50% -> 30%: 20 points
        ((9, 20), (0, 20), False),  # 45% before: below 50%, not counted
        ((14, 14), (10, 14), True),  # 100% -> 71.4%: 28.6 points
        ((14, 14), (11, 14), False),  # 100% -> 78.6%: 21.4 points
        ((0, 0), (0, 14), False),  # no earlier days (just enrolled)
    ],
)
def test_adherence_dropped_at_its_boundaries(earlier, recent, dropped):
    assert (
        adherence_dropped(
            earlier_done=earlier[0],
            earlier_expected=earlier[1],
            recent_done=recent[0],
            recent_expected=recent[1],
        )
        is dropped
    )


def test_checkin_adherence_from_enrolment_to_yesterday_with_the_drop_rule():
    period = Period(date(2026, 3, 1), date(2026, 3, 31), "UTC")
    today = date(2026, 4, 10)  # last day counted: 31 March
    steady = person(1, checkins=CheckInCounts(period=31, recent=14, earlier=14))
    dropping = person(2, checkins=CheckInCounts(period=20, recent=3, earlier=14))
    enrolled_late = person(  # 10 March: 22 days expected, 8 of the earlier 14
        3, enrolled_on=date(2026, 3, 10), checkins=CheckInCounts(period=22, recent=7, earlier=8)
    )
    paused = person(4, status="paused", checkins=CheckInCounts(period=1))

    figures = adherence([steady, dropping, enrolled_late, paused], period, today=today)

    rows = {r.key: r for r in figures.patients}
    assert sorted(rows) == [1, 2, 3] and figures.left_out == 1
    assert (rows[1].checkins_done, rows[1].checkins_expected, rows[1].dropped) == (31, 31, False)
    assert (rows[2].recent_done, rows[2].earlier_done, rows[2].dropped) == (3, 14, True)
    late = rows[3]
    assert (late.checkins_expected, late.earlier_expected, late.recent_expected) == (22, 8, 14)
    assert late.dropped  # 8/8 before, 7/14 since: 50 points down
    assert (figures.checkins_done, figures.checkins_expected) == (73, 84)
    assert [r.key for r in figures.dropped] == [2, 3]
    assert figures.with_earlier_share == 3


def test_questionnaire_adherence_before_sessions_and_in_maintenance_blocks():
    first, last = date(2026, 3, 1), date(2026, 4, 4)  # 35 days: two full blocks and 7 days
    session = datetime(2026, 3, 5, 10, tzinfo=UTC)
    later = datetime(2026, 3, 8, 10, tzinfo=UTC)
    completions = (
        ("phq9", session - timedelta(hours=48)),  # exactly 48 h before: counts
        ("pcl5", later - timedelta(hours=2)),  # not one of this patient's questionnaires
        ("phq9", later - timedelta(hours=49)),  # too early for the session on 8 March
        ("phq9", datetime(2026, 3, 20, 18, tzinfo=UTC)),  # in the second block (15-28 March)
        ("phq9", datetime(2026, 4, 2, 18, tzinfo=UTC)),  # in the part block: not expected
    )
    maintenance = person(
        phase="maintenance",
        instruments=("phq9",),
        held_sessions=(session, later),
        completions=completions,
    )
    induction = person(
        phase="induction", instruments=("phq9",), held_sessions=(session, later),
        completions=completions,
    )  # fmt: skip

    assert questionnaire_adherence(maintenance, first, last) == (2, 3)
    assert questionnaire_adherence(induction, first, last) == (1, 2)


@pytest.mark.parametrize(("days", "blocks"), [(13, 0), (14, 1), (27, 1), (28, 2), (41, 2)])
def test_only_full_14_day_blocks_expect_a_questionnaire(days, blocks):
    first = date(2026, 3, 1)
    patient = person(phase="maintenance")

    assert questionnaire_adherence(patient, first, first + timedelta(days=days - 1)) == (0, blocks)


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
        data = OutcomeData(PERIOD, (), threads=threads)
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
    report = outcome_report(OutcomeData(PERIOD, ()), today=TODAY)

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
    small = [person(k, phq9=[(-1, 20), (3, 10)]) for k in range(1, 4)]
    report = outcome_report(OutcomeData(PERIOD, tuple(small)), today=TODAY)

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
    many = [person(k, phq9=[(-1, 20), (3, 10)]) for k in range(5)]  # week 0
    few = [person(k, phq9=[(-1, 20), (10, 14)]) for k in range(5, 7)]  # week 1
    report = outcome_report(OutcomeData(PERIOD, tuple(many + few)), today=TODAY)

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
