"""Writes of the care app: enrollment, staff, invitations, clinic settings."""

import logging
import secrets
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import partial

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from kombu.exceptions import OperationalError as BrokerError

from care.accounts.events import patient_enrolled
from care.accounts.tokens import api_tokens_revoke_all, token_hash
from care.audit.services import audit_record
from care.common import taskqueue
from care.common.access import membership_for_user, patient_for_user
from care.common.mail import build_email, invitation_message_id
from care.models import (
    AuditEvent,
    Clinic,
    Invitation,
    Patient,
    StaffMembership,
    User,
)
from care.treatment.services import sessions_schedule_series

logger = logging.getLogger(__name__)


class InvitationInvalid(Exception):
    """The invitation link is unknown, used, revoked or expired."""


def _enqueue_invitation(invitation_id: int) -> None:
    try:
        taskqueue.enqueue("care.send_invitation", invitation_id)
    except BrokerError:
        # The enrollment is saved; staff see "not sent" and can send it again.
        logger.warning("Broker unavailable; invitation %s not queued", invitation_id)


@transaction.atomic
def patient_enroll(
    *,
    clinic: Clinic,
    enrolled_by: User,
    email: str,
    full_name: str,
    preferred_name: str,
    date_of_birth: date,
    tz: str,
    has_depression: bool,
    has_anxiety: bool,
    has_ptsd: bool,
    consultation_on: date,
    primary_clinician: User | None,
    now: datetime,
    questionnaires: Sequence[str] = (),
    sessions: Sequence[datetime] = (),
    session_route: str = "iv",
    contact: Mapping[str, object] | None = None,
    booking_override_reason: str = "",
    reminders_by_text: bool = False,
) -> Patient:
    """Create an inactive patient account with its contact details (`Patient.CONTACT_FIELDS`), book
    the first sessions, queue the invitation.

    The sessions are booked as "Book from plan" books them (care.treatment.services,
    `sessions_schedule_series`: opening hours, chairs, one a day), all or none: a
    BookingConflict leaves nothing written, the patient included, unless
    `booking_override_reason` says why they are booked anyway. `reminders_by_text`: the
    patient, who agreed to texts, takes their reminders by text too."""
    user = User.objects.create_user(email=email, full_name=full_name, is_active=False)
    patient = Patient.objects.create(
        **_contact_values(contact or {}),
        user=user,
        clinic=clinic,
        preferred_name=preferred_name,
        date_of_birth=date_of_birth,
        tz=tz,
        has_depression=has_depression,
        has_anxiety=has_anxiety,
        has_ptsd=has_ptsd,
        consultation_on=consultation_on,
        questionnaires=list(questionnaires),
        primary_clinician=primary_clinician,
        enrolled_at=now,
        enrolled_by=enrolled_by,
    )
    # The notifications app creates the reminder preference (care/accounts/events.py).
    patient_enrolled.send(sender=Patient, patient=patient, reminders_by_text=reminders_by_text)
    if sessions:
        sessions_schedule_series(
            patient=patient,
            starts=sessions,
            route=session_route,
            by=enrolled_by,
            now=now,
            override_reason=booking_override_reason,
        )
    invitation_create(user=user, created_by=enrolled_by, now=now)
    audit_record(
        action=AuditEvent.Action.ENROLLED,
        what=AuditEvent.What.PATIENT,
        patient=patient,
        object_id=patient.public_id,
        actor=enrolled_by,
        now=now,
    )
    return patient


@transaction.atomic
def patient_update(
    *,
    patient: Patient,
    full_name: str,
    preferred_name: str,
    date_of_birth: date,
    tz: str,
    has_depression: bool,
    has_anxiety: bool,
    has_ptsd: bool,
    consultation_on: date,
    primary_clinician: User | None,
    status: str,
    treatment_phase: str,
    questionnaires: Sequence[str] = (),
    contact: Mapping[str, object] | None = None,
) -> Patient:
    """Save staff changes to a patient's profile (and the name on their account), and to
    their contact details when given (recorded as a change of its own when they changed)."""
    patient.user.full_name = full_name
    patient.user.save(update_fields=["full_name"])
    changes = {
        "preferred_name": preferred_name,
        "date_of_birth": date_of_birth,
        "tz": tz,
        "has_depression": has_depression,
        "has_anxiety": has_anxiety,
        "has_ptsd": has_ptsd,
        "consultation_on": consultation_on,
        "primary_clinician": primary_clinician,
        "status": status,
        "treatment_phase": treatment_phase,
        "questionnaires": list(questionnaires),
    }
    for field, value in changes.items():
        setattr(patient, field, value)
    patient.save(update_fields=list(changes))
    audit_record(
        action=AuditEvent.Action.CHANGED,
        what=AuditEvent.What.PATIENT,
        patient=patient,
        object_id=patient.public_id,
    )
    if contact is not None:
        patient_contact_update(patient=patient, contact=contact)
    return patient


def _contact_values(contact: Mapping[str, object]) -> dict[str, object]:
    unknown = set(contact) - set(Patient.CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"Not contact details: {sorted(unknown)}")
    return dict(contact)


@transaction.atomic
def patient_contact_update(*, patient: Patient, contact: Mapping[str, object]) -> bool:
    """Save a patient's contact details (by staff or by the patient). Records one audit event
    when anything changed, naming the kind of record only; returns whether anything did.
    The values are personal data: they are never logged."""
    values = _contact_values(contact)
    changed = [name for name, value in values.items() if str(getattr(patient, name)) != str(value)]
    if not changed:
        return False
    for name in changed:
        setattr(patient, name, values[name])
    patient.full_clean(exclude=[f.name for f in Patient._meta.fields if f.name not in changed])
    patient.save(update_fields=changed)
    audit_record(
        action=AuditEvent.Action.CHANGED,
        what=AuditEvent.What.CONTACT,
        patient=patient,
        object_id=patient.public_id,
    )
    return True


@transaction.atomic
def staff_member_add(
    *,
    clinic: Clinic,
    added_by: User,
    email: str,
    full_name: str,
    role: str,
    title: str,
    now: datetime,
) -> StaffMembership:
    """Create an inactive staff account in the clinic and queue its invitation e-mail."""
    user = User.objects.create_user(email=email, full_name=full_name, is_active=False)
    membership = StaffMembership.objects.create(user=user, clinic=clinic, role=role, title=title)
    invitation_create(user=user, created_by=added_by, now=now)
    _audit_staff(membership, AuditEvent.Action.CREATED, actor=added_by, now=now)
    return membership


def _audit_staff(membership: StaffMembership, action: str, **kwargs) -> None:
    audit_record(
        action=action,
        what=AuditEvent.What.STAFF,
        clinic_id=membership.clinic_id,
        object_id=membership.pk,
        **kwargs,
    )


@transaction.atomic
def staff_member_update(
    *, membership: StaffMembership, role: str, title: str, is_active: bool, now: datetime
) -> StaffMembership:
    """Change a staff member's role and title, or deactivate / reactivate them.

    Deactivating ends their access at once (Django refuses sessions of inactive users)
    and revokes any pending invitation and every API token (so that reactivating does not
    revive them). Reactivating restores an account that had set a password; one that never
    did needs a new invitation.
    """
    membership.role = role
    membership.title = title
    user = membership.user
    action = AuditEvent.Action.CHANGED
    if not is_active and membership.deactivated_at is None:
        membership.deactivated_at = now
        user.is_active = False
        user_access_revoke(user=user, now=now)
        action = AuditEvent.Action.DEACTIVATED
    elif is_active and membership.deactivated_at is not None:
        membership.deactivated_at = None
        user.is_active = user.has_usable_password()
        action = AuditEvent.Action.REACTIVATED
    membership.save(update_fields=["role", "title", "deactivated_at"])
    user.save(update_fields=["is_active"])
    _audit_staff(membership, action, now=now)
    return membership


@transaction.atomic
def clinic_update(*, clinic: Clinic, changes: dict) -> Clinic:
    """Save validated changes to the clinic's settings."""
    for field, value in changes.items():
        setattr(clinic, field, value)
    clinic.full_clean()
    clinic.save(update_fields=list(changes))
    audit_record(
        action=AuditEvent.Action.CHANGED,
        what=AuditEvent.What.CLINIC,
        clinic_id=clinic.pk,
        object_id=clinic.pk,
    )
    return clinic


def user_access_revoke(*, user: User, now: datetime) -> None:
    """Revoke the user's open invitations and every API token: they are being deactivated.

    Called by `staff_member_update` and, for every other way of turning `is_active` off
    (the Django admin, the shell), by `care.accounts.signals.revoke_access_of_deactivated_user`: a
    reactivated user must sign in again and ask for new tokens.
    """
    _revoke_open_invitations(user=user, now=now)
    api_tokens_revoke_all(user=user, now=now)


def _revoke_open_invitations(*, user: User, now: datetime) -> None:
    Invitation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )


@transaction.atomic
def invitation_create(*, user: User, created_by: User | None, now: datetime) -> Invitation:
    """Revoke the user's unused invitations, create a new one, send it after commit."""
    # Lock the user row so that two overlapping requests leave one open invitation.
    User.objects.select_for_update().filter(pk=user.pk).first()
    _revoke_open_invitations(user=user, now=now)
    invitation = Invitation.objects.create(user=user, created_by=created_by, created_at=now)
    transaction.on_commit(partial(_enqueue_invitation, invitation.id))
    return invitation


@transaction.atomic
def invitation_reissue(*, user: User, by: User, now: datetime) -> Invitation:
    """A fresh invitation for a patient or staff member who has not activated their account
    (earlier links stop working), recorded in the audit trail."""
    invitation = invitation_create(user=user, created_by=by, now=now)
    patient, membership = patient_for_user(user), membership_for_user(user)
    if patient is not None:
        audit_record(
            action=AuditEvent.Action.INVITATION_SENT,
            what=AuditEvent.What.PATIENT,
            patient=patient,
            object_id=patient.public_id,
            actor=by,
            now=now,
        )
    elif membership is not None:
        _audit_staff(membership, AuditEvent.Action.INVITATION_SENT, actor=by, now=now)
    return invitation


def invitation_send(*, invitation_id: int, now: datetime) -> bool:
    """Give the invitation a fresh token valid for 72 hours and e-mail the link.

    The token exists only in the e-mail; a retry replaces it, so only the link in the
    last e-mail sent works. `sent_at` is recorded only once the mail server took the
    message. Returns False when the invitation is no longer pending.
    """
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=settings.INVITATION_VALID_HOURS)
    updated = Invitation.objects.filter(
        id=invitation_id, used_at__isnull=True, revoked_at__isnull=True
    ).update(token_hash=token_hash(token), expires_at=expires_at)
    if not updated:
        return False
    user = (
        Invitation.objects.select_related("user__patient__clinic", "user__staff_membership__clinic")
        .get(id=invitation_id)
        .user
    )
    patient, membership = patient_for_user(user), membership_for_user(user)
    if patient is not None:
        clinic = patient.clinic
    elif membership is not None:
        clinic = membership.clinic
    else:
        logger.warning("Invitation %s belongs to an account without a clinic", invitation_id)
        return False
    message = build_email(
        template="care/emails/invitation",
        context={
            "first_name": patient.preferred_name if patient else user.get_short_name(),
            "link": settings.SITE_URL + reverse("care:invitation-open", args=[token]),
            "valid_hours": settings.INVITATION_VALID_HOURS,
        },
        to=[user.email],
        sender_name=clinic.email_sender_name,
        headers={"Message-ID": invitation_message_id(invitation_id)},
    )
    message.send()
    Invitation.objects.filter(id=invitation_id).update(sent_at=now)
    return True


def invitation_for_token(*, token: str, now: datetime) -> Invitation:
    """The usable invitation behind `token`, or InvitationInvalid."""
    try:
        invitation = Invitation.objects.select_related("user").get(token_hash=token_hash(token))
    except Invitation.DoesNotExist as exc:
        raise InvitationInvalid from exc
    if not invitation.is_usable(now=now):
        raise InvitationInvalid
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str, now: datetime) -> User:
    """Use the invitation once: set the password and activate the account."""
    invitation = invitation_for_token(token=token, now=now)
    # Conditional update: of two simultaneous uses, exactly one wins.
    claimed = Invitation.objects.filter(
        id=invitation.id, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if not claimed:
        raise InvitationInvalid
    user = invitation.user
    membership = membership_for_user(user)
    if membership is not None and membership.is_deactivated:
        raise InvitationInvalid
    # Any other link still open for this account stops working now.
    _revoke_open_invitations(user=user, now=now)
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user
