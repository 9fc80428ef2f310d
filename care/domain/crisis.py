"""Crisis resources shown to patients (docs/clinical.md §6), as data, by country.

Each country the tracker supports has its emergency number and its national crisis lines,
each with the page it was checked against and when (re-checked every year: §6). A clinic
chooses its country (`COUNTRY_CHOICES`); its patients see that country's numbers, with the
clinic's own phone and hours first (`ClinicContact`, built by the caller from the clinic's
record: this module formats no phone numbers and reads no database).
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

# The day the numbers and their source pages below were last checked (docs/clinical.md §6).
CHECKED = date(2026, 12, 7)
DEFAULT_COUNTRY = "US"


@dataclass(frozen=True)
class Resource:
    """One way to get help: what to do (`label`) and the link that does it."""

    label: str
    href: str  # tel:, sms: or https:
    source: str = ""  # the page the number was checked against ("" for the clinic's own)
    checked: date | None = CHECKED
    # Main lines are the crisis box's buttons; the others are listed under them.
    main: bool = True
    kind: str = "national"  # or "clinic"


@dataclass(frozen=True)
class BarLink:
    """One number of the crisis bar on every patient page: "call or text" 988."""

    words: str
    number: str
    href: str


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    resources: tuple[Resource, ...]
    emergency: Resource
    emergency_number: str
    # How NOT_WATCHED says where to turn now: "call or text 988".
    helpline_words: str
    bar: tuple[BarLink, ...]
    about: str  # one line on the main helpline, shown in the crisis box

    @property
    def the_name(self) -> str:
        """The name as a sentence uses it: "the United States", "Canada"."""
        return f"the {self.name}" if self.name.startswith("United ") else self.name

    @property
    def not_watched(self) -> str:
        return (
            "Your care team has been alerted, but answers in this app are not watched around "
            "the clock. Please do not wait for us to call you: if you need help now, "
            f"{self.helpline_words}, or call {self.emergency_number} in an emergency."
        )

    @property
    def all_resources(self) -> tuple[Resource, ...]:
        """The crisis lines, then the emergency number."""
        return (*self.resources, self.emergency)


LIFELINE_988 = "https://988lifeline.org/"
NHS_URGENT = "https://www.nhs.uk/nhs-services/mental-health-services/where-to-get-urgent-help-for-mental-health/"

COUNTRIES: dict[str, Country] = {
    country.code: country
    for country in (
        Country(
            code="US",
            name="United States",
            resources=(
                Resource("Call 988 (Suicide & Crisis Lifeline, 24/7)", "tel:988", LIFELINE_988),
                Resource("Text 988", "sms:988", LIFELINE_988),
                Resource("Chat at 988lifeline.org", "https://988lifeline.org/chat/", LIFELINE_988),
                Resource(
                    "Text HOME to 741741 (Crisis Text Line)",
                    "sms:741741?&body=HOME",
                    "https://www.crisistextline.org/",
                ),
                Resource(
                    "Veterans: dial 988 then press 1, or text 838255",
                    "sms:838255",
                    "https://www.veteranscrisisline.net/",
                    main=False,
                ),
                Resource(
                    "En español: dial 988 then press 2, or text AYUDA to 988",
                    "sms:988?&body=AYUDA",
                    LIFELINE_988,
                    main=False,
                ),
                Resource(
                    "Deaf or hard of hearing: ASL videophone through 988lifeline.org",
                    LIFELINE_988,
                    LIFELINE_988,
                    main=False,
                ),
            ),
            emergency=Resource("Call 911 in an emergency", "tel:911", "https://www.911.gov/"),
            emergency_number="911",
            helpline_words="call or text 988",
            bar=(
                BarLink("call or text", "988", "tel:988"),
                BarLink("emergency", "911", "tel:911"),
            ),
            about="The 988 Suicide & Crisis Lifeline is free, confidential and open 24/7.",
        ),
        Country(
            code="CA",
            name="Canada",
            resources=(
                Resource(
                    "Call 9-8-8 (Suicide Crisis Helpline, 24/7)", "tel:988", "https://988.ca/"
                ),
                Resource("Text 9-8-8", "sms:988", "https://988.ca/"),
            ),
            emergency=Resource("Call 911 in an emergency", "tel:911", "https://988.ca/"),
            emergency_number="911",
            helpline_words="call or text 9-8-8",
            bar=(
                BarLink("call or text", "9-8-8", "tel:988"),
                BarLink("emergency", "911", "tel:911"),
            ),
            about="9-8-8: Suicide Crisis Helpline is free, in English and French, and open 24/7.",
        ),
        Country(
            code="GB",
            name="United Kingdom",
            resources=(
                Resource(
                    "Call Samaritans on 116 123 (free, 24/7)",
                    "tel:116123",
                    "https://www.samaritans.org/",
                ),
                Resource(
                    "Text SHOUT to 85258 (Shout, 24/7)",
                    "sms:85258?&body=SHOUT",
                    "https://giveusashout.org/",
                ),
                Resource(
                    "Call NHS 111 and choose the mental health option (option 2)",
                    "tel:111",
                    NHS_URGENT,
                ),
            ),
            emergency=Resource("Call 999 in an emergency", "tel:999", NHS_URGENT),
            emergency_number="999",
            helpline_words="call Samaritans on 116 123 or NHS 111 (the mental health option)",
            bar=(
                BarLink("Samaritans", "116 123", "tel:116123"),
                BarLink("NHS", "111", "tel:111"),
                BarLink("emergency", "999", "tel:999"),
            ),
            about="Samaritans answer 116 123 free, day or night; NHS 111's mental health option "
            "puts you through to your local NHS crisis team.",
        ),
        Country(
            code="IE",
            name="Ireland",
            resources=(
                Resource(
                    "Call Samaritans on 116 123 (free, 24/7)",
                    "tel:116123",
                    "https://www.samaritans.org/ireland/",
                ),
                Resource("Text 50808 (free, 24/7)", "sms:50808", "https://text50808.ie/"),
            ),
            emergency=Resource(
                "Call 112 or 999 in an emergency", "tel:112", "https://www2.hse.ie/mental-health/"
            ),
            emergency_number="112 or 999",
            helpline_words="call Samaritans on 116 123 or text 50808",
            bar=(
                BarLink("Samaritans", "116 123", "tel:116123"),
                BarLink("text", "50808", "sms:50808"),
                BarLink("emergency", "112", "tel:112"),
            ),
            about="Samaritans (116 123) and 50808 are free and open 24/7.",
        ),
        Country(
            code="AU",
            name="Australia",
            resources=(
                Resource(
                    "Call Lifeline on 13 11 14 (24/7)",
                    "tel:131114",
                    "https://www.lifeline.org.au/",
                ),
                Resource(
                    "Text Lifeline on 0477 13 11 14 (24/7)",
                    "sms:+61477131114",
                    "https://www.lifeline.org.au/",
                ),
                Resource(
                    "Call Beyond Blue on 1300 22 4636",
                    "tel:1300224636",
                    "https://www.beyondblue.org.au/",
                    main=False,
                ),
            ),
            emergency=Resource(
                "Call 000 in an emergency", "tel:000", "https://www.triplezero.gov.au/"
            ),
            emergency_number="000",
            helpline_words="call Lifeline on 13 11 14 or text 0477 13 11 14",
            bar=(
                BarLink("Lifeline", "13 11 14", "tel:131114"),
                BarLink("emergency", "000", "tel:000"),
            ),
            about="Lifeline's crisis supporters answer calls and texts 24/7.",
        ),
        Country(
            code="NZ",
            name="New Zealand",
            resources=(
                Resource("Call 1737 (free, 24/7)", "tel:1737", "https://1737.org.nz/"),
                Resource("Text 1737", "sms:1737", "https://1737.org.nz/"),
                Resource(
                    "Call Lifeline Aotearoa on 0800 543 354",
                    "tel:0800543354",
                    "https://www.lifeline.org.nz/",
                    main=False,
                ),
            ),
            emergency=Resource(
                "Call 111 in an emergency", "tel:111", "https://www.police.govt.nz/"
            ),
            emergency_number="111",
            helpline_words="call or text 1737",
            bar=(
                BarLink("call or text", "1737", "tel:1737"),
                BarLink("emergency", "111", "tel:111"),
            ),
            about="1737 (Need to talk?) is free to call or text, 24/7, with a trained counsellor.",
        ),
    )
}

COUNTRY_CHOICES = [(code, country.name) for code, country in COUNTRIES.items()]

# The default country's message.
NOT_WATCHED = COUNTRIES[DEFAULT_COUNTRY].not_watched


def country_resources(code: str | None) -> Country:
    """The country's resources; the default country's for an unknown or missing code."""
    return COUNTRIES.get(code or DEFAULT_COUNTRY) or COUNTRIES[DEFAULT_COUNTRY]


@dataclass(frozen=True)
class ClinicContact:
    """The clinic's own numbers and hours, as the patient reads them (formatted by the caller).

    `state` is "Open now, until 17:00" and the like (`clinic_hours.OpenState.words`), empty
    when the clinic has given no hours; `open_now` is None then.
    """

    name: str
    phone: str = ""
    phone_href: str = ""
    after_hours: str = ""
    after_hours_href: str = ""
    hours: tuple[tuple[str, str], ...] = ()  # ("Mon-Fri", "09:00-17:00"), en dashes
    time_zone: str = ""
    open_now: bool | None = None
    state: str = ""

    @property
    def first_call(self) -> BarLink | None:
        """The clinic's number to call first: its main line while open (or when its hours are
        not given), its after-hours line while closed (the main line if it has none)."""
        if self.open_now is False and self.after_hours:
            return BarLink(
                "your clinic's after-hours line", self.after_hours, self.after_hours_href
            )
        if self.phone:
            closed = " (closed now)" if self.open_now is False else ""
            return BarLink(f"your clinic{closed}", self.phone, self.phone_href)
        return None

    def resources(self) -> tuple[Resource, ...]:
        """The clinic's lines, the one to call now first."""
        main = after = None
        if self.phone:
            state = f" ({self.state})" if self.state else ""
            main = Resource(
                f"Call {self.name}: {self.phone}{state}",
                self.phone_href,
                checked=None,
                kind="clinic",
            )
        if self.after_hours:
            after = Resource(
                f"Call {self.name} after hours: {self.after_hours}",
                self.after_hours_href,
                checked=None,
                kind="clinic",
            )
        ordered = (after, main) if self.open_now is False else (main, after)
        return tuple(r for r in ordered if r is not None)


@dataclass(frozen=True)
class Crisis:
    """What a patient in crisis is shown: the clinic's lines (if known) first, then the
    country's. `fallback` is True when no clinic is known (someone not signed in): the
    default country's numbers are shown, with a note that they are that country's."""

    country: Country
    clinic: ClinicContact | None = None
    fallback: bool = False

    @property
    def resources(self) -> tuple[Resource, ...]:
        own = self.clinic.resources() if self.clinic else ()
        return (*own, *self.country.all_resources)

    @property
    def other_countries(self) -> list[Country]:
        return [c for c in COUNTRIES.values() if c.code != self.country.code]


def _clinic_data(clinic: ClinicContact) -> dict[str, Any]:
    return {
        "name": clinic.name,
        "phone": clinic.phone,
        "phone_href": clinic.phone_href,
        "after_hours_phone": clinic.after_hours,
        "after_hours_href": clinic.after_hours_href,
        "hours": [{"days": days, "times": times} for days, times in clinic.hours],
        "time_zone": clinic.time_zone,
        "open_now": clinic.open_now,
    }


def crisis_block(*, alert_raised: bool, crisis: Crisis | None = None) -> dict[str, Any]:
    """What an API response carries when answers call for crisis resources: the clinic's
    lines first, then the country's crisis lines and emergency number."""
    crisis = crisis or Crisis(country=country_resources(DEFAULT_COUNTRY))
    return {
        "alert_raised": alert_raised,
        "country": crisis.country.code,
        "message": crisis.country.not_watched,
        "clinic": _clinic_data(crisis.clinic) if crisis.clinic else None,
        "resources": [
            {
                "label": r.label,
                "href": r.href,
                "kind": r.kind,
                "source": r.source or None,
                "checked": r.checked.isoformat() if r.checked else None,
            }
            for r in crisis.resources
        ],
    }
