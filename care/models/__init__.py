from .accounts import (
    REVEALING_WORDS,
    ApiToken,
    Clinic,
    Invitation,
    Patient,
    StaffMembership,
    User,
    UserManager,
    validate_neutral_sender_name,
    validate_tz,
)
from .alerts import Alert
from .audit import AuditEvent, AuditEventImmutable
from .exports import ExportJob
from .records import Assessment, CheckIn, CheckInRevision
from .sessions import REMS_FORM_DAYS, REMS_MIN_MONITORING, TreatmentSession

__all__ = [
    "REMS_FORM_DAYS",
    "REMS_MIN_MONITORING",
    "REVEALING_WORDS",
    "Alert",
    "ApiToken",
    "Assessment",
    "AuditEvent",
    "AuditEventImmutable",
    "CheckIn",
    "CheckInRevision",
    "Clinic",
    "ExportJob",
    "Invitation",
    "Patient",
    "StaffMembership",
    "TreatmentSession",
    "User",
    "UserManager",
    "validate_neutral_sender_name",
    "validate_tz",
]
