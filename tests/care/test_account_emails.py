"""Account e-mails (password reset, address confirmation and every other allauth mail) are
the project's own: text and HTML, the clinic's neutral sender name, a greeting by first name
(never the host name), and Message-IDs under the site's own host name."""

import re
from email.utils import parseaddr
from pathlib import Path

import allauth
import pytest
from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import timezone

from care.accounts.services import invitation_create, invitation_send
from notifications.models import Delivery
from notifications.sending import delivery_send

pytestmark = pytest.mark.django_db

ALLAUTH_TEMPLATES = Path(allauth.__file__).parent / "templates"
# Every e-mail allauth can send with the apps installed here (account, mfa).
ALLAUTH_EMAILS = sorted(
    f"{app}/email/{path.name.removesuffix('_subject.txt')}"
    for app in ("account", "mfa")
    for path in (ALLAUTH_TEMPLATES / app / "email").glob("*_subject.txt")
)
# What any of the stock templates may need.
ALLAUTH_CONTEXT = {
    "password_reset_url": "https://care.example.org/accounts/password/reset/key/x-y/",
    "activate_url": "https://care.example.org/accounts/confirm-email/abc/",
    "key": "abc",
    "code": "ABC123",
    "signup_url": "https://care.example.org/accounts/signup/",
    "from_email": "old@example.org",
    "to_email": "new@example.org",
    "deleted_email": "old@example.org",
    "ip": "203.0.113.5",
    "user_agent": "Mozilla/5.0",
}


def send_allauth_mail(prefix: str, email: str, **context) -> None:
    """Send one allauth e-mail as allauth does (through the configured adapter)."""
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1:8161")
    with allauth_context.request_context(request):
        get_adapter(request).send_mail(
            prefix, email, {**ALLAUTH_CONTEXT, "timestamp": timezone.now(), **context}
        )


def stock_subject(prefix: str, context: dict) -> str:
    return " ".join(render_to_string(f"{prefix}_subject.txt", context).split())


def assert_the_projects_own(message, *, sender_name: str, greeting: str) -> None:
    display_name, _ = parseaddr(message.from_email)
    html = message.alternatives[0].content if message.alternatives else ""
    assert display_name == sender_name
    assert "<html" in html and "</html>" in html
    assert message.body.startswith(greeting), message.body[:40]
    for text in (message.body, html):
        assert "Hello from" not in text and "Thank you for using" not in text
        assert "127.0.0.1:8161" not in text and "testserver!" not in text


def test_the_password_reset_email_is_the_projects_own(patient, mailoutbox):
    patient.clinic.email_sender_name = "Riverside Team"
    patient.clinic.save()

    Client().post("/accounts/password/reset/", {"email": patient.user.email})

    (message,) = mailoutbox
    assert message.subject == "Reset your password"
    assert_the_projects_own(
        message, sender_name="Riverside Team", greeting=f"Hi {patient.preferred_name},"
    )
    link = re.search(r"http://testserver/accounts/password/reset/key/\S+/", message.body)
    assert link and link.group(0) in message.alternatives[0].content


def test_the_email_confirmation_is_the_projects_own(patient, mailoutbox):
    address = EmailAddress.objects.create(
        user=patient.user, email="second@example.org", verified=False, primary=False
    )
    request = RequestFactory().get("/")
    with allauth_context.request_context(request):
        address.send_confirmation(request)

    (message,) = mailoutbox
    assert message.subject == "Confirm your e-mail address"
    assert_the_projects_own(
        message, sender_name="Care Team", greeting=f"Hi {patient.preferred_name},"
    )
    assert "/accounts/confirm-email/" in message.body


@pytest.mark.parametrize("prefix", ALLAUTH_EMAILS)
def test_every_allauth_email_has_the_projects_own_templates(prefix, clinician, mailoutbox):
    send_allauth_mail(prefix, clinician.email)

    (message,) = mailoutbox
    assert message.subject != stock_subject(prefix, {**ALLAUTH_CONTEXT, "email": clinician.email})
    assert_the_projects_own(
        message, sender_name="Care Team", greeting=f"Hi {clinician.get_short_name()},"
    )


def test_an_account_email_to_an_address_without_account_greets_plainly(mailoutbox):
    send_allauth_mail("account/email/unknown_account", "stranger@example.org")

    (message,) = mailoutbox
    assert_the_projects_own(message, sender_name="Care Team", greeting="Hello,")


def test_message_ids_name_the_site_host_not_localhost(patient, settings, mailoutbox):
    settings.SITE_URL = "https://care.example.org"
    settings.DEFAULT_FROM_EMAIL = "care-team@tracker.invalid"
    Client().post("/accounts/password/reset/", {"email": patient.user.email})
    invitation = invitation_create(user=patient.user, created_by=None, now=timezone.now())
    invitation_send(invitation_id=invitation.id, now=timezone.now())
    delivery = Delivery.objects.create(
        kind="checkin_due",
        subject_key=f"patient:{patient.pk}",
        due_at=timezone.now(),
        patient=patient,
        to_email=patient.user.email,
    )
    delivery_send(delivery_id=delivery.id, now=delivery.due_at)

    ids = [message.message()["Message-ID"] for message in mailoutbox]

    assert len(ids) == 3
    assert all(re.fullmatch(r"<[^@<>\s]+@care\.example\.org>", i) for i in ids), ids
