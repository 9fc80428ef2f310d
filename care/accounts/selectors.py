"""Reads of accounts: the care team, invitations, API tokens, account mail."""

from dataclasses import dataclass

from django.db.models import OuterRef, Q, QuerySet, Subquery

from care.common.access import membership_for_user, patient_for_user
from care.models import (
    ApiToken,
    Clinic,
    Invitation,
    Patient,
    StaffMembership,
    User,
)


def latest_invitation_sent_at(user_ref: str) -> Subquery:
    latest = Invitation.objects.filter(user=OuterRef(user_ref)).order_by("-created_at")
    return Subquery(latest.values("sent_at")[:1])


def clinic_staff_list(*, clinic: Clinic) -> QuerySet[StaffMembership]:
    """The clinic's staff memberships, with invitation state, admins first."""
    return (
        StaffMembership.objects.filter(clinic=clinic)
        .select_related("user")
        .annotate(invitation_sent_at=latest_invitation_sent_at("user_id"))
        .order_by("role", "user__full_name", "id")
    )


def clinic_clinicians_list(*, clinic: Clinic) -> QuerySet[User]:
    """Active staff of the clinic who can be a patient's primary clinician."""
    return User.objects.filter(
        staff_membership__clinic=clinic,
        is_active=True,
        staff_membership__role__in=[StaffMembership.Role.CLINICIAN, StaffMembership.Role.ADMIN],
    ).order_by("full_name", "email")


def user_latest_invitation(*, user: User) -> Invitation | None:
    """The user's most recent invitation, if any."""
    return user.invitations.order_by("-created_at").first()


def clinic_email_addresses(*, clinic: Clinic) -> set[str]:
    """Lower-cased addresses of the clinic's patients and staff, and its on-call contact."""
    emails = set(User.objects.filter(patient__clinic=clinic).values_list("email", flat=True)) | set(
        User.objects.filter(staff_membership__clinic=clinic).values_list("email", flat=True)
    )
    if clinic.on_call_email:
        emails.add(clinic.on_call_email)
    return {e.lower() for e in emails}


def clinic_patient_phone_numbers(*, clinic: Clinic) -> set[str]:
    """The clinic's patients' phone numbers (mobile and other), in E.164 as stored."""
    numbers = Patient.objects.filter(clinic=clinic).values_list("phone_mobile", "phone_other")
    return {str(number) for pair in numbers for number in pair if number}


def user_api_tokens(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).select_related("user").order_by("-created_at")


@dataclass(frozen=True)
class AccountMailRecipient:
    """Who an account e-mail goes to, as the e-mail names them: a first name (empty for an
    address with no account) and the neutral sender name of their clinic."""

    first_name: str
    sender_name: str


def account_mail_recipient(*, email: str) -> AccountMailRecipient:
    """The greeting name and sender name for an account e-mail to `email` (the account's
    address or another of its addresses); the default sender name for anyone else."""
    user = (
        User.objects.filter(Q(email__iexact=email) | Q(emailaddress__email__iexact=email))
        .select_related("patient__clinic", "staff_membership__clinic")
        .first()
    )
    default_sender = Clinic._meta.get_field("email_sender_name").get_default()
    if user is None:
        return AccountMailRecipient(first_name="", sender_name=default_sender)
    patient, membership = patient_for_user(user), membership_for_user(user)
    clinic = patient.clinic if patient else membership.clinic if membership else None
    return AccountMailRecipient(
        first_name=patient.preferred_name if patient else user.get_short_name(),
        sender_name=clinic.email_sender_name if clinic else default_sender,
    )
