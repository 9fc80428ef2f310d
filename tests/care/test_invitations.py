"""Invitation links: work once, then never, and not after 72 hours."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.utils import timezone

from care.models import Invitation
from care.services import InvitationInvalid, invitation_accept, invitation_send

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-passphrase"


@pytest.fixture
def invited(patient):
    patient.user.is_active = False
    patient.user.set_unusable_password()
    patient.user.save()
    return patient


def send_link(patient, mailoutbox, *, now=None) -> str:
    invitation = Invitation.objects.create(user=patient.user)
    invitation_send(invitation_id=invitation.id, now=now or timezone.now())
    return re.search(r"http://testserver(/invitation/\S+/)", mailoutbox[-1].body).group(1)


def accept(client, link, password=NEW_PASSWORD):
    return client.post(link, {"password1": password, "password2": password})


def test_an_invitation_link_sets_the_password_activates_and_signs_in(client, invited, mailoutbox):
    link = send_link(invited, mailoutbox)

    form = client.get(link)
    response = accept(client, link)

    invited.user.refresh_from_db()
    assert form.status_code == 200
    assert invited.user.email in form.content.decode()
    assert response.status_code == 302
    assert invited.user.is_active
    assert invited.user.check_password(NEW_PASSWORD)
    assert client.session[SESSION_KEY] == str(invited.user.pk)
    assert client.get("/").headers["Location"] == "/me/"


def test_an_invitation_link_works_only_once(client, invited, mailoutbox):
    link = send_link(invited, mailoutbox)
    accept(client, link)
    client.logout()

    assert client.get(link).status_code == 410
    response = accept(client, link, password="another-passphrase-9")
    invited.user.refresh_from_db()
    assert response.status_code == 410
    assert invited.user.check_password(NEW_PASSWORD)


def test_an_invitation_link_expires_after_72_hours(client, invited, mailoutbox):
    sent = timezone.now()
    link = send_link(invited, mailoutbox, now=sent)

    with time_machine.travel(sent + timedelta(hours=71, minutes=59)):
        assert client.get(link).status_code == 200
    with time_machine.travel(sent + timedelta(hours=72)):
        assert client.get(link).status_code == 410
        assert accept(client, link).status_code == 410
    invited.user.refresh_from_db()
    assert not invited.user.is_active
    assert not invited.user.has_usable_password()


def test_a_new_invitation_revokes_the_earlier_link(client, invited, mailoutbox, clinician):
    from care.services import invitation_create

    first = send_link(invited, mailoutbox)
    invitation_create(user=invited.user, created_by=clinician, now=timezone.now())
    second = send_link(invited, mailoutbox)

    assert client.get(first).status_code == 410
    assert accept(client, second).status_code == 302


def test_an_unknown_token_is_gone(client, db):
    response = client.get("/invitation/made-up-token/")

    assert response.status_code == 410
    assert "no longer works" in response.content.decode()


def test_mismatched_passwords_keep_the_link_usable(client, invited, mailoutbox):
    link = send_link(invited, mailoutbox)

    response = client.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"})

    assert response.status_code == 200
    assert "do not match" in response.content.decode()
    assert accept(client, link).status_code == 302


def test_a_weak_password_is_refused_with_a_reason(client, invited, mailoutbox):
    link = send_link(invited, mailoutbox)

    response = accept(client, link, password="12345")

    assert response.status_code == 200
    assert "too short" in response.content.decode()
    invited.user.refresh_from_db()
    assert not invited.user.is_active


def test_only_the_last_sent_token_works_after_a_retry(client, invited, mailoutbox):
    invitation = Invitation.objects.create(user=invited.user)
    invitation_send(invitation_id=invitation.id, now=timezone.now())
    first = re.search(r"(/invitation/\S+/)", mailoutbox[0].body).group(1)
    invitation_send(invitation_id=invitation.id, now=timezone.now())
    second = re.search(r"(/invitation/\S+/)", mailoutbox[1].body).group(1)

    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_the_service_refuses_a_second_use(invited, mailoutbox):
    link = send_link(invited, mailoutbox)
    token = link.split("/")[2]
    invitation_accept(token=token, password=NEW_PASSWORD, now=timezone.now())

    with pytest.raises(InvitationInvalid):
        invitation_accept(token=token, password="other-passphrase-1", now=timezone.now())


def test_a_revoked_invitation_is_not_sent(invited, mailoutbox):
    invitation = Invitation.objects.create(user=invited.user, revoked_at=timezone.now())

    assert invitation_send(invitation_id=invitation.id, now=timezone.now()) is False
    assert mailoutbox == []


def test_the_activated_patient_can_sign_in_with_email_and_password(client, invited, mailoutbox):
    accept(client, send_link(invited, mailoutbox))
    client.logout()

    response = client.post(
        "/accounts/login/", {"login": invited.user.email.upper(), "password": NEW_PASSWORD}
    )

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(invited.user.pk)
