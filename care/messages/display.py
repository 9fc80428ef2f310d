"""What the patient's message pages say before the text box: when messages are read (the
clinic's opening hours), and where to turn instead when it cannot wait."""

from dataclasses import dataclass
from datetime import datetime

from care.models import Clinic
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
