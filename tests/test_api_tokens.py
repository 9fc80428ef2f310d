"""API bearer tokens: issue, use, expiry and revocation, scope of access, CSRF, throttling."""

import copy
import hashlib
import logging
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from care.accounts.tokens import api_token_issue, api_token_revoke
from care.models import ApiToken
from tests.factories import PASSWORD, checkin_body

pytestmark = pytest.mark.django_db

TOKENS_URL = "/api/v1/auth/tokens/"
ERROR_KEYS = {"status", "code", "detail", "errors"}


def throttle_rates(settings, **rates):
    """Set some API rate limits (a copy of REST_FRAMEWORK, so other tests see the real one)."""
    rest = copy.deepcopy(django_settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], **rates}
    settings.REST_FRAMEWORK = rest


def issue(client, email, password=PASSWORD, meta=None, **fields):
    """POST for a token; `meta` are request headers / WSGI variables (e.g. REMOTE_ADDR)."""
    body = {"email": email, "password": password, "name": "Phone"} | fields
    return client.post(TOKENS_URL, body, content_type="application/json", **(meta or {}))


def new_token(user, days=30, name="Phone"):
    """A token's secret, issued directly by the service."""
    return api_token_issue(user=user, name=name, days=days, now=timezone.now()).secret


def bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def assert_refused(response):
    assert response.status_code == 401
    assert set(response.json()) == ERROR_KEYS
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


# Issuing


def test_right_credentials_issue_a_token_that_then_authenticates(client, patient):
    response = issue(client, patient.user.email)

    secret = response.json()["token"]
    assert response.status_code == 201
    assert secret.startswith("ktk_")
    me = Client().get("/api/v1/me/", **bearer(secret))
    assert me.status_code == 200
    assert me.json()["role"] == "patient"
    assert me.json()["email"] == patient.user.email


def test_only_the_sha256_of_the_secret_is_stored(client, patient):
    response = issue(client, patient.user.email)

    secret = response.json()["token"]
    stored = ApiToken.objects.get(user=patient.user)
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.key_hash != secret
    row = ApiToken.objects.filter(pk=stored.pk).values().get()
    assert all(secret not in str(value) for value in row.values())


def test_the_issued_token_is_described_in_the_response(client, patient):
    response = issue(client, patient.user.email, name="My phone", days=7)

    body = response.json()
    stored = ApiToken.objects.get(user=patient.user)
    assert body["id"] == str(stored.public_id)
    assert (body["name"], body["active"], body["revoked_at"]) == ("My phone", True, None)
    assert body["prefix"] == body["token"][:12]
    assert stored.expires_at - stored.created_at == timedelta(days=7)


def test_a_wrong_password_and_an_unknown_email_get_the_same_400(client, patient):
    wrong_password = issue(client, patient.user.email, password="not-the-password")
    unknown_email = issue(client, "nobody-here@example.org")

    assert wrong_password.status_code == unknown_email.status_code == 400
    assert wrong_password.json() == unknown_email.json()
    assert set(wrong_password.json()) == ERROR_KEYS
    assert "token" not in wrong_password.json()
    assert not ApiToken.objects.exists()


def test_the_email_is_matched_whatever_its_case(client, patient):
    response = issue(client, patient.user.email.upper())

    assert response.status_code == 201


def test_an_inactive_user_gets_no_token(client, patient):
    patient.user.is_active = False
    patient.user.save()

    response = issue(client, patient.user.email)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("days", [0, -1, 91, 365, "many"])
def test_a_lifetime_outside_1_to_90_days_gets_a_400_naming_days(client, patient, days):
    response = issue(client, patient.user.email, days=days)

    assert response.status_code == 400
    assert "days" in response.json()["errors"]
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("days", [1, 90])
def test_a_lifetime_of_1_or_90_days_is_accepted(client, patient, days):
    response = issue(client, patient.user.email, days=days)

    stored = ApiToken.objects.get(user=patient.user)
    assert response.status_code == 201
    assert stored.expires_at - stored.created_at == timedelta(days=days)


# Using


def test_using_a_token_records_when_it_was_last_used(patient):
    secret = new_token(patient.user)
    assert ApiToken.objects.get().last_used_at is None

    before = timezone.now()
    response = Client().get("/api/v1/me/", **bearer(secret))

    assert response.status_code == 200
    assert ApiToken.objects.get().last_used_at >= before


def test_last_used_is_written_at_most_every_five_minutes(patient):
    secret = new_token(patient.user)
    start = timezone.now().replace(microsecond=0) + timedelta(minutes=1)
    client = Client()

    with time_machine.travel(start, tick=False):
        client.get("/api/v1/me/", **bearer(secret))
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        client.get("/api/v1/me/", **bearer(secret))
    soon_after = ApiToken.objects.get().last_used_at
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        client.get("/api/v1/me/", **bearer(secret))

    assert soon_after == start
    assert ApiToken.objects.get().last_used_at == start + timedelta(minutes=6)


def test_an_expired_token_is_refused(patient):
    secret = new_token(patient.user, days=1)
    expires_at = ApiToken.objects.get().expires_at

    with time_machine.travel(expires_at + timedelta(seconds=1), tick=False):
        response = Client().get("/api/v1/me/", **bearer(secret))

    assert_refused(response)


def test_a_token_still_works_just_before_it_expires(patient):
    secret = new_token(patient.user, days=1)
    expires_at = ApiToken.objects.get().expires_at

    with time_machine.travel(expires_at - timedelta(seconds=1), tick=False):
        response = Client().get("/api/v1/me/", **bearer(secret))

    assert response.status_code == 200


def test_a_revoked_token_is_refused(patient):
    secret = new_token(patient.user)
    api_token_revoke(token=ApiToken.objects.get(), now=timezone.now())

    assert_refused(Client().get("/api/v1/me/", **bearer(secret)))


def test_a_token_of_a_deactivated_user_is_refused(patient):
    secret = new_token(patient.user)
    patient.user.is_active = False
    patient.user.save()

    assert_refused(Client().get("/api/v1/me/", **bearer(secret)))


def test_an_unknown_token_is_refused(patient):
    new_token(patient.user)

    assert_refused(Client().get("/api/v1/me/", **bearer("ktk_" + "x" * 43)))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "bearer ktk_a ktk_b",
        "Bearer not-a-ktk-token",
        "Bearer ktk_" + "a" * 200,
        # Non-ASCII bytes reach Django as latin-1 decoded text (PEP 3333).
        "Bearer ktk_\xe9\xe8",
        "Bearer " + "ktk_✓".encode().decode("latin-1"),
    ],
)
def test_a_malformed_bearer_header_gets_a_401_not_a_500(patient, header):
    new_token(patient.user)

    response = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=header)

    assert_refused(response)


def test_an_api_call_without_credentials_gets_a_401_asking_for_a_bearer_token(client):
    response = client.get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


# What a token may reach


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/patients/",
        "/api/v1/patients/{own}/trends/",
        "/api/v1/patients/{own}/fhir/",
        "/api/v1/sessions/",
        "/api/v1/alerts/",
    ],
)
def test_a_patient_token_gets_404_on_staff_endpoints(patient, url):
    secret = new_token(patient.user)

    response = Client().get(url.format(own=patient.public_id), **bearer(secret))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_clinician_token_reads_the_caseload(clinician, patient, foreign_patient):
    secret = new_token(clinician)

    response = Client().get("/api/v1/patients/", **bearer(secret))

    ids = [row["id"] for row in response.json()["results"]]
    assert response.status_code == 200
    assert ids == [str(patient.public_id)]


def test_a_clinician_token_reads_own_clinic_trends_but_not_another_clinics(
    clinician, patient, foreign_patient
):
    secret = new_token(clinician)
    client = Client()

    own = client.get(f"/api/v1/patients/{patient.public_id}/trends/", **bearer(secret))
    foreign = client.get(f"/api/v1/patients/{foreign_patient.public_id}/trends/", **bearer(secret))

    assert own.status_code == 200
    assert foreign.status_code == 404
    assert foreign.json()["code"] == "not_found"


def test_a_bearer_token_wins_over_the_session_of_another_user(client, patient, other_patient):
    client.force_login(other_patient.user)
    secret = new_token(patient.user)

    response = client.get("/api/v1/me/", **bearer(secret))

    assert response.json()["email"] == patient.user.email


# CSRF


def test_a_token_client_posts_without_a_csrf_token(patient):
    secret = new_token(patient.user)
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        "/api/v1/checkins/", checkin_body(), content_type="application/json", **bearer(secret)
    )

    assert response.status_code == 201
    assert patient.checkins.count() == 1


def test_a_session_post_without_the_csrf_token_is_still_refused(patient):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient.user)

    response = client.post("/api/v1/checkins/", checkin_body(), content_type="application/json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert set(response.json()) == ERROR_KEYS
    assert not patient.checkins.exists()


def test_obtaining_a_token_needs_no_csrf_token(patient):
    response = issue(Client(enforce_csrf_checks=True), patient.user.email)

    assert response.status_code == 201


# Listing


def test_the_list_shows_only_own_tokens(patient, other_patient):
    secret = new_token(patient.user, name="Mine")
    new_token(other_patient.user, name="Theirs")

    response = Client().get(TOKENS_URL, **bearer(secret))

    body = response.json()
    assert response.status_code == 200
    assert (body["count"], body["page"], body["pages"]) == (1, 1, 1)
    assert [row["name"] for row in body["results"]] == ["Mine"]


def test_the_list_never_shows_a_secret_or_its_hash(patient):
    secret = new_token(patient.user)
    other_secret = new_token(patient.user, name="Tablet")

    response = Client().get(TOKENS_URL, **bearer(secret))

    rows = response.json()["results"]
    assert len(rows) == 2
    assert all("token" not in row and "key_hash" not in row for row in rows)
    for stored in ApiToken.objects.all():
        assert stored.key_hash not in response.content.decode()
    assert secret not in response.content.decode()
    assert other_secret not in response.content.decode()


def make_current_revoked_and_expired_tokens(user) -> str:
    """Three tokens of the user ("Current", "Revoked", "Expired"); the current one's secret."""
    secret = new_token(user, name="Current")
    new_token(user, name="Revoked")
    api_token_revoke(token=ApiToken.objects.get(name="Revoked"), now=timezone.now())
    with time_machine.travel(timezone.now() - timedelta(days=10), tick=False):
        new_token(user, days=1, name="Expired")
    return secret


def test_the_list_shows_usable_and_unusable_tokens_by_default(patient):
    secret = make_current_revoked_and_expired_tokens(patient.user)

    rows = Client().get(TOKENS_URL, **bearer(secret)).json()["results"]

    assert sorted((row["name"], row["active"]) for row in rows) == [
        ("Current", True),
        ("Expired", False),
        ("Revoked", False),
    ]


def test_the_list_with_active_true_shows_only_usable_tokens(patient):
    secret = make_current_revoked_and_expired_tokens(patient.user)

    response = Client().get(TOKENS_URL + "?active=true", **bearer(secret))

    rows = response.json()["results"]
    assert [(row["name"], row["active"]) for row in rows] == [("Current", True)]


def test_the_list_with_active_false_shows_revoked_and_expired_tokens(patient):
    secret = make_current_revoked_and_expired_tokens(patient.user)

    response = Client().get(TOKENS_URL + "?active=false", **bearer(secret))

    rows = response.json()["results"]
    assert sorted((row["name"], row["active"]) for row in rows) == [
        ("Expired", False),
        ("Revoked", False),
    ]


def test_the_list_is_newest_first(patient):
    start = timezone.now() - timedelta(hours=3)
    for hours, name in [(0, "First"), (2, "Third"), (1, "Second")]:
        with time_machine.travel(start + timedelta(hours=hours), tick=False):
            secret = new_token(patient.user, name=name)

    rows = Client().get(TOKENS_URL, **bearer(secret)).json()["results"]

    assert [row["name"] for row in rows] == ["Third", "Second", "First"]


def test_the_list_needs_authentication(client):
    response = client.get(TOKENS_URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# Revoking


def test_revoking_someone_elses_token_is_a_404_and_it_keeps_working(patient, other_patient):
    secret = new_token(patient.user)
    their_secret = new_token(other_patient.user)
    theirs = ApiToken.objects.get(user=other_patient.user)
    client = Client()

    response = client.delete(f"{TOKENS_URL}{theirs.public_id}/", **bearer(secret))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert client.get("/api/v1/me/", **bearer(their_secret)).status_code == 200


def test_revoking_an_unknown_token_id_is_a_404(patient):
    secret = new_token(patient.user)

    response = Client().delete(f"{TOKENS_URL}{uuid.uuid4()}/", **bearer(secret))

    assert response.status_code == 404


def test_revoking_own_token_stops_it_at_once(patient):
    secret = new_token(patient.user)
    token = ApiToken.objects.get()
    client = Client()

    response = client.delete(f"{TOKENS_URL}{token.public_id}/", **bearer(secret))

    assert response.status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert_refused(client.get("/api/v1/me/", **bearer(secret)))


def test_revoking_twice_keeps_the_first_revocation_time(patient):
    session_client = Client()
    session_client.force_login(patient.user)
    new_token(patient.user)
    token = ApiToken.objects.get()
    url = f"{TOKENS_URL}{token.public_id}/"
    first_at = timezone.now().replace(microsecond=0) + timedelta(minutes=1)

    with time_machine.travel(first_at, tick=False):
        first = session_client.delete(url)
    with time_machine.travel(first_at + timedelta(minutes=10), tick=False):
        again = session_client.delete(url)

    token.refresh_from_db()
    assert (first.status_code, again.status_code) == (204, 204)
    assert token.revoked_at == first_at


# Rate limits


def test_the_fourth_token_request_a_minute_from_one_address_gets_a_429(settings, client, patient):
    throttle_rates(settings, token_issue="3/min")

    answers = [issue(client, patient.user.email).status_code for _ in range(3)]
    fourth = issue(client, patient.user.email)

    assert answers == [201, 201, 201]
    assert fourth.status_code == 429
    assert set(fourth.json()) == ERROR_KEYS
    assert fourth.json()["status"] == 429
    assert fourth.json()["code"] == "throttled"
    assert int(fourth["Retry-After"]) > 0
    assert ApiToken.objects.count() == 3


def test_failed_token_requests_count_towards_the_limit(settings, client, patient):
    throttle_rates(settings, token_issue="3/min")

    answers = [issue(client, patient.user.email, password="guess").status_code for _ in range(3)]
    fourth = issue(client, patient.user.email)

    assert answers == [400, 400, 400]
    assert fourth.status_code == 429
    assert not ApiToken.objects.exists()


def test_the_token_request_limit_is_per_address(settings, client, patient):
    throttle_rates(settings, token_issue="3/min")
    for _ in range(3):
        issue(client, patient.user.email, meta={"REMOTE_ADDR": "10.0.0.1"})

    blocked = issue(client, patient.user.email, meta={"REMOTE_ADDR": "10.0.0.1"})
    elsewhere = issue(client, patient.user.email, meta={"REMOTE_ADDR": "10.0.0.2"})

    assert (blocked.status_code, elsewhere.status_code) == (429, 201)


def test_anonymous_token_requests_also_count_towards_the_anonymous_rate(settings, client, patient):
    throttle_rates(settings, anon="2/min", token_issue="100/min")

    answers = [issue(client, patient.user.email).status_code for _ in range(3)]

    assert answers == [201, 201, 429]


def test_a_user_over_their_rate_gets_a_429_while_others_are_served(settings, patient, clinician):
    throttle_rates(settings, user="5/min")
    mine, theirs = new_token(patient.user), new_token(clinician)
    client = Client()

    answers = [client.get("/api/v1/me/", **bearer(mine)).status_code for _ in range(5)]
    sixth = client.get("/api/v1/me/", **bearer(mine))
    other_user = client.get("/api/v1/me/", **bearer(theirs))

    assert answers == [200] * 5
    assert sixth.status_code == 429
    assert sixth.json()["code"] == "throttled"
    assert int(sixth["Retry-After"]) > 0
    assert other_user.status_code == 200


def test_the_user_rate_counts_all_tokens_of_the_user_together(settings, patient):
    throttle_rates(settings, user="5/min")
    first, second = new_token(patient.user), new_token(patient.user, name="Tablet")
    client = Client()

    answers = [client.get("/api/v1/me/", **bearer(first)).status_code for _ in range(5)]
    response = client.get("/api/v1/me/", **bearer(second))

    assert answers == [200] * 5
    assert response.status_code == 429


class BrokenCache:
    """A cache whose server is down."""

    def get(self, *args, **kwargs):
        raise ConnectionError("cache server unreachable")

    def set(self, *args, **kwargs):
        raise ConnectionError("cache server unreachable")


def test_when_the_cache_is_down_requests_are_served_and_a_warning_logged(
    settings, monkeypatch, patient, caplog
):
    throttle_rates(settings, user="1/min")
    monkeypatch.setattr(SimpleRateThrottle, "cache", BrokenCache())
    secret = new_token(patient.user)
    client = Client()

    with caplog.at_level(logging.WARNING, logger="care.api.throttling"):
        answers = [client.get("/api/v1/me/", **bearer(secret)).status_code for _ in range(3)]

    assert answers == [200, 200, 200]
    assert "cache unavailable (ConnectionError)" in caplog.text


def test_when_the_cache_is_down_tokens_can_still_be_obtained(
    settings, monkeypatch, client, patient
):
    throttle_rates(settings, token_issue="1/min")
    monkeypatch.setattr(SimpleRateThrottle, "cache", BrokenCache())

    answers = [issue(client, patient.user.email).status_code for _ in range(2)]

    assert answers == [201, 201]


def test_a_password_change_ends_every_token_of_the_user(patient):
    issued = api_token_issue(user=patient.user, name="phone", days=30, now=timezone.now())
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {issued.secret}"}
    assert Client().get("/api/v1/me/", **bearer).status_code == 200

    patient.user.set_password("a-brand-new-passphrase-2026")
    patient.user.save()

    response = Client().get("/api/v1/me/", **bearer)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_tokens_ended_by_a_password_change_are_listed_as_not_active(patient):
    api_token_issue(user=patient.user, name="phone", days=30, now=timezone.now())
    patient.user.set_password("a-brand-new-passphrase-2026")
    patient.user.save()
    client = Client()
    client.force_login(patient.user)

    [listed] = client.get("/api/v1/auth/tokens/").json()["results"]

    assert listed["active"] is False
    assert client.get("/api/v1/auth/tokens/?active=false").json()["count"] == 1
