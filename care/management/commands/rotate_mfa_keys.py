"""Re-encrypt every authenticator secret with the newest key of MFA_ENCRYPTION_KEYS."""

from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand

from care.accounts.mfa_secrets import authenticators_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt authenticator secrets (TOTP keys, recovery-code seeds) with the first key "
        "of MFA_ENCRYPTION_KEYS. Run it after putting a new key first; then the older keys "
        "can be removed."
    )

    def handle(self, *args, **options) -> None:
        changed = authenticators_reencrypt(Authenticator)
        self.stdout.write(f"{changed} authenticators re-encrypted with the newest key.")
