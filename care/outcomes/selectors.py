"""Reads for the outcomes page: a clinic's cohort as the plain values of `care.domain.outcomes`.

Seven queries whatever the number of patients: the cohort's patients (with their first held
session), their check-in counts (counted by the database, per patient, with conditional
counts: no check-in row is fetched), their questionnaire scores and completions (only those
the figures can use), their held sessions in the period, their alerts raised in it, their
reminders due in it (counted by status and skip reason), and their message threads active
in it (one row a thread, its messages counted by the database).
The later queries select the cohort by a subquery, not by a list of ids.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet

from care.caseload.selectors import CONDITIONS
from care.domain.clock import local_date
from care.domain.outcomes import (
    FOLLOW_UP_DAYS,
    INSTRUMENT_CODES,
    QUESTIONNAIRE_LEAD,
    AlertRecord,
    CheckInCounts,
    CohortPatient,
    OutcomeData,
    OutcomeReport,
    Period,
    ThreadRecord,
    adherence_windows,
    outcome_report,
)
from care.domain.rules import ScorePoint
from care.models import Alert, Assessment, CheckIn, Clinic, MessageThread, Patient
from care.models.sessions import first_treatment_at_subquery, held_sessions
from care.outcomes.reminders import reminder_counts
from care.records.selectors import patient_instrument_codes


@dataclass(frozen=True)
class OutcomeFilters:
    start: date
    end: date
    condition: str = ""  # "depression", "anxiety", "ptsd" or "" (any)
    route: str = ""  # a TreatmentSession.Route or "" (any)
    clinician: int | None = None  # the primary clinician's user id
    phase: str = ""  # a Patient.Phase or "" (any)


@dataclass(frozen=True)
class CohortMember:
    """What the page shows of a patient (names never reach the pure figures)."""

    name: str
    public_id: uuid.UUID


def cohort_patients(*, clinic: Clinic, filters: OutcomeFilters, period: Period) -> QuerySet:
    """The clinic's patients matching the filters and enrolled by the end of the period,
    with `first_held_at` (their first held session before the end, or None)."""
    ends_at = period.ends_at
    held = held_sessions().filter(patient=OuterRef("pk"), scheduled_at__lt=ends_at)
    patients = Patient.objects.filter(clinic=clinic, enrolled_at__lt=ends_at)
    if filters.condition in CONDITIONS:
        patients = patients.filter(**{CONDITIONS[filters.condition]: True})
    if filters.clinician:
        patients = patients.filter(primary_clinician_id=filters.clinician)
    if filters.phase:
        patients = patients.filter(treatment_phase=filters.phase)
    if filters.route:
        patients = patients.filter(Exists(held.filter(route=filters.route)))
    return patients.annotate(first_held_at=first_treatment_at_subquery(before=ends_at))


def outcome_data(
    *, clinic: Clinic, filters: OutcomeFilters, today: date
) -> tuple[OutcomeData, dict[int, CohortMember]]:
    """The cohort's plain values for `outcomes.outcome_report`, and who each patient is."""
    period = Period(filters.start, filters.end, clinic.tz)
    candidates = cohort_patients(clinic=clinic, filters=filters, period=period)
    cohort = candidates.filter(first_held_at__isnull=False).values("pk")
    starts_at, ends_at = period.starts_at, period.ends_at

    # 1. The patients, with what the figures need of each.
    rows = list(
        candidates.select_related("user").only(
            "user__full_name",
            "preferred_name",
            "public_id",
            "tz",
            "status",
            "treatment_phase",
            "enrolled_at",
            "questionnaires",
            "has_depression",
            "has_anxiety",
            "has_ptsd",
        )
    )
    treated = [p for p in rows if p.first_held_at is not None]

    # 2. Check-ins done per patient in the adherence windows, counted by the database.
    counts: dict[int, CheckInCounts] = {}
    windows = adherence_windows(period, today=today)
    if windows is not None:
        span = (windows.first, windows.last)
        recent = (windows.recent_first, windows.last)
        earlier = (windows.earlier_first, windows.earlier_last)
        for pk, done, done_recent, done_earlier in (
            CheckIn.objects.filter(
                patient__in=cohort,
                local_date__gte=min(windows.first, windows.earlier_first),
                local_date__lte=windows.last,
            )
            .order_by()
            .values("patient_id")
            .annotate(
                period=Count("pk", filter=Q(local_date__range=span)),
                recent=Count("pk", filter=Q(local_date__range=recent)),
                earlier=Count("pk", filter=Q(local_date__range=earlier)),
            )
            .values_list("patient_id", "period", "recent", "earlier")
        ):
            counts[pk] = CheckInCounts(done, done_recent, done_earlier)

    # 3. Questionnaires: those the adherence of the period looks at, and those up to
    # FOLLOW_UP_DAYS after the first held session (baseline, time points, weeks): no held
    # session more than FOLLOW_UP_DAYS before them (an index probe that stops at the first).
    too_late = held_sessions().filter(
        patient=OuterRef("patient_id"),
        scheduled_at__lt=OuterRef("completed_at") - timedelta(days=FOLLOW_UP_DAYS),
    )
    scores: defaultdict[int, defaultdict[str, list[ScorePoint]]] = defaultdict(
        lambda: defaultdict(list)
    )
    completions = defaultdict(list)
    for pk, code, at, total, is_correction, superseded_by in (
        Assessment.objects.filter(patient__in=cohort, completed_at__lt=ends_at)
        .filter(
            Q(completed_at__gte=starts_at - QUESTIONNAIRE_LEAD - timedelta(days=1))
            | ~Exists(too_late)
        )
        .order_by()
        .values_list(
            "patient_id", "instrument", "completed_at", "total", "supersedes", "superseded_by"
        )
    ):
        if code in INSTRUMENT_CODES and total is not None and superseded_by is None:
            scores[pk][code].append(ScorePoint(at, total))
        if is_correction is None:  # a correction re-enters answers given earlier
            completions[pk].append((code, at))

    # 4. Held sessions in the period (a day either side: patients' zones differ).
    sessions = defaultdict(list)
    for pk, at in (
        held_sessions()
        .filter(
            patient__in=cohort,
            scheduled_at__gte=starts_at - timedelta(days=1),
            scheduled_at__lt=ends_at + timedelta(days=1),
        )
        .order_by()
        .values_list("patient_id", "scheduled_at")
    ):
        sessions[pk].append(at)

    # 5. Alerts about the cohort raised in the period; an escalated one records when it
    # escalated (set with the escalation e-mails).
    alerts = tuple(
        AlertRecord(kind, created_at, acknowledged_at, escalated_at is not None)
        for kind, created_at, acknowledged_at, escalated_at in Alert.objects.filter(
            patient__in=cohort, created_at__gte=starts_at, created_at__lt=ends_at
        )
        .order_by()
        .values_list("kind", "created_at", "acknowledged_at", "escalated_at")
    )

    # 6. The cohort's reminders due in the period, counted by status and skip reason (from
    # the app that sends them: care.outcomes.reminders).
    reminders = reminder_counts(cohort=cohort, starts_at=starts_at, ends_at=ends_at)

    # 7. The cohort's message threads started before the end with a message the patient can
    # see from the start on (the latest such message is `last_message_at`): the care team's
    # first reply, and the messages of each side in the period, counted by the database.
    reply = Q(messages__from_patient=False, messages__is_staff_note=False)
    in_period = Q(messages__created_at__gte=starts_at, messages__created_at__lt=ends_at)
    threads = tuple(
        ThreadRecord(started_at, first_reply_at, patient_messages, replies)
        for started_at, first_reply_at, patient_messages, replies in MessageThread.objects.filter(
            patient__in=cohort, created_at__lt=ends_at, last_message_at__gte=starts_at
        )
        .order_by()
        .annotate(
            first_reply_at=Min("messages__created_at", filter=reply),
            patient_messages=Count("messages", filter=Q(messages__from_patient=True) & in_period),
            replies=Count("messages", filter=reply & in_period),
        )
        .values_list("created_at", "first_reply_at", "patient_messages", "replies")
    )

    patients = tuple(
        CohortPatient(
            key=p.pk,
            tz=p.tz,
            status=p.status,
            phase=p.treatment_phase,
            enrolled_on=local_date(p.enrolled_at, p.tz),
            first_held_at=p.first_held_at,
            instruments=tuple(patient_instrument_codes(patient=p)),
            scores={code: tuple(points) for code, points in scores[p.pk].items()},
            held_sessions=tuple(sorted(sessions[p.pk])),
            completions=tuple(completions[p.pk]),
            checkins=counts.get(p.pk, CheckInCounts()),
        )
        for p in treated
    )
    data = OutcomeData(
        period=period,
        patients=patients,
        not_treated_yet=len(rows) - len(treated),
        alerts=alerts,
        alert_kinds=tuple(Alert.Kind.values),
        reminders=reminders,
        threads=threads,
    )
    members = {
        p.pk: CohortMember(p.user.full_name or p.preferred_name, p.public_id) for p in treated
    }
    return data, members


def clinic_outcome_report(
    *, clinic: Clinic, filters: OutcomeFilters, today: date
) -> tuple[OutcomeReport, dict[int, CohortMember]]:
    """The outcome figures of the clinic's cohort, and who its patients are (for the page)."""
    data, members = outcome_data(clinic=clinic, filters=filters, today=today)
    return outcome_report(data, today=today), members


def filters_echo(filters: OutcomeFilters) -> dict:
    """The filters as the CSV and the API repeat them (None: any)."""
    return {
        "condition": filters.condition or None,
        "route": filters.route or None,
        "clinician": filters.clinician,
        "phase": filters.phase or None,
    }
