"""Template filters for dates that arrive as text (e.g. chart series)."""

from datetime import datetime

from django import template

register = template.Library()


@register.filter
def wall_time(value: str) -> datetime | None:
    """An ISO 8601 wall-clock time without offset ('2026-11-26T19:35:00') as a naive
    datetime, for the `date` filter; None when it is not one."""
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
