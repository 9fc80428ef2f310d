"""Writes of API tokens: issue, use, revoke."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.crypto import constant_time_compare

from care.audit.services import audit_record
from care.models import ApiToken, AuditEvent, User

TOKEN_PREFIX = "ktk_"  # noqa: S105 (a public marker, not a secret)
DEFAULT_TOKEN_DAYS = 30
MAX_TOKEN_DAYS = 90
# Record "last used" at most this often, so reads do not turn into a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def token_hash(token: str) -> str:
    """The stored form of a secret token (an API token, an invitation's): SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once; only its hash is stored


@transaction.atomic
def api_token_issue(*, user: User, name: str, days: int, now: datetime) -> IssuedToken:
    """A new token for `user`, valid `days` days (1 to MAX_TOKEN_DAYS)."""
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValueError(f"days must be 1 to {MAX_TOKEN_DAYS}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_hash=token_hash(secret),
        prefix=secret[:12],
        password_fingerprint=user.get_session_auth_hash(),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    audit_record(
        action=AuditEvent.Action.TOKEN_ISSUED,
        what=AuditEvent.What.API_TOKEN,
        object_id=token.public_id,
        actor=user,
        now=now,
    )
    return IssuedToken(token=token, secret=secret)


def api_token_authenticate(*, secret: str, now: datetime) -> ApiToken | None:
    """The active token with this secret, or None: unknown, expired, revoked, its user
    inactive, or its user's password changed since it was issued."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    # The user's patient profile or staff membership comes along: every API call reads one.
    token = (
        ApiToken.objects.select_related("user__patient", "user__staff_membership")
        .filter(key_hash=token_hash(secret), revoked_at=None, expires_at__gt=now)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if not constant_time_compare(token.password_fingerprint, token.user.get_session_auth_hash()):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


@transaction.atomic
def api_token_revoke(*, token: ApiToken, now: datetime) -> ApiToken:
    """Revoke the token (idempotent: a revoked token keeps its first revocation time)."""
    if ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=now):
        audit_record(
            action=AuditEvent.Action.TOKEN_REVOKED,
            what=AuditEvent.What.API_TOKEN,
            object_id=token.public_id,
            now=now,
        )
    token.refresh_from_db(fields=["revoked_at"])
    return token


def api_tokens_revoke_all(*, user: User, now: datetime) -> int:
    """Revoke every active token of the user (e.g. when the password changes)."""
    return ApiToken.objects.filter(user=user, revoked_at=None, expires_at__gt=now).update(
        revoked_at=now
    )
