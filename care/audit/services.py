"""Writes of the audit trail: one row per event, in the caller's transaction.

Services record the changes they make (so a page and the API share one record) and views
record reads of patient data. Who, from where and by which channel come from the request
being served: views pass it; services find it through `request_bound`, which
`AuditContextMiddleware` sets around every request (as django-pghistory's context does).
Outside a request (a Celery task, a management command) the channel is "system".

A row never holds health data: no scores, answers, notes or vital signs; only who did
what to which kind of record, which patient (by reference) and the record's opaque id.
"""

import enum
import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Final, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.settings import api_settings

from care.common.access import RecordNotFound, membership_for_user, patient_for_user
from care.models import AuditEvent, Patient, User
from care.models.audit import EMAIL_SNAPSHOT_LENGTH, PATH_LENGTH

_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


class _FromRequest(enum.Enum):
    """FROM_REQUEST's type: a one-member enum, so that `actor is FROM_REQUEST` narrows."""

    ACTOR = "from request"


# "The actor is whoever the request being served belongs to."
FROM_REQUEST: Final = _FromRequest.ACTOR


@contextmanager
def request_bound(request: HttpRequest) -> Iterator[None]:
    """Within the block, events recorded by services are attributed to `request`."""
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or X-Forwarded-For behind NUM_PROXIES proxies.

    Read as DRF's throttles read it, so a rate limit and the audit trail name the same
    address; with fewer entries than proxies, the leftmost. Empty entries are skipped (a
    proxy never adds one), so a blank header reads as none. Anything that is not an IP
    address is dropped (None).
    """
    meta = request.META
    address = meta.get("REMOTE_ADDR", "")
    hops = [hop for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    proxies = api_settings.NUM_PROXIES or 0
    if proxies and hops:
        address = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def _channel(request: HttpRequest | None) -> str:
    if request is None:
        return AuditEvent.Channel.SYSTEM
    match = getattr(request, "resolver_match", None)
    if match is not None and "api" in match.namespaces:
        return AuditEvent.Channel.API
    if match is not None and "admin" in match.namespaces:
        return AuditEvent.Channel.ADMIN
    return AuditEvent.Channel.PAGE


def actor_role(user: User | None) -> str:
    """The user's role, reading first the profile the request has already loaded."""
    if user is None or not user.is_authenticated:
        return AuditEvent.Role.ANONYMOUS
    if User.patient.is_cached(user) and patient_for_user(user) is not None:
        return AuditEvent.Role.PATIENT
    membership = membership_for_user(user)
    if membership is not None:
        return AuditEvent.Role.ADMIN if membership.is_admin else AuditEvent.Role.CLINICIAN
    if patient_for_user(user) is not None:
        return AuditEvent.Role.PATIENT
    return AuditEvent.Role.OTHER


def user_clinic_id(user: User | None, role: str | None = None) -> int | None:
    """The clinic the user belongs to (as patient or staff), if any."""
    role = role or actor_role(user)
    if role == AuditEvent.Role.PATIENT:
        patient = patient_for_user(user)
        return patient.clinic_id if patient is not None else None
    if role in {AuditEvent.Role.ADMIN, AuditEvent.Role.CLINICIAN}:
        membership = membership_for_user(user)
        return membership.clinic_id if membership is not None else None
    return None


def typed_email(value: object) -> str:
    """What someone typed as their e-mail, kept only if it is one (never a password typed
    into the wrong box), lower-cased and cut to the column's length."""
    text = str(value or "").strip()[:EMAIL_SNAPSHOT_LENGTH]
    try:
        validate_email(text)
    except ValidationError:
        return ""
    return text.lower()


def audit_record(
    *,
    action: str,
    what: str,
    patient: Patient | None = None,
    clinic_id: int | None = None,
    object_id: object = "",
    actor: User | Literal[_FromRequest.ACTOR] | None = FROM_REQUEST,
    actor_email: str | None = None,
    role: str | None = None,
    request: HttpRequest | None = None,
    channel: str | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append one event (one INSERT, in the current transaction).

    `actor` defaults to the user of the request being served (None outside a request),
    `role` to the actor's; the clinic defaults to the patient's, else the actor's own;
    `channel` to the request's (page, API, admin), "system" outside a request.
    """
    request = request if request is not None else _request.get()
    if actor is FROM_REQUEST:
        user = getattr(request, "user", None) if request is not None else None
        actor = user if user is not None and user.is_authenticated else None
    if role is None:
        no_one = actor is None and request is None
        role = AuditEvent.Role.SYSTEM if no_one else actor_role(actor)
    if clinic_id is None:
        clinic_id = patient.clinic_id if patient is not None else user_clinic_id(actor, role)
    return AuditEvent.objects.create(
        at=now or timezone.now(),
        actor=actor,
        actor_email=actor.email if actor is not None else (actor_email or ""),
        actor_role=role,
        clinic_id=clinic_id,
        patient=patient,
        action=action,
        what=what,
        object_id=str(object_id)[:64],
        channel=channel or _channel(request),
        path=request.path[:PATH_LENGTH] if request is not None else "",
        ip=client_ip(request) if request is not None else None,
    )


def audit_sign_in_failed(
    *, action: str, email: str, user: User | None, request: HttpRequest | None
) -> AuditEvent:
    """A failed sign-in (wrong password, wrong or refused code): nobody signed in, so no
    actor. The account tried, if it exists, is the record (its clinic's admins see the
    attempt); the address typed is kept only if it is one. Never a password or code."""
    return audit_record(
        action=action,
        what=AuditEvent.What.ACCOUNT,
        actor=None,
        actor_email=user.email if user else email,
        role=AuditEvent.Role.ANONYMOUS,
        clinic_id=user_clinic_id(user) if user else None,
        object_id=user.pk if user else "",
        request=request,
    )


def audit_view(
    request: HttpRequest,
    *,
    action: str,
    what: str,
    patient: Patient | None = None,
    object_id: object = "",
) -> AuditEvent:
    """Record a read (a page or API call showing or exporting patient data)."""
    return audit_record(
        request=request, action=action, what=what, patient=patient, object_id=object_id
    )


def audit_denied(request: HttpRequest, refusal: RecordNotFound) -> AuditEvent | None:
    """Record a signed-in user refused a record they asked for by id (answered 404).

    The row carries the caller's own clinic and the id asked for, never the record or its
    patient: another clinic's admins learn nothing from it, and an id that exists
    nowhere reads the same as one of another clinic.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return audit_record(
        request=request,
        action=AuditEvent.Action.DENIED,
        what=refusal.what,
        object_id=refusal.object_id,
        clinic_id=user_clinic_id(user),
    )
