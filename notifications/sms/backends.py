"""Text-message (SMS) providers: one `send(text)` each, chosen by the SMS_URL setting.

- `file://` (the default; `file:///absolute/folder` for another folder): each text is written
  to a file of its own under `var/sms/`, for development and demos; `FileBackend.list_texts`
  reads them back for the staff Outbox.
- `locmem://`: texts are appended to the module's `outbox` list (tests), as
  django.core.mail.outbox does for e-mail.
- `twilio://ACCOUNT_SID:AUTH_TOKEN@?from=%2B15551234567` (or `?messaging_service=MG…`, or
  both): Twilio's Messages API through the official `twilio` package. `&timeout=10` sets the
  HTTP timeout in seconds; `&api=http://127.0.0.1:PORT` sends to a local stand-in of the API
  instead (tests only: loopback addresses alone are accepted).

A send that fails raises a `TextSendError`: `TransientTextError` when trying again later may
succeed (the provider is busy or down, the network failed, the account is misconfigured and an
operator must fix it), `PermanentTextError` when it never will for this text (an invalid or
landline number, a recipient who replied STOP). Its `reason` is short and names a class or
the provider's code, never the phone number or the words of the text: it goes into logs and
the delivery's `last_error`. For the same reason the provider's own exception is not chained
to it (its message quotes the number).
"""

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

E164 = re.compile(r"\+[1-9][0-9]{1,14}")
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
# A Twilio sender: a number in E.164, a short code, or an alphanumeric sender ID.
SENDER = re.compile(r"\+[1-9][0-9]{1,14}|[0-9]{3,8}|(?=[A-Za-z0-9 ]*[A-Za-z])[A-Za-z0-9 ]{1,11}")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}

FILE_PREFIX = "file-"
LOCMEM_PREFIX = "locmem-"
SENT = "sent"


@dataclass(frozen=True)
class OutgoingText:
    """A text to send: `to` in E.164 (+15551234567), the body, and where the provider
    reports its delivery status (None: nowhere)."""

    to: str
    body: str
    status_callback: str | None = None

    def __post_init__(self) -> None:
        if not E164.fullmatch(self.to):
            # The value is not repeated: it may be a patient's number.
            raise ValueError("OutgoingText.to must be a phone number in E.164 (+15551234567)")


@dataclass(frozen=True)
class SentText:
    """What the provider answered: its id of the message and the message's status
    ("queued" or "accepted" at Twilio; "sent" from the file and in-memory backends)."""

    provider_id: str
    status: str


@dataclass(frozen=True)
class StoredText:
    """A text as the file or in-memory backend kept it."""

    provider_id: str
    to: str
    body: str
    sent_at: datetime
    status_callback: str | None = None


class TextSendError(Exception):
    """A text was not sent. `reason` is short and safe to log: never the number or the body.

    `code` is the provider's error code (Twilio's, e.g. 21211; the HTTP status when the
    answer had none), None when no answer came (a network error). `permanent`: whether
    trying again can never succeed for this text.
    """

    permanent: bool = False

    def __init__(self, reason: str, *, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class TransientTextError(TextSendError):
    """Worth trying again later: the provider is busy or down, the network failed, or the
    account is misconfigured (nothing is lost while an operator fixes it)."""

    permanent = False


class PermanentTextError(TextSendError):
    """Never worth trying again for this text: the number cannot receive it."""

    permanent = True


class TextBackend(Protocol):
    def send(self, text: OutgoingText) -> SentText: ...


# File backend (development and demos)


def _header_value(value: str) -> str:
    # Headers are one line each; the values are ours (E.164, a URL), but never trust a newline.
    return value.replace("\r", " ").replace("\n", " ")


class FileBackend:
    """Writes each text to a file of its own in `directory` (default `var/sms/`)."""

    suffix = ".txt"

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_sms_folder()

    def send(self, text: OutgoingText) -> SentText:
        provider_id = f"{FILE_PREFIX}{uuid.uuid4().hex}"
        sent_at = datetime.now(UTC)
        lines = [
            f"Provider-Id: {provider_id}",
            f"To: {_header_value(text.to)}",
            f"Date: {sent_at.isoformat()}",
        ]
        if text.status_callback:
            lines.append(f"Status-Callback: {_header_value(text.status_callback)}")
        content = "\n".join(lines) + "\n\n" + text.body
        self.directory.mkdir(parents=True, exist_ok=True)
        # The name sorts by time (newest last); written under a temporary name and renamed,
        # so a reader never sees half a text.
        name = f"{sent_at.strftime('%Y%m%dT%H%M%S.%fZ')}-{provider_id}"
        temporary = self.directory / f".{name}.tmp"
        temporary.write_text(content, encoding="utf-8")
        temporary.replace(self.directory / f"{name}{self.suffix}")
        return SentText(provider_id=provider_id, status=SENT)

    def list_texts(self, *, limit: int = 200) -> list[StoredText]:
        """The newest `limit` texts in the folder, newest first (none if it does not exist)."""
        if not self.directory.is_dir():
            return []
        paths = sorted(self.directory.glob(f"*{self.suffix}"), key=lambda p: p.name, reverse=True)
        texts = []
        for path in paths[:limit]:
            stored = parse_text_file(path.read_text(encoding="utf-8", errors="replace"))
            if stored is not None:
                texts.append(stored)
        return texts


def default_sms_folder() -> Path:
    return Path(settings.BASE_DIR) / "var" / "sms"


def parse_text_file(content: str) -> StoredText | None:
    """A text as FileBackend wrote it, or None if the file is not one."""
    head, separator, body = content.partition("\n\n")
    if not separator:
        return None
    headers = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
    try:
        return StoredText(
            provider_id=headers["Provider-Id"],
            to=headers["To"],
            body=body,
            sent_at=datetime.fromisoformat(headers["Date"]),
            status_callback=headers.get("Status-Callback"),
        )
    except (KeyError, ValueError):
        return None


# In-memory backend (tests)

# Every text the in-memory backend sent, oldest first (tests empty it: tests/conftest.py).
outbox: list[StoredText] = []


class LocmemBackend:
    """Appends each text to the module's `outbox` list."""

    def send(self, text: OutgoingText) -> SentText:
        provider_id = f"{LOCMEM_PREFIX}{uuid.uuid4().hex}"
        outbox.append(
            StoredText(
                provider_id=provider_id,
                to=text.to,
                body=text.body,
                sent_at=datetime.now(UTC),
                status_callback=text.status_callback,
            )
        )
        return SentText(provider_id=provider_id, status=SENT)


# Twilio


# Twilio's error codes that say this text can never go (https://www.twilio.com/docs/api/errors).
PERMANENT_CODES = {
    21211: "invalid number",
    21217: "invalid number",
    21408: "region not enabled for the account",
    21610: "recipient unsubscribed (STOP)",
    21612: "number cannot receive texts from this sender",
    21614: "not a mobile number",
}
# Codes of the account's own set-up: no text can go until an operator fixes it, so they are
# transient (tried again meanwhile) whatever their HTTP status.
CONFIGURATION_CODES = {
    20003: "authentication failed (check the account SID and auth token)",
    21212: "invalid sender number (check SMS_URL's from)",
    21606: "the sender cannot send texts (check SMS_URL's from)",
    21659: "the sender is not the account's (check SMS_URL's from)",
    21660: "the sender is not the account's (check SMS_URL's from)",
}
# HTTP statuses of configuration errors: bad credentials, or an account SID that is no account.
CONFIGURATION_STATUSES = {
    401: "authentication failed (check the account SID and auth token)",
    403: "access refused (check the account and its permissions)",
    404: "account not found (check the account SID)",
}


def _number(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def twilio_error(exc: TwilioRestException | TwilioServiceException) -> TextSendError:
    """The TextSendError for an error answer of Twilio's API (its message is never kept: it
    quotes the number)."""
    status = _number(exc.status) or 0
    code = _number(exc.code)
    label = f"twilio {code}" if code is not None and code != status else "twilio"
    if code in PERMANENT_CODES:
        return PermanentTextError(f"permanent: {label} {PERMANENT_CODES[code]}", code=code)
    if code in CONFIGURATION_CODES:
        return TransientTextError(f"configuration: {label} {CONFIGURATION_CODES[code]}", code=code)
    if status in CONFIGURATION_STATUSES:
        return TransientTextError(
            f"configuration: {label} HTTP {status} {CONFIGURATION_STATUSES[status]}", code=code
        )
    if status == 429:
        return TransientTextError(f"transient: {label} HTTP 429 too many requests", code=code)
    if 500 <= status < 600:
        return TransientTextError(f"transient: {label} HTTP {status} provider error", code=code)
    if 400 <= status < 500:
        return PermanentTextError(f"permanent: {label} HTTP {status} refused", code=code)
    # Anything else (a 3xx the client does not follow): not the text's fault.
    return TransientTextError(f"transient: {label} HTTP {status} unexpected answer", code=code)


class LocalApiHttpClient(TwilioHttpClient):
    """Twilio's HTTP client, sending every request to `api_base` (a local stand-in of the
    API, in tests) instead of Twilio's host: the scheme and host of each URL are replaced,
    its path and query kept."""

    def __init__(self, api_base: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        base = urlsplit(api_base)
        self.scheme, self.netloc = base.scheme, base.netloc

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        local = urlunsplit((self.scheme, self.netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, local, *args, **kwargs)


class TwilioBackend:
    """Sends through Twilio's Messages API (the official `twilio` package)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_base: str | None = None,
        timeout: float = 10,
    ) -> None:
        if not account_sid or not auth_token:
            raise ImproperlyConfigured("Twilio needs an account SID and an auth token.")
        if not from_number and not messaging_service_sid:
            raise ImproperlyConfigured(
                "Twilio needs a sender: a from number or a messaging service."
            )
        self.account_sid = account_sid
        # The key of the provider's webhook signatures (notifications.views); never shown.
        self.auth_token = auth_token
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.api_base = api_base
        self.timeout = timeout
        http_client = (
            LocalApiHttpClient(api_base, timeout=timeout)
            if api_base
            else TwilioHttpClient(timeout=timeout)
        )
        self.client = Client(account_sid, auth_token, http_client=http_client)

    def __repr__(self) -> str:
        return f"<TwilioBackend {self.account_sid}>"  # never the token

    def send(self, text: OutgoingText) -> SentText:
        options: dict[str, str] = {}
        if self.from_number:
            options["from_"] = self.from_number
        if self.messaging_service_sid:
            options["messaging_service_sid"] = self.messaging_service_sid
        if text.status_callback:
            options["status_callback"] = text.status_callback
        try:
            message = self.client.messages.create(to=text.to, body=text.body, **options)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise twilio_error(exc) from None
        except (OSError, TwilioException) as exc:
            # No answer: refused, reset, timed out (requests' errors are OSErrors: ConnectionError,
            # ConnectTimeout, ReadTimeout, SSLError), named by their class alone.
            raise TransientTextError(f"transient: twilio {type(exc).__name__}") from None
        return SentText(provider_id=str(message.sid), status=str(message.status))


# Choosing the backend from SMS_URL


def _query(query: str) -> Iterator[tuple[str, str]]:
    # Not parse_qs: a "+" must stay a plus (from=+15551234567), not become a space.
    for pair in query.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            yield unquote(name), unquote(value)


def _twilio_from_url(url: str) -> TwilioBackend:
    def refuse(problem: str) -> ImproperlyConfigured:
        # The URL itself is never repeated: it holds the auth token.
        return ImproperlyConfigured(
            f"SMS_URL: {problem}. The form is "
            "twilio://ACCOUNT_SID:AUTH_TOKEN@?from=%2B15551234567 (or ?messaging_service=MG…)."
        )

    parts = urlsplit(url)
    account_sid = unquote(parts.username or "")
    auth_token = unquote(parts.password or "")
    if not ACCOUNT_SID.fullmatch(account_sid):
        raise refuse("the user part must be the account SID (AC and 32 hexadecimal digits)")
    if not auth_token:
        raise refuse("the auth token (after the account SID and a colon) is missing")
    if parts.netloc.rpartition("@")[2] or parts.path not in ("", "/") or parts.fragment:
        raise refuse("nothing may stand between the @ and the ?")
    options: dict[str, str] = {}
    for name, value in _query(parts.query):
        if name not in {"from", "messaging_service", "api", "timeout"}:
            # Not named back: a token pasted in the wrong place would be.
            raise refuse("unknown option (the options are from, messaging_service, timeout, api)")
        if name in options:
            raise refuse(f"option {name!r} is given twice")
        options[name] = value
    from_number = options.get("from") or None
    service = options.get("messaging_service") or None
    if from_number is None and service is None:
        raise refuse("a sender is needed: from= or messaging_service=")
    if from_number is not None and not SENDER.fullmatch(from_number):
        raise refuse(
            "from= must be a number in E.164 (%2B and digits), a short code or an "
            "alphanumeric sender ID"
        )
    if service is not None and not MESSAGING_SERVICE_SID.fullmatch(service):
        raise refuse("messaging_service= must be a Messaging Service SID (MG and 32 digits)")
    api_base = options.get("api") or None
    if api_base is not None:
        api = urlsplit(api_base)
        if api.scheme not in ("http", "https") or api.hostname not in LOOPBACK_HOSTS:
            raise refuse("api= is for tests: an http:// address on this machine (127.0.0.1)")
    timeout = 10.0
    if "timeout" in options:
        try:
            timeout = float(options["timeout"])
        except ValueError:
            timeout = 0
        if not 0 < timeout <= 60:
            raise refuse("timeout= must be a number of seconds, above 0 and at most 60")
    return TwilioBackend(
        account_sid,
        auth_token,
        from_number=from_number,
        messaging_service_sid=service,
        api_base=api_base,
        timeout=timeout,
    )


def backend_from_url(url: str) -> TextBackend:
    """The backend an SMS_URL names; ImproperlyConfigured (never quoting the URL) if none."""
    try:
        return _backend_from_url(url)
    except ValueError:
        # urllib's complaint may quote the URL, and with it the auth token.
        raise ImproperlyConfigured("SMS_URL is not a valid URL (docs/configuration.md).") from None


def _backend_from_url(url: str) -> TextBackend:
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme == "file":
        parts = urlsplit(url)
        if parts.netloc or parts.query or parts.fragment:
            raise ImproperlyConfigured(
                "SMS_URL: file:// alone (texts under var/sms/) or file:///absolute/folder."
            )
        return FileBackend(unquote(parts.path) or None)
    if scheme == "locmem":
        if url.lower() != "locmem://":
            raise ImproperlyConfigured("SMS_URL: the in-memory backend is locmem:// alone.")
        return LocmemBackend()
    if scheme == "twilio":
        return _twilio_from_url(url)
    raise ImproperlyConfigured(
        "SMS_URL must start with file://, locmem:// or twilio:// (docs/configuration.md)."
    )


@lru_cache(maxsize=4)
def _backend_for(url: str) -> TextBackend:
    return backend_from_url(url)


def get_text_backend() -> TextBackend:
    """The backend of `settings.SMS_URL`, made once per URL (a settings override in a test
    gets its own)."""
    if not settings.SMS_URL:
        raise ImproperlyConfigured("Texts are off: SMS_URL is empty.")
    return _backend_for(settings.SMS_URL)


def texts_enabled() -> bool:
    """Whether this installation sends texts at all (SMS_URL set)."""
    return bool(settings.SMS_URL)
