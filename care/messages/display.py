"""What the patient's message pages say before the text box: when messages are read (the
clinic's opening hours), and where to turn instead when it cannot wait; and whether the
patient can ask to be called."""

from dataclasses import dataclass
from datetime import datetime

from care.common.phones import phone_display
from care.models import Clinic, Patient
from care.records.crisis import crisis_for_clinic

READ_DURING_HOURS = (
    "Messages are read by your care team during clinic hours; they are not watched around "
    "the clock."
)
CANNOT_WAIT = "If you need help now, do not wait for a reply:"


@dataclass(frozen=True)
class ReadingNotice:
    """When messages are read, the clinic's opening hours (`hours`: one line per group of
    days, in the clinic's time zone; empty when the clinic has given none) and whether it is
    open now, and the crisis links for what cannot wait (the clinic's own lines first)."""

    text: str
    hours: tuple[str, ...]
    state: str
    time_zone: str
    cannot_wait: str
    crisis: tuple[dict[str, str], ...]


def reading_notice(*, clinic: Clinic, now: datetime) -> ReadingNotice:
    """The notice above the patient's compose and reply forms, for their clinic at `now`."""
    crisis = crisis_for_clinic(clinic, now=now)
    contact = crisis.clinic
    hours = tuple(f"{days} {times}" for days, times in contact.hours) if contact else ()
    return ReadingNotice(
        text=READ_DURING_HOURS,
        hours=hours,
        state=contact.state if contact and hours else "",
        time_zone=contact.time_zone if contact and hours else "",
        cannot_wait=CANNOT_WAIT,
        crisis=tuple(
            {"label": r.label, "href": r.href}
            for r in crisis.resources
            if r.main or r.kind == "clinic"
        ),
    )


@dataclass(frozen=True)
class CallOffer:
    """The "Please call me" button: offered (`number`: the number the care team would call,
    as dialled in the clinic's country) only when the patient has a number and agreed to be
    called; otherwise `missing` says what to add in Contact details."""

    number: str
    missing: str

    @property
    def offered(self) -> bool:
        return bool(self.number)


def call_offer(patient: Patient) -> CallOffer:
    if not patient.phone and not patient.may_call:
        return CallOffer("", "your phone number, and agree to be called")
    if not patient.phone:
        return CallOffer("", "your phone number")
    if not patient.may_call:
        return CallOffer("", "that you agree to be called")
    return CallOffer(phone_display(patient.phone, patient.clinic.country), "")
