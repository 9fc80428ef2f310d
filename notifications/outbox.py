"""Read the e-mails that the file-based mailer wrote (the embedded demo set-up).

Django's file backend appends each message to a `.log` file, followed by a line of
79 dashes. This module turns those files back into plain values for the outbox page.
"""

from dataclasses import dataclass
from datetime import datetime
from email import message_from_string, policy
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from django.conf import settings

SEPARATOR = "\n" + "-" * 79 + "\n"


@dataclass(frozen=True)
class OutboxMessage:
    sent_at: datetime | None
    sender: str
    to: tuple[str, ...]
    subject: str
    text: str


def outbox_folder() -> Path | None:
    """The folder of the file-based default mailer, or None for any other mailer."""
    mailer = settings.MAILERS.get("default", {})
    if not mailer.get("BACKEND", "").endswith("filebased.EmailBackend"):
        return None
    return Path(mailer["OPTIONS"]["file_path"])


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
