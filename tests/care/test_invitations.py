"""Invitation links: work once, then never, and not after 72 hours."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from care.accounts.services import (
    InvitationInvalid,
    invitation_accept,
    invitation_create,
    invitation_send,
)
from care.models import Invitation

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-passphrase"
ACCEPT_URL = "/invitation/"


@pytest.fixture
def invited(patient):
    patient.user.is_active = False
    patient.user.set_unusable_password()
    patient.user.save()
    return patient


def send_link(user, mailoutbox, *, now=None) -> str:
    """Issue an invitation through the service and return the path e-mailed."""
    now = now or timezone.now()
    invitation_create(user=user, created_by=None, now=now)
    invitation = user.invitations.get(revoked_at__isnull=True, used_at__isnull=True)
    invitation_send(invitation_id=invitation.id, now=now)
    return re.search(r"http://testserver(/invitation/\S+/)", mailoutbox[-1].body).group(1)


def accept(client, link, password=NEW_PASSWORD):
    client.get(link)
    return client.post(ACCEPT_URL, {"password1": password, "password2": password})


def test_an_invitation_link_sets_the_password_activates_and_signs_in(client, invited, mailoutbox):
    link = send_link(invited.user, mailoutbox)

    opened = client.get(link)
    form = client.get(opened["Location"])
    response = client.post(ACCEPT_URL, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    invited.user.refresh_from_db()
    assert opened.status_code == 302 and opened["Location"] == ACCEPT_URL
    assert form.status_code == 200
    assert invited.user.email in form.content.decode()
    assert response.status_code == 302
    assert invited.user.is_active
    assert invited.user.check_password(NEW_PASSWORD)
    assert client.session[SESSION_KEY] == str(invited.user.pk)
    assert "invitation_token" not in client.session
    assert client.get("/").headers["Location"] == "/me/"


def test_an_invitation_link_works_only_once(client, invited, mailoutbox):
    link = send_link(invited.user, mailoutbox)
    accept(client, link)
    client.logout()

    client.get(link)
    assert client.get(ACCEPT_URL).status_code == 410
    response = accept(client, link, password="another-passphrase-9")
    invited.user.refresh_from_db()
    assert response.status_code == 410
    assert invited.user.check_password(NEW_PASSWORD)


def test_an_invitation_link_expires_after_72_hours(client, invited, mailoutbox):
    sent = timezone.now()
    link = send_link(invited.user, mailoutbox, now=sent)

    with time_machine.travel(sent + timedelta(hours=71, minutes=59)):
        client.get(link)
        assert client.get(ACCEPT_URL).status_code == 200
    with time_machine.travel(sent + timedelta(hours=72)):
        assert client.get(ACCEPT_URL).status_code == 410
        assert accept(client, link).status_code == 410
    invited.user.refresh_from_db()
    assert not invited.user.is_active
    assert not invited.user.has_usable_password()


def test_a_new_invitation_revokes_the_earlier_link(invited, mailoutbox):
    first = send_link(invited.user, mailoutbox)
    second = send_link(invited.user, mailoutbox)

    assert accept(Client(), first).status_code == 410
    assert accept(Client(), second).status_code == 302


def test_using_one_link_closes_every_other_open_link(invited, mailoutbox):
    first = send_link(invited.user, mailoutbox)
    # A second invitation created behind the service's back (e.g. a race) is still closed.
    other = Invitation.objects.create(user=invited.user)
    invitation_send(invitation_id=other.id, now=timezone.now())
    second = re.search(r"(/invitation/\S+/)", mailoutbox[-1].body).group(1)

    assert accept(Client(), second).status_code == 302
    assert accept(Client(), first, password="an-attackers-passphrase").status_code == 410
    invited.user.refresh_from_db()
    assert invited.user.check_password(NEW_PASSWORD)


def test_an_unknown_token_is_gone_and_never_in_the_logged_address(client, db):
    opened = client.get("/invitation/made-up-token/")
    response = client.get(opened["Location"])

    assert opened.status_code == 302
    assert response.status_code == 410
    assert response.request["PATH_INFO"] == ACCEPT_URL
    assert "no longer works" in response.content.decode()


def test_without_a_link_the_accept_page_is_gone(client, db):
    assert client.get(ACCEPT_URL).status_code == 410


def test_mismatched_passwords_keep_the_link_usable(client, invited, mailoutbox):
    link = send_link(invited.user, mailoutbox)
    client.get(link)

    response = client.post(ACCEPT_URL, {"password1": NEW_PASSWORD, "password2": "other-9x"})

    assert response.status_code == 200
    assert "do not match" in response.content.decode()
    assert accept(client, link).status_code == 302


def test_a_weak_password_is_refused_with_a_reason(client, invited, mailoutbox):
    link = send_link(invited.user, mailoutbox)

    response = accept(client, link, password="12345")

    assert response.status_code == 200
    assert "too short" in response.content.decode()
    invited.user.refresh_from_db()
    assert not invited.user.is_active


def test_only_the_last_sent_token_works_after_a_retry(invited, mailoutbox):
    invitation = Invitation.objects.create(user=invited.user)
    invitation_send(invitation_id=invitation.id, now=timezone.now())
    first = re.search(r"(/invitation/\S+/)", mailoutbox[0].body).group(1)
    invitation_send(invitation_id=invitation.id, now=timezone.now())
    second = re.search(r"(/invitation/\S+/)", mailoutbox[1].body).group(1)

    assert accept(Client(), first).status_code == 410
    assert accept(Client(), second).status_code == 302


def test_sent_at_is_recorded_only_when_the_mail_server_took_the_message(invited, monkeypatch):
    from smtplib import SMTPServerDisconnected

    from django.core.mail import EmailMultiAlternatives

    def refuse(self):
        raise SMTPServerDisconnected("gone")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    invitation = Invitation.objects.create(user=invited.user)

    with pytest.raises(SMTPServerDisconnected):
        invitation_send(invitation_id=invitation.id, now=timezone.now())

    invitation.refresh_from_db()
    assert invitation.sent_at is None


def test_the_service_refuses_a_second_use(invited, mailoutbox):
    invitation = Invitation.objects.create(user=invited.user)
    invitation_send(invitation_id=invitation.id, now=timezone.now())
    token = re.search(r"/invitation/(\S+)/", mailoutbox[0].body).group(1)
    invitation_accept(token=token, password=NEW_PASSWORD, now=timezone.now())

    with pytest.raises(InvitationInvalid):
        invitation_accept(token=token, password="other-passphrase-1", now=timezone.now())


def test_a_revoked_invitation_is_not_sent(invited, mailoutbox):
    invitation = Invitation.objects.create(user=invited.user, revoked_at=timezone.now())

    assert invitation_send(invitation_id=invitation.id, now=timezone.now()) is False
    assert mailoutbox == []


def test_an_invitation_for_an_account_without_a_clinic_is_not_sent(mailoutbox):
    from tests.factories import UserFactory

    invitation = Invitation.objects.create(user=UserFactory())

    assert invitation_send(invitation_id=invitation.id, now=timezone.now()) is False
    assert mailoutbox == []


def test_the_plain_text_email_is_not_html_escaped(invited, mailoutbox):
    invited.preferred_name = "O'Neil & Zoë"
    invited.save()

    send_link(invited.user, mailoutbox)

    assert "Hi O'Neil & Zoë," in mailoutbox[0].body
    assert "Hi O&#x27;Neil &amp; Zoë," in mailoutbox[0].alternatives[0].content


def test_the_activated_patient_can_sign_in_with_email_and_password(client, invited, mailoutbox):
    accept(client, send_link(invited.user, mailoutbox))
    client.logout()

    response = client.post(
        "/accounts/login/", {"login": invited.user.email.upper(), "password": NEW_PASSWORD}
    )

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(invited.user.pk)
