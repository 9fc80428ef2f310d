"""The first treatment: one definition for every screen, export and alert rule.

A session is treatment once it is recorded as held (status "completed"). A booking, in the
future or never updated from "scheduled", a cancellation and a no-show are not: the
baseline is the first score at or before the first held session, and response and
remission are judged only on scores after it.
"""

from datetime import datetime, timedelta

from django.db.models import OuterRef, QuerySet, Subquery

from care.models import (
    Clinic,
    Patient,
    TreatmentSession,
)


def held_sessions() -> QuerySet[TreatmentSession]:
    """Every session that took place (recorded as completed)."""
    return TreatmentSession.objects.filter(status=TreatmentSession.Status.COMPLETED)


def first_treatment(*, patient: Patient) -> TreatmentSession | None:
    """The patient's first held session, or None before any."""
    return held_sessions().filter(patient=patient).order_by("scheduled_at").first()


def first_treatment_at(*, patient: Patient) -> datetime | None:
    """When the patient's first held session took place, or None before any."""
    session = first_treatment(patient=patient)
    return session.scheduled_at if session else None


def first_treatment_at_subquery(
    *, patient_ref: str = "pk", before: datetime | None = None
) -> Subquery:
    """`first_treatment_at` as an annotation of a Patient queryset (optionally of the held
    sessions before `before`)."""
    held = held_sessions().filter(patient=OuterRef(patient_ref))
    if before is not None:
        held = held.filter(scheduled_at__lt=before)
    return Subquery(held.order_by("scheduled_at").values("scheduled_at")[:1])


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
