"""Template filters for dates that arrive as text (e.g. chart series)."""

from datetime import datetime, timedelta

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


@register.filter
def hours_minutes(value: timedelta | None) -> str:
    """A duration as people write it: '2 h 10 min', '2 h', '45 min' (whole minutes, rounded
    down: 1 h 59 min 40 s is still under two hours)."""
    if value is None:
        return ""
    hours, minutes = divmod(int(value.total_seconds()) // 60, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
