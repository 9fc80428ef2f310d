"""Authenticator secrets at rest: TOTP keys and recovery-code seeds, encrypted with Fernet.

allauth's MFA adapter calls `encrypt`/`decrypt` (care.accounts.security.MFAAdapter) for every secret
it stores or reads. The keys are `MFA_ENCRYPTION_KEYS`, newest first: new secrets are
encrypted with the first; any of them opens a stored one. To rotate, put a new key first,
run `manage.py rotate_mfa_keys` (re-encrypts every secret with it), then drop the old key.
A stored value is `fernet:<token>`; a value without the prefix (stored in clear before this
change) is refused rather than trusted: migration 0011 encrypted those.
"""

from collections.abc import Callable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "fernet:"
# Where each kind of authenticator keeps its secrets in `Authenticator.data`.
SECRET_FIELDS = {"totp": ("secret",), "recovery_codes": ("seed",)}
SECRET_LISTS = {"recovery_codes": ("migrated_codes",)}


class SecretUnreadable(ImproperlyConfigured):
    """A stored secret that no key in MFA_ENCRYPTION_KEYS opens (or one stored in clear)."""


def _keys() -> MultiFernet:
    keys = settings.MFA_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured(
            "MFA_ENCRYPTION_KEYS is not set: authenticator secrets cannot be encrypted. Set it "
            'to a Fernet key, e.g. the output of: python -c "from cryptography.fernet import '
            'Fernet; print(Fernet.generate_key().decode())"'
        )
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "MFA_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes)."
        ) from exc


def is_encrypted(value: str) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt(text: str) -> str:
    return PREFIX + _keys().encrypt(text.encode()).decode("ascii")


def decrypt(value: str) -> str:
    if not is_encrypted(value):
        raise SecretUnreadable(
            "An authenticator secret is stored in clear: run manage.py migrate (0011 encrypts it)."
        )
    try:
        return _keys().decrypt(value.removeprefix(PREFIX).encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            "No key in MFA_ENCRYPTION_KEYS opens an authenticator secret: was a key dropped "
            "before manage.py rotate_mfa_keys re-encrypted everything with the newest one?"
        ) from exc


def reencrypt(value: str) -> str:
    """The value encrypted with the newest key: one in clear is encrypted, one under an older
    key re-encrypted, one under the newest key left as it is."""
    if not is_encrypted(value):
        return encrypt(value)
    keys = _keys()
    token = value.removeprefix(PREFIX).encode()
    try:
        Fernet(settings.MFA_ENCRYPTION_KEYS[0]).decrypt(token)
    except InvalidToken:
        pass
    else:
        return value
    try:
        return PREFIX + keys.rotate(token).decode("ascii")
    except InvalidToken as exc:
        raise SecretUnreadable("No key in MFA_ENCRYPTION_KEYS opens a stored secret.") from exc


def _mapped(kind: str, data: dict, convert: Callable[[str], str]) -> dict:
    data = dict(data)
    for field in SECRET_FIELDS.get(kind, ()):
        if data.get(field) is not None:
            data[field] = convert(data[field])
    for field in SECRET_LISTS.get(kind, ()):
        if data.get(field) is not None:
            data[field] = [convert(value) for value in data[field]]
    return data


def data_reencrypted(kind: str, data: dict) -> dict:
    """An authenticator's data with every secret encrypted with the newest key."""
    return _mapped(kind, data, reencrypt)


def data_decrypted(kind: str, data: dict) -> dict:
    """An authenticator's data with its secrets in clear (to undo migration 0011)."""
    return _mapped(kind, data, lambda value: decrypt(value) if is_encrypted(value) else value)


def authenticators_reencrypt(model, *, using: str = "default") -> int:
    """Re-encrypt every authenticator's secrets with the newest key; how many changed."""
    from django.db import transaction

    changed = 0
    with transaction.atomic(using=using):
        rows = model.objects.using(using).select_for_update().filter(type__in=SECRET_FIELDS)
        for authenticator in rows.order_by("pk"):
            data = data_reencrypted(authenticator.type, authenticator.data)
            if data != authenticator.data:
                authenticator.data = data
                authenticator.save(update_fields=["data"])
                changed += 1
    return changed
