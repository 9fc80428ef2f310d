"""Reminder headers as they go on the wire: one-click unsubscribe (RFC 2369 / 8058) and
List-Id (RFC 2919) written as the RFCs say, checked on the bytes the mailer sends."""

import email.policy
import re
from datetime import UTC, datetime, time
from email import message_from_bytes

import pytest

from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.sending import delivery_send
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NINE_NY = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)  # 09:00 in New York (EDT)


@pytest.fixture
def sent_reminder(clinic, settings, mailoutbox):
    """The daily reminder's e-mail, from a site with a long address (long headers fold)."""
    settings.SITE_URL = "https://care-tracker.riverside-clinic-network.example.org"
    patient = PatientFactory(clinic=clinic, tz="America/New_York", preferred_name="Sam")
    ReminderPreference.objects.create(patient=patient, checkin_time=time(9, 0))
    checkin_reminders_dispatch(now=NINE_NY)
    assert delivery_send(delivery_id=Delivery.objects.get().id, now=NINE_NY) == "sent"
    (message,) = mailoutbox
    return message


def smtp_bytes(message) -> bytes:
    """What Django's SMTP backend hands to the server for this message."""
    return message.message(policy=email.policy.SMTP).as_bytes()


def raw_header(wire: bytes, name: str) -> str:
    """A header's value exactly as written (unfolded), not decoded."""
    head = wire.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = re.sub(r"\r\n(?=[ \t])", "", head)
    values = [
        line.split(":", 1)[1].strip()
        for line in unfolded.split("\r\n")
        if line.lower().startswith(name.lower() + ":")
    ]
    assert len(values) == 1, (name, values)
    return values[0]


def test_list_unsubscribe_goes_out_unencoded_as_an_angle_bracketed_https_uri(sent_reminder):
    wire = smtp_bytes(sent_reminder)

    value = raw_header(wire, "List-Unsubscribe")

    assert "=?" not in value
    assert re.fullmatch(
        r"<https://care-tracker\.riverside-clinic-network\.example\.org/unsubscribe/[^>\s]+/>",
        value,
    ), value
    assert raw_header(wire, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    # Every line within RFC 5322's limit, folded or not.
    assert all(len(line) <= 998 for line in wire.split(b"\r\n"))


def test_the_unsubscribe_uri_on_the_wire_opens_the_unsubscribe_page(sent_reminder, client):
    value = raw_header(smtp_bytes(sent_reminder), "List-Unsubscribe")
    path = re.fullmatch(r"<https://[^/]+(/unsubscribe/[^>]+)>", value).group(1)

    assert "Stop these e-mails?" in client.get(path).content.decode()


def test_reminders_carry_a_list_id_naming_the_site(sent_reminder):
    wire = smtp_bytes(sent_reminder)

    value = raw_header(wire, "List-Id")

    assert "=?" not in value
    assert re.fullmatch(
        r'(?:"?[\w ]+"? )?<[a-z0-9-]+\.reminders\.care-tracker\.riverside-clinic-network'
        r"\.example\.org>",
        value,
    ), value
    # Parsed back, the header is the same text (nothing an RFC 2047 decoder had to undo).
    assert message_from_bytes(wire, policy=email.policy.default)["List-Id"] == value


def test_the_file_mailer_writes_list_unsubscribe_unencoded(sent_reminder, settings, tmp_path):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path)},
        }
    }
    sent_reminder.send()

    (written,) = tmp_path.iterdir()
    wire = written.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

    assert raw_header(wire, "List-Unsubscribe").startswith("<https://care-tracker.")
