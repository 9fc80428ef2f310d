"""System checks for security settings that Django's own `check --deploy` does not cover."""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Tags, Warning, register

CSP_MIDDLEWARE = "django.middleware.csp.ContentSecurityPolicyMiddleware"
LOGIN_REQUIRED_MIDDLEWARE = "django.contrib.auth.middleware.LoginRequiredMiddleware"
ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"
UNSAFE_INLINE = "'unsafe-inline'"


@register(Tags.security, deploy=True)
def check_content_security_policy(app_configs, **kwargs) -> list[Warning]:
    """An enforced CSP is set, and it allows no inline script or style."""
    policy = getattr(settings, "SECURE_CSP", None) or {}
    if not policy or CSP_MIDDLEWARE not in settings.MIDDLEWARE:
        return [
            Warning(
                "No Content-Security-Policy is enforced.",
                hint=f"Set SECURE_CSP and add {CSP_MIDDLEWARE} to MIDDLEWARE.",
                id="care.W001",
            )
        ]
    # Without a script-src or style-src of its own, default-src applies to them.
    unsafe = [
        directive
        for directive, values in policy.items()
        if directive.startswith(("script-src", "style-src", "default-src"))
        and isinstance(values, list | tuple | set)
        and UNSAFE_INLINE in values
    ]
    if unsafe:
        return [
            Warning(
                f"SECURE_CSP allows {UNSAFE_INLINE} in {', '.join(unsafe)}.",
                hint="Move inline code to static files, or give it nonce={{ csp_nonce }}.",
                id="care.W002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_password_hasher(app_configs, **kwargs) -> list[Warning]:
    """New passwords are hashed with Argon2."""
    if list(settings.PASSWORD_HASHERS[:1]) != [ARGON2]:
        return [
            Warning(
                "Argon2PasswordHasher is not the first entry of PASSWORD_HASHERS.",
                hint=f"Put {ARGON2} first; keep older hashers after it to upgrade on login.",
                id="care.W003",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_login_required(app_configs, **kwargs) -> list[Warning]:
    """Every view needs a login unless it is marked @login_not_required."""
    if LOGIN_REQUIRED_MIDDLEWARE not in settings.MIDDLEWARE:
        return [
            Warning(
                "LoginRequiredMiddleware is not installed: views are public by default.",
                hint=f"Add {LOGIN_REQUIRED_MIDDLEWARE} to MIDDLEWARE.",
                id="care.W004",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_mfa_encryption_keys(app_configs, **kwargs) -> list[Warning]:
    """Authenticator secrets are encrypted with keys of their own (care.accounts.mfa_secrets)."""
    keys = getattr(settings, "MFA_ENCRYPTION_KEYS", None) or []
    if not keys:
        return [
            Warning(
                "MFA_ENCRYPTION_KEYS is not set: two-step sign-in cannot store or read secrets.",
                hint="Set MFA_ENCRYPTION_KEYS to a Fernet key (docs/configuration.md).",
                id="care.W005",
            )
        ]
    try:
        for key in keys:
            Fernet(key)
    except ValueError:
        return [
            Warning(
                "MFA_ENCRYPTION_KEYS holds a value that is not a Fernet key.",
                hint="Each key is 32 url-safe base64-encoded bytes (Fernet.generate_key()).",
                id="care.W006",
            )
        ]
    return []
