"""Induction series: the usual first sessions, as offsets from the first one. Pure."""

from datetime import datetime, timedelta

# IV ketamine: six infusions over 12 days (Monday / Wednesday / Friday when started on a
# Monday).
# Intranasal esketamine: twice weekly for four weeks.
SERIES_OFFSETS = {
    "iv": (0, 2, 4, 7, 9, 11),
    "intranasal": (0, 3, 7, 10, 14, 17, 21, 24),
}


def induction_times(first: datetime, route: str) -> list[datetime]:
    """The induction sessions starting at `first` (an aware local time; wall time kept)."""
    offsets = SERIES_OFFSETS.get(route, (0,))
    return [first + timedelta(days=days) for days in offsets]
