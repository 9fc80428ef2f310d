"""The outbox page shows file-written e-mails to the viewer's own clinic only."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.mail import EmailMultiAlternatives

from notifications.outbox import read_outbox

pytestmark = pytest.mark.django_db

OUTBOX_URL = "/staff/outbox/"


@pytest.fixture
def file_mailer(settings, tmp_path):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path)},
        }
    }
    return tmp_path


def send(to, subject, body="Hello & welcome"):
    message = EmailMultiAlternatives(subject, body, "Care Team <care@example.org>", [to])
    message.attach_alternative(f"<p>{body}</p>", "text/html")
    message.send()


def test_outbox_lists_only_mail_to_the_clinics_people(
    file_mailer, clinician_client, patient, foreign_patient
):
    send(patient.user.email, "For our patient")
    send(foreign_patient.user.email, "For another clinic")

    response = clinician_client.get(OUTBOX_URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert "For our patient" in page
    assert "For another clinic" not in page
    assert "Hello &amp; welcome" in page


def test_outbox_is_404_when_mail_really_goes_out(clinician_client):
    # Tests use the in-memory mailer, like any non-file mailer.
    assert clinician_client.get(OUTBOX_URL).status_code == 404


def test_outbox_is_404_for_patients(file_mailer, patient_client):
    assert patient_client.get(OUTBOX_URL).status_code == 404


def test_read_outbox_returns_every_message_of_a_file_newest_first(file_mailer):
    connection_messages = [
        EmailMultiAlternatives(f"Message {n}", "body", "a@example.org", ["b@example.org"])
        for n in (1, 2)
    ]
    from django.core import mail

    mail.mailers.default.send_messages(connection_messages)

    messages = read_outbox(file_mailer)

    assert [m.subject for m in messages] == ["Message 2", "Message 1"]
    assert messages[0].to == ("b@example.org",)
    assert messages[0].text.strip() == "body"
    assert messages[0].sent_at is not None


def test_outbox_pages_through_every_message_newest_first(file_mailer, clinician_client, patient):
    # A second apart, as the Date header counts (the file mailer may reuse a file name
    # within a second, so files' times do not order messages).
    start = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
    for n in range(1, 46):
        with time_machine.travel(start + timedelta(seconds=n), tick=False):
            send(patient.user.email, f"Message number {n:02d}")

    first = clinician_client.get(OUTBOX_URL).content.decode()
    last = clinician_client.get(OUTBOX_URL, {"page": "3"}).content.decode()

    assert "Message number 45" in first and "Message number 26" in first
    assert "Message number 25" not in first
    assert "Page 1 of 3" in first and "page=2" in first
    assert "Message number 05" in last and "Message number 01" in last
    assert "Message number 06" not in last
    assert clinician_client.get(OUTBOX_URL, {"page": "x"}).status_code == 200
