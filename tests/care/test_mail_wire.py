"""The product's e-mails write their own SMTP bytes (care.common.mail.ProductEmail.wire,
sent by care.common.smtp.EmailBackend): byte for byte what Django's SMTP backend sends, the
envelope included, or None where the e-mail is not of the plain shape the writer knows (and
Django's own way is taken)."""

import copy
import email.generator
import email.policy
import re
from datetime import UTC, datetime
from email.message import MIMEPart
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends import smtp as django_smtp

from care.common import mail as product_mail
from care.common.mail import ProductEmail, build_email
from care.common.smtp import EmailBackend
from notifications.emails import WireHeader

NOW = datetime(2026, 12, 7, 16, 5, 9, 123456, tzinfo=UTC)
TEMPLATES = Path(settings.BASE_DIR) / "templates"


class _FrozenNow(datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW.astimezone(tz) if tz is not None else NOW.replace(tzinfo=None)


@pytest.fixture(autouse=True)
def _fixed(monkeypatch):
    """The two things of an e-mail that change by themselves: its Date and its boundary."""
    monkeypatch.setattr("django.core.mail.message.datetime", _FrozenNow)
    monkeypatch.setattr(product_mail, "datetime", _FrozenNow)
    monkeypatch.setattr(
        email.generator.Generator,
        "_make_boundary",
        classmethod(lambda cls, text=None: "===============0123456789012345678=="),
    )
    monkeypatch.setattr(
        product_mail, "_boundary", lambda text: "===============0123456789012345678=="
    )


def djangos(message: EmailMultiAlternatives) -> tuple[str, list[str], bytes]:
    """What Django's SMTP backend sends for `message`: envelope sender, recipients, bytes."""
    plain = copy.copy(message)
    plain.__class__ = EmailMultiAlternatives
    backend = django_smtp.EmailBackend.__new__(django_smtp.EmailBackend)  # no connection
    return (
        backend.prep_address(plain.from_email),
        [backend.prep_address(address) for address in plain.recipients()],
        plain.message(policy=email.policy.SMTP).as_bytes(),
    )


def reminder(
    *,
    template="notifications/emails/checkin_reminder",
    first_name="Ana",
    link="https://care.example.org/r/checkin/eyJkIjoxMjM0NTZ9:1xahyD:Zi6OObqB6rwfRuCN/",
    to="ana.lima@example.org",
    sender="Care Team",
    headers=None,
    unsubscribe="https://care.example.org/unsubscribe/eyJwIjoxLCJrIjoiY2hlY2tpbl9kdWUifQ:1x/",
    **context,
) -> ProductEmail:
    message = build_email(
        template=template,
        context={"first_name": first_name, "link": link, "unsubscribe_url": unsubscribe, **context},
        to=[to],
        sender_name=sender,
        headers={
            "Message-ID": "<delivery-123456@care.example.org>",
            "List-Id": WireHeader("List-Id", "Reminders <checkin-due.reminders.care.example.org>"),
            "List-Unsubscribe": WireHeader("List-Unsubscribe", f"<{unsubscribe}>"),
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        if headers is None
        else headers,
    )
    assert isinstance(message, ProductEmail)
    return message


def product_templates() -> list[str]:
    return sorted(
        str(path.relative_to(TEMPLATES)).removesuffix("_subject.txt")
        for path in TEMPLATES.glob("**/emails/**/*_subject.txt")
    )


@pytest.mark.parametrize("template", product_templates())
def test_every_product_e_mail_writes_djangos_bytes_itself(template):
    context = {
        "when": "Tuesday at 9:30 AM",
        "ready_link": "https://care.example.org/r/ready/eyJkIjo1fQ:1x:abc/",
        "valid_hours": 72,
        "minutes": 15,
        "escalated": True,
        "counts": {"urgent": 1, "routine": 2},
        "total": 3,
        "unread": 2,
        "messages_link": "https://care.example.org/staff/messages/",
        "password_reset_url": "https://care.example.org/accounts/password/reset/key/x/",
        "activate_url": "https://care.example.org/accounts/confirm-email/x/",
        "code": "123456",
    }
    message = reminder(template=template, **context)
    wire = message.wire()
    assert wire is not None, template
    assert wire == djangos(message)


# Each case: what changes from the plain reminder, and whether the writer takes it.
CASES = {
    "plain": ({}, True),
    "a name with an apostrophe and a hyphen": ({"sender": "O'Neil Care-Team"}, True),
    "a name with a comma (quoted)": ({"sender": "Clinic A, Inc"}, False),
    "a name that needs encoding": ({"sender": "Clínica Añil"}, False),
    "a name that needs folding": ({"sender": "A" * 90}, False),
    "a first name not in ASCII (a long line: quoted-printable)": ({"first_name": "Zoë"}, True),
    "a first name not in ASCII, short lines (8bit)": (
        {"first_name": "Zoë", "link": "https://x.test/c", "unsubscribe": "https://x.test/u"},
        False,
    ),
    "a body mostly not in ASCII (base64)": ({"first_name": "Зоя Ивановна Петрова" * 3}, True),
    "short lines only (7bit)": (
        {"link": "https://x.test/c", "unsubscribe": "https://x.test/u"},
        True,
    ),
    "an address with a name": ({"to": "Ana Lima <ana@example.org>"}, False),
    "an address with a domain not in ASCII": ({"to": "ana@exämple.org"}, False),
    "an address with two dots in a row": ({"to": "ana..lima@example.org"}, False),
    "an address with a plus and a dot": ({"to": "ana.lima+care@mail.example.org"}, True),
    "a Date given": (
        {"headers": {"Message-ID": "<m@x.test>", "Date": "Mon, 07 Dec 2026 16:00:00 -0000"}},
        False,
    ),
    "no Message-ID given (build_email's own)": ({"headers": {}}, True),
    "a plain header of its own": (
        {"headers": {"Message-ID": "<m@x.test>", "Auto-Submitted": "auto-generated"}},
        True,
    ),
    "a header that looks encoded": (
        {"headers": {"Message-ID": "<m@x.test>", "X-Note": "=?utf-8?q?x?="}},
        False,
    ),
    "a structured header": ({"headers": {"Message-ID": "<m@x.test>", "Sender": "a@b.test"}}, False),
    "a Reply-To among the headers": (
        {"headers": {"Message-ID": "<m@x.test>", "Reply-To": "a@b.test"}},
        False,
    ),
    "a Message-ID of another form": ({"headers": {"Message-ID": "<a b@x.test>"}}, False),
    "a long list of unsubscribe ways (folded at the comma)": (
        {
            "headers": {
                "Message-ID": "<m@x.test>",
                "List-Unsubscribe": WireHeader(
                    "List-Unsubscribe", "<https://x.test/u/" + "a" * 60 + ">, <mailto:u@x.test>"
                ),
            }
        },
        True,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_the_writer_takes_the_plain_shape_and_leaves_the_rest_to_django(case):
    changes, taken = CASES[case]
    message = reminder(**changes)
    wire = message.wire()
    assert (wire is not None) is taken
    if wire is not None:
        assert wire == djangos(message)


def test_a_long_or_encoded_looking_subject_is_left_to_django(monkeypatch):
    message = reminder()
    assert message.wire() is not None
    for subject in ("S" * 70, "Your =?utf-8?q?x?= reminder", "Two  spaces", "Añil"):
        message.subject = subject
        assert message.wire() is None, subject
        message.subject = "You have a check-in waiting"


def test_other_shapes_are_left_to_django():
    base = reminder()
    for change in (
        lambda m: setattr(m, "cc", ["c@x.test"]),
        lambda m: setattr(m, "bcc", ["c@x.test"]),
        lambda m: setattr(m, "reply_to", ["c@x.test"]),
        lambda m: setattr(m, "to", ["a@x.test", "b@x.test"]),
        lambda m: setattr(m, "encoding", "iso-8859-1"),
        lambda m: m.attach("a.txt", "text", "text/plain"),
        lambda m: m.attach(MIMEPart()),
        lambda m: m.attach_alternative("x", "text/calendar"),
        lambda m: setattr(m, "body", ""),
    ):
        message = copy.deepcopy(base)
        change(message)
        assert message.wire() is None


def test_the_boundary_is_made_as_the_generator_makes_it_and_never_occurs_in_a_part(
    monkeypatch,
):
    monkeypatch.undo()
    boundary = product_mail._boundary(b"--x\r\n")
    assert re.fullmatch(r"={15}\d{19}==", boundary)
    assert len(boundary) == len(email.generator.Generator._make_boundary())
    # A part holding the boundary drawn (and its first variant): the next variant, as the
    # generator names them.
    monkeypatch.setattr(product_mail.random, "randrange", lambda stop: 42)
    taken = "=" * 15 + "42".zfill(19) + "=="
    text = f"a line\r\n--{taken}\r\nanother --{taken}.0--".encode()
    assert product_mail._boundary(text) == taken + ".1"
    assert product_mail._boundary(b"nothing alike") == taken


class _Session:
    """What the backend's smtplib session is asked for."""

    def __init__(self):
        self.sent = []

    def sendmail(self, sender, recipients, data):
        self.sent.append((sender, recipients, data))
        return {}


def test_the_smtp_backend_sends_the_written_bytes_and_djangos_for_the_rest(settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "care.common.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 25},
        }
    }
    backend = mail.mailers.default
    assert isinstance(backend, EmailBackend)
    backend.connection = _Session()
    plain, other = reminder(), reminder(sender="Clínica Añil")
    plain_expected, other_expected = djangos(plain), djangos(other)
    assert backend.send_messages([plain, other]) == 2
    assert backend.connection.sent == [plain_expected, other_expected]
