"""What the patient is shown of their plan and coming sessions (home and "My plan"): plain
words, and nothing only the care team sees (no doses, no reasons of plan versions)."""

from dataclasses import dataclass
from datetime import datetime

from care.domain.patient_plan import (
    plan_in_words,
    questionnaires_in_words,
    readiness_opens_at,
    readiness_window,
    route_words,
)
from care.models import (
    SessionMoveRequest,
    SessionReadiness,
    TreatmentPlanVersion,
    TreatmentSession,
)


@dataclass(frozen=True)
class PlanForPatient:
    summary: str  # "6 IV infusions over 3 weeks, then one every 4 weeks"
    questionnaires: str  # "PHQ-9 and GAD-7 every 2 weeks"
    goals: str  # the patient's own words
    prescriber: str


def plan_for_patient(version: TreatmentPlanVersion | None) -> PlanForPatient | None:
    """The current plan as the patient reads it, or None without a plan."""
    if version is None:
        return None
    return PlanForPatient(
        summary=plan_in_words(
            route=version.route,
            induction_sessions=version.induction_sessions,
            induction_weeks=version.induction_weeks,
            maintenance=version.maintenance,
            maintenance_every_weeks=version.maintenance_every_weeks,
        ),
        questionnaires=questionnaires_in_words(
            version.questionnaires, version.questionnaire_every_days
        ),
        goals=version.goals,
        prescriber=version.prescriber.get_full_name() or "your care team",
    )


@dataclass(frozen=True)
class UpcomingSession:
    session: TreatmentSession
    route: str  # in plain words: "IV infusion"
    readiness: SessionReadiness | None
    # "answered", "open" (can be answered now) or "not_yet" (opens at `readiness_opens_at`).
    readiness_state: str
    readiness_opens_at: datetime
    # The newest request to move it, and whether another may be made (none pending).
    move_request: SessionMoveRequest | None
    can_ask_to_move: bool


def upcoming_for_patient(sessions, *, now: datetime) -> list[UpcomingSession]:
    """`sessions` from `patient_upcoming_sessions` (readiness and move requests loaded)."""
    upcoming = []
    for session in sessions:
        try:
            readiness = session.readiness
        except SessionReadiness.DoesNotExist:
            readiness = None
        requests = list(session.move_requests.all())  # newest first (the model's order)
        latest = requests[0] if requests else None
        if readiness is not None:
            state = "answered"
        else:
            state = readiness_window(scheduled_at=session.scheduled_at, now=now)
        upcoming.append(
            UpcomingSession(
                session=session,
                route=route_words(session.route),
                readiness=readiness,
                readiness_state=state,
                readiness_opens_at=readiness_opens_at(session.scheduled_at),
                move_request=latest,
                can_ask_to_move=not any(
                    r.status == SessionMoveRequest.Status.PENDING for r in requests
                ),
            )
        )
    return upcoming
