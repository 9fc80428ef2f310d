"""Building the e-mails the product sends: a template triplet into a plain-text + HTML
message from the clinic's name, with Message-IDs under the site's own name.

The reminders and alert e-mails (notifications.emails) and the account e-mails (invitations,
allauth's) are all built here."""

import binascii
import email.policy
import random
import re
import secrets
import sys
from datetime import UTC, datetime
from email import quoprimime
from email.headerregistry import BaseHeader, HeaderRegistry
from email.policy import EmailPolicy
from email.utils import format_datetime, formataddr, make_msgid
from functools import cache, lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone


def build_email(
    *,
    template: str,
    context: dict,
    to: list[str],
    sender_name: str,
    headers: dict | None = None,
) -> EmailMultiAlternatives:
    """Render `templates/<template>_{subject,body}` into a plain-text + HTML message."""
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    text = render_to_string(f"{template}_body.txt", context)
    html = render_to_string(f"{template}_body.html", context)
    # Message-IDs under the site's own name (Django's default is this machine's name,
    # often "localhost").
    headers = {"Message-ID": make_msgid(domain=site_mail_domain()), **(headers or {})}
    message = ProductEmail(
        subject=subject,
        body=text,
        from_email=formataddr((sender_name, settings.DEFAULT_FROM_EMAIL)),
        to=to,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message


# Headers whose values repeat from one e-mail to the next (the subject and the sender of a
# kind, the parts' MIME headers, the list headers): each value is parsed once.
REPEATED_HEADERS = frozenset(
    {
        "subject",
        "from",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "list-id",
        "list-unsubscribe-post",
    }
)


class _FoldedOnce:
    """A header that keeps its folded text (what the generator writes) for each way of folding
    it was asked for: a reused header is folded once, not once per e-mail. The standard
    library's folding reads three things of the policy (email._header_value_parser): the line
    length, the line ending and whether UTF-8 is allowed; the generator clones the policy for
    each part, so these are the key, not the policy."""

    def fold(self, *, policy) -> str:
        folded = self.__dict__.setdefault("_folded", {})
        key = (policy.max_line_length, policy.linesep, policy.utf8)
        if key not in folded:
            folded[key] = super().fold(policy=policy)  # type: ignore[misc]  # BaseHeader's
        return folded[key]


class _ReusingHeaderRegistry(HeaderRegistry):
    """The standard library's header factory, made cheaper for many e-mails alike.

    It makes a new class for every header it parses (`__getitem__`, asked twice per header
    set); that class is made once per header name here. A value of REPEATED_HEADERS is
    parsed once and its header object reused, folded once (_FoldedOnce): header objects are
    immutable strings with their parse (a multipart's boundary, unique to each e-mail, is
    never reused). The bytes written are the same (tests/care/test_mail_reuse.py compares them).
    """

    @cache  # noqa: B019  # a handful of registries, one per policy, for the process's life
    def __getitem__(self, name: str) -> type[BaseHeader]:
        cls = self.registry.get(name.lower(), self.default_class)
        return type("_" + cls.__name__, (_FoldedOnce, cls, self.base_class), {})

    def __call__(self, name: str, value):
        if type(value) is str and name.lower() in REPEATED_HEADERS and "boundary=" not in value:
            return self._parsed(name, value)
        return self[name](name, value)

    @lru_cache(maxsize=512)  # noqa: B019  # as above
    def _parsed(self, name: str, value: str) -> BaseHeader:
        return self[name](name, value)


@lru_cache(maxsize=8)
def _reusing(policy: EmailPolicy) -> EmailPolicy:
    return policy.clone(header_factory=_ReusingHeaderRegistry())


class ProductEmail(EmailMultiAlternatives):
    """An e-mail of build_email: Django's, its MIME message built with header objects reused
    from one e-mail to the next (_ReusingHeaderRegistry); for SMTP, its bytes written
    straight (`wire`) when it has the plain shape the product's e-mails have."""

    def message(self, *, policy=email.policy.default):
        if isinstance(policy, EmailPolicy) and type(policy.header_factory) is HeaderRegistry:
            policy = _reusing(policy)
        return super().message(policy=policy)

    def wire(self) -> tuple[str, list[str], bytes] | None:
        """The envelope sender, the recipients and the bytes Django's SMTP backend sends for
        this e-mail (`message(policy=SMTP).as_bytes()` and `prep_address` of each address),
        written without the email package's message, header and generator objects, which
        cost about ten times the rest of building a reminder. Only for the shape the product
        sends: a plain-text body and one HTML alternative in UTF-8, no attachments, Cc or
        Reply-To, a Message-ID given, every header one short line of plain ASCII that the
        email package writes as it is, the addresses plain `local@domain`, bodies it encodes
        as 7bit, quoted-printable or base64. Anything else: None, and Django's own way is
        taken. tests/care/test_mail_wire.py holds the bytes equal to Django's, byte for byte,
        for the product's e-mails and for every condition on both sides of its line."""
        if (
            self.attachments
            or self.cc
            or self.bcc
            or self.reply_to
            or len(self.to) != 1
            or (self.encoding or settings.DEFAULT_CHARSET).lower() not in ("utf-8", "utf8")
            or settings.DEFAULT_CHARSET.lower() not in ("utf-8", "utf8")
            or self.content_subtype != "plain"
            or not self.body
            or len(self.alternatives) != 1
        ):
            return None
        html, mimetype = self.alternatives[0]
        if mimetype != "text/html" or not isinstance(html, str):
            return None
        to = self.to[0]
        sender = _plain_sender(str(self.from_email))
        if sender is None or not _PLAIN_ADDRESS.fullmatch(to):
            return None
        subject = str(self.subject)
        lines = [
            _short_line("Subject", subject, unstructured=True),
            _short_line("From", str(self.from_email)),
            _short_line("To", to),
        ]
        names = {name.lower() for name in self.extra_headers}
        if "message-id" not in names or names & _HANDLED_ELSEWHERE:
            return None
        tz = timezone.get_current_timezone() if settings.EMAIL_USE_LOCALTIME else UTC
        lines.append(f"Date: {format_datetime(datetime.now(tz))}\r\n")
        for name, value in self.extra_headers.items():
            lines.append(_extra_header(name, value))
        headers = [line for line in lines if line is not None]
        if len(headers) != len(lines):
            return None  # a header not written as it is
        parts = []
        for content, subtype, mime_version in (
            (self.body, "plain", ""),
            (html, "html", "MIME-Version: 1.0\r\n"),
        ):
            encoded = _encode_body(str(content))
            if encoded is None:
                return None  # 8bit: the generator's own handling of raw bytes
            cte, payload = encoded
            parts.append(
                (
                    f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
                    f"Content-Transfer-Encoding: {cte}\r\n{mime_version}\r\n"
                    + _CRLF_LINES.sub("\r\n", payload)
                ).encode("ascii")
            )
        boundary = _boundary(b"\r\n".join(parts))
        head = (
            "MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n'
            + "".join(headers)
            + "\r\n"
        ).encode("ascii")
        separator = f"\r\n--{boundary}\r\n".encode("ascii")
        data = (
            head
            + f"--{boundary}\r\n".encode("ascii")
            + separator.join(parts)
            + f"\r\n--{boundary}--\r\n".encode("ascii")
        )
        return sender, [to], data


def _encode_body(text: str) -> tuple[str, str] | None:
    """A text part's transfer encoding and payload as the email package chooses them for
    `set_content(text, charset="utf-8")` under the SMTP policy (email.contentmanager): 7bit
    when every line fits in 78 characters of ASCII; otherwise quoted-printable or base64,
    whichever encodes the first ten lines shorter. None where it would send the bytes as
    8bit (lines that fit, not ASCII)."""
    limit = 78  # email.policy.SMTP.max_line_length
    lines = text.encode("utf-8").splitlines()
    if max((len(line) for line in lines), default=0) <= limit:
        if all(line.isascii() for line in lines):
            return "7bit", (b"\n".join(lines) + b"\n").decode("ascii")
        return None
    sniff = b"\r\n".join(lines[:10]) + b"\r\n"
    sniff_qp = quoprimime.body_encode(sniff.decode("latin-1"), limit)
    if len(sniff_qp) <= len(binascii.b2a_base64(sniff)):
        if len(lines) <= 10:
            return "quoted-printable", sniff_qp
        body = (b"\n".join(lines) + b"\n").decode("latin-1")
        return "quoted-printable", quoprimime.body_encode(body, limit)
    data = b"\r\n".join(lines) + b"\r\n"
    step = limit // 4 * 3
    return "base64", "".join(
        binascii.b2a_base64(data[i : i + step]).decode("ascii") for i in range(0, len(data), step)
    )


def _boundary(text: bytes) -> str:
    """A multipart boundary as the standard library's generator makes one (15 "=", a random
    number of 19 digits, "=="; on a clash with a part, ".0", ".1"... after it), a clash
    found by a substring test: the generator compiles a regular expression for each new
    boundary (a fifth of what writing an e-mail cost), and one that misses a clash on a line
    ending in CRLF."""
    boundary = "=" * 15 + f"{random.randrange(sys.maxsize):0{_DIGITS}d}" + "=="  # noqa: S311  # as the generator's
    candidate, counter = boundary, 0
    while b"--" + candidate.encode("ascii") in text:
        candidate, counter = f"{boundary}.{counter}", counter + 1
    return candidate


_DIGITS = len(repr(sys.maxsize - 1))  # the generator's width
# Line breaks in an encoded body, written as CRLF (the generator's _write_lines).
_CRLF_LINES = re.compile(r"\r\n|\r|\n")
# An address the email package writes, and Django's prep_address returns, as it is.
_ATOMS = r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
_PLAIN_ADDRESS = re.compile(rf"{_ATOMS}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
# A display name of plain words, written without quotes.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9'-]+(?: [A-Za-z0-9'-]+)*")
# Unstructured text the email package writes as it is (no encoded-word look-alike).
_PLAIN_TEXT = re.compile(r"[!-~]+(?: [!-~]+)*")
_MESSAGE_ID = re.compile(r"<[A-Za-z0-9._-]+@[A-Za-z0-9._-]+>")
# Headers Django's message() sets from its own fields, or refuses among the extra ones.
_HANDLED_ELSEWHERE = frozenset({"from", "to", "cc", "reply-to", "bcc", "date"})


def _plain_sender(from_email: str) -> str | None:
    """The address of `Name <address>` or of a bare address, when both are plain."""
    if _PLAIN_ADDRESS.fullmatch(from_email):
        return from_email
    name, _, rest = from_email.partition(" <")
    if rest.endswith(">") and _PLAIN_NAME.fullmatch(name) and _PLAIN_ADDRESS.fullmatch(rest[:-1]):
        return rest[:-1]
    return None


def _short_line(name: str, value: str, *, unstructured: bool = False) -> str | None:
    line = f"{name}: {value}"
    if len(line) > 78 or (unstructured and (not _PLAIN_TEXT.fullmatch(value) or "=?" in value)):
        return None
    return line + "\r\n"


def _extra_header(name: str, value) -> str | None:
    """An extra header's line as the email package writes it, or None if not plain."""
    if hasattr(value, "name") and hasattr(value, "fold") and value.name.lower() == name.lower():
        # Written by its own fold, as the email package does (notifications.emails.WireHeader).
        line = value.fold(policy=email.policy.SMTP)
        return line if line.isascii() else None
    if not isinstance(value, str):
        return None
    if name.lower() == "message-id":
        return f"{name}: {value}\r\n" if _MESSAGE_ID.fullmatch(value) else None
    if name.lower() in _STRUCTURED:
        return None
    return _short_line(name, value, unstructured=True)


# Headers the email package parses by a structure of their own (addresses, dates, MIME).
_STRUCTURED = frozenset(HeaderRegistry().registry)


def invitation_message_id(invitation_id: int) -> str:
    """The Message-ID of an invitation e-mail: names the invitation (the demo Outbox shows it
    only while the invitation can still be used), unique per send."""
    return f"<invitation-{invitation_id}.{secrets.token_hex(8)}@{site_mail_domain()}>"


INVITATION_MESSAGE_ID = re.compile(r"<invitation-(\d+)\.[0-9a-f]+@[^>]+>")


def site_mail_domain() -> str:
    """The host name of SITE_URL: the site's own name in Message-IDs and List-Ids."""
    return urlsplit(settings.SITE_URL).hostname or "localhost"
