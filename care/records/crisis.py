"""The crisis resources a patient is shown: their clinic's lines and hours, then the clinic's
country's crisis lines (care/domain/crisis.py; docs/clinical.md §6).

Built from the clinic's record at the moment asked (whether the clinic is open now decides
which of its numbers comes first). Read by the crisis page and bar, the result pages, the API's
`safety` block and the check-in page reached from a reminder.
"""

from datetime import datetime

from care.common.phones import phone_display, phone_href
from care.domain.clinic_hours import (
    CLOSED_WEEK,
    HoursInvalid,
    has_hours,
    open_state,
    week_summary,
)
from care.domain.crisis import COUNTRIES, DEFAULT_COUNTRY, ClinicContact, Crisis
from care.models import Clinic


def _dialled(value: object, country: str) -> tuple[str, str]:
    """A number as dialled and its tel: link; nothing for a number that cannot be dialled."""
    href = phone_href(value)
    return (phone_display(value, country), href) if href else ("", "")


def clinic_contact(clinic: Clinic, *, now: datetime) -> ClinicContact:
    """The clinic's numbers as its patients dial them, its hours and whether it is open.

    Never fails on a stored value the forms would refuse (written some other way): the
    crisis page must always show; such hours count as not given, such a number as none.
    """
    try:
        week = clinic.week
    except (HoursInvalid, TypeError, ValueError):
        week = CLOSED_WEEK
    state = open_state(week, now, clinic.tz) if has_hours(week) else None
    phone, phone_link = _dialled(clinic.phone, clinic.country)
    after_hours, after_hours_link = _dialled(clinic.after_hours_phone, clinic.country)
    return ClinicContact(
        name=clinic.name,
        phone=phone,
        phone_href=phone_link,
        after_hours=after_hours,
        after_hours_href=after_hours_link,
        hours=tuple(week_summary(week)) if state is not None else (),
        time_zone=clinic.tz,
        open_now=state.is_open if state is not None else None,
        state=state.words(clinic.tz, now=now) if state is not None else "",
    )


def crisis_for_clinic(clinic: Clinic, *, now: datetime) -> Crisis:
    """What the clinic's patients are shown."""
    return Crisis(
        country=COUNTRIES.get(clinic.country, COUNTRIES[DEFAULT_COUNTRY]),
        clinic=clinic_contact(clinic, now=now),
    )


def crisis_without_clinic(country: str | None = None) -> Crisis:
    """For someone whose clinic is not known: a country's numbers (the default country's
    unless one is asked for), marked as a fallback so that the page says whose they are."""
    return Crisis(
        country=COUNTRIES.get(country or DEFAULT_COUNTRY, COUNTRIES[DEFAULT_COUNTRY]),
        fallback=True,
    )
