"""Sign-in limits driven through allauth's real views: wrong second-factor codes (TOTP and
recovery codes, on the page and for API tokens), the lockout of an (account, address) pair,
the per-address limit, and the client address behind a proxy."""

import runpy
from pathlib import Path

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib.auth import SESSION_KEY
from django.test import Client

import tracker.settings
from care.models import AuditEvent
from tests.factories import PASSWORD, PatientFactory, totp_code

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
CODE = "/accounts/2fa/authenticate/"
TOKENS = "/api/v1/auth/tokens/"


def wrong_code() -> str:
    return "000000" if totp_code() != "000000" else "111111"


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


def password_step(client, user, address="10.0.0.1", **extra):
    return client.post(
        LOGIN, {"login": user.email, "password": PASSWORD}, REMOTE_ADDR=address, **extra
    )


def code_step(client, code, address="10.0.0.1"):
    return client.post(CODE, {"code": code}, REMOTE_ADDR=address)


def wrong_password(client, login, address="10.0.0.1", **extra):
    return client.post(LOGIN, {"login": login, "password": "wrong"}, REMOTE_ADDR=address, **extra)


def token_request(client, user, address="10.0.0.1", **extra):
    body = {"email": user.email, "password": PASSWORD, "name": "phone"} | extra
    return client.post(TOKENS, body, content_type="application/json", REMOTE_ADDR=address)


# Item 5: wrong codes are counted, end the half-signed-in stage, lock out and are audited


def test_the_half_signed_in_stage_ends_after_three_wrong_codes(client, clinician):
    assert password_step(client, clinician)["Location"] == CODE
    for _ in range(3):
        code_step(client, wrong_code())

    response = code_step(client, totp_code())

    assert response.status_code == 302
    assert response["Location"] == LOGIN  # back to the password
    assert not signed_in(client)


def test_wrong_codes_from_many_addresses_lock_the_second_step_of_that_account(client, clinician):
    # Five wrong codes, from five addresses, each after the right password.
    for n in range(5):
        password_step(client, clinician, address=f"10.0.1.{n}")
        code_step(client, wrong_code(), address=f"10.0.1.{n}")

    password_step(client, clinician, address="10.0.2.1")
    response = code_step(client, totp_code(), address="10.0.2.1")

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert not signed_in(client)


def test_wrong_recovery_codes_count_towards_the_same_lockout(client, clinician):
    recovery = RecoveryCodes.activate(clinician).get_unused_codes()[0]
    for n in range(5):
        password_step(client, clinician, address=f"10.0.3.{n}")
        code_step(client, "12345678" if recovery != "12345678" else "87654321", f"10.0.3.{n}")

    password_step(client, clinician, address="10.0.4.1")
    response = code_step(client, recovery, address="10.0.4.1")

    assert response.status_code == 429
    assert not signed_in(client)


def test_every_wrong_code_is_in_the_audit_trail(client, clinician):
    password_step(client, clinician)
    code_step(client, wrong_code())
    code_step(client, "not a code")

    events = AuditEvent.objects.filter(action=AuditEvent.Action.SECOND_FACTOR_FAILED)
    assert events.count() == 2
    event = events.first()
    assert (event.actor, event.actor_email, event.object_id) == (
        None,
        clinician.email,
        str(clinician.pk),
    )
    assert event.ip == "10.0.0.1"
    assert event.clinic_id == clinician.staff_membership.clinic_id


def test_wrong_codes_for_an_api_token_lock_out_and_are_audited(client, clinician):
    for n in range(5):
        token_request(client, clinician, address=f"10.0.5.{n}", code=wrong_code())

    response = token_request(client, clinician, address="10.0.6.1", code=totp_code())

    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.SECOND_FACTOR_FAILED, object_id=str(clinician.pk)
        ).count()
        == 5
    )


def test_a_wrong_code_on_the_page_counts_for_the_api_too(client, clinician):
    for n in range(5):
        password_step(client, clinician, address=f"10.0.7.{n}")
        code_step(client, wrong_code(), address=f"10.0.7.{n}")

    response = token_request(Client(), clinician, address="10.0.8.1", code=totp_code())

    assert response.status_code == 429


def test_the_right_code_after_a_few_wrong_ones_still_signs_in(client, clinician):
    password_step(client, clinician)
    code_step(client, wrong_code())
    code_step(client, wrong_code())

    code_step(client, totp_code())

    assert signed_in(client)


# Item 7: the lockout is per (account, address); the per-address limit suits a shared NAT


def test_bad_passwords_from_one_address_do_not_lock_the_account_elsewhere(client, clinician):
    for _ in range(10):
        wrong_password(Client(), clinician.email, address="203.0.113.66")

    password_step(client, clinician, address="198.51.100.7")
    code_step(client, totp_code(), address="198.51.100.7")

    assert signed_in(client)


def test_the_account_is_locked_from_the_address_that_failed(client, patient):
    for _ in range(5):
        wrong_password(client, patient.user.email, address="203.0.113.66")

    response = password_step(client, patient.user, address="203.0.113.66")

    assert response.status_code == 429
    assert not signed_in(client)


def test_failures_behind_a_shared_address_do_not_lock_out_the_others(client, patient, clinic):
    for n in range(10):
        wrong_password(Client(), f"guess{n}@example.org", address="192.0.2.10")
        wrong_password(Client(), patient.user.email, address="192.0.2.10")
    colleague = PatientFactory(clinic=clinic).user

    response = password_step(client, colleague, address="192.0.2.10")

    assert response.status_code == 302
    assert signed_in(client)


def test_an_address_is_paused_after_many_failures_across_accounts(client, patient, settings):
    for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        wrong_password(Client(), f"guess{n}@example.org", address="192.0.2.99")

    here = password_step(client, patient.user, address="192.0.2.99")
    elsewhere = password_step(Client(), patient.user, address="192.0.2.100")

    assert here.status_code == 429
    assert elsewhere.status_code == 302


# Item 6: behind a proxy, allauth's own limits count the client, not the proxy


def settings_from_environment(monkeypatch, **environment) -> dict:
    """The settings module's values for this environment (run afresh)."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(tracker.settings.__file__)))


def test_behind_a_proxy_one_client_cannot_use_up_everyones_sign_ins(
    client, patient, settings, monkeypatch
):
    behind_one_proxy = settings_from_environment(monkeypatch, NUM_PROXIES="1")
    settings.REST_FRAMEWORK = behind_one_proxy["REST_FRAMEWORK"]
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = behind_one_proxy.get("ALLAUTH_TRUSTED_PROXY_COUNT", 0)
    attacker = Client()
    answers = [
        wrong_password(
            attacker,
            f"guess{n}@example.org",
            "10.0.0.254",  # the proxy
            # A forged chain: the left entries are the client's own; the proxy appends
            # the address it saw.
            HTTP_X_FORWARDED_FOR=f"6.6.{n}.6, 203.0.113.9",
        ).status_code
        for n in range(40)
    ]

    response = client.post(
        LOGIN,
        {"login": patient.user.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
        REMOTE_ADDR="10.0.0.254",
    )

    assert 429 in answers  # the forged entries did not give the attacker fresh addresses
    assert response.status_code == 302
    assert signed_in(client)


# Issue 17, item D: the lockout page is true for every kind of lock


def lockout_page_text(response) -> str:
    """The page's own words (its <main>), without the per-response nonce and token."""
    body = response.content.decode()
    return body[body.index("<main") : body.index("</main>")]


def test_the_lockout_page_says_the_same_true_thing_for_every_kind_of_lock(
    client, patient, settings
):
    # Below allauth's own 30 sign-ins a minute from an address, which answer 429 first.
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 8
    for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        wrong_password(Client(), f"guess{n}@example.org", address="192.0.2.50")
    for _ in range(5):
        wrong_password(Client(), patient.user.email, address="192.0.2.51")
        wrong_password(Client(), "nobody@example.org", address="192.0.2.52")

    address_lock = password_step(Client(), patient.user, address="192.0.2.50")
    account_lock = password_step(Client(), patient.user, address="192.0.2.51")
    no_account = wrong_password(Client(), "nobody@example.org", address="192.0.2.52")

    assert [address_lock.status_code, account_lock.status_code, no_account.status_code] == [
        429,
        429,
        429,
    ]
    # One text, whatever the kind of lock and whether the account exists...
    text = lockout_page_text(address_lock)
    assert lockout_page_text(account_lock) == text == lockout_page_text(no_account)
    # ...and it promises nothing a password reset does not do for an address's lock.
    assert "Wait 15 minutes" in text
    assert "at once" not in text
    assert "once it is reset" not in text


# Issue 17, item B: a short X-Forwarded-For is bad input, not a server error


def behind_two_proxies(settings, monkeypatch) -> None:
    two = settings_from_environment(monkeypatch, NUM_PROXIES="2")
    settings.REST_FRAMEWORK = two["REST_FRAMEWORK"]
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = two["ALLAUTH_TRUSTED_PROXY_COUNT"]


@pytest.mark.parametrize(
    ("forwarded", "audited"),
    [
        ("198.51.100.7", "198.51.100.7"),
        (" ", "10.0.0.254"),  # no address: the request came to the proxy in front of us
        ("", "10.0.0.254"),
        ("not-an-address", None),  # the audit trail keeps only addresses
    ],
    ids=["one", "blank", "empty", "garbage"],
)
def test_fewer_forwarded_addresses_than_proxies_still_sign_in(
    client, patient, settings, monkeypatch, forwarded, audited
):
    behind_two_proxies(settings, monkeypatch)

    page = client.get(LOGIN, HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.254")
    response = password_step(
        client, patient.user, address="10.0.0.254", HTTP_X_FORWARDED_FOR=forwarded
    )

    assert page.status_code == 200
    assert response.status_code == 302
    assert signed_in(client)
    login = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN)
    assert login.ip == audited


def test_with_a_short_forwarded_header_the_limits_count_the_address_it_names(
    client, patient, settings, monkeypatch
):
    behind_two_proxies(settings, monkeypatch)
    proxy = {"address": "10.0.0.254"}
    # allauth's 30 sign-ins a minute, used up by one client (other accounts each time)...
    answers = [
        wrong_password(
            Client(), f"guess{n}@example.org", **proxy, HTTP_X_FORWARDED_FOR="203.0.113.9"
        ).status_code
        for n in range(31)
    ]
    # ...and django-axes' five wrong passwords for one account from that client.
    for _ in range(5):
        wrong_password(Client(), patient.user.email, **proxy, HTTP_X_FORWARDED_FOR="192.0.2.9")

    that_client = password_step(Client(), patient.user, **proxy, HTTP_X_FORWARDED_FOR="192.0.2.9")
    another = password_step(client, patient.user, **proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert answers[:30] == [200] * 30 and answers[30] == 429
    assert that_client.status_code == 429
    assert another.status_code == 302


# Issue 17, item A: a code sent while the codes are locked is audited too


def lock_the_codes(client, user) -> None:
    for n in range(5):
        password_step(client, user, address=f"10.0.9.{n}")
        code_step(client, wrong_code(), address=f"10.0.9.{n}")


def refusals(user):
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.SECOND_FACTOR_REFUSED, object_id=str(user.pk)
    )


def test_a_code_sent_while_the_codes_are_locked_is_audited_as_refused(client, clinician):
    lock_the_codes(Client(), clinician)
    password_step(client, clinician, address="198.51.100.20")

    right = code_step(client, totp_code(), address="198.51.100.20")
    wrong = code_step(client, wrong_code(), address="198.51.100.20")

    assert (right.status_code, wrong.status_code) == (429, 429)
    assert refusals(clinician).count() == 2
    event = refusals(clinician).first()
    assert (event.actor, event.actor_email, event.ip, event.clinic_id) == (
        None,
        clinician.email,
        "198.51.100.20",
        clinician.staff_membership.clinic_id,
    )
    assert event.get_action_display() == "Sign-in code refused (locked out)"
    # Refusals are not wrong codes: they neither count nor read as such.
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SECOND_FACTOR_FAILED).count() == 5


def test_a_token_code_sent_while_the_codes_are_locked_is_audited_as_refused(client, clinician):
    lock_the_codes(Client(), clinician)

    with_code = token_request(client, clinician, address="198.51.100.21", code=totp_code())

    assert with_code.status_code == 429
    assert list(refusals(clinician).values_list("ip", "channel")) == [("198.51.100.21", "api")]


# Issue 17, item C: a recovery code gets an API token (a phone lost), once


def test_a_recovery_code_gets_an_api_token_once(client, clinician):
    recovery = RecoveryCodes.activate(clinician).get_unused_codes()[0]

    first = token_request(client, clinician, code=recovery)
    again = token_request(Client(), clinician, code=recovery)

    assert first.status_code == 201
    assert again.status_code == 400
    assert recovery not in RecoveryCodes.activate(clinician).get_unused_codes()
    # The second use is a wrong code: counted and audited like any other.
    assert list(
        AuditEvent.objects.filter(action=AuditEvent.Action.SECOND_FACTOR_FAILED).values_list(
            "object_id", "channel"
        )
    ) == [(str(clinician.pk), "api")]


def test_a_recovery_code_for_an_api_token_is_refused_and_kept_while_locked(client, clinician):
    recovery = RecoveryCodes.activate(clinician).get_unused_codes()[0]
    lock_the_codes(Client(), clinician)

    response = token_request(client, clinician, address="198.51.100.22", code=recovery)

    assert response.status_code == 429
    assert recovery in RecoveryCodes.activate(clinician).get_unused_codes()
    assert refusals(clinician).count() == 1
