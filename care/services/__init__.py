"""Writes of the care app (services), by sub-domain."""

from .accounts import (
    InvitationInvalid,
    clinic_update,
    invitation_accept,
    invitation_create,
    invitation_for_token,
    invitation_reissue,
    invitation_send,
    patient_enroll,
    patient_update,
    staff_member_add,
    staff_member_update,
    token_hash,
)
from .alerts import (
    AlertAlreadyAcknowledged,
    alert_acknowledge,
    alert_raise,
    assessment_alerts_run,
    daily_alerts_run,
    daily_alerts_run_all,
)
from .audit import audit_record, audit_view
from .records import (
    AssessmentResult,
    CheckInResult,
    ClientIdConflict,
    assessment_submit,
    checkin_submit,
)
from .sessions import (
    SessionAlreadyRecorded,
    session_cancel,
    session_record,
    session_reschedule,
    session_schedule,
)
from .tokens import (
    IssuedToken,
    api_token_authenticate,
    api_token_issue,
    api_token_revoke,
    api_tokens_revoke_all,
)

__all__ = [
    "AlertAlreadyAcknowledged",
    "AssessmentResult",
    "CheckInResult",
    "ClientIdConflict",
    "InvitationInvalid",
    "IssuedToken",
    "SessionAlreadyRecorded",
    "alert_acknowledge",
    "alert_raise",
    "api_token_authenticate",
    "api_token_issue",
    "api_token_revoke",
    "api_tokens_revoke_all",
    "assessment_alerts_run",
    "assessment_submit",
    "audit_record",
    "audit_view",
    "checkin_submit",
    "clinic_update",
    "daily_alerts_run",
    "daily_alerts_run_all",
    "invitation_accept",
    "invitation_create",
    "invitation_for_token",
    "invitation_reissue",
    "invitation_send",
    "patient_enroll",
    "patient_update",
    "session_cancel",
    "session_record",
    "session_reschedule",
    "session_schedule",
    "staff_member_add",
    "staff_member_update",
    "token_hash",
]
