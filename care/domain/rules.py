"""Clinical rules: baseline, response, remission and alert rules.

Pure functions over plain values with time passed in; no Django imports. Each alert rule
returns `AlertDraft`s (kind, priority, cause, reason in plain words) or nothing; the
`cause` lets the caller keep one open alert per patient, kind and cause.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from care.domain.instruments import INSTRUMENTS

TOP_BAND_FLOOR = {"phq9": 20, "gad7": 15}
REMISSION_BELOW = {"phq9": 5, "gad7": 5}
BOOSTER_MOOD_DROP = 2.0


@dataclass(frozen=True)
class ScorePoint:
    at: datetime
    total: int


@dataclass(frozen=True)
class AlertDraft:
    kind: str
    priority: str
    cause: str
    reason: str


def baseline(
    points: Sequence[ScorePoint], *, first_session_at: datetime | None
) -> ScorePoint | None:
    """The first score at or before the first treatment (the first held session); before
    any treatment, the first score."""
    ordered = sorted(points, key=lambda p: p.at)
    if not ordered:
        return None
    if first_session_at is None:
        return ordered[0]
    return ordered[0] if ordered[0].at <= first_session_at else None


def is_response(baseline_total: int | None, latest_total: int | None) -> bool:
    """At least 50% below a baseline above zero."""
    if baseline_total is None or latest_total is None or baseline_total <= 0:
        return False
    return latest_total <= baseline_total / 2


def is_remission(code: str, latest_total: int | None) -> bool:
    """PHQ-9 < 5 (GAD-7 < 5 by the same convention); PCL-5 has no remission rule."""
    limit = REMISSION_BELOW.get(code)
    return limit is not None and latest_total is not None and latest_total < limit


@dataclass(frozen=True)
class ScoreOutcome:
    response: bool = False
    remission: bool = False


def score_outcome(
    code: str,
    base: ScorePoint | None,
    point: ScorePoint,
    *,
    first_treatment_at: datetime | None,
) -> ScoreOutcome:
    """Response and remission of one score: only a score after the first treatment (the
    first held session), against a baseline; before any treatment, neither."""
    if base is None or first_treatment_at is None or point.at <= first_treatment_at:
        return ScoreOutcome()
    return ScoreOutcome(
        response=is_response(base.total, point.total),
        remission=is_remission(code, point.total),
    )


def worsening_alerts(
    code: str,
    earlier: Sequence[ScorePoint],
    new: ScorePoint,
    *,
    first_session_at: datetime | None,
    induction_ends_at: datetime | None = None,
) -> list[AlertDraft]:
    """At most one high alert for a new score: a clinically important rise, entering the top
    band, or both (one fact, one alert, its reason naming each).

    The rise is measured against the previous score and against the best (lowest) score
    since the first treatment; the reason names whichever comparison fired. After induction
    (`induction_ends_at`), a PHQ-9 rise is also what "booster may be due" looks for, so the
    reason says so and no second alert is raised for it. A first score, even a severe
    one, raises nothing here: it is the baseline the care team enrolled the patient with
    (thoughts of self-harm are the safety rule's job).
    """
    instrument = INSTRUMENTS[code]
    ordered = sorted((p for p in earlier if p.at < new.at), key=lambda p: p.at)
    if not ordered:
        return []
    previous = ordered[-1]
    since = [p for p in ordered if first_session_at and p.at >= first_session_at]
    best = min(since, key=lambda p: p.total) if since else None
    step = instrument.important_change
    reasons, cause = [], ""
    if new.total - previous.total >= step:
        cause = f"{code}:rise:{new.at:%Y%m%d%H%M}"
        reasons.append(
            f"{instrument.name} rose from {previous.total} to {new.total} since the previous "
            f"questionnaire (+{new.total - previous.total}; {step} points is clinically "
            "important)."
        )
    elif best is not None and new.total - best.total >= step:
        cause = f"{code}:rise:{new.at:%Y%m%d%H%M}"
        reasons.append(
            f"{instrument.name} is {new.total}, up {new.total - best.total} from its best "
            f"({best.total}) since treatment began ({step} points is clinically important)."
        )
    # "Booster may be due" watches PHQ-9 only.
    if cause and code == "phq9" and induction_ends_at is not None and new.at >= induction_ends_at:
        reasons.append("After induction: a booster may be due.")
    floor = TOP_BAND_FLOOR.get(code)
    if floor is not None and new.total >= floor > previous.total:
        cause = cause or f"{code}:top_band:{new.at:%Y%m%d%H%M}"
        reasons.append(
            f"{instrument.name} entered its most severe band: {new.total} "
            f"(was {previous.total}; severe from {floor})."
        )
    return [AlertDraft("worsening", "high", cause, " ".join(reasons))] if cause else []


def blood_pressure_alert(
    systolic: int | None, diastolic: int | None, *, hold_systolic: int, hold_diastolic: int
) -> AlertDraft | None:
    """A high alert when the pre-dose blood pressure is above the clinic's hold threshold."""
    if systolic is None or diastolic is None:
        return None
    if systolic > hold_systolic or diastolic > hold_diastolic:
        return AlertDraft(
            "high_bp",
            "high",
            "bp",
            f"Pre-dose blood pressure {systolic}/{diastolic} mmHg is above the clinic's hold "
            f"threshold of {hold_systolic}/{hold_diastolic}.",
        )
    return None


def missed_checkins_alert(
    *, last_checkin_on: date | None, counting_from: date, today: date, days: int
) -> AlertDraft | None:
    """A routine alert after `days` whole local days without a check-in.

    Days are counted after the last check-in (or after `counting_from`, e.g. activation,
    when there is none) and before today, which may still bring one.
    """
    since = last_checkin_on or counting_from
    missed = (today - since).days - (1 if last_checkin_on else 0)
    if missed < days:
        return None
    what = (
        f"since {last_checkin_on:%b} {last_checkin_on.day}"
        if last_checkin_on
        else "since the account started"
    )
    return AlertDraft(
        "missed_checkins",
        "routine",
        # One alert per silence: after it is acknowledged, only a new gap raises another.
        f"missed_checkins:{since:%Y%m%d}",
        f"No check-in for {missed} days ({what}); the clinic's limit is {days}.",
    )


def booster_alerts(
    *,
    phq9_since_first_session: Sequence[ScorePoint],
    induction_ends_at: datetime,
    mood_averages: Sequence[tuple[date, float]],
) -> list[AlertDraft]:
    """Routine "booster may be due" signals after induction.

    PHQ-9 scored after induction back up by its clinically important change from its lowest
    point since the first session (induction included), or the 7-day mood average 2 points
    below its best since induction ended. The cause names the reference point, so one
    acknowledged signal is not raised again until the data move on.
    """
    drafts = []
    scores = sorted(phq9_since_first_session, key=lambda p: p.at)
    if len(scores) >= 2 and scores[-1].at >= induction_ends_at:
        lowest = min(scores[:-1], key=lambda p: p.total)
        latest = scores[-1]
        step = INSTRUMENTS["phq9"].important_change
        if latest.total - lowest.total >= step:
            drafts.append(
                AlertDraft(
                    "booster_due",
                    "routine",
                    f"booster:phq9:{latest.at:%Y%m%d%H%M}",
                    f"PHQ-9 is {latest.total}, up {latest.total - lowest.total} from its lowest "
                    f"({lowest.total}) since treatment began: a booster may be due.",
                )
            )
    if len(mood_averages) >= 2:
        ordered = sorted(mood_averages)
        best_day, best = max(ordered[:-1], key=lambda p: p[1])
        latest_average = ordered[-1][1]
        drop = round(best - latest_average, 6)  # averages of sevenths: compare without float noise
        if drop >= BOOSTER_MOOD_DROP:
            drafts.append(
                AlertDraft(
                    "booster_due",
                    "routine",
                    f"booster:mood:{best_day:%Y%m%d}",
                    f"7-day mood average is {latest_average:.1f}, down {drop:.1f} from its best "
                    f"({best:.1f} on {best_day:%b} {best_day.day}) since induction: "
                    "a booster may be due.",
                )
            )
    return drafts


def mood_direction(averages: Sequence[float], *, threshold: float = 0.5) -> str:
    """'up', 'down' or 'flat': the last 7-day average against the one a week earlier."""
    if len(averages) < 2:
        return "flat"
    change = round(averages[-1] - averages[0], 6)
    if change >= threshold:
        return "up"
    if change <= -threshold:
        return "down"
    return "flat"
