"""Writes of the care app (services), by sub-domain."""

from .accounts import (
    InvitationInvalid,
    clinic_update,
    invitation_accept,
    invitation_create,
    invitation_for_token,
    invitation_send,
    patient_enroll,
    patient_update,
    staff_member_add,
    staff_member_update,
    token_hash,
)
from .records import (
    AssessmentResult,
    CheckInResult,
    ClientIdConflict,
    assessment_submit,
    checkin_submit,
)

__all__ = [
    "AssessmentResult",
    "CheckInResult",
    "ClientIdConflict",
    "InvitationInvalid",
    "assessment_submit",
    "checkin_submit",
    "clinic_update",
    "invitation_accept",
    "invitation_create",
    "invitation_for_token",
    "invitation_send",
    "patient_enroll",
    "patient_update",
    "staff_member_add",
    "staff_member_update",
    "token_hash",
]
