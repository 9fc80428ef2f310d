"""The second-factor step of signing in (allauth's views and forms, with limits).

A wrong code (TOTP or recovery code) is a failed sign-in: django-axes counts it for the
account from every address and the audit trail records it (`care.accounts.security`). While the
account's codes or the address are locked out, no code is tried at all, not even the right
one; each code sent then is audited as refused. Three wrong codes end the half-signed-in
stage: the password is asked again.
"""

from allauth.mfa.base.forms import AuthenticateForm, BaseAuthenticateForm, ReauthenticateForm
from allauth.mfa.base.views import AuthenticateView
from django import forms
from django.contrib import messages
from django.http import Http404

from care.accounts.security import second_factor_locked, second_factor_refused

# Wrong codes one password entry allows before the password is asked again.
CODES_PER_PASSWORD = 3
_MISSES_KEY = "second_factor_misses"


class _LockoutChecked(BaseAuthenticateForm):
    def clean_code(self) -> str:
        from allauth.core import context

        if second_factor_locked(context.request, self.user):
            second_factor_refused(context.request, self.user)
            raise forms.ValidationError("Too many failed sign-ins.", code="locked_out")
        return super().clean_code()


class CodeForm(_LockoutChecked, AuthenticateForm):
    """MFA_FORMS["authenticate"]."""


class ReauthenticateCodeForm(_LockoutChecked, ReauthenticateForm):
    """MFA_FORMS["reauthenticate"]."""


class CodeStepView(AuthenticateView):
    """allauth's code step; ends the stage after CODES_PER_PASSWORD wrong codes."""

    def form_invalid(self, form):
        session = self.request.session
        started = self.stage.login.initiated_at
        seen_for, misses = session.get(_MISSES_KEY, (None, 0))
        misses = misses + 1 if seen_for == started else 1
        if misses < CODES_PER_PASSWORD:
            session[_MISSES_KEY] = (started, misses)
            return super().form_invalid(form)
        session.pop(_MISSES_KEY, None)
        messages.error(self.request, "That code was not right three times: sign in again.")
        return self.stage.abort()


authenticate = CodeStepView.as_view()


def no_address_changes(request):
    """allauth's page for adding e-mail addresses is not offered (404)."""
    raise Http404
