"""Realistic demo histories: pure generators of check-ins and questionnaire answers.

A trajectory says how a patient's depression (or anxiety, PTSD) severity moves over the
treatment timeline, as a fraction of the baseline; the generators turn that into daily
check-ins and questionnaires every 14 days (PCL-5 every 28), with missed days and noise
from a seeded random generator, so the same arguments always give the same history.
`demo_checkin_causes` and `demo_assessment_rows` say what the services would store and
which answers call for an urgent safety alert.
"""

import random
import uuid
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from care.domain.dates import day_month_year
from care.domain.dosing import kg_from_lb, lb_from_kg, proposed_dose_mg
from care.domain.induction import SERIES_OFFSETS
from care.domain.instruments import INSTRUMENTS
from care.domain.safety import assessment_safety_reason, checkin_safety_reason
from care.domain.scoring import questionnaire_score, validate_answers


@dataclass(frozen=True)
class Trajectory:
    code: str
    # Severity as a share of baseline at day offsets from the first session (linear between).
    points: tuple[tuple[int, float], ...]


TRAJECTORIES = {
    # Fast, lasting response to an IV induction series.
    "responder": Trajectory(
        "responder", ((-30, 1.0), (0, 1.0), (14, 0.45), (28, 0.3), (400, 0.28))
    ),
    # Some improvement, never 50%.
    "partial": Trajectory("partial", ((-30, 1.0), (0, 1.0), (21, 0.75), (60, 0.65), (400, 0.62))),
    # Responds during induction, relapses about three weeks after it ends.
    "relapse": Trajectory(
        "relapse", ((-30, 1.0), (0, 1.0), (14, 0.4), (35, 0.4), (60, 0.85), (400, 0.8))
    ),
    # A difficult course (the command adds a recent day of thoughts of self-harm).
    "safety": Trajectory("safety", ((-30, 1.0), (0, 1.0), (20, 0.8), (45, 1.05), (400, 0.95))),
}


def severity_share(trajectory: Trajectory, offset: int) -> float:
    """The trajectory's share of baseline severity at a day offset (linear interpolation)."""
    points = trajectory.points
    if offset <= points[0][0]:
        return points[0][1]
    for (d0, v0), (d1, v1) in pairwise(points):
        if d0 <= offset <= d1:
            return v0 + (v1 - v0) * (offset - d0) / (d1 - d0)
    return points[-1][1]


def answers_for_total(code: str, total: int, rng: random.Random) -> dict[str, int]:
    """Item answers that add up to `total` (PHQ-9 item 9 left at 0)."""
    instrument = INSTRUMENTS[code]
    top = max(option.value for option in instrument.options)
    numbers = [
        item.number for item in instrument.items if item.number not in instrument.self_harm_items
    ]
    answers = {item.number: 0 for item in instrument.items}
    total = min(total, top * len(numbers))
    below_top = list(numbers)  # the items that can still go up, in order
    for _ in range(total):
        number = rng.choice(below_top)
        answers[number] += 1
        if answers[number] == top:
            below_top.remove(number)
    return {str(n): v for n, v in sorted(answers.items())}


@cache
def _hours(value: float) -> Decimal:
    """Hours of sleep as stored: 7.5 -> Decimal("7.5") (one shared instance per value)."""
    return Decimal(str(value))


@dataclass(frozen=True)
class DemoHistory:
    checkins: list[dict]
    assessments: list[dict]
    self_harm_checkin_days: list[date]


def demo_history(
    *,
    trajectory: Trajectory,
    instruments: list[str],
    baselines: dict[str, int],
    first_session: date,
    start: date,
    end: date,
    tz: str,
    rng: random.Random,
    adherence: float = 0.85,
    self_harm_dates: frozenset[date] = frozenset(),
) -> DemoHistory:
    """Plain rows (no models) of one patient's check-ins and questionnaires, start..end."""
    zone = ZoneInfo(tz)
    checkins, assessments, self_harm_days = [], [], []
    every = {code: 28 if code == "pcl5" else 14 for code in instruments}
    gauss, randint = rng.gauss, rng.randint  # (looked up once: this loop runs millions of times)
    first_offset = (start - first_session).days
    for since in range((end - start).days + 1):
        day = start + timedelta(days=since)
        offset = first_offset + since
        share = severity_share(trajectory, offset)
        self_harm = day in self_harm_dates
        if self_harm or rng.random() < adherence:
            at = datetime.combine(day, time(19, randint(0, 59)), zone)
            mood = round(max(0, min(10, 9.5 - 7.5 * share + gauss(0, 0.9))))
            anxiety = round(max(0, min(10, 1 + 6.5 * share + gauss(0, 1.0))))
            checkins.append(
                {
                    "local_date": day,
                    "mood": mood,
                    "anxiety": anxiety,
                    "energy": round(max(0, min(10, mood + gauss(0, 1.2)))),
                    "sleep_hours": _hours(
                        round(max(3, min(10, 7.5 - share + gauss(0, 0.8))) * 2) / 2
                    ),
                    "sleep_quality": max(0, min(4, round(3.5 - 2 * share + gauss(0, 0.6)))),
                    "side_effects": ["dissociation", "nausea"] if offset in (0, 3, 7, 10) else [],
                    "has_self_harm_thoughts": self_harm,
                    "note": "",
                    "submitted_at": at,
                    "updated_at": at,
                }
            )
            if self_harm:
                self_harm_days.append(day)
        for code in instruments:
            if since % every[code] == 0 or (self_harm and code == "phq9"):
                total = round(baselines[code] * share + gauss(0, 1))
                total = max(0, min(INSTRUMENTS[code].max_total, total))
                answers = answers_for_total(code, total, rng)
                if self_harm and code == "phq9":
                    answers["9"] = 1
                at = datetime.combine(day, time(18, randint(0, 59)), zone)
                assessments.append({"instrument": code, "answers": answers, "completed_at": at})
    return DemoHistory(checkins, assessments, self_harm_days)


@dataclass(frozen=True)
class SafetyCause:
    """A check-in or questionnaire that calls for an urgent safety alert."""

    key: date | uuid.UUID  # the check-in's day, or the questionnaire's public id
    at: datetime
    reason: str


def demo_checkin_causes(checkins: list[dict]) -> list[SafetyCause]:
    """The generated check-ins that call for a safety alert (as `checkin_safety_reason`)."""
    causes = []
    for row in checkins:
        if row["has_self_harm_thoughts"]:  # the only ones that can
            day = row["local_date"]
            reason = checkin_safety_reason(
                has_self_harm_thoughts=True, day_label=day_month_year(day)
            )
            if reason:
                causes.append(SafetyCause(day, row["submitted_at"], reason))
    return causes


def demo_assessment_rows(
    assessments: list[dict], *, pcl5_cutoff: int
) -> tuple[list[dict], list[SafetyCause]]:
    """The generated questionnaires scored as the services store them (each with a fresh
    public id), and those that call for a safety alert."""
    rows, causes = [], []
    for row in assessments:
        instrument = INSTRUMENTS[row["instrument"]]
        answers = validate_answers(instrument, row["answers"])
        score = questionnaire_score(instrument, answers, pcl5_cutoff=pcl5_cutoff)
        public_id = uuid.uuid4()
        rows.append({
            "public_id": public_id,
            "instrument": instrument.code,
            "answers": row["answers"],
            "total": score.total,
            "band": score.band.code if score.band else "",  # as assessment_submit stores it
            "flags": list(score.flags),
            "completed_at": row["completed_at"],
        })  # fmt: skip
        reason = assessment_safety_reason(instrument, answers, score.flags)
        if reason:
            causes.append(SafetyCause(public_id, row["completed_at"], reason))
    return rows, causes


# Days between weighings: well inside a clinic's usual 90-day limit (care/domain/dosing.py).
WEIGH_EVERY_DAYS = 56
DEMO_MG_PER_KG = Decimal("0.50")


def demo_weights(*, consultation: date, today: date, tz: str, rng: random.Random) -> list[dict]:
    """Weights from the consultation on, every WEIGH_EVERY_DAYS up to today, drifting a
    little; typed in kg or (half of the patients) in pounds, kept in kg as the service does."""
    zone = ZoneInfo(tz)
    in_pounds = rng.random() < 0.5
    kg = Decimal(rng.randint(550, 1100)) / 10
    rows = []
    day = consultation
    while day <= today:
        entered = lb_from_kg(kg) if in_pounds else kg
        rows.append({
            "weight_kg": kg_from_lb(entered) if in_pounds else entered,
            "entered_value": entered,
            "entered_unit": "lb" if in_pounds else "kg",
            "measured_on": day,
            "created_at": datetime.combine(day, time(9, 30), zone),
        })  # fmt: skip
        kg = max(Decimal("40"), kg + Decimal(rng.randint(-15, 15)) / 10)
        day += timedelta(days=WEIGH_EVERY_DAYS)
    return rows


def demo_sessions(
    *,
    route: str,
    first_session: date,
    today: date,
    tz: str,
    rng: random.Random | None = None,
    weights: Sequence[dict] = (),
) -> list[dict]:
    """A treatment timeline: an induction series, then maintenance, one session ahead.

    IV: six infusions, Monday / Wednesday / Friday, then a booster every 4 weeks, at
    0.50 mg/kg (and, given `weights`, in mg from the latest weight measured by the day).
    Intranasal esketamine: twice weekly for 4 weeks, then weekly. Past sessions are
    completed, the first one from today on is scheduled.
    """
    zone = ZoneInfo(tz)
    induction = [first_session + timedelta(days=d) for d in SERIES_OFFSETS[route]]
    interval = 7 if route == "intranasal" else 28
    days = list(induction)
    while days[-1] < today:
        days.append(days[-1] + timedelta(days=interval))
    rng = rng or random.Random(0)
    weighed_on = [w["measured_on"] for w in weights]  # in order, as demo_weights gives them
    sessions = []
    for day in days:
        start = datetime.combine(day, time(10, 0), zone)
        row: dict[str, object] = {
            "scheduled_at": start,
            "status": "completed" if day < today else "scheduled",
            "route": route,
            "dose_mg": Decimal("56") if route == "intranasal" else None,
            "dose_mg_per_kg": None if route == "intranasal" else DEMO_MG_PER_KG,
        }
        weighed = bisect_right(weighed_on, day)  # the weights measured by the day
        if route != "intranasal" and weighed:
            row["dose_mg"] = proposed_dose_mg(
                mg_per_kg=DEMO_MG_PER_KG, weight_kg=weights[weighed - 1]["weight_kg"]
            )
        if day < today:
            systolic, diastolic = rng.randint(112, 136), rng.randint(70, 86)
            row |= {
                "monitoring_started_at": start,
                "monitoring_ended_at": start
                + timedelta(minutes=130 if route == "intranasal" else 100),
                "bp_pre_systolic": systolic,
                "bp_pre_diastolic": diastolic,
                "hr_pre": rng.randint(62, 84),
                "bp_40_systolic": systolic + rng.randint(6, 20),
                "bp_40_diastolic": diastolic + rng.randint(3, 12),
                "hr_40": rng.randint(70, 95),
                "bp_discharge_systolic": systolic + rng.randint(-2, 6),
                "bp_discharge_diastolic": diastolic + rng.randint(-2, 4),
                "hr_discharge": rng.randint(62, 84),
                "dissociation": rng.choice(["mild", "mild", "moderate", "none"]),
                "sedation": rng.choice(["none", "mild"]),
                # The last few days' forms are still to be sent, as in any busy clinic.
                "rems_submitted_on": (
                    day + timedelta(days=2)
                    if route == "intranasal" and day < today - timedelta(days=10)
                    else None
                ),
            }
        sessions.append(row)
    return sessions


# The demo clinic's chairs: its opening hours (Mon-Fri 08:30-17:30 in its zone), its chair
# time (120 minutes) and its chairs, filled one session at a time without a conflict.
DEMO_CHAIRS = 4
DEMO_SLOTS = (time(10, 30), time(8, 30), time(12, 30), time(14, 30))  # 10:30 first
DEMO_SEARCH_DAYS = 60


class ChairPlanner:
    """Puts the demo sessions into the clinic's chairs: each at a start of DEMO_SLOTS on an
    open weekday, in a free chair, at most one a day per patient, on the session's own day
    or the nearest day (past sessions stay before `today`, booked ones from it on). The
    sessions care.domain.booking would refuse are never made: one that finds no place
    within DEMO_SEARCH_DAYS is booked without a chair, with the reason saying so."""

    def __init__(self, *, tz: str, today: date, chairs: int = DEMO_CHAIRS) -> None:
        self.zone = ZoneInfo(tz)
        self.today = today
        self.chairs = chairs
        self.taken: dict[tuple[date, time], int] = {}

    def _days(self, wanted: date, past: bool):
        for step in range(DEMO_SEARCH_DAYS):
            for day in (wanted + timedelta(days=step), wanted - timedelta(days=step)):
                if day.weekday() < 5 and (day < self.today) == past:
                    yield day
                if not step:
                    break

    def place(self, rows: list[dict]) -> list[dict]:
        """One patient's session rows, moved into free chairs (their monitoring times with
        them); in the clinic's zone."""
        used: set[date] = set()
        placed = []
        for row in rows:
            start = row["scheduled_at"].astimezone(self.zone)
            past = row["status"] == "completed"
            for day in self._days(start.date(), past):
                if day in used:
                    continue
                slot = next(
                    (s for s in DEMO_SLOTS if self.taken.get((day, s), 0) < self.chairs), None
                )
                if slot is not None:
                    break
            else:
                placed.append(row | {"chair": None, "override_reason": "Demo: no chair free"})
                continue
            chair = self.taken.get((day, slot), 0) + 1
            self.taken[(day, slot)] = chair
            used.add(day)
            new = datetime.combine(day, slot, self.zone)
            shift = new - row["scheduled_at"]
            moved = row | {"scheduled_at": new, "chair": chair, "override_reason": ""}
            for name in ("monitoring_started_at", "monitoring_ended_at"):
                if row.get(name) is not None:
                    moved[name] = row[name] + shift
            placed.append(moved)
        return placed
