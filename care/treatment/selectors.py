"""Reads of treatment sessions: the next, the coming ones, those still to record, the REMS
forms outstanding; a patient's coming sessions with their readiness checks and move requests;
of treatment plans; of the patient's weights and what a session's dose is compared with."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import QuerySet

from care.domain.clock import local_day_start
from care.domain.dosing import DoseBasis, weight_is_stale
from care.domain.reflections import REFLECTION_DAYS
from care.models import (
    BodyWeight,
    Clinic,
    Patient,
    SessionReadiness,
    SessionReflection,
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


def patient_weights(*, patient: Patient) -> QuerySet:
    """The patient's weights, the latest measured first (the latest recorded first on a day)."""
    return (
        BodyWeight.objects.filter(patient=patient)
        .select_related("recorded_by")
        .order_by("-measured_on", "-created_at", "-pk")
    )


def latest_weight(*, patient: Patient, on: date | None = None) -> BodyWeight | None:
    """The patient's latest weight (measured on or before `on`, when given), or None."""
    weights = patient_weights(patient=patient)
    if on is not None:
        weights = weights.filter(measured_on__lte=on)
    return weights.first()


# The weights the patient page lists (the latest first).
WEIGHT_HISTORY_SHOWN = 20


@dataclass(frozen=True)
class WeightCard:
    """The patient page's weight: the latest, whether it is older than the clinic's limit
    at the clinic's today, and the latest `WEIGHT_HISTORY_SHOWN` weights."""

    latest: BodyWeight | None
    stale: bool
    max_age_days: int
    history: list[BodyWeight]


def patient_weight_card(*, patient: Patient, now: datetime) -> WeightCard:
    clinic = patient.clinic
    history = list(patient_weights(patient=patient)[:WEIGHT_HISTORY_SHOWN])
    latest = history[0] if history else None
    stale = latest is not None and weight_is_stale(
        measured_on=latest.measured_on,
        session_on=clinic.local_date(now),
        max_age_days=clinic.weight_max_age_days,
    )
    return WeightCard(latest, stale, clinic.weight_max_age_days, history)


def session_dose_basis(*, session: TreatmentSession) -> DoseBasis:
    """What the session's dose is compared with: the patient's current plan, their latest
    weight on or before the session's local date, and the clinic's weight and dose limits."""
    patient = session.patient
    clinic = patient.clinic
    session_on = clinic.local_date(session.scheduled_at)
    plan = patient_current_plan(patient=patient)
    weight = latest_weight(patient=patient, on=session_on)
    return DoseBasis(
        session_on=session_on,
        max_age_days=clinic.weight_max_age_days,
        margin_percent=clinic.dose_margin_percent,
        plan_route=plan.route if plan else None,
        plan_mg_per_kg=plan.target_dose_mg_per_kg if plan else None,
        plan_mg=Decimal(plan.target_dose_mg) if plan and plan.target_dose_mg else None,
        weight_kg=weight.weight_kg if weight else None,
        weighed_on=weight.measured_on if weight else None,
    )


def patient_session_reflection(*, session: TreatmentSession) -> SessionReflection | None:
    """The patient's reflection on the session, or None."""
    return SessionReflection.objects.filter(session=session).first()


def patient_reflection_waiting(*, patient: Patient, now: datetime) -> TreatmentSession | None:
    """The patient's latest held session of the last REFLECTION_DAYS days still without a
    reflection (the home page's "How was your session?"), or None."""
    return (
        TreatmentSession.objects.filter(
            patient=patient,
            status=TreatmentSession.Status.COMPLETED,
            scheduled_at__gte=now - timedelta(days=REFLECTION_DAYS),
            scheduled_at__lte=now,
            reflection__isnull=True,
        )
        .order_by("-scheduled_at")
        .first()
    )


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
