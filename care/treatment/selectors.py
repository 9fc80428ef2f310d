"""Reads of treatment sessions: the next, the coming ones, those still to record, the REMS
forms outstanding; the bookings a new one must fit between, a day of the clinic's sessions,
and the patients' requests to move one; a patient's coming sessions with their readiness
checks and move requests; of treatment plans; of the patient's weights and what a session's
dose is compared with."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from care.domain.booking import SEARCH_DAYS, Booking, Placed, Rules, series_proposal
from care.domain.clock import local_day_start, local_instant
from care.domain.dosing import DoseBasis, weight_is_stale
from care.domain.reflections import REFLECTION_DAYS
from care.models import (
    BodyWeight,
    Clinic,
    Patient,
    SessionMoveRequest,
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


# The statuses that hold a chair and the patient's day (a cancelled session or a no-show
# holds neither).
BOOKED_STATUSES = (TreatmentSession.Status.SCHEDULED, TreatmentSession.Status.COMPLETED)


# How far either side of a wanted time the bookings are read: the free-slot search's days
# and two more for a session running over midnight and the clocks changing.
BOOKINGS_MARGIN = timedelta(days=SEARCH_DAYS + 2)


def booking_rules(*, clinic: Clinic) -> Rules:
    """The clinic's opening hours, zone, chairs and chair time, for care.domain.booking."""
    return Rules(
        week=clinic.week,
        tz=clinic.tz,
        chairs=clinic.treatment_chairs,
        minutes=clinic.session_minutes,
    )


def clinic_bookings(
    *,
    clinic: Clinic,
    patient: Patient,
    since: datetime,
    until: datetime,
    exclude: Iterable[int] = (),
) -> tuple[list[Booking], list[datetime]]:
    """The clinic's bookings starting in [since - margin, until + margin) (each with its
    chair) and, of those, the starts of `patient`'s; without the sessions `exclude` (the one
    being moved)."""
    rows = (
        TreatmentSession.objects.filter(
            patient__clinic=clinic,
            status__in=BOOKED_STATUSES,
            scheduled_at__gte=since - BOOKINGS_MARGIN,
            scheduled_at__lt=until + BOOKINGS_MARGIN,
        )
        .exclude(pk__in=list(exclude))
        .values_list("scheduled_at", "chair", "patient_id")
    )
    others, own = [], []
    for start, chair, patient_id in rows:
        others.append(Booking(start, chair))
        if patient_id == patient.pk:
            own.append(start)
    return others, own


def clinic_day_sessions(*, clinic: Clinic, day: date) -> QuerySet:
    """The clinic's sessions (not cancelled) of its local `day`, with their patients and
    readiness answers, in time order."""
    return (
        TreatmentSession.objects.filter(
            patient__clinic=clinic,
            scheduled_at__gte=local_day_start(day, clinic.tz),
            scheduled_at__lt=local_day_start(day + timedelta(days=1), clinic.tz),
        )
        .exclude(status=TreatmentSession.Status.CANCELLED)
        .select_related("patient__user", "readiness")
        .order_by("scheduled_at", "chair", "pk")
    )


def pending_move_requests(*, clinic: Clinic, patient: Patient | None = None) -> QuerySet:
    """Patients' requests to move a session still waiting for the care team, oldest first."""
    requests = SessionMoveRequest.objects.filter(
        session__patient__clinic=clinic, status=SessionMoveRequest.Status.PENDING
    )
    if patient is not None:
        requests = requests.filter(session__patient=patient)
    return requests.select_related("session__patient__user").order_by("created_at")


def patient_has_sessions(*, patient: Patient) -> bool:
    """Whether the patient has any session held or booked (then "Book from plan" proposes
    the next session rather than the induction series)."""
    return TreatmentSession.objects.filter(patient=patient, status__in=BOOKED_STATUSES).exists()


def patient_latest_booking(*, patient: Patient) -> datetime | None:
    """The start of the patient's latest session held or booked, or None."""
    latest = (
        TreatmentSession.objects.filter(patient=patient, status__in=BOOKED_STATUSES)
        .order_by("-scheduled_at")
        .first()
    )
    return latest.scheduled_at if latest else None


def plan_proposal_start(
    *, patient: Patient, plan: TreatmentPlanVersion, kind: str, now: datetime
) -> datetime:
    """Where a proposal from the plan starts by default: tomorrow at the clinic's first
    opening (09:00 without hours) for the induction series or an "as needed" session; for
    the next maintenance session, the patient's latest booking plus the plan's weeks at the
    same wall-clock time, not before that."""
    clinic = patient.clinic
    tomorrow = clinic.local_date(now) + timedelta(days=1)
    opening = min((i.opens for day in clinic.week for i in day), default=9 * 60)
    default = local_instant(tomorrow, time(opening // 60, opening % 60), clinic.tz)
    if kind != "next" or not plan.maintenance_every_weeks:
        return default
    latest = patient_latest_booking(patient=patient)
    if latest is None:
        return default
    zone = ZoneInfo(clinic.tz)
    local = latest.astimezone(zone)
    every = timedelta(weeks=plan.maintenance_every_weeks)
    due = datetime.combine(local.date() + every, local.time(), tzinfo=zone)
    return max(due, default)


def plan_proposal(
    *, patient: Patient, plan: TreatmentPlanVersion, kind: str, first: datetime, now: datetime
) -> list[Placed]:
    """The plan's induction series (`kind` "induction": its sessions over its weeks) or its
    next session ("next"), from `first`, each in the nearest free slot from `now` on."""
    sessions, weeks = (
        (plan.induction_sessions, plan.induction_weeks) if kind == "induction" else (1, 1)
    )
    clinic = patient.clinic
    others, own = clinic_bookings(
        clinic=clinic, patient=patient, since=first, until=first + timedelta(weeks=weeks)
    )
    rules = booking_rules(clinic=clinic)
    return series_proposal(rules, first, sessions, weeks, others, own, not_before=now)
