"""The outbox page (demo set-ups only) shows file-written reminders and invitations still
to be used, to the viewer's own clinic only, and never account-security mail."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from django.core.mail import EmailMultiAlternatives
from django.test import Client, RequestFactory
from django.utils import timezone

from care.accounts.services import invitation_accept, invitation_create, invitation_send
from notifications.emails import delivery_message_id
from notifications.outbox import read_outbox

pytestmark = pytest.mark.django_db

OUTBOX_URL = "/staff/outbox/"


@pytest.fixture
def file_mailer(settings, tmp_path):
    settings.DEMO_MODE = True
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path)},
        }
    }
    return tmp_path


def send(to, subject, body="Hello & welcome", *, delivery_id=1):
    """A message as the reminder sender writes it (its Message-ID names the delivery)."""
    message = EmailMultiAlternatives(
        subject,
        body,
        "Care Team <care@example.org>",
        [to],
        headers={"Message-ID": delivery_message_id(delivery_id)},
    )
    message.attach_alternative(f"<p>{body}</p>", "text/html")
    message.send()


def outbox_page(client) -> str:
    response = client.get(OUTBOX_URL)
    assert response.status_code == 200
    return response.content.decode()


def test_outbox_lists_only_mail_to_the_clinics_people(
    file_mailer, clinician_client, patient, foreign_patient
):
    send(patient.user.email, "For our patient", delivery_id=1)
    send(foreign_patient.user.email, "For another clinic", delivery_id=2)

    page = outbox_page(clinician_client)

    assert "For our patient" in page
    assert "For another clinic" not in page
    assert "Hello &amp; welcome" in page


def test_outbox_never_shows_a_password_reset_email(file_mailer, clinician_client, patient):
    Client().post("/accounts/password/reset/", {"email": patient.user.email})
    (written,) = file_mailer.iterdir()
    assert "/accounts/password/reset/key/" in written.read_text()

    page = outbox_page(clinician_client)

    assert "/accounts/password/reset/key/" not in page
    assert patient.user.email not in page


def test_outbox_never_shows_an_email_confirmation(file_mailer, clinician_client, patient):
    address = EmailAddress.objects.create(
        user=patient.user, email="new-address@example.org", verified=False, primary=False
    )
    request = RequestFactory().get("/")
    with allauth_context.request_context(request):
        address.send_confirmation(request)
    patient.user.email = "new-address@example.org"  # the outbox shows mail to the clinic's people
    patient.user.save()

    page = outbox_page(clinician_client)

    assert "new-address@example.org" not in page
    assert "/accounts/confirm-email/" not in page


def test_outbox_shows_an_invitation_until_it_is_used(file_mailer, clinician_client, patient):
    invitation = invitation_create(user=patient.user, created_by=None, now=timezone.now())
    invitation_send(invitation_id=invitation.id, now=timezone.now())
    before = outbox_page(clinician_client)
    token = re.search(r"/invitation/([^/\s]+)/", before).group(1)

    invitation_accept(token=token, password="a-long-new-passphrase", now=timezone.now())
    after = outbox_page(clinician_client)

    assert "Set up your account" in before
    assert "Set up your account" not in after
    assert token not in after


def test_outbox_is_404_without_debug_or_demo_mode(file_mailer, settings, clinician_client):
    settings.DEMO_MODE = False
    settings.DEBUG = False

    assert clinician_client.get(OUTBOX_URL).status_code == 404


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
