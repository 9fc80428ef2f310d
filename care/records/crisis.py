"""The crisis resources a patient is shown: their clinic's lines and hours, then the clinic's
country's crisis lines (care/domain/crisis.py; docs/clinical.md §6).

Built from the clinic's record at the moment asked (whether the clinic is open now decides
which of its numbers comes first). Read by the crisis page and bar, the result pages, the API's
`safety` block and the check-in page reached from a reminder.
"""

from datetime import datetime

from care.common.phones import phone_display, phone_href
from care.domain.clinic_hours import has_hours, open_state, week_summary
from care.domain.crisis import COUNTRIES, DEFAULT_COUNTRY, ClinicContact, Crisis
from care.models import Clinic


def clinic_contact(clinic: Clinic, *, now: datetime) -> ClinicContact:
    """The clinic's numbers as its patients dial them, its hours and whether it is open."""
    week = clinic.week
    state = open_state(week, now, clinic.tz) if has_hours(week) else None
    return ClinicContact(
        name=clinic.name,
        phone=phone_display(clinic.phone, clinic.country),
        phone_href=phone_href(clinic.phone),
        after_hours=phone_display(clinic.after_hours_phone, clinic.country),
        after_hours_href=phone_href(clinic.after_hours_phone),
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
