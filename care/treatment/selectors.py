"""Reads of treatment sessions: the next, the coming ones, those still to record, the REMS
forms outstanding; the bookings a new one must fit between, a day of the clinic's sessions,
and the patients' requests to move one."""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from care.domain.booking import SEARCH_DAYS, Booking, Placed, Rules, series_proposal
from care.domain.clock import local_day_start, local_instant
from care.models import (
    Clinic,
    Patient,
    SessionMoveRequest,
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


# Booking: the rules of the clinic and the bookings a new one must fit between.

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
