"""Reads of the care app."""

from django.db.models import OuterRef, QuerySet, Subquery

from .models import Clinic, Invitation, Patient, StaffMembership, User


def clinic_patients_list(*, clinic: Clinic) -> QuerySet[Patient]:
    """The clinic's patients with what the list shows, in a fixed number of queries."""
    latest = Invitation.objects.filter(patient=OuterRef("pk")).order_by("-created_at")
    return (
        Patient.objects.filter(clinic=clinic)
        .select_related("user", "primary_clinician")
        .annotate(invitation_sent_at=Subquery(latest.values("sent_at")[:1]))
        .order_by("user__full_name", "id")
    )


def clinic_clinicians_list(*, clinic: Clinic) -> QuerySet[User]:
    """Active staff of the clinic who can be a patient's primary clinician."""
    return User.objects.filter(
        staff_membership__clinic=clinic,
        is_active=True,
        staff_membership__role__in=[StaffMembership.Role.CLINICIAN, StaffMembership.Role.ADMIN],
    ).order_by("full_name", "email")


def patient_latest_invitation(*, patient: Patient) -> Invitation | None:
    """The patient's most recent invitation, if any."""
    return patient.invitations.order_by("-created_at").first()
