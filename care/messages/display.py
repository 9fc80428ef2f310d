"""What the patient's message pages say before the text box: when messages are read, and
where to turn instead when it cannot wait."""

from dataclasses import dataclass

from care.domain.crisis import CRISIS_RESOURCES
from care.models import Clinic

READ_DURING_HOURS = (
    "Messages are read by your care team during clinic hours; they are not watched around "
    "the clock."
)
CANNOT_WAIT = "If you need help now, do not wait for a reply:"


@dataclass(frozen=True)
class ReadingNotice:
    """When messages are read, the clinic's opening hours (`hours`: one line a day, in
    words; empty until clinics have them), and the crisis links for what cannot wait."""

    text: str
    hours: tuple[str, ...]
    cannot_wait: str
    crisis: tuple[dict[str, str], ...]


def reading_notice(*, clinic: Clinic) -> ReadingNotice:
    """The notice above the patient's compose and reply forms, for their clinic.

    The one place where the clinic's opening hours are to be shown: `hours` stays empty
    (and the text says "during clinic hours") until clinics have them.
    """
    return ReadingNotice(
        text=READ_DURING_HOURS,
        hours=(),
        cannot_wait=CANNOT_WAIT,
        crisis=tuple(dict(resource) for resource in CRISIS_RESOURCES),
    )
