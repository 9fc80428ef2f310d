"""Clinical rules at their thresholds: baseline, response, remission and every alert rule."""

from datetime import UTC, date, datetime, timedelta

import pytest

from care.domain.rules import (
    ScorePoint,
    baseline,
    blood_pressure_alert,
    booster_alerts,
    is_remission,
    is_response,
    missed_checkins_alert,
    mood_direction,
    score_outcome,
    worsening_alerts,
)

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def points(*pairs) -> list[ScorePoint]:
    return [ScorePoint(day(d), total) for d, total in pairs]


# Baseline, response, remission


def test_baseline_is_the_first_score_at_or_before_the_first_session():
    history = points((-10, 18), (-3, 20), (14, 8))

    assert baseline(history, first_session_at=day(0)).total == 18
    assert baseline(points((0, 17), (7, 9)), first_session_at=day(0)).total == 17


def test_without_a_pre_treatment_score_there_is_no_baseline():
    assert baseline(points((3, 17), (10, 9)), first_session_at=day(0)) is None
    assert baseline([], first_session_at=day(0)) is None


def test_before_any_session_the_first_score_is_the_baseline():
    assert baseline(points((5, 12), (1, 15)), first_session_at=None).total == 15


@pytest.mark.parametrize(
    ("base", "latest", "expected"),
    [
        (20, 10, True),
        (20, 11, False),
        (19, 9, True),
        (19, 10, False),
        (0, 0, False),
        (20, None, False),
    ],
)
def test_response_is_at_least_50_percent_below_baseline(base, latest, expected):
    assert is_response(base, latest) is expected


@pytest.mark.parametrize(
    ("code", "total", "expected"),
    [
        ("phq9", 4, True),
        ("phq9", 5, False),
        ("gad7", 4, True),
        ("gad7", 5, False),
        ("pcl5", 0, False),
    ],
)
def test_remission_is_below_5(code, total, expected):
    assert is_remission(code, total) is expected


@pytest.mark.parametrize(
    ("first_treatment", "score_day", "expected"),
    [
        (None, 10, (False, False)),  # no held session yet: no outcome at all
        (day(20), 10, (False, False)),  # before the first treatment
        (day(10), 10, (False, False)),  # at it
        (day(5), 10, (True, True)),  # after it
    ],
)
def test_response_and_remission_are_judged_only_after_the_first_treatment(
    first_treatment, score_day, expected
):
    base = ScorePoint(day(0), 20)

    outcome = score_outcome(
        "phq9", base, ScorePoint(day(score_day), 4), first_treatment_at=first_treatment
    )

    assert (outcome.response, outcome.remission) == expected


def test_a_hand_built_course_responds_then_remits():
    history = points((-7, 18), (14, 10), (28, 9), (42, 4))
    base = baseline(history, first_session_at=day(0)).total

    assert [is_response(base, p.total) for p in history[1:]] == [False, True, True]
    assert [is_remission("phq9", p.total) for p in history[1:]] == [False, False, True]


# Worsening: clinically important rise and top band


@pytest.mark.parametrize(
    ("code", "previous", "new", "fires"),
    [
        ("phq9", 10, 15, True),
        ("phq9", 10, 14, False),
        ("gad7", 6, 10, True),
        ("gad7", 6, 9, False),
        ("pcl5", 30, 40, True),
        ("pcl5", 30, 39, False),
    ],
)
def test_a_rise_by_the_clinically_important_change_is_a_high_alert(code, previous, new, fires):
    drafts = worsening_alerts(
        code, points((14, previous)), ScorePoint(day(28), new), first_session_at=None
    )

    rises = [d for d in drafts if d.cause.startswith(f"{code}:rise:")]
    assert bool(rises) is fires
    if fires:
        assert rises[0].priority == "high" and f"from {previous} to {new}" in rises[0].reason


def test_a_rise_from_the_best_score_since_treatment_began_also_fires():
    history = points((-5, 20), (7, 6), (14, 9))  # best 6, previous 9

    drafts = worsening_alerts("phq9", history, ScorePoint(day(21), 11), first_session_at=day(0))

    assert [d.cause for d in drafts] == [f"phq9:rise:{day(21):%Y%m%d%H%M}"]
    assert "from its best (6)" in drafts[0].reason


def test_the_best_score_before_treatment_does_not_count():
    history = points((-20, 5), (-5, 20), (7, 12))

    assert worsening_alerts("phq9", history, ScorePoint(day(14), 14), first_session_at=day(0)) == []


@pytest.mark.parametrize(
    ("code", "previous", "new", "fires"),
    [
        ("phq9", 19, 20, True),
        ("phq9", 18, 19, False),
        ("phq9", 20, 21, False),
        ("gad7", 14, 15, True),
        ("gad7", 13, 14, False),
    ],
)
def test_entering_the_top_band_is_a_high_alert(code, previous, new, fires):
    drafts = worsening_alerts(
        code, points((0, previous)), ScorePoint(day(14), new), first_session_at=None
    )

    assert any(d.cause.startswith(f"{code}:top_band:") for d in drafts) is fires


def test_a_first_score_never_raises_a_worsening_alert():
    assert worsening_alerts("phq9", [], ScorePoint(day(0), 27), first_session_at=None) == []


# Blood pressure


@pytest.mark.parametrize(
    ("systolic", "diastolic", "fires"),
    [(140, 90, False), (141, 90, True), (140, 91, True), (120, 80, False), (None, 95, False)],
)
def test_pre_dose_blood_pressure_above_the_clinic_threshold(systolic, diastolic, fires):
    draft = blood_pressure_alert(systolic, diastolic, hold_systolic=140, hold_diastolic=90)

    assert (draft is not None) is fires
    if fires:
        assert draft.priority == "high" and f"{systolic}/{diastolic}" in draft.reason


def test_the_blood_pressure_threshold_is_the_clinics():
    assert blood_pressure_alert(150, 85, hold_systolic=160, hold_diastolic=100) is None


# Missed check-ins


@pytest.mark.parametrize(
    ("last", "today", "fires"),
    [
        (date(2026, 1, 5), date(2026, 1, 8), False),  # Tue, Wed missed; today may still come
        (date(2026, 1, 5), date(2026, 1, 9), True),  # Tue, Wed, Thu missed
        (date(2026, 1, 5), date(2026, 1, 6), False),
    ],
)
def test_missed_checkins_after_the_clinics_number_of_days(last, today, fires):
    draft = missed_checkins_alert(
        last_checkin_on=last, counting_from=date(2026, 1, 1), today=today, days=3
    )

    assert (draft is not None) is fires
    if fires:
        assert draft.priority == "routine" and "No check-in for 3 days" in draft.reason


def test_missed_checkins_count_from_activation_when_there_is_none():
    start = date(2026, 1, 1)

    assert (
        missed_checkins_alert(
            last_checkin_on=None, counting_from=start, today=date(2026, 1, 3), days=3
        )
        is None
    )
    assert missed_checkins_alert(
        last_checkin_on=None, counting_from=start, today=date(2026, 1, 4), days=3
    )


# Booster may be due


INDUCTION_END = day(21)


def boosters(phq9=(), moods=()):
    return booster_alerts(
        phq9_since_first_session=points(*phq9), induction_ends_at=INDUCTION_END, mood_averages=moods
    )


def test_phq9_back_up_by_5_from_its_lowest_after_induction_signals_a_booster():
    drafts = boosters(phq9=[(0, 16), (14, 4), (28, 6), (42, 9)])

    assert [d.cause for d in drafts] == [f"booster:phq9:{day(42):%Y%m%d%H%M}"]
    assert drafts[0].kind == "booster_due" and drafts[0].priority == "routine"


def test_the_lowest_phq9_during_induction_counts():
    assert [d.kind for d in boosters(phq9=[(0, 20), (14, 3), (40, 10)])] == ["booster_due"]


def test_phq9_up_by_4_is_not_yet_a_booster_signal():
    assert boosters(phq9=[(0, 6), (14, 4), (28, 8)]) == []


def test_no_booster_signal_while_induction_goes_on():
    assert boosters(phq9=[(0, 16), (7, 4), (14, 10)]) == []


def test_the_7_day_mood_average_down_2_from_its_best_signals_a_booster():
    averages = [(date(2026, 2, d), v) for d, v in [(1, 6.0), (8, 7.5), (15, 6.0), (22, 5.5)]]
    almost = [(date(2026, 2, d), v) for d, v in [(1, 6.0), (8, 7.5), (22, 5.6)]]

    assert [d.cause for d in boosters(moods=averages)] == ["booster:mood:20260208"]
    assert boosters(moods=almost) == []


def test_a_drop_of_exactly_2_between_averages_of_sevenths_counts():
    averages = [(date(2026, 2, 1), 36 / 7), (date(2026, 2, 8), 22 / 7)]

    assert len(boosters(moods=averages)) == 1


@pytest.mark.parametrize(
    ("averages", "direction"),
    [
        ([5.0, 5.6], "up"),
        ([5.0, 4.5], "down"),
        ([5.0, 5.4], "flat"),
        ([5.0], "flat"),
        ([33 / 7, 36.5 / 7], "up"),
    ],
)
def test_mood_direction(averages, direction):
    assert mood_direction(averages) == direction
