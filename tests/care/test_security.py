"""Sign-in safeguards: the staff second factor, lockout, idle and absolute session limits,
session rotation, and sessions ended by sign-out and password change."""

import re
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from care.accounts.tokens import api_token_issue
from tests.factories import PASSWORD, StaffFactory, give_second_factor, totp_code

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
CODE = "/accounts/2fa/authenticate/"
CASELOAD = "/staff/patients/"


def sign_in(client, user, *, code=None):
    """The real sign-in form; then the code step for users with a second factor."""
    response = client.post(LOGIN, {"login": user.email, "password": PASSWORD})
    if response.status_code == 302 and response["Location"] == CODE:
        response = client.post(CODE, {"code": code or totp_code()})
    return response


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


# The second factor


@pytest.fixture
def newcomer(clinic):
    """A clinician who has not set up a second factor yet."""
    return StaffFactory(clinic=clinic, second_factor=False).user


def test_staff_without_a_second_factor_are_sent_to_set_one_up(client, newcomer, patient):
    sign_in(client, newcomer)

    for url in (CASELOAD, f"/staff/patients/{patient.public_id}/", "/staff/alerts/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("mfa_activate_totp"), url
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    assert patient.user.full_name not in page.content.decode()
    assert "Alerts" not in page.content.decode()  # no clinic navigation yet


def test_staff_without_a_second_factor_get_no_data_from_the_api(client, newcomer):
    sign_in(client, newcomer)

    response = client.get("/api/v1/patients/")

    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"


def test_setting_up_the_second_factor_opens_the_caseload(client, newcomer):
    sign_in(client, newcomer)
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret

    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})

    assert response.status_code == 302
    assert client.get(CASELOAD).status_code == 200


def test_the_requirement_can_be_off_for_local_development(client, newcomer, settings):
    settings.MFA_REQUIRED_FOR_STAFF = False
    sign_in(client, newcomer)

    assert client.get(CASELOAD).status_code == 200


def test_a_wrong_code_does_not_sign_staff_in(client, clinician):
    client.post(LOGIN, {"login": clinician.email, "password": PASSWORD})

    response = client.post(CODE, {"code": "000000" if totp_code() != "000000" else "111111"})

    assert response.status_code == 200
    assert not signed_in(client)


def test_a_code_cannot_be_used_twice(clinician):
    code = totp_code()
    first, second = Client(), Client()

    sign_in(first, clinician, code=code)
    sign_in(second, clinician, code=code)

    assert signed_in(first)
    assert not signed_in(second)


def test_a_recovery_code_signs_in_once(clinician):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    recovery = RecoveryCodes.activate(clinician)
    code = recovery.get_unused_codes()[0]
    first, second = Client(), Client()

    sign_in(first, clinician, code=code)
    sign_in(second, clinician, code=code)

    assert signed_in(first)
    assert not signed_in(second)


def test_staff_cannot_remove_their_second_factor(clinician_client, clinician):
    clinician_client.post(reverse("mfa_deactivate_totp"))

    assert Authenticator.objects.filter(user=clinician, type="totp").exists()


def test_the_django_admin_signs_in_through_the_same_form(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_patients_are_not_forced_but_may_set_up_a_second_factor(patient_client):
    assert patient_client.get("/me/").status_code == 200
    assert patient_client.get(reverse("mfa_activate_totp")).status_code == 200


def test_a_patient_with_a_second_factor_needs_the_code_too(client, patient):
    give_second_factor(patient.user)

    client.post(LOGIN, {"login": patient.user.email, "password": PASSWORD})

    assert not signed_in(client)
    client.post(CODE, {"code": totp_code()})
    assert signed_in(client)


# API tokens and the second factor


def token_request(client, user, **extra):
    body = {"email": user.email, "password": PASSWORD, "name": "phone"} | extra
    return client.post("/api/v1/auth/tokens/", body, content_type="application/json")


def test_staff_need_their_code_to_obtain_a_token(client, clinician):
    without = token_request(client, clinician)
    wrong = token_request(client, clinician, code="000000" if totp_code() != "000000" else "1")
    right = token_request(client, clinician, code=totp_code())

    assert without.status_code == 400 and wrong.status_code == 400
    assert without.json() == wrong.json()  # nothing says which part was wrong
    assert right.status_code == 201


def test_staff_without_a_second_factor_get_no_token(client, newcomer):
    response = token_request(client, newcomer, code="123456")

    assert response.status_code == 400
    assert "code" in response.json()["errors"]


def test_patients_without_a_second_factor_obtain_a_token_with_the_password(client, patient):
    assert token_request(client, patient.user).status_code == 201


# Lockout


def failed(client, login, address="10.0.0.1"):
    return client.post(LOGIN, {"login": login, "password": "wrong"}, REMOTE_ADDR=address)


def test_the_lockout_looks_the_same_for_unknown_accounts(client, patient):
    for _ in range(5):
        failed(client, patient.user.email, address="10.0.0.1")
        failed(client, "nobody@example.org", address="10.0.0.2")

    known = failed(client, patient.user.email, address="10.0.0.1")
    unknown = failed(client, "nobody@example.org", address="10.0.0.2")

    assert known.status_code == unknown.status_code == 429
    assert known.content == unknown.content


def test_the_lockout_ends_after_the_cool_off(client, patient):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            failed(client, patient.user.email)

    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        response = client.post(
            LOGIN, {"login": patient.user.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
        )

    assert response.status_code == 302
    assert signed_in(client)


def test_a_successful_sign_in_resets_the_count(client, patient):
    for _ in range(4):
        failed(client, patient.user.email)
    client.post(LOGIN, {"login": patient.user.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    client.post("/accounts/logout/")

    for _ in range(4):
        failed(client, patient.user.email)
    client.post(LOGIN, {"login": patient.user.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")

    assert signed_in(client)


def test_token_requests_count_towards_the_lockout_and_answer_in_json(client, patient):
    for _ in range(5):
        token_request(client, patient.user, password="wrong")

    response = token_request(client, patient.user)

    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"


# Sessions


def at(start, **delta):
    return time_machine.travel(start + timedelta(**delta), tick=False)


def test_staff_are_signed_out_after_15_idle_minutes(client, clinician):
    start = timezone.now()
    with at(start):
        sign_in(client, clinician)
    with at(start, minutes=14):
        assert client.get(CASELOAD).status_code == 200
    with at(start, minutes=28):  # 14 minutes after the last request: still fine
        assert client.get(CASELOAD).status_code == 200
    with at(start, minutes=44):
        response = client.get(CASELOAD)
        login_page = client.get(response["Location"])

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not signed_in(client)
    assert "signed out after a time without activity" in login_page.content.decode()


def test_patients_are_signed_out_after_30_idle_minutes(client, patient):
    start = timezone.now()
    with at(start):
        sign_in(client, patient.user)
    with at(start, minutes=29):
        assert client.get("/me/").status_code == 200
    with at(start, minutes=60):
        response = client.get("/me/")

    assert response.status_code == 302
    assert not signed_in(client)


def test_an_idle_api_session_gets_a_json_401(client, patient):
    start = timezone.now()
    with at(start):
        sign_in(client, patient.user)
    with at(start, minutes=31):
        response = client.get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"


def test_sessions_end_12_hours_after_sign_in_however_active(client, patient):
    start = timezone.now()
    with at(start):
        sign_in(client, patient.user)
    for minutes in range(20, 12 * 60, 20):
        with at(start, minutes=minutes):
            assert client.get("/me/").status_code == 200, minutes
    with at(start, hours=12, minutes=1):
        response = client.get("/me/")

    assert response.status_code == 302
    assert not signed_in(client)


def test_signing_in_gives_a_new_session_key(client, patient):
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key

    sign_in(client, patient.user)

    assert signed_in(client)
    assert client.session.session_key != before


def test_an_old_session_cookie_is_dead_after_sign_out(client, patient, settings):
    sign_in(client, patient.user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post("/accounts/logout/")

    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = replay.get("/me/")

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_a_password_change_ends_the_other_sessions(patient):
    here, elsewhere = Client(), Client()
    sign_in(here, patient.user)
    sign_in(elsewhere, patient.user)
    new = "a-different-long-passphrase"

    response = here.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )

    assert response.status_code == 302
    assert here.get("/me/").status_code == 200
    assert elsewhere.get("/me/").status_code == 302


def test_a_password_change_also_ends_api_tokens(client, patient):
    issued = api_token_issue(user=patient.user, name="phone", days=30, now=timezone.now())
    sign_in(client, patient.user)
    new = "a-different-long-passphrase"

    client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )

    response = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    assert response.status_code == 401


def test_resetting_the_password_lifts_the_lockout(client, patient, mailoutbox):
    for _ in range(5):
        failed(client, patient.user.email, address="127.0.0.1")
    locked = client.post(LOGIN, {"login": patient.user.email, "password": PASSWORD})
    assert locked.status_code == 429
    client.post("/accounts/password/reset/", {"email": patient.user.email})
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mailoutbox[-1].body)
    form = client.get(link.group(1), follow=True)
    new = "a-brand-new-long-passphrase"

    done = client.post(form.redirect_chain[-1][0], {"password1": new, "password2": new})
    signed = client.post(LOGIN, {"login": patient.user.email, "password": new})

    assert done.status_code == 302
    assert signed.status_code == 302
    assert signed_in(client)


def test_behind_a_proxy_the_lockout_counts_the_client_address(client, patient, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for n in range(5):
        client.post(
            LOGIN,
            {"login": f"guess{n}@example.org", "password": "wrong"},
            REMOTE_ADDR="10.0.0.254",  # the proxy
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )

    other_client = client.post(
        LOGIN,
        {"login": patient.user.email, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.254",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )

    assert other_client.status_code == 302  # another person behind the same proxy
    assert signed_in(client)
