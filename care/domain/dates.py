"""Dates and times as the pages, alert reasons and messages write them.

One convention, the clinic's locale (US English, as the browser's date inputs show them):
the month first, "Dec 6, 2026". Times are 24-hour ("19:00").
"""

from datetime import date, datetime


def day_month(day: date) -> str:
    """'Nov 7'."""
    return f"{day:%b} {day.day}"


def day_month_year(day: date) -> str:
    """'Dec 6, 2026'."""
    return f"{day:%b} {day.day}, {day.year}"


def weekday_moment(at: datetime) -> str:
    """'Thu, Nov 27, 09:30' in `at`'s own time zone (convert it first)."""
    return f"{at:%a}, {at:%b} {at.day}, {at:%H:%M}"
