"""Sign-in safeguards: staff second factor, idle and absolute session limits, lockout keys.

- Staff (clinic staff and Django admin users) must have a TOTP authenticator before they see
  anything, outside DEBUG (`MFA_REQUIRED_FOR_STAFF`); allauth then asks for a code at each
  sign-in. Patients may opt in from their settings page.
- A browser session ends after `SESSION_IDLE_MINUTES_STAFF` / `_PATIENT` minutes without a
  request, and `SESSION_ABSOLUTE_HOURS` after sign-in, whatever the activity.
- Failed sign-ins are counted by django-axes (docs/security.md, "Second factor, sign-in
  limits and lockout"). Three scopes, chosen by `lockout_parameters` from the credentials:
  a wrong password counts for its (account, address) pair; a wrong second-factor code counts
  for its account, from every address; and every failure counts for its address, against the
  higher `LOGIN_ADDRESS_FAILURE_LIMIT` (a clinic's staff may share one address).
"""

from allauth.account.signals import password_reset
from allauth.mfa import signals as mfa_signals
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from axes.backends import AxesStandaloneBackend
from axes.conf import settings as axes_settings
from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from care.accounts import mfa_secrets
from care.audit.services import audit_sign_in_failed, client_ip
from care.common.access import membership_for_user
from care.common.errors import error_body
from care.models import AuditEvent

# Paths a signed-in member of staff may use before enrolling a second factor.
ENROLMENT_PATHS = ("/accounts/", "/static/", "/health/", "/crisis/")
# Write `last_seen` at most this often (seconds), not on every request.
LAST_SEEN_RESOLUTION = 30


def is_staff_user(user) -> bool:
    return bool(user.is_staff or user.is_superuser or membership_for_user(user))


def has_second_factor(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def second_factor_check(user, code: str) -> str:
    """For sign-ins outside the web form (API tokens): "ok", "missing" (staff must enrol
    first) or "wrong". A user with TOTP must give a current, unused TOTP code or one of
    their unused recovery codes (then used up), as on the web form."""
    authenticators = {
        authenticator.type: authenticator
        for authenticator in Authenticator.objects.filter(
            user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
        )
    }
    if Authenticator.Type.TOTP not in authenticators:
        return "missing" if settings.MFA_REQUIRED_FOR_STAFF and is_staff_user(user) else "ok"
    code = (code or "").strip()
    for kind in (Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES):
        authenticator = authenticators.get(kind)
        if code and authenticator is not None and authenticator.wrap().validate_code(code):
            authenticator.record_usage()
            return "ok"
    return "wrong"


def idle_limit_seconds(user) -> int:
    minutes = (
        settings.SESSION_IDLE_MINUTES_STAFF
        if is_staff_user(user)
        else settings.SESSION_IDLE_MINUTES_PATIENT
    )
    return minutes * 60


def session_expired(*, started: float, last_seen: float, idle: int, now: float) -> str | None:
    """Why a session must end at `now` ("idle" or "absolute"), or None. Times in seconds."""
    if now - started >= settings.SESSION_ABSOLUTE_HOURS * 3600:
        return "absolute"
    if now - last_seen >= idle:
        return "idle"
    return None


# Lockout scopes (django-axes): the credentials of a check or of a failure name the scope.
LOCKOUT_SCOPE = "lockout_scope"
ADDRESS_SCOPE = "address"
SECOND_FACTOR_SCOPE = "second_factor"
# Wrong codes are recorded under the account's name with this prefix, apart from passwords.
SECOND_FACTOR_PREFIX = "2fa:"


def _scope(credentials) -> str | None:
    return (credentials or {}).get(LOCKOUT_SCOPE)


def lockout_username(request, credentials) -> str | None:
    """The account a sign-in attempt was for, for django-axes, on every sign-in path
    (allauth's form sends `login`, the API and the admin send `email`/`username`). Wrong
    second-factor codes are counted under `2fa:<account>`; an address check has none."""
    credentials = credentials or {}
    if _scope(credentials) == ADDRESS_SCOPE:
        return None
    value = credentials.get("email") or credentials.get("username") or credentials.get("login")
    if not value and request is not None:
        value = request.POST.get("login") or request.POST.get("username")
    if not value:
        return None
    name = value.strip().lower()[:250]
    return SECOND_FACTOR_PREFIX + name if _scope(credentials) == SECOND_FACTOR_SCOPE else name


def lockout_parameters(request_or_attempt, credentials=None) -> list:
    """AXES_LOCKOUT_PARAMETERS: what a failure counts for, by scope (see the module's doc)."""
    scope = _scope(credentials)
    if scope == ADDRESS_SCOPE:
        return ["ip_address"]
    if scope == SECOND_FACTOR_SCOPE:
        return ["username"]
    return [["username", "ip_address"]]


def lockout_failure_limit(request, credentials=None) -> int:
    """AXES_FAILURE_LIMIT: the address's limit is higher than an account's."""
    if _scope(credentials) == ADDRESS_SCOPE:
        return settings.LOGIN_ADDRESS_FAILURE_LIMIT
    return settings.LOGIN_FAILURE_LIMIT


def _lock(request, credentials) -> None:
    """Have AxesMiddleware answer this request with the lockout response."""
    request.axes_locked_out = True
    request.axes_credentials = credentials


def address_locked(request) -> bool:
    credentials = {LOCKOUT_SCOPE: ADDRESS_SCOPE}
    if AxesProxyHandler.is_allowed(request, credentials):
        return False
    _lock(request, credentials)
    return True


def second_factor_locked(request, user) -> bool:
    """Too many wrong codes for this account (from anywhere), or failures from this address.
    A locked request is answered with the lockout response (AxesMiddleware)."""
    credentials = {"email": user.email, LOCKOUT_SCOPE: SECOND_FACTOR_SCOPE}
    if not AxesProxyHandler.is_allowed(request, credentials):
        _lock(request, credentials)
        return True
    return address_locked(request)


def second_factor_failed(request, user) -> None:
    """A wrong code (TOTP or recovery code, page or API): a failed sign-in for django-axes
    (under the account's `2fa:` name) and for the audit trail (care.accounts.signals)."""
    user_login_failed.send(
        sender=__name__,
        credentials={"email": user.email, LOCKOUT_SCOPE: SECOND_FACTOR_SCOPE},
        request=request,
    )


def second_factor_refused(request, user) -> None:
    """A code sent while the account's codes or the address are locked out. It is not tried
    (not even the right one) and not counted (the lock is not prolonged), but it is in the
    audit trail, as a refused code, never the code itself."""
    audit_sign_in_failed(
        action=AuditEvent.Action.SECOND_FACTOR_REFUSED,
        email=user.email,
        user=user,
        request=request,
    )


@receiver(mfa_signals.authentication_failed)
def _count_wrong_code(sender, request, user, **kwargs):
    """allauth's signal for a wrong code on the sign-in or re-authentication form."""
    second_factor_failed(request, user)


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' backend (the (account, address) pair), then the address's own limit."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        super().authenticate(request, username, password, **kwargs)
        # Django's settings with axes' defaults filled in (AXES_ENABLED is not set here).
        if axes_settings.AXES_ENABLED and address_locked(request):
            raise AxesBackendPermissionDenied("Too many failed sign-ins from this address")


@receiver(password_reset)
def _lift_lockout_after_a_reset(sender, request, user, **kwargs):
    """A person who proved they own the mailbox may sign in again at once (wrong codes
    too: whoever made them knew the old password, which no longer works)."""
    email = user.email.lower()
    axes_reset(username=email)
    axes_reset(username=SECOND_FACTOR_PREFIX + email)


@receiver(user_logged_in)
def _forget_own_wrong_codes(sender, request, user, **kwargs):
    """django-axes forgets the (account, address) pair's failures at a sign-in; the account's
    wrong codes from this address go too, not those from elsewhere (someone else's)."""
    address = client_ip(request) if request is not None else None
    if address:
        axes_reset(ip=address, username=SECOND_FACTOR_PREFIX + user.email.lower())


@receiver(user_logged_in)
def _start_session_clock(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    now = timezone.now().timestamp()
    request.session["auth_started"] = now
    request.session["last_seen"] = now
    request.session["idle_seconds"] = idle_limit_seconds(user)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


class SessionTimeoutMiddleware:
    """Ends browser sessions that sat idle too long or are older than the absolute limit."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and request.user.is_authenticated:
            now = timezone.now().timestamp()
            started = session.setdefault("auth_started", now)
            last_seen = session.setdefault("last_seen", now)
            idle = session.get("idle_seconds") or idle_limit_seconds(request.user)
            session.setdefault("idle_seconds", idle)
            why = session_expired(started=started, last_seen=last_seen, idle=idle, now=now)
            if why:
                logout(request)
                return self._expired(request, why)
            if now - last_seen >= LAST_SEEN_RESOLUTION:
                session["last_seen"] = now
        return self.get_response(request)

    def _expired(self, request, why: str):
        detail = (
            "You were signed out after a time without activity; sign in again."
            if why == "idle"
            else "Sessions last at most a working day; sign in again."
        )
        if _is_api(request):
            body = error_body(status_code=401, code="session_expired", detail=detail)
            return JsonResponse(body, status=401)
        messages.info(request, detail)
        return redirect_to_login(request.get_full_path())


class StaffSecondFactorMiddleware:
    """Outside DEBUG, staff without a second factor are sent to set one up first."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        request.second_factor_missing = (
            settings.MFA_REQUIRED_FOR_STAFF
            and user is not None
            and user.is_authenticated
            and is_staff_user(user)
            and not has_second_factor(user)
        )
        if request.second_factor_missing and not request.path.startswith(ENROLMENT_PATHS):
            if _is_api(request):
                body = error_body(
                    status_code=403,
                    code="second_factor_required",
                    detail="Set up two-factor authentication in the web app first.",
                )
                return JsonResponse(body, status=403)
            return redirect("mfa_activate_totp")
        return self.get_response(request)


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        """Secrets are stored encrypted (care.accounts.mfa_secrets; key MFA_ENCRYPTION_KEYS)."""
        return mfa_secrets.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return mfa_secrets.decrypt(encrypted_text)

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """Staff cannot remove their last TOTP authenticator while it is required."""
        if (
            settings.MFA_REQUIRED_FOR_STAFF
            and authenticator.type == Authenticator.Type.TOTP
            and is_staff_user(authenticator.user)
        ):
            return False
        return super().can_delete_authenticator(authenticator)


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out sign-in gets: one text for every kind of lock (an account from an
    address, an account's codes, an address), known account or not. A password reset lifts
    an account's locks but not an address's, so the text promises only the wait."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    detail = (
        f"Too many failed sign-ins. Wait {minutes} minutes, then try again. If you have "
        "forgotten your password, you can reset it meanwhile; it will work by then."
    )
    response: HttpResponse
    if _is_api(request):
        body = error_body(status_code=429, code="locked_out", detail=detail)
        response = JsonResponse(body, status=429)
    else:
        response = render(request, "account/lockout.html", {"detail": detail}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
