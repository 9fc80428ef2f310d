"""Reads of treatment sessions: the next, the coming ones, the REMS forms outstanding."""

from datetime import datetime, timedelta

from django.db.models import QuerySet

from care.models import (
    Clinic,
    Patient,
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
