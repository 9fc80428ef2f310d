"""Text messages (SMS): the providers that send them and how a text is counted.

`get_text_backend().send(OutgoingText(to=..., body=..., status_callback=...))` sends one
through the backend SMS_URL names (docs/configuration.md) and returns a `SentText`, or raises
a `TransientTextError` (try again later) or a `PermanentTextError` (never for this text).
`encoding_and_segments` and `fits_one_segment` count a body in GSM-7 or UCS-2 segments.
"""

from notifications.sms.backends import (
    FileBackend,
    LocmemBackend,
    OutgoingText,
    PermanentTextError,
    SentText,
    StoredText,
    TextBackend,
    TextSendError,
    TransientTextError,
    TwilioBackend,
    backend_from_url,
    get_text_backend,
    outbox,
    texts_enabled,
)
from notifications.sms.gsm import encoding_and_segments, fits_one_segment

__all__ = [
    "FileBackend",
    "LocmemBackend",
    "OutgoingText",
    "PermanentTextError",
    "SentText",
    "StoredText",
    "TextBackend",
    "TextSendError",
    "TransientTextError",
    "TwilioBackend",
    "backend_from_url",
    "encoding_and_segments",
    "fits_one_segment",
    "get_text_backend",
    "outbox",
    "texts_enabled",
]
