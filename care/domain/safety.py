"""Safety rules: when an answer means the care team must be alerted at once. Pure."""

from care.domain.instruments import Instrument
from care.domain.scoring import SELF_HARM_FLAG


def assessment_safety_reason(
    instrument: Instrument, answers: dict[int, int], flags: tuple[str, ...]
) -> str | None:
    """Why a questionnaire needs an urgent safety alert, in plain words, or None."""
    if SELF_HARM_FLAG not in flags:
        return None
    parts = []
    for number in instrument.self_harm_items:
        value = answers.get(number, 0)
        if value >= 1:
            parts.append(
                f"{instrument.name} item {number} answered “{instrument.option_label(value)}” "
                f"({instrument.item(number).text.lower()})."
            )
    return " ".join(parts) + " Urgent: contact the patient; the total alone does not rule out risk."


def checkin_safety_reason(*, has_self_harm_thoughts: bool, day_label: str) -> str | None:
    """Why a daily check-in needs an urgent safety alert, in plain words, or None."""
    if not has_self_harm_thoughts:
        return None
    return f"Answered “yes” to thoughts of harming themself in the daily check-in of {day_label}."
