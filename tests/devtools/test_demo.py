"""Demo data: realistic, reproducible trajectories, and the seed command's options."""

import random
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from care.models import Alert, Assessment, CheckIn, Patient
from devtools.demo import (
    TRAJECTORIES,
    answers_for_total,
    demo_assessment_rows,
    demo_checkin_causes,
    demo_history,
    severity_share,
)


def history(trajectory, seed=1, **kwargs):
    return demo_history(
        trajectory=TRAJECTORIES[trajectory],
        instruments=["phq9"],
        baselines={"phq9": 20},
        first_session=date(2026, 1, 8),
        start=date(2026, 1, 1),
        end=date(2026, 5, 1),
        tz="America/Chicago",
        rng=random.Random(seed),
        **kwargs,
    )


def phq9_totals(h):
    return [sum(a["answers"].values()) for a in h.assessments if a["instrument"] == "phq9"]


def test_the_same_seed_gives_the_same_history():
    assert history("responder") == history("responder")
    assert history("responder", seed=2) != history("responder")


def test_a_responder_falls_by_half_and_stays_down():
    totals = phq9_totals(history("responder"))

    assert totals[0] >= 18
    assert max(totals[-3:]) <= totals[0] / 2


def test_a_relapse_responds_then_climbs_back():
    totals = phq9_totals(history("relapse"))

    assert min(totals) <= 10 and totals[-1] >= 14


def test_severity_share_interpolates_between_points():
    assert severity_share(TRAJECTORIES["responder"], 7) == pytest.approx((1.0 + 0.45) / 2)


def test_a_self_harm_day_has_a_checkin_and_a_phq9_with_item_9():
    day = date(2026, 3, 3)

    h = history("safety", self_harm_dates=frozenset({day}))

    assert [c["local_date"] for c in h.checkins if c["has_self_harm_thoughts"]] == [day]
    assert [a["answers"]["9"] for a in h.assessments if a["completed_at"].date() == day] == [1]


def test_answers_for_total_fill_items_up_to_the_top_answer():
    answers = answers_for_total("phq9", 27, random.Random(3))

    assert answers == {"1": 3, "2": 3, "3": 3, "4": 3, "5": 3, "6": 3, "7": 3, "8": 3, "9": 0}
    assert sum(answers_for_total("gad7", 9, random.Random(3)).values()) == 9


def test_demo_assessment_rows_are_scored_and_a_self_harm_answer_is_a_cause():
    day = date(2026, 3, 3)
    h = history("safety", self_harm_dates=frozenset({day}))

    rows, causes = demo_assessment_rows(h.assessments, pcl5_cutoff=33)

    assert [r["total"] for r in rows] == [sum(a["answers"].values()) for a in h.assessments]
    assert all(r["band"] and isinstance(r["flags"], list) for r in rows)
    assert len({r["public_id"] for r in rows}) == len(rows)
    flagged = [r for r in rows if "self_harm" in r["flags"]]
    assert [c.key for c in causes] == [r["public_id"] for r in flagged]
    assert [c.at.date() for c in causes] == [day] and "item 9" in causes[0].reason


def test_demo_checkin_causes_are_the_days_with_thoughts_of_self_harm():
    day = date(2026, 3, 3)
    h = history("safety", self_harm_dates=frozenset({day}))

    causes = demo_checkin_causes(h.checkins)

    assert [(c.key, c.at.date()) for c in causes] == [(day, day)]
    assert "Mar 3, 2026" in causes[0].reason
    assert demo_checkin_causes(history("safety").checkins) == []


@pytest.mark.django_db
def test_seed_demo_builds_histories_and_the_matching_safety_alerts():
    call_command("seed_demo", patients=8, days=40)

    assert Patient.objects.count() == 8
    assert CheckIn.objects.count() > 7 * 30
    assert Assessment.objects.filter(instrument="phq9").exists()
    morgan = Patient.objects.get(user__email="morgan@demo.example")
    assert Alert.objects.filter(patient=morgan, kind="safety", acknowledged_at=None).count() == 2
    assert not Patient.objects.get(user__email="riley@demo.example").checkins.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("options", [{"patients": 3}, {"days": 3}])
def test_seed_demo_refuses_odd_sizes(options):
    with pytest.raises(CommandError):
        call_command("seed_demo", **options)


def test_demo_sessions_follow_the_route_and_leave_one_ahead():
    from devtools.demo import demo_sessions

    iv = demo_sessions(route="iv", first_session=date(2026, 1, 5), today=date(2026, 3, 1), tz="UTC")
    nasal = demo_sessions(
        route="intranasal", first_session=date(2026, 1, 5), today=date(2026, 1, 20), tz="UTC"
    )

    assert [s["scheduled_at"].day for s in iv[:6]] == [5, 7, 9, 12, 14, 16]
    assert [s["status"] for s in iv].count("scheduled") == 1 and iv[-1]["status"] == "scheduled"
    assert iv[-1]["scheduled_at"].date() >= date(2026, 3, 1)
    assert all(s["dose_mg_per_kg"] == Decimal("0.50") for s in iv)
    assert [s["scheduled_at"].day for s in nasal] == [5, 8, 12, 15, 19, 22, 26, 29]
    assert nasal[-1]["dose_mg"] == Decimal("56")


def test_demo_weights_are_plausible_recent_and_stored_as_the_service_would():
    from care.domain.dosing import weight_in_kg
    from devtools.demo import demo_weights

    today = date(2026, 6, 1)
    for seed in range(20):
        rows = demo_weights(
            consultation=date(2026, 1, 1), today=today, tz="UTC", rng=random.Random(seed)
        )
        assert [r["measured_on"] for r in rows] == sorted(r["measured_on"] for r in rows)
        assert rows[0]["measured_on"] == date(2026, 1, 1)
        assert (today - rows[-1]["measured_on"]).days <= 90  # never stale at a 90-day limit
        for row in rows:
            assert Decimal("20") <= row["weight_kg"] <= Decimal("350")
            assert row["weight_kg"] == weight_in_kg(row["entered_value"], row["entered_unit"])


def test_demo_iv_sessions_are_dosed_from_the_latest_weight_by_their_day():
    from devtools.demo import demo_sessions

    weights = [
        {"measured_on": date(2026, 1, 1), "weight_kg": Decimal("82.0")},
        {"measured_on": date(2026, 1, 9), "weight_kg": Decimal("80.3")},
    ]
    iv = demo_sessions(
        route="iv", first_session=date(2026, 1, 5), today=date(2026, 2, 1), tz="UTC",
        weights=weights,
    )  # fmt: skip

    assert [(s["scheduled_at"].day, s["dose_mg"]) for s in iv[:4]] == [
        (5, Decimal("41.0")),
        (7, Decimal("41.0")),
        (9, Decimal("40.2")),  # 40.15, half-up
        (12, Decimal("40.2")),
    ]
