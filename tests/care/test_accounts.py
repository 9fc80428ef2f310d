"""Sign-in, sign-out and password reset (django-allauth, e-mail as login)."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail

from care.models import Clinic, Patient, StaffMembership, User
from devtools.management.commands.seed_demo import DEMO_PASSWORD
from tests.factories import PASSWORD, totp_code

pytestmark = pytest.mark.django_db


def test_login_page_is_public_and_offers_no_sign_up(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert "sign up" not in response.content.decode().lower()


def test_open_sign_up_is_closed(client):
    client.post(
        "/accounts/signup/",
        {"email": "walk-in@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert not User.objects.filter(email="walk-in@example.org").exists()


def test_staff_sign_in_with_email_password_and_a_code(client, clinician):
    response = client.post("/accounts/login/", {"login": clinician.email, "password": PASSWORD})

    # The password alone does not sign a member of staff in: the code comes next.
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert SESSION_KEY not in client.session
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code()})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(clinician.pk)


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client, clinician):
    response = client.post("/accounts/login/", {"login": clinician.email, "password": "nope"})

    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert "not correct" in response.content.decode()


def test_an_inactive_invited_patient_cannot_sign_in(client, patient):
    patient.user.is_active = False
    patient.user.save()

    client.post("/accounts/login/", {"login": patient.user.email, "password": PASSWORD})

    assert SESSION_KEY not in client.session


def test_a_patient_is_greeted_on_sign_in_by_their_preferred_name(client, patient):
    patient.user.full_name, patient.preferred_name = "Alexandra Moreno", "Alex"
    patient.user.save()
    patient.save()

    client.post("/accounts/login/", {"login": patient.user.email, "password": PASSWORD})
    page = client.get("/me/").content.decode()

    assert "Successfully signed in as Alex." in page
    assert "Alexandra" not in page


def test_sign_out_ends_the_server_side_session(clinician_client):
    old_key = clinician_client.session.session_key

    response = clinician_client.post("/accounts/logout/")

    from django.contrib.sessions.models import Session

    assert response.status_code == 302
    assert not Session.objects.filter(session_key=old_key).exists()
    assert clinician_client.get("/staff/patients/").status_code == 302


def test_password_reset_mails_known_users_and_answers_the_same_for_unknown(
    client, clinician, mailoutbox
):
    known = client.post("/accounts/password/reset/", {"email": clinician.email})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert [m.to for m in mailoutbox if "/accounts/password/reset/key/" in m.body] == [
        [clinician.email]
    ]


def test_seed_demo_creates_one_clinic_with_staff_and_patients_once(client):
    from django.core.management import call_command

    call_command("seed_demo")
    call_command("seed_demo")

    assert Clinic.objects.count() == 1
    roles = sorted(StaffMembership.objects.values_list("role", flat=True))
    assert roles == ["admin", "clinician", "clinician"]
    assert Patient.objects.count() == 5
    for email in ("nurse@demo.example", "alex@demo.example"):
        client.post("/accounts/login/", {"login": email, "password": DEMO_PASSWORD})
        assert client.session[SESSION_KEY] == str(User.objects.get(email=email).pk)
        client.post("/accounts/logout/")


# SpamAssassin's __BITCOIN_ID body pattern (72_active.cf), the part a hex token can meet.
BITCOIN_ID = re.compile(r"\b(?<!=)[13](?:[a-km-zA-HJ-NP-Z1-9]{29,34})\b")


def test_no_reset_link_reads_as_a_bitcoin_address_and_each_still_works(client, clinician):
    """Django's bare token does, about one time in 60 (a flaky spam score); ours never."""
    from django.contrib.auth.tokens import PasswordResetTokenGenerator

    from care.accounts.adapters import ResetTokenGenerator

    ours, django = ResetTokenGenerator(), PasswordResetTokenGenerator()
    user = clinician
    secret = django.secret
    spammy = [
        at
        for at in range(2_000)
        if BITCOIN_ID.search(django._make_token_with_timestamp(user, at, secret))
    ]
    assert spammy  # the fault is real: some of Django's tokens match
    for at in spammy + list(range(200)):
        assert not BITCOIN_ID.search(f"1-{ours._make_token_with_timestamp(user, at, secret)}")

    client.post("/accounts/password/reset/", {"email": user.email})
    link = next(w for w in mail.outbox[-1].body.split() if "/password/reset/key/" in w)
    key = link.rstrip("/").rsplit("/", 1)[-1]
    assert key.split("-")[2].startswith("0")
    response = client.get(link.removeprefix("http://testserver"), follow=True)
    assert response.status_code == 200
    assert "password1" in response.content.decode()  # the form to set a new one, not "bad token"
