"""What a patient reads of their treatment plan and coming sessions, in plain words, and the
readiness check before a session: when it is open and which answers make it "not ready".

Pure functions; the instant is passed in. docs/clinical.md, "What the patient sees of the plan"
and "Readiness check".
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from care.domain.instruments import INSTRUMENTS

# A route as the patient reads it: (one session, several sessions).
ROUTE_WORDS = {
    "iv": ("IV infusion", "IV infusions"),
    "im": ("injection into a muscle", "injections into a muscle"),
    "intranasal": ("esketamine nasal spray session", "esketamine nasal spray sessions"),
}

# The readiness check opens this long before the session starts and closes at its start:
# answers about a ride, fasting and how one feels are worth something the day before, not
# weeks ahead. The "session tomorrow" reminder (made up to two days ahead, due the evening
# before) always falls inside it.
READINESS_OPENS_BEFORE = timedelta(days=2)

# What each "not ready" answer means, in words for the care team's alert (never the
# patient's own words about their medicines).
NOT_READY_WORDS = {
    "ride_arranged": "no ride home arranged",
    "fasting_understood": "unsure about eating and drinking before",
    "feeling_well": "not feeling well",
    "new_medicines": "a new or changed medicine",
}


def route_words(route: str, count: int = 1) -> str:
    """'IV infusion' (count 1) or 'IV infusions'; an unknown route as it is."""
    one, many = ROUTE_WORDS.get(route, (route, route))
    return one if count == 1 else many


def _every(n: int, unit: str) -> str:
    return f"every {unit}" if n == 1 else f"every {n} {unit}s"


def every_days_words(days: int) -> str:
    """'every day', 'every week', 'every 2 weeks' (whole weeks), else 'every 10 days'."""
    if days % 7 == 0:
        return _every(days // 7, "week")
    return _every(days, "day")


def plan_in_words(
    *,
    route: str,
    induction_sessions: int,
    induction_weeks: int,
    maintenance: str,
    maintenance_every_weeks: int | None,
) -> str:
    """'6 IV infusions over 3 weeks, then one every 4 weeks'; `maintenance` is
    "every_n_weeks" or "as_needed"."""
    weeks = "1 week" if induction_weeks == 1 else f"{induction_weeks} weeks"
    start = f"{induction_sessions} {route_words(route, induction_sessions)} over {weeks}"
    if maintenance == "every_n_weeks" and maintenance_every_weeks:
        return f"{start}, then one {_every(maintenance_every_weeks, 'week')}"
    return f"{start}, then more only when your check-ins and questionnaires show you need one"


def questionnaires_in_words(codes: Sequence[str], every_days: int) -> str:
    """'PHQ-9 and GAD-7 every 2 weeks'; without known codes, "" (none in the plan)."""
    names = [INSTRUMENTS[code].name for code in codes if code in INSTRUMENTS]
    if not names:
        return ""
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{listed} {every_days_words(every_days)}"


def readiness_window(*, scheduled_at: datetime, now: datetime) -> str:
    """Whether a session's readiness check can be answered at `now`: "not_yet" (more than
    READINESS_OPENS_BEFORE ahead), "open", or "closed" (the session has started)."""
    if now >= scheduled_at:
        return "closed"
    if now < scheduled_at - READINESS_OPENS_BEFORE:
        return "not_yet"
    return "open"


def readiness_opens_at(scheduled_at: datetime) -> datetime:
    """The instant a session's readiness check opens."""
    return scheduled_at - READINESS_OPENS_BEFORE


def not_ready_reasons(
    *, ride_arranged: bool, fasting_understood: bool, feeling_well: bool, new_medicines: bool
) -> list[str]:
    """The answers that make a readiness check "not ready", in words (empty: ready)."""
    answers = {
        "ride_arranged": not ride_arranged,
        "fasting_understood": not fasting_understood,
        "feeling_well": not feeling_well,
        "new_medicines": new_medicines,
    }
    return [NOT_READY_WORDS[name] for name, flagged in answers.items() if flagged]
