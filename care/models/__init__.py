from care.models.accounts import (
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
from care.models.alerts import Alert
from care.models.audit import AuditEvent, AuditEventImmutable
from care.models.exports import ExportJob
from care.models.messages import Message, MessageThread
from care.models.outcomes import (
    InstrumentFacts,
    OutcomeFactsGroup,
    OutcomeFactsStale,
    OutcomeFactsSums,
    OutcomeFactsWeeks,
    PatientOutcomeFacts,
)
from care.models.plans import (
    PLAN_DOSE_MG_PER_KG_MAX,
    PLAN_DOSE_MG_PER_KG_MIN,
    PLAN_ESKETAMINE_DOSES_MG,
    BodyWeight,
    TreatmentPlan,
    TreatmentPlanVersion,
)
from care.models.records import Assessment, CheckIn, CheckInRevision
from care.models.sessions import (
    REMS_FORM_DAYS,
    REMS_MIN_MONITORING,
    SessionMoveRequest,
    SessionReadiness,
    SessionReflection,
    TreatmentSession,
)

__all__ = [
    "PLAN_DOSE_MG_PER_KG_MAX",
    "PLAN_DOSE_MG_PER_KG_MIN",
    "PLAN_ESKETAMINE_DOSES_MG",
    "REMS_FORM_DAYS",
    "REMS_MIN_MONITORING",
    "REVEALING_WORDS",
    "Alert",
    "ApiToken",
    "Assessment",
    "AuditEvent",
    "AuditEventImmutable",
    "BodyWeight",
    "CheckIn",
    "CheckInRevision",
    "Clinic",
    "ExportJob",
    "InstrumentFacts",
    "Invitation",
    "Message",
    "MessageThread",
    "OutcomeFactsGroup",
    "OutcomeFactsStale",
    "OutcomeFactsSums",
    "OutcomeFactsWeeks",
    "Patient",
    "PatientOutcomeFacts",
    "SessionMoveRequest",
    "SessionReadiness",
    "SessionReflection",
    "StaffMembership",
    "TreatmentPlan",
    "TreatmentPlanVersion",
    "TreatmentSession",
    "User",
    "UserManager",
    "validate_neutral_sender_name",
    "validate_tz",
]
