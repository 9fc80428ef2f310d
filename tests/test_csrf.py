"""CSRF: every unsafe request made with a browser session needs the CSRF token.

Generated from the same discovery as the access matrix (URLconf, and the API's methods from
its OpenAPI schema): for each URL and unsafe method, a signed-in user allowed to use it posts
without the token and is refused (403) with nothing changed. Token-authenticated API calls
carry no cookies and need no CSRF token (see test_api_tokens.py).
"""

import pytest
from django.test import Client

from tests.test_access_matrix import CASES, POLICY, ROLES, allowed, snapshot, url_for

pytestmark = pytest.mark.django_db

UNSAFE = [(n, p, m) for n, p, m in CASES if m in {"post", "put", "patch", "delete"}]


def first_allowed(rule: str) -> str:
    return next(role for role in ROLES if role != "anonymous" and allowed(rule, role))


@pytest.mark.parametrize(
    ("name", "pattern", "method"), UNSAFE, ids=[f"{m}-{n}" for n, _, m in UNSAFE]
)
def test_unsafe_requests_without_the_token_are_refused(world, clinic, name, pattern, method):
    users, kwargs, per_name = world
    rule = POLICY[name]
    if rule == "file_mailer_only":
        rule = "staff_any"  # the outbox is hidden in tests; any member of staff will do
    client = Client(enforce_csrf_checks=True)
    client.force_login(users[first_allowed(rule)])
    before = snapshot(clinic)

    url = url_for(name, pattern, kwargs, per_name)
    response = getattr(client, method)(url, data={}, content_type="application/json")

    assert response.status_code == 403, (method, url, response.status_code)
    assert snapshot(clinic) == before


@pytest.mark.parametrize("url", ["/accounts/logout/", "/accounts/login/"])
def test_sign_in_and_sign_out_need_the_token_too(patient, url):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient.user)

    response = client.post(url, {"login": patient.user.email, "password": "x"})

    assert response.status_code == 403
    assert "_auth_user_id" in client.session  # still signed in: the sign-out was refused


def test_with_the_token_the_same_post_goes_through(patient, settings):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient.user)
    client.get("/me/checkin/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value

    response = client.post("/accounts/logout/", HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
