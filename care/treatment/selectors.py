"""Reads of treatment sessions: the next, the coming ones (the clinic's; a patient's with
their readiness checks and move requests), those still to record, the REMS forms
outstanding."""

from datetime import datetime, timedelta

from django.db.models import QuerySet

from care.domain.clock import local_day_start
from care.models import (
    Clinic,
    Patient,
    SessionReadiness,
    TreatmentPlanVersion,
    TreatmentSession,
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


def _today_start(*, clinic: Clinic, now: datetime) -> datetime:
    """The instant the clinic's current calendar day began."""
    return local_day_start(clinic.local_date(now), clinic.tz)


def clinic_upcoming_sessions(*, clinic: Clinic, now: datetime, days: int = 14) -> QuerySet:
    """Booked sessions of the clinic's today (those already begun too) and of the next `days`
    days, soonest first."""
    return (
        TreatmentSession.objects.filter(
            patient__clinic=clinic,
            status=TreatmentSession.Status.SCHEDULED,
            scheduled_at__gte=_today_start(clinic=clinic, now=now),
            scheduled_at__lt=now + timedelta(days=days),
        )
        .select_related("patient__user")
        .order_by("scheduled_at")
    )


def clinic_sessions_needing_record(*, clinic: Clinic, now: datetime) -> QuerySet:
    """Sessions still booked (neither recorded, cancelled nor marked no-show) whose day, at the
    clinic, is over, oldest first: each was held and is unrecorded, or did not take place and
    should be marked so. Today's are in `clinic_upcoming_sessions`, never in both."""
    return (
        TreatmentSession.objects.filter(
            patient__clinic=clinic,
            status=TreatmentSession.Status.SCHEDULED,
            scheduled_at__lt=_today_start(clinic=clinic, now=now),
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


def patient_plan_versions(*, patient: Patient) -> QuerySet:
    """Every version of the patient's treatment plan, newest (the current plan) first."""
    return (
        TreatmentPlanVersion.objects.filter(plan__patient=patient)
        .select_related("prescriber", "created_by", "answered_alert")
        .order_by("-number")
    )


def patient_current_plan(*, patient: Patient) -> TreatmentPlanVersion | None:
    """The patient's treatment plan as it stands (its latest version), or None."""
    return patient_plan_versions(patient=patient).first()


def patient_upcoming_sessions(*, patient: Patient, now: datetime) -> QuerySet:
    """The patient's booked sessions not yet started, soonest first, each with its readiness
    check (`readiness`, if answered) and its move requests (newest first) loaded."""
    return (
        TreatmentSession.objects.filter(
            patient=patient, status=TreatmentSession.Status.SCHEDULED, scheduled_at__gt=now
        )
        .select_related("readiness")
        .prefetch_related("move_requests")
        .order_by("scheduled_at")
    )


def session_readiness(*, session: TreatmentSession) -> SessionReadiness | None:
    """The session's readiness check, or None before it is answered."""
    return SessionReadiness.objects.filter(session=session).first()
