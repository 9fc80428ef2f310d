"""Read the e-mails and texts written to files (demo set-ups only), for the staff Outbox.

Django's file backend appends each message to a `.log` file, followed by a line of
79 dashes. This module turns those files back into plain values for the outbox page, and
decides which of them staff may see there: reminders and alerts (whose Message-ID names a
delivery) and invitations that can still be used. Nothing else is shown, whatever it is:
password resets, address confirmations and every other account e-mail stay out of reach
of the staff who could otherwise take over an account with them.

Texts (SMS) written by the file backend (`SMS_URL=file://`, notifications.sms) are listed
beside them on the same terms: to the clinic's own patients' numbers only (as e-mails go to
the clinic's people's addresses), and only texts that a delivery row of one of its patients
names by their provider id (reminders): any other text, such as a sign-in code one day,
stays out (default deny).
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_string, policy
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from care.accounts.selectors import clinic_email_addresses, clinic_patient_phone_numbers
from care.common.mail import INVITATION_MESSAGE_ID
from care.models import Clinic, Invitation
from notifications.emails import DELIVERY_MESSAGE_ID
from notifications.models import Delivery
from notifications.sms import FileBackend, get_text_backend

SEPARATOR = "\n" + "-" * 79 + "\n"


@dataclass(frozen=True)
class OutboxMessage:
    sent_at: datetime | None
    sender: str
    to: tuple[str, ...]
    subject: str
    text: str
    message_id: str = ""
    channel: ClassVar[str] = "email"


@dataclass(frozen=True)
class OutboxText:
    """A text as the Outbox shows it: `to` in E.164 (the page writes it as the clinic's
    country does)."""

    sent_at: datetime
    to: str
    text: str
    channel: ClassVar[str] = "text"


def outbox_enabled() -> bool:
    """Whether the Outbox exists: debug or a demo, with e-mails or texts written to files."""
    return outbox_folder() is not None or outbox_text_backend() is not None


def outbox_folder() -> Path | None:
    """The folder of the file-based default mailer in debug or a demo, else None."""
    if not (settings.DEBUG or settings.DEMO_MODE):
        return None
    mailer = settings.MAILERS.get("default", {})
    if not mailer.get("BACKEND", "").endswith("filebased.EmailBackend"):
        return None
    return Path(mailer["OPTIONS"]["file_path"])


def outbox_text_backend() -> FileBackend | None:
    """The file backend of texts (SMS_URL file://) in debug or a demo, else None."""
    if not (settings.DEBUG or settings.DEMO_MODE):
        return None
    try:
        backend = get_text_backend()
    except ImproperlyConfigured:
        return None  # a wrong SMS_URL stops the first send, not every staff page
    return backend if isinstance(backend, FileBackend) else None


def parse_message(raw: str) -> OutboxMessage:
    """One message as the file backend wrote it."""
    message = message_from_string(raw, policy=policy.default)
    body = message.get_body(preferencelist=("plain",))
    date = message.get("Date")
    return OutboxMessage(
        sent_at=parsedate_to_datetime(date) if date else None,
        sender=str(message.get("From", "")),
        to=tuple(addr.lower() for _, addr in getaddresses(message.get_all("To", []))),
        subject=str(message.get("Subject", "")),
        text=body.get_content() if body is not None else "",
        message_id=str(message.get("Message-ID", "")).strip(),
    )


def read_outbox(folder: Path, *, limit: int = 200) -> list[OutboxMessage]:
    """The newest `limit` messages in `folder`, newest first."""
    messages: list[OutboxMessage] = []
    files = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in files:
        chunks = [c for c in path.read_text(errors="replace").split(SEPARATOR) if c.strip()]
        messages.extend(parse_message(chunk) for chunk in reversed(chunks))
        if len(messages) >= limit:
            break
    return messages[:limit]


def invitation_id_of(message: OutboxMessage) -> int | None:
    """The invitation an e-mail carries (from its Message-ID), or None."""
    match = INVITATION_MESSAGE_ID.fullmatch(message.message_id)
    return int(match.group(1)) if match else None


def shown_in_outbox(message: OutboxMessage, *, usable_invitation_ids: set[int]) -> bool:
    """A reminder or alert, or an invitation still usable; never anything else (default deny)."""
    if DELIVERY_MESSAGE_ID.fullmatch(message.message_id):
        return True
    return invitation_id_of(message) in usable_invitation_ids


def outbox_messages(*, folder: Path, clinic: Clinic, now: datetime) -> list[OutboxMessage]:
    """The messages in `folder` to the clinic's people that staff may see, newest first."""
    if not folder.is_dir():
        return []
    ours = clinic_email_addresses(clinic=clinic)
    messages = [m for m in read_outbox(folder) if ours.intersection(m.to)]
    invitation_ids = {i for i in map(invitation_id_of, messages) if i is not None}
    usable = set(
        Invitation.objects.filter(
            id__in=invitation_ids,
            token_hash__isnull=False,
            used_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).values_list("id", flat=True)
    )
    return [m for m in messages if shown_in_outbox(m, usable_invitation_ids=usable)]


def outbox_texts(*, backend: FileBackend, clinic: Clinic) -> list[OutboxText]:
    """The reminder texts the file backend wrote to the clinic's patients' numbers (as they
    are now), newest first."""
    ours = clinic_patient_phone_numbers(clinic=clinic)
    texts = [t for t in backend.list_texts() if t.to in ours]
    reminders = set(
        Delivery.objects.filter(
            channel=Delivery.Channel.TEXT,
            patient__clinic=clinic,
            provider_id__in=[t.provider_id for t in texts],
        ).values_list("provider_id", flat=True)
    )
    return [
        OutboxText(sent_at=t.sent_at, to=t.to, text=t.body)
        for t in texts
        if t.provider_id in reminders
    ]


def outbox_items(
    *, folder: Path | None, text_backend: FileBackend | None, clinic: Clinic, now: datetime
) -> list[OutboxMessage | OutboxText]:
    """The e-mails and texts staff may see, in one list, newest first."""
    emails = outbox_messages(folder=folder, clinic=clinic, now=now) if folder else []
    texts = outbox_texts(backend=text_backend, clinic=clinic) if text_backend else []
    oldest = datetime.min.replace(tzinfo=UTC)
    items: list[OutboxMessage | OutboxText] = [*texts, *emails]
    # Stable: e-mails of one second (their Date header's unit) stay in the order read.
    return sorted(items, key=lambda item: item.sent_at or oldest, reverse=True)
