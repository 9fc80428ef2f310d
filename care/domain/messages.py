"""What a message between a patient and the care team may hold: plain text, of a bounded size.

A message is text only. What a person types is kept as they typed it, except for what no
one reads: control characters (other than line breaks), which a terminal, a log viewer or
a CSV reader may act on, and the Unicode controls that reorder text on screen (a subject
could otherwise show words in another order than they were typed). Line breaks are stored
as "\\n" whatever the browser sent.
"""

import unicodedata
import uuid

BODY_MAX_LENGTH = 2000
SUBJECT_MAX_LENGTH = 120

# Bidirectional embedding, override and isolate controls (Unicode TR 9): they change the
# order in which the text around them is shown.
_REORDERING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class TextInvalid(ValueError):
    """Text that cannot be a message: `reason` says why, in words for the writer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _plain(text: str, *, keep_newlines: bool) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    kept = []
    for char in text:
        if char == "\n":
            kept.append("\n" if keep_newlines else " ")
        elif char in _REORDERING or unicodedata.category(char) == "Cc":
            continue
        else:
            kept.append(char)
    return "".join(kept).strip()


def message_body(text: str) -> str:
    """The body as stored: plain text, line breaks kept, at most BODY_MAX_LENGTH characters.

    Raises TextInvalid if nothing is left to send or it is too long.
    """
    body = _plain(text, keep_newlines=True)
    if not body:
        raise TextInvalid("Write a message.")
    if len(body) > BODY_MAX_LENGTH:
        raise TextInvalid(
            f"A message holds at most {BODY_MAX_LENGTH} characters (this one has {len(body)})."
        )
    return body


def message_subject(text: str) -> str:
    """The subject as stored: one line of plain text, at most SUBJECT_MAX_LENGTH characters.

    Raises TextInvalid if it is empty or too long.
    """
    subject = " ".join(_plain(text, keep_newlines=False).split())
    if not subject:
        raise TextInvalid("Give the message a subject.")
    if len(subject) > SUBJECT_MAX_LENGTH:
        raise TextInvalid(
            f"A subject holds at most {SUBJECT_MAX_LENGTH} characters "
            f"(this one has {len(subject)})."
        )
    return subject


def message_public_id(thread_public_id: uuid.UUID | str, message_pk: int) -> uuid.UUID:
    """A message's opaque id outside the database (the API, the patient's download, the FHIR
    Communication): derived from its thread's opaque id and its row, so the same message
    always has the same id and its row number is not shown."""
    thread = (
        thread_public_id
        if isinstance(thread_public_id, uuid.UUID)
        else uuid.UUID(str(thread_public_id))
    )
    return uuid.uuid5(thread, f"message:{message_pk}")
