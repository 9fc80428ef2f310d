"""Body weight and the planned dose: pure rules, plain values in and out (docs/clinical.md,
"Weight and dose").

- A weight is kept in kg to one decimal. A weight typed in pounds is converted at exactly
  0.45359237 kg/lb (the international pound) and rounded half-up to 0.1 kg.
- The proposed dose of IV / IM ketamine is the plan's mg/kg times the latest weight in kg,
  rounded half-up to 0.1 mg (the precision the session record keeps): 0.50 mg/kg x 82.0 kg
  = 41.0 mg; 0.55 mg/kg x 71.3 kg = 39.215 mg -> 39.2 mg. Intranasal esketamine is the plan's
  fixed dose (56 or 84 mg), whatever the weight.
- A weight is stale when it was measured more than the clinic's limit of days before the
  session's local date; exactly the limit is not stale.
- A recorded dose departs from the plan's when it differs by more than the clinic's margin,
  in percent of the plan's dose; exactly the margin is not a departure. Doses in mg are
  compared when both the recorded and the planned mg are known, otherwise doses in mg/kg.

These are checks on what is typed, not dosing advice: the warnings never block a record; a
departure beyond the margin asks the clinician to confirm the dose.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

KG_PER_LB = Decimal("0.45359237")
KG = "kg"
LB = "lb"
IV, IM, INTRANASAL = "iv", "im", "intranasal"
ROUTE_WORDS = {IV: "IV infusion", IM: "intramuscular", INTRANASAL: "intranasal esketamine"}

_TENTH = Decimal("0.1")


def tenth(value: Decimal) -> Decimal:
    """`value` rounded half-up to one decimal (weights in kg and lb, doses in mg)."""
    return value.quantize(_TENTH, rounding=ROUND_HALF_UP)


def kg_from_lb(pounds: Decimal) -> Decimal:
    """Pounds to kg, one decimal, half-up: 180 lb -> 81.6 kg (81.6466266)."""
    return tenth(pounds * KG_PER_LB)


def lb_from_kg(kg: Decimal) -> Decimal:
    """Kg to pounds, one decimal, half-up (for showing a kg limit in pounds)."""
    return tenth(kg / KG_PER_LB)


def weight_in_kg(value: Decimal, unit: str) -> Decimal:
    """A weight as typed (`unit` "kg" or "lb") in kg to one decimal."""
    if unit == KG:
        return tenth(value)
    if unit == LB:
        return kg_from_lb(value)
    raise ValueError(f"Unknown weight unit: {unit!r}")


def weight_is_stale(*, measured_on: date, session_on: date, max_age_days: int) -> bool:
    """Measured more than `max_age_days` days before the session's local date."""
    return (session_on - measured_on).days > max_age_days


def proposed_dose_mg(*, mg_per_kg: Decimal, weight_kg: Decimal) -> Decimal:
    """mg/kg x kg, rounded half-up to 0.1 mg."""
    return tenth(mg_per_kg * weight_kg)


def departs(*, recorded: Decimal, planned: Decimal, margin_percent: int) -> bool:
    """True when `recorded` differs from `planned` by more than `margin_percent` percent of
    `planned` (exact decimal arithmetic: exactly the margin is not a departure)."""
    if planned <= 0:
        return recorded != planned
    return abs(recorded - planned) * 100 > planned * margin_percent


def _percent(recorded: Decimal, planned: Decimal) -> str:
    return f"{tenth(abs(recorded - planned) * 100 / planned)}%"


@dataclass(frozen=True)
class DoseBasis:
    """What the session form compares a dose with: the patient's current plan (None: no
    plan), their latest weight on or before the session's date, and the clinic's limits."""

    session_on: date
    max_age_days: int
    margin_percent: int
    plan_route: str | None = None
    plan_mg_per_kg: Decimal | None = None
    plan_mg: Decimal | None = None
    weight_kg: Decimal | None = None
    weighed_on: date | None = None


@dataclass(frozen=True)
class DoseProposal:
    """The plan's dose for this session: mg/kg (IV / IM), mg when it can be worked out, and
    the sentence that shows how."""

    mg_per_kg: Decimal | None
    mg: Decimal | None
    text: str


def dose_proposal(basis: DoseBasis) -> DoseProposal | None:
    """The plan's dose for the session, or None without a plan."""
    if basis.plan_route is None:
        return None
    if basis.plan_route == INTRANASAL:
        mg = basis.plan_mg
        return (
            None if mg is None else DoseProposal(None, mg, f"Plan: {mg} mg intranasal esketamine.")
        )
    per_kg = basis.plan_mg_per_kg
    if per_kg is None:
        return None
    if basis.weight_kg is None or basis.weighed_on is None:
        return DoseProposal(per_kg, None, f"Plan: {per_kg} mg/kg (no weight recorded).")
    mg = proposed_dose_mg(mg_per_kg=per_kg, weight_kg=basis.weight_kg)
    text = (
        f"Plan: {per_kg} mg/kg x {basis.weight_kg} kg "
        f"(weighed {basis.weighed_on.isoformat()}) = {mg} mg"
    )
    return DoseProposal(per_kg, mg, text)


NO_PLAN = "No treatment plan: there is no planned dose to compare with."
NO_WEIGHT = (
    "No weight recorded: the dose in mg cannot be worked out from the plan. Record the "
    "patient's weight."
)
STALE_WEIGHT = (
    "The latest weight ({kg} kg, {on}) is older than {days} days: weigh the patient again."
)
OTHER_ROUTE = "The plan's route is {plan}, not {session}: the dose is not compared with the plan."
DEPARTURE = (
    "The dose recorded, {recorded} {unit}, departs from the plan's {planned} {unit} by "
    "{percent} (more than the clinic's {margin}%)."
)


@dataclass(frozen=True)
class DoseCheck:
    """Warnings in plain words about a session's dose; `departure` is the one that asks for a
    confirmation (empty when the dose is within the margin or not compared)."""

    warnings: tuple[str, ...]
    departure: str = ""


def dose_check(
    basis: DoseBasis,
    *,
    route: str | None,
    dose_mg: Decimal | None = None,
    dose_mg_per_kg: Decimal | None = None,
) -> DoseCheck:
    """The warnings about a session of `route` with the dose recorded (either may be None,
    as before anything is typed): no plan, no weight or a stale one (IV / IM plans only), a
    route other than the plan's, and a departure beyond the margin."""
    if basis.plan_route is None:
        return DoseCheck((NO_PLAN,))
    warnings: list[str] = []
    if basis.plan_route != INTRANASAL:
        if basis.weight_kg is None or basis.weighed_on is None:
            warnings.append(NO_WEIGHT)
        elif weight_is_stale(
            measured_on=basis.weighed_on,
            session_on=basis.session_on,
            max_age_days=basis.max_age_days,
        ):
            warnings.append(
                STALE_WEIGHT.format(
                    kg=basis.weight_kg, on=basis.weighed_on.isoformat(), days=basis.max_age_days
                )
            )
    if route is not None and route != basis.plan_route:
        words = ROUTE_WORDS.get(basis.plan_route, basis.plan_route)
        warnings.append(OTHER_ROUTE.format(plan=words, session=ROUTE_WORDS.get(route, route)))
        return DoseCheck(tuple(warnings))
    proposal = dose_proposal(basis)
    departure = ""
    if proposal is not None:
        pairs = (
            (dose_mg, proposal.mg, "mg")
            if dose_mg is not None and proposal.mg is not None
            else (dose_mg_per_kg, proposal.mg_per_kg, "mg/kg")
        )
        recorded, planned, unit = pairs
        if (
            recorded is not None
            and planned is not None
            and departs(recorded=recorded, planned=planned, margin_percent=basis.margin_percent)
        ):
            departure = DEPARTURE.format(
                recorded=recorded,
                planned=planned,
                unit=unit,
                percent=_percent(recorded, planned) if planned > 0 else "any amount",
                margin=basis.margin_percent,
            )
            warnings.append(departure)
    return DoseCheck(tuple(warnings), departure)
