"""The reminders' signed links are what `reverse` gives, worked out once per process, site
and script prefix (notifications.emails.token_link)."""

import pytest
from django.conf import settings
from django.urls import NoReverseMatch, reverse, set_script_prefix

from notifications.emails import (
    checkin_link_token,
    readiness_link_token,
    token_link,
    unsubscribe_token,
)

NAMES = ["notifications:checkin-link", "notifications:unsubscribe", "notifications:ready-link"]
TOKENS = [
    checkin_link_token(delivery_id=123456),
    readiness_link_token(delivery_id=7),
    unsubscribe_token(patient_id=42, kind="checkin_due"),
    "a-b_c:d",
    "with space",
    "café",
    "100%",
]


def by_reverse(name: str, token: str) -> str:
    return settings.SITE_URL + reverse(name, args=[token])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "token", TOKENS, ids=["checkin", "ready", "unsubscribe", "plain", "space", "accent", "percent"]
)
@pytest.mark.parametrize("prefix", ["/", "/clinic/"])
@pytest.mark.parametrize("site", ["https://care.example.org", "http://127.0.0.1:8000"])
def test_a_token_link_is_what_reverse_gives(settings, name, token, prefix, site):
    settings.SITE_URL = site
    set_script_prefix(prefix)
    try:
        assert token_link(name, token) == by_reverse(name, token)
    finally:
        set_script_prefix("/")


def test_a_token_reverse_refuses_is_refused_alike():
    with pytest.raises(NoReverseMatch):
        by_reverse("notifications:unsubscribe", "a/b")
    with pytest.raises(NoReverseMatch):
        token_link("notifications:unsubscribe", "a/b")
