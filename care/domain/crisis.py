"""Crisis resources shown to patients (docs/clinical.md §6), as data."""

from typing import Any

NOT_WATCHED = (
    "Your care team has been alerted, but answers in this app are not watched around the "
    "clock. Please do not wait for us to call you: if you need help now, call or text 988, "
    "or call 911 in an emergency."
)

CRISIS_RESOURCES = (
    {"label": "Call 988 (Suicide & Crisis Lifeline, 24/7)", "href": "tel:988"},
    {"label": "Text 988", "href": "sms:988"},
    {"label": "Chat at 988lifeline.org", "href": "https://988lifeline.org/chat/"},
    {"label": "Text HOME to 741741 (Crisis Text Line)", "href": "sms:741741?&body=HOME"},
    {"label": "Call 911 in an emergency", "href": "tel:911"},
)


def crisis_block(*, alert_raised: bool) -> dict[str, Any]:
    """What an API response carries when answers call for crisis resources."""
    return {
        "alert_raised": alert_raised,
        "message": NOT_WATCHED,
        "resources": [dict(resource) for resource in CRISIS_RESOURCES],
    }
