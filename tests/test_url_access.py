"""Every URL is closed to anonymous users unless it is on the short public list.

The URL patterns are discovered from the URLconf, not listed by hand, so a new view
that forgets its access check fails here.
"""

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

# Pages that must work without signing in.
PUBLIC = {
    "health",
    "favicon",
    "api-schema",
    "api-docs",
    "care:crisis",
    "care:invitation-open",
    "care:invitation-accept",
    "notifications:unsubscribe",
    "notifications:checkin-link",
    "notifications:checkin-link-form",
    "notifications:ready-link",
    "notifications:ready-link-form",
    # A text reminder's short link, and the text provider's webhooks (signed, POST only).
    "notifications:text-link",
    "notifications:text-status",
    "notifications:text-inbound",
}
PUBLIC_PREFIXES = ("account_", "mfa_", "admin:")  # allauth (accounts, MFA) and the admin
SAMPLE_ARGS = {"uuid": uuid.uuid4(), "int": 1, "string": "x", "slug": "x", "path": "x"}


def named_patterns(resolver=None, namespace=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from named_patterns(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def sample_url(name, pattern):
    converters = pattern.pattern.converters
    kwargs = {
        key: SAMPLE_ARGS[type(conv).__name__.replace("Converter", "").lower()]
        for key, conv in converters.items()
    }
    return reverse(name, kwargs=kwargs)


OUR_VIEWS = sorted(
    (name, pattern)
    for name, pattern in named_patterns()
    if name not in PUBLIC and not name.startswith(PUBLIC_PREFIXES)
)


def test_the_discovery_finds_our_views():
    names = {name for name, _ in OUR_VIEWS}

    assert {"home", "care:patient-detail", "care:staff-edit", "api:checkin-list"} <= names


PAGES = [(n, p) for n, p in OUR_VIEWS if not n.startswith("api:")]
API = [(n, p) for n, p in OUR_VIEWS if n.startswith("api:")]


@pytest.mark.parametrize(("name", "pattern"), PAGES, ids=[n for n, _ in PAGES])
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_users_are_sent_to_login(client, name, pattern, method):
    response = getattr(client, method)(sample_url(name, pattern))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# Obtaining a token (POST with e-mail and password) is open to anyone: see test_tokens.py.
API_CALLS = [
    (name, pattern, method)
    for name, pattern in API
    for method in ("get", "post")
    if (name, method) != ("api:token-list", "post")
]


@pytest.mark.parametrize(
    ("name", "pattern", "method"), API_CALLS, ids=[f"{m}-{n}" for n, _, m in API_CALLS]
)
def test_anonymous_api_calls_get_a_json_401(client, name, pattern, method):
    response = getattr(client, method)(sample_url(name, pattern), content_type="application/json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["code"] == "not_authenticated"
    assert "credentials were not provided" in response.json()["detail"]


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_pages_answer_without_login(client, name):
    pattern = dict(named_patterns())[name]

    response = client.get(sample_url(name, pattern))

    assert response.status_code in {200, 301, 302, 400, 405, 410}
    if response.status_code in {301, 302}:
        assert not response["Location"].startswith(reverse("account_login"))


def test_favicon_ico_points_at_the_site_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.svg"
