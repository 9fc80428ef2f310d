"""Authenticator secrets (TOTP keys, recovery-code seeds) are encrypted at rest, existing ones
by a data migration, and `rotate_mfa_keys` re-encrypts them under the newest key."""

import importlib
import json

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from cryptography.fernet import Fernet
from django.apps import apps
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.db import connection

from tests.factories import PASSWORD, TOTP_SECRET, StaffFactory, totp_code

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
CODE = "/accounts/2fa/authenticate/"


def run_data_migration() -> None:
    migration = importlib.import_module("care.migrations.0011_encrypt_mfa_secrets")
    migration.encrypt_secrets(apps, None)


def stored(authenticator) -> str:
    """The row's data column as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator WHERE id = %s", [authenticator.pk])
        value = cursor.fetchone()[0]
    return value if isinstance(value, str) else json.dumps(value)


def signs_in(client, user, code) -> bool:
    client.post(LOGIN, {"login": user.email, "password": PASSWORD})
    client.post(CODE, {"code": code})
    return SESSION_KEY in client.session


def test_a_totp_secret_is_not_stored_in_clear(clinician):
    totp = Authenticator.objects.get(user=clinician, type="totp")

    assert TOTP_SECRET not in stored(totp)
    assert TOTP_SECRET.lower() not in stored(totp).lower()


def test_staff_with_an_encrypted_secret_still_sign_in(client, clinician):
    assert signs_in(client, clinician, totp_code())


def test_recovery_codes_are_not_stored_in_clear_and_still_work(client, clinician):
    recovery = RecoveryCodes.activate(clinician)
    codes = recovery.get_unused_codes()
    seed = RecoveryCodes(Authenticator.objects.get(pk=recovery.instance.pk)).instance.data["seed"]

    assert all(code not in stored(recovery.instance) for code in codes)
    assert len(seed) > 80  # a token, not the 80 hex digits of the seed
    assert signs_in(client, clinician, codes[0])


def test_the_data_migration_encrypts_secrets_stored_in_clear(client, clinic):
    user = StaffFactory(clinic=clinic, second_factor=False).user
    plain = Authenticator.objects.create(
        user=user, type="totp", data={"secret": TOTP_SECRET}
    )  # as before this change

    run_data_migration()

    assert TOTP_SECRET not in stored(plain)
    assert signs_in(client, user, totp_code())


def test_the_data_migration_leaves_encrypted_secrets_as_they_are(clinician):
    totp = Authenticator.objects.get(user=clinician, type="totp")
    before = stored(totp)

    run_data_migration()

    assert stored(totp) == before


def test_rotating_keys_re_encrypts_under_the_newest_key(client, clinician, settings):
    old = settings.MFA_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    settings.MFA_ENCRYPTION_KEYS = [new, old]

    call_command("rotate_mfa_keys", verbosity=0)
    settings.MFA_ENCRYPTION_KEYS = [new]  # the old key retired

    assert signs_in(client, clinician, totp_code())


def test_without_rotation_the_old_key_cannot_be_retired(client, clinician, settings):
    settings.MFA_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(Exception, match="MFA_ENCRYPTION_KEYS"):
        signs_in(client, clinician, totp_code())
