"""Weight and dose, the pure rules (care/domain/dosing.py): pounds to kg, mg/kg x kg rounded
half-up to 0.1 mg, stale weights, departures beyond the clinic's margin. No database."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from care.domain.dosing import (
    NO_PLAN,
    NO_WEIGHT,
    DoseBasis,
    departs,
    dose_check,
    dose_proposal,
    kg_from_lb,
    lb_from_kg,
    proposed_dose_mg,
    weight_in_kg,
    weight_is_stale,
)

D = Decimal
SESSION_ON = date(2026, 12, 7)


def iv_basis(**overrides) -> DoseBasis:
    values = {
        "session_on": SESSION_ON,
        "max_age_days": 90,
        "margin_percent": 10,
        "plan_route": "iv",
        "plan_mg_per_kg": D("0.50"),
        "weight_kg": D("82.0"),
        "weighed_on": date(2026, 11, 30),
    }
    return DoseBasis(**(values | overrides))


def esketamine_basis(**overrides) -> DoseBasis:
    values = {
        "session_on": SESSION_ON,
        "max_age_days": 90,
        "margin_percent": 10,
        "plan_route": "intranasal",
        "plan_mg": D("56"),
    }
    return DoseBasis(**(values | overrides))


@pytest.mark.parametrize(
    ("pounds", "kg"),
    [
        (D("180"), D("81.6")),  # 81.6466266
        (D("100"), D("45.4")),  # 45.359237
        (D("220.5"), D("100.0")),  # 100.017117...
        (D("1"), D("0.5")),  # 0.45359237
        (D("0.1"), D("0.0")),  # 0.045359237
    ],
)
def test_pounds_become_kg_to_one_decimal(pounds, kg):
    assert kg_from_lb(pounds) == kg
    assert weight_in_kg(pounds, "lb") == kg


def test_half_a_tenth_rounds_up():
    # 0.55 mg/kg x 71.3 kg = 39.215 mg: half-up gives 39.2; 0.25 x 82.2 = 20.55 -> 20.6
    assert proposed_dose_mg(mg_per_kg=D("0.55"), weight_kg=D("71.3")) == D("39.2")
    assert proposed_dose_mg(mg_per_kg=D("0.25"), weight_kg=D("82.2")) == D("20.6")
    assert weight_in_kg(D("80.25"), "kg") == D("80.3")


def test_every_weight_in_kg_survives_a_round_trip_through_pounds():
    for tenths in range(200, 3501):
        kg = D(tenths) / 10
        assert kg_from_lb(lb_from_kg(kg)) == kg


def test_an_unknown_unit_is_refused():
    with pytest.raises(ValueError, match="unit"):
        weight_in_kg(D("80"), "stone")


def test_a_weight_is_stale_only_past_the_limit():
    limit = 90
    at_limit = SESSION_ON - timedelta(days=limit)
    assert not weight_is_stale(measured_on=at_limit, session_on=SESSION_ON, max_age_days=limit)
    assert weight_is_stale(
        measured_on=at_limit - timedelta(days=1), session_on=SESSION_ON, max_age_days=limit
    )
    assert not weight_is_stale(measured_on=SESSION_ON, session_on=SESSION_ON, max_age_days=1)


def test_exactly_the_margin_is_not_a_departure():
    assert not departs(recorded=D("44.0"), planned=D("40.0"), margin_percent=10)
    assert not departs(recorded=D("36.0"), planned=D("40.0"), margin_percent=10)
    assert departs(recorded=D("44.1"), planned=D("40.0"), margin_percent=10)
    assert departs(recorded=D("35.9"), planned=D("40.0"), margin_percent=10)
    assert not departs(recorded=D("0.55"), planned=D("0.50"), margin_percent=10)
    assert departs(recorded=D("0.56"), planned=D("0.50"), margin_percent=10)


def test_the_proposal_shows_how_the_dose_is_worked_out():
    proposal = dose_proposal(iv_basis())

    assert proposal is not None
    assert (proposal.mg_per_kg, proposal.mg) == (D("0.50"), D("41.0"))
    assert proposal.text == "Plan: 0.50 mg/kg x 82.0 kg (weighed 2026-11-30) = 41.0 mg"


def test_esketamine_is_the_plans_fixed_dose_whatever_the_weight():
    proposal = dose_proposal(esketamine_basis(weight_kg=D("120.0"), weighed_on=SESSION_ON))

    assert proposal is not None
    assert (proposal.mg_per_kg, proposal.mg) == (None, D("56"))
    assert dose_check(esketamine_basis(), route="intranasal", dose_mg=D("56")).warnings == ()


def test_without_a_weight_only_mg_per_kg_is_proposed_and_a_warning_says_so():
    basis = iv_basis(weight_kg=None, weighed_on=None)
    proposal = dose_proposal(basis)

    assert proposal is not None
    assert (proposal.mg_per_kg, proposal.mg) == (D("0.50"), None)
    check = dose_check(basis, route="iv", dose_mg=D("60.0"), dose_mg_per_kg=D("0.50"))
    assert check.warnings == (NO_WEIGHT,)  # mg cannot be compared: mg/kg is, and agrees
    assert check.departure == ""


def test_without_a_plan_nothing_is_proposed_or_compared():
    basis = DoseBasis(session_on=SESSION_ON, max_age_days=90, margin_percent=10)

    assert dose_proposal(basis) is None
    check = dose_check(basis, route="iv", dose_mg=D("500"))
    assert (check.warnings, check.departure) == ((NO_PLAN,), "")


def test_a_stale_weight_is_named_with_its_date_and_the_limit():
    check = dose_check(iv_basis(weighed_on=SESSION_ON - timedelta(days=91)), route="iv")

    assert check.warnings == (
        "The latest weight (82.0 kg, 2026-09-07) is older than 90 days: weigh the patient again.",
    )
    assert (
        dose_check(iv_basis(weighed_on=SESSION_ON - timedelta(days=90)), route="iv").warnings == ()
    )


def test_mg_are_compared_when_both_are_known():
    # 46.0 mg against 41.0 mg is 12.2% off; the mg/kg typed (0.50) would agree
    check = dose_check(iv_basis(), route="iv", dose_mg=D("46.0"), dose_mg_per_kg=D("0.50"))

    assert check.departure == (
        "The dose recorded, 46.0 mg, departs from the plan's 41.0 mg by 12.2% "
        "(more than the clinic's 10%)."
    )
    assert check.warnings == (check.departure,)
    within = dose_check(iv_basis(), route="iv", dose_mg=D("45.1"), dose_mg_per_kg=D("0.70"))
    assert within.departure == ""  # 10.0% exactly: mg decide, not mg/kg


def test_mg_per_kg_are_compared_when_mg_are_not():
    check = dose_check(iv_basis(), route="iv", dose_mg_per_kg=D("0.60"))

    assert "0.60 mg/kg, departs from the plan's 0.50 mg/kg by 20.0%" in check.departure


def test_an_esketamine_dose_other_than_the_plans_departs():
    check = dose_check(esketamine_basis(plan_mg=D("84")), route="intranasal", dose_mg=D("56"))

    assert "56 mg, departs from the plan's 84 mg by 33.3%" in check.departure


def test_a_route_other_than_the_plans_is_warned_and_not_compared():
    check = dose_check(iv_basis(), route="intranasal", dose_mg=D("84"))

    assert check.departure == ""
    assert check.warnings == (
        "The plan's route is IV infusion, not intranasal esketamine: the dose is not compared "
        "with the plan.",
    )


def test_a_margin_set_by_the_clinic_is_used():
    basis = iv_basis(margin_percent=25)

    assert dose_check(basis, route="iv", dose_mg=D("51.2")).departure == ""  # 24.9%
    assert dose_check(basis, route="iv", dose_mg=D("51.3")).departure != ""  # 25.1%
