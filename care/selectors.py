"""Reads of the care app."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypedDict

from django.db.models import Case, Count, Max, OuterRef, Q, QuerySet, Subquery, When

from .access import membership_for_user, patient_for_user
from .instruments import INSTRUMENTS
from .models import (
    Alert,
    ApiToken,
    Assessment,
    AuditEvent,
    CheckIn,
    Clinic,
    Invitation,
    Patient,
    StaffMembership,
    TreatmentSession,
    User,
)
from .scoring import band_for_code


def _latest_invitation_sent_at(user_ref: str) -> Subquery:
    latest = Invitation.objects.filter(user=OuterRef(user_ref)).order_by("-created_at")
    return Subquery(latest.values("sent_at")[:1])


def clinic_patients_list(*, clinic: Clinic) -> QuerySet[Patient]:
    """The clinic's patients with what the list shows, in a fixed number of queries."""
    open_alerts = Q(alerts__acknowledged_at__isnull=True)
    return (
        Patient.objects.filter(clinic=clinic)
        .select_related("user", "primary_clinician")
        .annotate(
            invitation_sent_at=_latest_invitation_sent_at("user_id"),
            open_alerts=Count("alerts", filter=open_alerts),
            open_urgent=Count("alerts", filter=open_alerts & Q(alerts__priority="urgent")),
        )
        .order_by("-open_urgent", "user__full_name", "id")
    )


def clinic_staff_list(*, clinic: Clinic) -> QuerySet[StaffMembership]:
    """The clinic's staff memberships, with invitation state, admins first."""
    return (
        StaffMembership.objects.filter(clinic=clinic)
        .select_related("user")
        .annotate(invitation_sent_at=_latest_invitation_sent_at("user_id"))
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


def patient_checkin_on(*, patient: Patient, day: date) -> CheckIn | None:
    """The patient's check-in of a local day, if any."""
    return CheckIn.objects.filter(patient=patient, local_date=day).first()


def patient_last_completed(*, patient: Patient) -> dict[str, datetime]:
    """When the patient last completed each instrument."""
    rows = (
        Assessment.objects.filter(patient=patient)
        .values("instrument")
        .annotate(last=Max("completed_at"))
    )
    return {row["instrument"]: row["last"] for row in rows}


def patient_instrument_codes(*, patient: Patient) -> list[str]:
    """The questionnaires the care team chose, else those that fit the conditions."""
    if patient.questionnaires:
        return [code for code in ("phq9", "gad7", "pcl5") if code in patient.questionnaires]
    flags = {"phq9": patient.has_depression, "gad7": patient.has_anxiety, "pcl5": patient.has_ptsd}
    return [code for code, wanted in flags.items() if wanted]


class CheckInPoint(TypedDict):
    local_date: date
    mood: int
    anxiety: int


class AssessmentPoint(TypedDict):
    public_id: uuid.UUID
    instrument: str
    completed_at: datetime
    total: int | None
    band: str


def patient_checkin_series(*, patient: Patient, since: date | None = None) -> list[CheckInPoint]:
    """Mood and anxiety by local day, oldest first."""
    rows = CheckIn.objects.filter(patient=patient)
    if since is not None:
        rows = rows.filter(local_date__gte=since)
    return list(rows.order_by("local_date").values("local_date", "mood", "anxiety"))


def patient_assessment_series(*, patient: Patient) -> list[AssessmentPoint]:
    """Questionnaire totals over time, oldest first, without superseded results."""
    return list(
        Assessment.objects.filter(patient=patient, superseded_by__isnull=True)
        .order_by("completed_at")
        .values("public_id", "instrument", "completed_at", "total", "band")
    )


def patient_next_session(*, patient: Patient, now: datetime) -> TreatmentSession | None:
    """The patient's next scheduled session from `now` on."""
    return (
        TreatmentSession.objects.filter(
            patient=patient, status=TreatmentSession.Status.SCHEDULED, scheduled_at__gte=now
        )
        .order_by("scheduled_at")
        .first()
    )


PRIORITY_ORDER = Case(
    When(priority=Alert.Priority.URGENT, then=0),
    When(priority=Alert.Priority.HIGH, then=1),
    default=2,
)


def clinic_alerts_list(*, clinic: Clinic, state: str = "open") -> QuerySet[Alert]:
    """The clinic's alerts: open ones most urgent and oldest first; others newest first."""
    alerts = Alert.objects.filter(patient__clinic=clinic).select_related(
        "patient__user", "acknowledged_by"
    )
    if state == "open":
        return alerts.filter(acknowledged_at__isnull=True).order_by(PRIORITY_ORDER, "created_at")
    if state == "acknowledged":
        alerts = alerts.filter(acknowledged_at__isnull=False)
    return alerts.order_by("-created_at")


def related_safety_alerts(alert: Alert) -> QuerySet[Alert]:
    """The patient's other safety alerts, which may be acknowledged with `alert` (a safety
    alert) while open; none for other kinds. (Acknowledged ones are kept in: one that
    someone acknowledged since the page was shown is skipped, not an error.)"""
    if alert.kind != Alert.Kind.SAFETY:
        return Alert.objects.none()
    return (
        Alert.objects.filter(patient_id=alert.patient_id, kind=Alert.Kind.SAFETY)
        .exclude(pk=alert.pk)
        .order_by("created_at")
    )


def alerts_with_related(alerts: list[Alert]) -> list[Alert]:
    """`alerts`, each open safety alert with `related` set: its patient's other open safety
    alerts (one query for the lot), for acknowledging them together."""
    wanted = [a for a in alerts if a.kind == Alert.Kind.SAFETY and a.acknowledged_at is None]
    if not wanted:
        return alerts
    by_patient: dict[int, list[Alert]] = {}
    for other in Alert.objects.filter(
        patient_id__in={a.patient_id for a in wanted},
        kind=Alert.Kind.SAFETY,
        acknowledged_at__isnull=True,
    ).order_by("created_at"):
        by_patient.setdefault(other.patient_id, []).append(other)
    for alert in wanted:
        alert.related = [a for a in by_patient.get(alert.patient_id, []) if a.pk != alert.pk]
    return alerts


def patient_alert_history(*, patient: Patient) -> QuerySet[Alert]:
    """All of the patient's alerts, open first, then newest first."""
    return (
        patient.alerts.select_related("acknowledged_by")
        .annotate(is_closed=Case(When(acknowledged_at__isnull=True, then=0), default=1))
        .order_by("is_closed", PRIORITY_ORDER, "-created_at")
    )


def patient_recent_checkins(*, patient: Patient, limit: int = 30) -> list[CheckIn]:
    """The patient's latest check-ins, newest first, with how often each was changed."""
    return list(patient.checkins.order_by("-local_date")[:limit])


def patient_recent_assessments(*, patient: Patient, limit: int = 20) -> list[dict]:
    """The latest questionnaires with each answer next to its item text."""
    results = []
    for assessment in patient.assessments.select_related("supersedes").order_by("-completed_at")[
        :limit
    ]:
        instrument = INSTRUMENTS[assessment.instrument]
        band = band_for_code(instrument, assessment.band) if assessment.band else None
        items = [
            {
                "number": item.number,
                "text": item.text,
                "value": assessment.answers.get(str(item.number)),
                "label": instrument.option_label(assessment.answers[str(item.number)])
                if str(item.number) in assessment.answers
                else "—",
                "flagged": item.number in instrument.self_harm_items
                and assessment.answers.get(str(item.number), 0) >= 1,
            }
            for item in instrument.items
        ]
        results.append(
            {"assessment": assessment, "instrument": instrument, "band": band, "items": items}
        )
    return results


def clinic_upcoming_sessions(*, clinic: Clinic, now: datetime, days: int = 14) -> QuerySet:
    """Booked sessions of the next `days` days, soonest first."""
    return (
        TreatmentSession.objects.filter(
            patient__clinic=clinic,
            status=TreatmentSession.Status.SCHEDULED,
            scheduled_at__gte=now - timedelta(hours=12),
            scheduled_at__lt=now + timedelta(days=days),
        )
        .select_related("patient__user")
        .order_by("scheduled_at")
    )


def clinic_rems_outstanding(*, clinic: Clinic) -> QuerySet:
    """Completed intranasal esketamine sessions whose REMS form is not marked submitted."""
    return (
        TreatmentSession.objects.filter(
            patient__clinic=clinic,
            route=TreatmentSession.Route.INTRANASAL,
            status=TreatmentSession.Status.COMPLETED,
            rems_submitted_on__isnull=True,
        )
        .select_related("patient__user")
        .order_by("scheduled_at")
    )


def user_api_tokens(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).select_related("user").order_by("-created_at")


@dataclass(frozen=True)
class AuditFilters:
    actor_id: int | None = None
    patient_id: int | None = None
    action: str = ""
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def clinic_audit_events(*, clinic: Clinic, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """The clinic's audit events, newest first, with who and which patient in one query."""
    events = AuditEvent.objects.filter(clinic=clinic)
    if filters.actor_id is not None:
        events = events.filter(actor_id=filters.actor_id)
    if filters.patient_id is not None:
        events = events.filter(patient_id=filters.patient_id)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.since is not None:
        events = events.filter(at__gte=filters.since)
    if filters.until is not None:
        events = events.filter(at__lt=filters.until)
    return events.select_related("actor", "patient__user").order_by("-at", "-id")


def clinic_audit_actors(*, clinic: Clinic) -> QuerySet[User]:
    """Everyone who can appear in the clinic's audit trail: its staff and its patients."""
    return (
        User.objects.filter(Q(staff_membership__clinic=clinic) | Q(patient__clinic=clinic))
        .select_related("staff_membership", "patient")
        .order_by("full_name", "email")
    )


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
