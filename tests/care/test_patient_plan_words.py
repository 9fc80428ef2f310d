"""The plan and the readiness check as the patient meets them: pure rules, no database."""

from datetime import UTC, datetime, timedelta

import pytest

from care.domain.patient_plan import (
    READINESS_OPENS_BEFORE,
    every_days_words,
    not_ready_reasons,
    plan_in_words,
    questionnaires_in_words,
    readiness_opens_at,
    readiness_window,
    route_words,
)

SESSION = datetime(2026, 5, 6, 14, 0, tzinfo=UTC)


def test_an_iv_plan_with_maintenance_every_few_weeks():
    words = plan_in_words(
        route="iv",
        induction_sessions=6,
        induction_weeks=3,
        maintenance="every_n_weeks",
        maintenance_every_weeks=4,
    )

    assert words == "6 IV infusions over 3 weeks, then one every 4 weeks"


def test_singulars_and_maintenance_as_needed():
    words = plan_in_words(
        route="im",
        induction_sessions=1,
        induction_weeks=1,
        maintenance="as_needed",
        maintenance_every_weeks=None,
    )

    assert words.startswith("1 injection into a muscle over 1 week, then more only when")


def test_esketamine_and_a_weekly_maintenance():
    words = plan_in_words(
        route="intranasal",
        induction_sessions=8,
        induction_weeks=4,
        maintenance="every_n_weeks",
        maintenance_every_weeks=1,
    )

    assert words == "8 esketamine nasal spray sessions over 4 weeks, then one every week"


@pytest.mark.parametrize(
    ("days", "words"),
    [(1, "every day"), (7, "every week"), (14, "every 2 weeks"), (10, "every 10 days")],
)
def test_cadences_in_words(days, words):
    assert every_days_words(days) == words


def test_questionnaires_in_words():
    assert questionnaires_in_words(["phq9"], 7) == "PHQ-9 every week"
    assert questionnaires_in_words(["phq9", "gad7"], 14) == "PHQ-9 and GAD-7 every 2 weeks"
    assert (
        questionnaires_in_words(["phq9", "gad7", "pcl5"], 28)
        == "PHQ-9, GAD-7 and PCL-5 every 4 weeks"
    )
    assert questionnaires_in_words([], 14) == ""


def test_route_words_for_one_session():
    assert route_words("iv") == "IV infusion"
    assert route_words("intranasal") == "esketamine nasal spray session"


def test_the_readiness_check_opens_two_days_before_and_closes_at_the_start():
    opens = SESSION - READINESS_OPENS_BEFORE

    assert readiness_opens_at(SESSION) == opens
    assert readiness_window(scheduled_at=SESSION, now=opens - timedelta(seconds=1)) == "not_yet"
    assert readiness_window(scheduled_at=SESSION, now=opens) == "open"
    assert readiness_window(scheduled_at=SESSION, now=SESSION - timedelta(seconds=1)) == "open"
    assert readiness_window(scheduled_at=SESSION, now=SESSION) == "closed"


def test_ready_only_with_every_answer_right():
    ready = {
        "ride_arranged": True,
        "fasting_understood": True,
        "feeling_well": True,
        "new_medicines": False,
    }

    assert not_ready_reasons(**ready) == []
    assert not_ready_reasons(**(ready | {"ride_arranged": False})) == ["no ride home arranged"]
    assert not_ready_reasons(**(ready | {"new_medicines": True})) == ["a new or changed medicine"]
    assert (
        len(
            not_ready_reasons(
                ride_arranged=False,
                fasting_understood=False,
                feeling_well=False,
                new_medicines=True,
            )
        )
        == 4
    )
