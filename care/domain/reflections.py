"""The patient's reflection after a held session: when it may be written, and its text.
Pure functions; the instant is passed in.

A held session (recorded as completed) may have one reflection, written by the patient from
the session's start until REFLECTION_DAYS days after it; the reminder e-mail asking for it
goes 24-72 hours after the session (notifications.schedule.integration_prompt_due). Each of
the three boxes takes up to REFLECTION_MAX_CHARS characters; at least one must say something.
"""

from datetime import datetime, timedelta

REFLECTION_DAYS = 14
REFLECTION_MAX_CHARS = 2000
REFLECTION_FIELDS = ("what_came_up", "feeling", "for_team")

EMPTY = "Write something in at least one of the boxes."
TOO_LONG = "Keep each answer to {limit} characters or fewer."


def reflection_open(*, held: bool, session_at: datetime, now: datetime) -> bool:
    """Whether a reflection on a session starting at `session_at` may be written at `now`:
    only of a held session, from its start until REFLECTION_DAYS days after it."""
    return held and session_at <= now <= session_at + timedelta(days=REFLECTION_DAYS)


def reflection_problems(values: dict[str, str]) -> dict[str, str]:
    """Why the reflection's `values` (by field name, stripped) are refused, by field name
    (`__all__` for none written); empty if they are accepted."""
    problems = {
        name: TOO_LONG.format(limit=REFLECTION_MAX_CHARS)
        for name in REFLECTION_FIELDS
        if len(values.get(name, "")) > REFLECTION_MAX_CHARS
    }
    if not any(values.get(name, "").strip() for name in REFLECTION_FIELDS):
        problems["__all__"] = EMPTY
    return problems
