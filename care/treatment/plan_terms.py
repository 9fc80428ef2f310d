"""A treatment plan in the patient's terms: what the plan is, without the care team's reasons
for a change, the alert it answered, or a dose. The patient's API (`me/plan/`) and their
download (care/exports/tables.py) show it in these words."""

from datetime import datetime

from care.models import Assessment, TreatmentPlanVersion


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def induction_text(version: TreatmentPlanVersion) -> str:
    """Like "6 sessions over 3 weeks"."""
    sessions = _count(version.induction_sessions, "session", "sessions")
    return f"{sessions} over {_count(version.induction_weeks, 'week', 'weeks')}"


def maintenance_text(version: TreatmentPlanVersion) -> str:
    """Like "A session every 4 weeks", or the words for "as needed by signal"."""
    if version.maintenance == TreatmentPlanVersion.Maintenance.EVERY_N_WEEKS:
        weeks = version.maintenance_every_weeks or 0
        return "A session every week" if weeks == 1 else f"A session every {weeks} weeks"
    return (
        "Another session when your check-ins and questionnaires suggest one, "
        "agreed with your care team"
    )


def questionnaires_text(version: TreatmentPlanVersion) -> str:
    """Like "PHQ-9 and GAD-7 every 14 days" (empty without questionnaires)."""
    labels = dict(Assessment.Instrument.choices)
    names = [str(labels.get(code, code)) for code in version.questionnaires]
    if not names:
        return ""
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    every = version.questionnaire_every_days
    return f"{joined} every {_count(every, 'day', 'days')}"


def plan_terms(version: TreatmentPlanVersion) -> dict[str, object]:
    """The plan as it stands (`version`, the current one) for the patient: no reason, no
    alert, no dose. Needs `version.prescriber` (loaded with it by `patient_plan_versions`)."""
    since: datetime = version.created_at
    return {
        "version": version.number,
        "since": since,
        "route": version.route,
        "route_label": str(version.get_route_display()),
        "induction_sessions": version.induction_sessions,
        "induction_weeks": version.induction_weeks,
        "induction": induction_text(version),
        "maintenance": version.maintenance,
        "maintenance_every_weeks": version.maintenance_every_weeks,
        "maintenance_text": maintenance_text(version),
        "questionnaires": list(version.questionnaires),
        "questionnaire_every_days": version.questionnaire_every_days,
        "questionnaires_text": questionnaires_text(version),
        "goals": version.goals,
        "prescriber": version.prescriber.full_name or str(version.prescriber),
    }
