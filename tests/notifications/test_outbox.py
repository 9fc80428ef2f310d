"""The outbox page (demo set-ups only) shows file-written reminders and invitations still
to be used, to the viewer's own clinic only, and never account-security mail; and beside
them the reminders texted through the file backend to the clinic's own patients' numbers."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from django.core.mail import EmailMultiAlternatives
from django.test import Client, RequestFactory
from django.utils import timezone

from care.accounts.services import invitation_accept, invitation_create, invitation_send
from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.emails import delivery_message_id
from notifications.models import Delivery, ReminderPreference
from notifications.outbox import read_outbox
from notifications.sending import delivery_send
from notifications.sms import FileBackend, OutgoingText
from notifications.texts import text_link_code
from tests.factories import PatientFactory

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


# Texts (SMS_URL=file://): beside the e-mails, to the clinic's own patients' numbers only.

NINE_NY = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)  # 09:00 in New York (EDT)
MOBILE = "+12125550142"  # "(212) 555-0142" in the United States


@pytest.fixture
def file_texts(settings, tmp_path):
    settings.DEMO_MODE = True
    settings.SMS_URL = f"file://{tmp_path / 'sms'}"
    return tmp_path / "sms"


def texter(clinic, mobile=MOBILE):
    """A patient of `clinic` who takes the daily check-in by text, at 09:00 New York time."""
    patient = PatientFactory(
        clinic=clinic, tz="America/New_York", phone_mobile=mobile, may_text=True
    )
    ReminderPreference.objects.create(
        patient=patient, checkin_time=time(9, 0), text_kinds=["checkin_due"]
    )
    return patient


def text_reminder(patient, *, at=NINE_NY) -> str:
    """Today's check-in reminder texted to `patient` at `at`, as the dispatcher and the
    sender do it; returns its link's code (which the text's words hold)."""
    with time_machine.travel(at, tick=False):
        checkin_reminders_dispatch(now=at)
        delivery = Delivery.objects.get(patient=patient, channel="text", day=at.date())
        assert delivery_send(delivery_id=delivery.id, now=at) == "sent"
    return text_link_code(delivery_id=delivery.id)


def test_outbox_lists_texts_to_the_clinics_patients_only(
    file_mailer, file_texts, clinician_client, clinic, other_clinic
):
    ours = texter(clinic)
    theirs = texter(other_clinic, mobile="+12125550177")
    our_code = text_reminder(ours)
    their_code = text_reminder(theirs)
    assert len(list(file_texts.glob("*.txt"))) == 2  # both were written

    page = outbox_page(clinician_client)

    assert f"/t/{our_code}/" in page and "(212) 555-0142" in page
    assert f"/t/{their_code}/" not in page
    assert "555-0177" not in page and "5550177" not in page


def test_a_number_two_clinics_patients_share_shows_each_clinic_its_own_texts(
    file_texts, clinician_client, clinic, other_clinic
):
    ours = texter(clinic)
    theirs = texter(other_clinic)  # the same number: a family's phone, say
    our_code = text_reminder(ours)
    their_code = text_reminder(theirs, at=NINE_NY + timedelta(minutes=1))

    page = outbox_page(clinician_client)

    assert f"/t/{our_code}/" in page
    assert f"/t/{their_code}/" not in page


def test_an_old_number_of_a_patient_is_no_longer_the_clinics(file_texts, clinician_client, clinic):
    patient = texter(clinic)
    code = text_reminder(patient)
    assert f"/t/{code}/" in outbox_page(clinician_client)

    patient.phone_mobile = "+12125550199"  # the number may now be anyone's
    patient.save()

    assert f"/t/{code}/" not in outbox_page(clinician_client)


def test_a_text_that_names_no_reminder_is_never_shown(file_texts, clinician_client, clinic):
    texter(clinic)  # the number is a patient's of the clinic
    FileBackend(file_texts).send(OutgoingText(to=MOBILE, body="Your sign-in code is 424242"))
    (written,) = file_texts.glob("*.txt")
    assert "424242" in written.read_text()

    page = outbox_page(clinician_client)

    assert "424242" not in page
    assert "No texts yet" in page


def test_a_text_shows_its_time_number_and_words_and_emails_around_it_in_order(
    file_mailer, file_texts, clinician_client, clinic
):
    clinic.tz = "America/New_York"
    clinic.save()
    patient = texter(clinic)
    abroad = texter(clinic, mobile="+447911123456")  # a UK mobile: written internationally
    with time_machine.travel(NINE_NY - timedelta(minutes=1), tick=False):
        send(patient.user.email, "The e-mail before", delivery_id=1)
    code = text_reminder(patient)
    text_reminder(abroad, at=NINE_NY + timedelta(minutes=1))
    with time_machine.travel(NINE_NY + timedelta(minutes=2), tick=False):
        send(patient.user.email, "The e-mail after", delivery_id=2)

    page = outbox_page(clinician_client)

    link = f"http://testserver/t/{code}/"
    # The words, their link clickable, under the number as the clinic's country writes it.
    assert re.search(
        r'<span class="badge badge-text">Text</span> to <strong>\(212\) 555-0142</strong> '
        r'<span class="muted">May 4, 2026, 09:00 EDT</span>',
        page,
    )
    assert f'Care Team: your check-in for today is ready. <a href="{link}"' in page
    assert "Reply STOP to end texts" in page
    assert "+44 7911 123456" in page
    # One list, newest first: e-mails and texts by their time.
    order = [
        page.index(marker)
        for marker in ("The e-mail after", "+44 7911 123456", link, "The e-mail before")
    ]
    assert order == sorted(order)
    assert "e-mails and texts written to files" in page


def test_outbox_shows_texts_alone_when_mail_really_goes_out(file_texts, clinician_client, clinic):
    code = text_reminder(texter(clinic))

    page = outbox_page(clinician_client)  # tests' mail stays in memory: no e-mail outbox

    assert f"/t/{code}/" in page
    assert "texts written to files" in page and "e-mails" not in page
    assert 'href="/staff/outbox/"' in page  # the navigation links to it


def test_the_texts_outbox_is_404_without_debug_or_demo_mode(file_texts, settings, clinician_client):
    settings.DEMO_MODE = False
    settings.DEBUG = False

    assert clinician_client.get(OUTBOX_URL).status_code == 404
