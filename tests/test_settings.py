"""Start-up refuses unsafe settings; e-mail settings come from EMAIL_URL."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.settings import mailers_from_url

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k3Jx9-lq2Vw8_Zt5rYp0bNc4Hs7Ua1Ld6Fe3Gm9Qo2Ri8Tj5"


def run_check(**env_overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_overrides}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "key",
    ["", "change-me", "django-insecure-0123456789abcdefghijklmnopqrstuvwxyz", "short-key"],
    ids=["missing", "placeholder", "django-insecure", "too-short"],
)
def test_start_up_refuses_placeholder_secret_key_with_debug_off(key):
    result = run_check(DJANGO_DEBUG="false", DJANGO_SECRET_KEY=key)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_start_up_accepts_a_real_secret_key_with_debug_off():
    result = run_check(DJANGO_DEBUG="false", DJANGO_SECRET_KEY=GOOD_KEY)

    assert result.returncode == 0, result.stderr


def test_start_up_allows_a_missing_key_in_debug():
    result = run_check(DJANGO_DEBUG="true", DJANGO_SECRET_KEY="")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "email_url",
    ["", "filemail:///tmp/tracker-mail", "consolemail://"],
    ids=["no-email-url", "file", "console"],
)
def test_start_up_refuses_file_or_console_mail_with_debug_off(email_url):
    # Mail written to files or the console can be read by whoever reads them (the Outbox
    # showed staff password-reset links): outside debug it needs an explicit demo switch.
    result = run_check(
        DJANGO_DEBUG="false", DJANGO_SECRET_KEY=GOOD_KEY, EMAIL_URL=email_url, DEMO_MODE="false"
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "EMAIL_URL" in result.stderr and "DEMO_MODE" in result.stderr


def test_start_up_allows_file_mail_in_a_declared_demo():
    result = run_check(
        DJANGO_DEBUG="false", DJANGO_SECRET_KEY=GOOD_KEY, EMAIL_URL="", DEMO_MODE="true"
    )

    assert result.returncode == 0, result.stderr


def test_start_up_allows_file_mail_in_debug():
    result = run_check(DJANGO_DEBUG="true", DJANGO_SECRET_KEY=GOOD_KEY, EMAIL_URL="")

    assert result.returncode == 0, result.stderr


def test_mailers_default_to_files_under_var(tmp_path):
    mailers = mailers_from_url("", file_path=tmp_path, timeout=7)

    assert mailers["default"]["BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert mailers["default"]["OPTIONS"] == {"file_path": str(tmp_path)}


def test_mailers_from_smtp_url_carry_host_credentials_tls_and_timeout(tmp_path):
    mailers = mailers_from_url(
        "smtp+tls://mailer:s3cret@smtp.example.org:587", file_path=tmp_path, timeout=7
    )

    assert (
        mailers["default"]["BACKEND"] == "care.common.smtp.EmailBackend"
    )  # Django's, see care/common/smtp.py
    assert mailers["default"]["OPTIONS"] == {
        "host": "smtp.example.org",
        "port": 587,
        "username": "mailer",
        "password": "s3cret",
        "use_tls": True,
        "use_ssl": False,
        "timeout": 7,
    }


def test_mailers_reject_an_unknown_scheme(tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        mailers_from_url("carrier-pigeon://coop", file_path=tmp_path, timeout=7)


def _cache_backend(**env_overrides: str) -> str:
    env = {**os.environ, "DJANGO_SECRET_KEY": GOOD_KEY, **env_overrides}
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_rate_limits_are_counted_in_redis_when_redis_is_configured():
    # Several web processes must share one count, so the cache is Redis, not per process.
    assert _cache_backend(REDIS_URL="redis://127.0.0.1:6379/0").endswith("RedisCache")
    assert _cache_backend(REDIS_URL="").endswith("LocMemCache")


def settings_database(**env_overrides: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env_overrides
    code = (
        "from django.conf import settings; d = settings.DATABASES['default'];"
        " print(d['ENGINE'], d.get('HOST', ''), d.get('PORT', ''), d.get('NAME', ''))"
    )
    done = subprocess.run(
        [sys.executable, "-c", f"import django, os; os.environ.setdefault("
         f"'DJANGO_SETTINGS_MODULE', 'tracker.settings'); django.setup(); {code}"],
        cwd=ROOT, env=env | {"DJANGO_SECRET_KEY": GOOD_KEY}, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_the_database_is_postgresql_at_database_url():
    url = "postgres://someone@db.example:6543/tracker"
    assert settings_database(DATABASE_URL=url) == (
        "django.db.backends.postgresql db.example 6543 tracker"
    )


def test_without_database_url_the_database_is_the_checkouts_embedded_postgresql():
    """Never a SQLite file any more: the embedded server's kept port if this checkout has
    one (devtools/embedded_db.py), else no database at all."""
    from devtools import embedded_db

    url = embedded_db.settings_url()
    if url is None:
        assert settings_database().startswith("django.db.backends.dummy")
    else:
        port = url.rsplit(":", 1)[1].split("/")[0]
        expected = f"django.db.backends.postgresql 127.0.0.1 {port} tracker"
        assert settings_database() == expected
