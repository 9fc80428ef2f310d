"""django-allauth hooks: accounts are created by clinics, never by open sign-up."""

import time

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter

REAUTHENTICATION_TIMEOUT = app_settings.REAUTHENTICATION_TIMEOUT


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

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
