"""`manage.py check --deploy` is clean with production values; our own checks catch what
Django's do not (a CSP with inline code, a weaker first hasher, no default-deny login)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from care.checks import (
    check_content_security_policy,
    check_login_required,
    check_mfa_encryption_keys,
    check_password_hasher,
)
from tracker import settings as project_settings

ROOT = Path(__file__).resolve().parent.parent
# What an operator sets in production (the values are dummies; .ci/run uses the same).
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "tracker.example.org",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://tracker.example.org",
    "DJANGO_SECURE_SSL_REDIRECT": "true",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto,https",
    "DJANGO_SECURE_HSTS_PRELOAD": "true",
    "SITE_URL": "https://tracker.example.org",
    "EMAIL_URL": "smtp+tls://tracker:secret@smtp.example.org:587",
    "MFA_ENCRYPTION_KEYS": "Y2ktb25seS1kdW1teS1tZmEtZW5jcnlwdGlvbi1rZXk=",
}


# Django's checks read the clock (fields.W161 compares a fixed time default with now), so
# the check runs with its clock frozen (time-machine): at noon UTC unless a test says.
NOON = "2026-03-11T12:00:00+00:00"
FROZEN_MANAGE = (
    "import runpy, sys, time_machine\n"
    "at, sys.argv = sys.argv[1], ['manage.py', *sys.argv[2:]]\n"
    "with time_machine.travel(at, tick=False):\n"
    "    runpy.run_path('manage.py', run_name='__main__')\n"
)


def check_deploy(*, at: str = NOON, **overrides: str) -> subprocess.CompletedProcess:
    # None of the test run's own DJANGO_* variables (e.g. the browser tests' async switch).
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "-c", FROZEN_MANAGE, at, "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**inherited, **PRODUCTION, **overrides},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_with_production_values():
    result = check_deploy()

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("clock", "field"),
    [
        ("08:00:09", "quiet_end"),
        ("19:00:00", "checkin_time"),
        ("21:59:51", "quiet_start"),
    ],
)
def test_check_deploy_is_clean_at_the_moments_of_the_default_reminder_times(clock, field):
    # Django warns of a "fixed default" (fields.W161) when a TimeField's default is a fixed
    # time within 10 s of now: the reminder defaults (08:00, 19:00, 22:00) failed the check
    # each day at those times until they became functions.
    result = check_deploy(at=f"2026-03-11T{clock}+00:00")

    assert "fields.W161" not in result.stderr
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("overrides", "warning"),
    [
        ({"DJANGO_SECURE_SSL_REDIRECT": "false"}, "security.W008"),
        ({"DJANGO_SECURE_HSTS_SECONDS": "0"}, "security.W004"),
        ({"DJANGO_SECURE_HSTS_PRELOAD": "false"}, "security.W021"),
    ],
    ids=["no-https-redirect", "no-hsts", "no-hsts-preload"],
)
def test_check_deploy_fails_when_an_https_setting_is_off(overrides, warning):
    result = check_deploy(**overrides)

    assert result.returncode != 0
    assert warning in result.stderr


@pytest.mark.parametrize("keys", ["", "not-a-fernet-key"], ids=["missing", "malformed"])
def test_start_up_refuses_debug_off_without_a_key_for_authenticator_secrets(keys):
    result = check_deploy(MFA_ENCRYPTION_KEYS=keys)

    assert result.returncode != 0
    assert "MFA_ENCRYPTION_KEYS is missing or not a list of Fernet keys" in result.stderr


def test_a_malformed_proxy_header_stops_start_up_with_a_clear_message():
    result = check_deploy(DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")

    assert result.returncode != 0
    assert "DJANGO_SECURE_PROXY_SSL_HEADER" in result.stderr


SHOW_SETTINGS = (
    "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
    " s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
)


@pytest.mark.parametrize(
    ("debug", "expected"),
    [
        ("false", "True 31536000 __Host-sessionid __Host-csrftoken True True"),
        ("true", "False 0 sessionid csrftoken False False"),
    ],
    ids=["debug-off", "debug-on"],
)
def test_https_and_cookie_defaults_follow_debug(debug, expected):
    # No DJANGO_SECURE_* variables: the defaults alone.
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env |= {"DJANGO_DEBUG": debug, "DJANGO_SECRET_KEY": PRODUCTION["DJANGO_SECRET_KEY"]}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", SHOW_SETTINGS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_the_project_settings_pass_the_custom_checks(settings):
    # The test run swaps in a fast hasher; put the settings module's own list back.
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS

    assert check_content_security_policy(None) == []
    assert check_password_hasher(None) == []
    assert check_login_required(None) == []
    assert check_mfa_encryption_keys(None) == []


def test_a_missing_csp_is_reported(settings):
    settings.SECURE_CSP = {}

    assert ids(check_content_security_policy(None)) == ["care.W001"]


def test_a_csp_without_its_middleware_is_reported(settings):
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if not m.endswith(".csp.ContentSecurityPolicyMiddleware")
    ]

    assert ids(check_content_security_policy(None)) == ["care.W001"]


@pytest.mark.parametrize("directive", ["script-src", "style-src", "style-src-attr", "default-src"])
def test_unsafe_inline_in_a_csp_is_reported(settings, directive):
    settings.SECURE_CSP = {**settings.SECURE_CSP, directive: ["'self'", "'unsafe-inline'"]}

    (warning,) = check_content_security_policy(None)
    assert warning.id == "care.W002" and directive in warning.msg


def test_a_weaker_first_password_hasher_is_reported(settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]

    assert ids(check_password_hasher(None)) == ["care.W003"]


def test_a_missing_login_required_middleware_is_reported(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "LoginRequired" not in m]

    assert ids(check_login_required(None)) == ["care.W004"]


def test_a_missing_key_for_authenticator_secrets_is_reported(settings):
    settings.MFA_ENCRYPTION_KEYS = []

    assert ids(check_mfa_encryption_keys(None)) == ["care.W005"]


def test_a_malformed_key_for_authenticator_secrets_is_reported(settings):
    settings.MFA_ENCRYPTION_KEYS = ["not-a-fernet-key"]

    assert ids(check_mfa_encryption_keys(None)) == ["care.W006"]
