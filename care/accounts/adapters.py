"""django-allauth hooks: accounts are created by clinics, never by open sign-up; account
e-mails are the project's own."""

import time

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage

from care.accounts.selectors import account_mail_recipient
from care.audit.services import client_ip
from care.common.mail import build_email

REAUTHENTICATION_TIMEOUT = app_settings.REAUTHENTICATION_TIMEOUT


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def render_mail(
        self, template_prefix: str, email: str | list[str], context: dict, headers=None
    ) -> EmailMessage:
        """Every allauth e-mail (password reset, address confirmation, notices) from the
        project's templates `care/emails/account/<name>_{subject,body}`, text and HTML, from
        the recipient's clinic's neutral sender name, greeting them by first name.

        Never allauth's stock templates: a missing one is an error, not a fallback to
        "Hello from <host name>!".
        """
        to = [email] if isinstance(email, str) else list(email)
        recipient = account_mail_recipient(email=to[0])
        name = template_prefix.rsplit("/", 1)[-1]
        return build_email(
            template=f"care/emails/account/{name}",
            context={**context, "first_name": recipient.first_name},
            to=to,
            sender_name=recipient.sender_name,
            headers=headers,
        )

    def get_client_ip(self, request) -> str:
        """The address allauth's rate limits count: the project's own reading (NUM_PROXIES
        aware, as django-axes, DRF and the audit trail read it). allauth's own reading
        raises ImproperlyConfigured (a 500) when X-Forwarded-For has fewer entries than
        proxies, which any client can send. An entry that is not an address counts as the
        nearest proxy's, one count for every such request."""
        address = client_ip(request) or request.META.get("REMOTE_ADDR")
        if not address:
            raise PermissionDenied("Unable to determine the client's address.")
        return address

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """Setting up a second factor right after signing in needs no second password entry
        (staff are sent there straight from the sign-in); later, it does."""
        session = getattr(self.request, "session", None) if self.request else None
        started = session.get("auth_started") if session is not None else None
        if started is not None and time.time() - started < REAUTHENTICATION_TIMEOUT:
            return False
        return super().is_reauthentication_required(app=app, **kwargs)


def user_display(user) -> str:
    """How sign-in messages name someone: a patient by their preferred name, staff by
    their full name, else the e-mail address (ACCOUNT_USER_DISPLAY)."""
    patient = getattr(user, "patient", None)
    if patient is not None and patient.preferred_name:
        return patient.preferred_name
    return user.full_name or user.email


class ResetTokenGenerator(PasswordResetTokenGenerator):
    """Django's password-reset token with a `0` before its hash.

    The hash is 32 hex digits after a hyphen; about one in 60 of them starts with 1 or 3 and
    holds no 0, which SpamAssassin's `__BITCOIN_ID` pattern reads as a Bitcoin address
    (PDS_BTC_ID and its companions add points to the reset e-mail). A 0 cannot start such an
    address, and inside a word the pattern finds no boundary to start at. The token is checked
    by rebuilding it, so the `0` is checked too.
    """

    def _make_token_with_timestamp(self, user, timestamp, secret):
        timestamp_b36, digest = (
            super()._make_token_with_timestamp(user, timestamp, secret).split("-")
        )
        return f"{timestamp_b36}-0{digest}"
