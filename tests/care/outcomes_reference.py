"""The outcome figures as they were computed before the database summed them: every row of
the cohort read into Python and the definitions applied patient by patient, in plain code.

The tests hold `care.outcomes.selectors.outcome_data` (two hand-written statements that
return counts, `care.outcomes.sql`) equal to `reference_data` on hand-built and generated
cohorts. This is the code of care/domain/outcomes.py and care/outcomes/selectors.py before
issue 23, with two changes: it reads every score before the end of the period (the old read
left out scores taken more than 211 days after the first held session unless they fell in
the period, so a patient scored only that late counted as "never scored" instead of "no
baseline"; and a completion of that kind in the two days before the period's first session
went unseen); and it reads the held sessions two days either side of the period, not one
(a patient's zone may be 26 hours from the clinic's, and a session on one of the period's
local days could fall outside one day).
"""

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.db.models import Count, Min, Q

from care.domain.clock import local_date
from care.domain.outcomes import (
    ADHERENCE_ROWS,
    BLOCK_DAYS,
    DROP_FROM_AT_LEAST,
    DROP_POINTS,
    INSTRUMENT_CODES,
    LAST_WEEK,
    QUESTIONNAIRE_LEAD,
    TIME_POINTS,
    AdherenceFigures,
    AdherenceWindows,
    AlertRecord,
    InstrumentCounts,
    OutcomeData,
    PatientAdherence,
    Period,
    PointCounts,
    ThreadRecord,
    adherence_windows,
)
from care.domain.rules import ScorePoint, baseline, is_remission, is_response
from care.models import Alert, Assessment, CheckIn, Clinic, MessageThread
from care.models.sessions import held_sessions
from care.outcomes.reminders import reminder_counts
from care.outcomes.selectors import CohortMember, OutcomeFilters, cohort_patients
from care.records.selectors import patient_instrument_codes


@dataclass(frozen=True)
class CheckInCounts:
    period: int = 0
    recent: int = 0
    earlier: int = 0


@dataclass(frozen=True)
class CohortPatient:
    key: int
    tz: str
    status: str
    phase: str
    enrolled_on: date
    first_held_at: datetime
    name: str = ""
    instruments: tuple[str, ...] = ()
    scores: Mapping[str, Sequence[ScorePoint]] = field(default_factory=dict)
    held_sessions: tuple[datetime, ...] = ()
    completions: tuple[tuple[str, datetime], ...] = ()
    checkins: CheckInCounts = CheckInCounts()


@dataclass(frozen=True)
class _Followed:
    baseline: int
    scores: tuple[tuple[int, datetime, int], ...]


def _followed(code: str, patients: Sequence[CohortPatient], period: Period):
    followed, no_baseline, never = [], 0, 0
    for patient in patients:
        points = sorted(
            (p for p in patient.scores.get(code, ()) if p.at < period.ends_at), key=lambda p: p.at
        )
        if not points:
            never += 1
            continue
        first_at = patient.first_held_at
        base = baseline(points, first_session_at=first_at)
        if base is None:
            no_baseline += 1
            continue
        zone = ZoneInfo(patient.tz)
        first_day = first_at.astimezone(zone).date()
        after = tuple(
            ((p.at.astimezone(zone).date() - first_day).days, p.at, p.total)
            for p in points
            if p.at > first_at
        )
        followed.append(_Followed(base.total, after))
    return followed, no_baseline, never


def instrument_counts(
    code: str, patients: Sequence[CohortPatient], period: Period
) -> InstrumentCounts:
    """One questionnaire's counts, patient by patient."""
    followed, no_baseline, never = _followed(code, patients, period)
    points = []
    for point in TIME_POINTS:
        scored = responders = remitters = 0
        for patient in followed:
            inside = [t for d, _, t in patient.scores if point.first_day <= d <= point.last_day]
            if inside:
                scored += 1
                responders += is_response(patient.baseline, inside[-1])
                remitters += is_remission(code, inside[-1])
        points.append(PointCounts(scored, responders, remitters))
    responded: Counter[int] = Counter()
    censored: Counter[int] = Counter()
    for patient in followed:
        weeks = [(d // 7, t) for d, _, t in patient.scores if d >= 0]
        if not weeks:
            continue
        first = next((w for w, t in weeks if is_response(patient.baseline, t)), None)
        if first is not None:
            responded[first] += 1
        else:
            censored[weeks[-1][0]] += 1
    latest: dict[int, dict[int, int]] = {}
    for index, patient in enumerate(followed):
        for d, _, t in patient.scores:
            if 0 <= d // 7 <= LAST_WEEK:
                latest.setdefault(d // 7, {})[index] = t - patient.baseline
    changes = {week: (len(c), sum(c.values())) for week, c in latest.items()}
    return InstrumentCounts(
        code=code,
        with_baseline=len(followed),
        no_baseline=no_baseline,
        never_scored=never,
        points=tuple(points),
        responded=dict(responded),
        censored=dict(censored),
        changes=changes,
    )


def _days(first: date, last: date) -> int:
    return max((last - first).days + 1, 0)


def adherence_dropped(
    *, recent_done: int, recent_expected: int, earlier_done: int, earlier_expected: int
) -> bool:
    if not recent_expected or not earlier_expected:
        return False
    earlier = Fraction(earlier_done, earlier_expected)
    recent = Fraction(recent_done, recent_expected)
    return earlier >= DROP_FROM_AT_LEAST and earlier - recent >= DROP_POINTS


def questionnaire_adherence(patient: CohortPatient, first: date, last: date) -> tuple[int, int]:
    zone = ZoneInfo(patient.tz)
    wanted = set(patient.instruments)
    done_at = sorted(at for code, at in patient.completions if code in wanted)
    sessions = [s for s in patient.held_sessions if first <= s.astimezone(zone).date() <= last]
    expected = len(sessions)
    done = 0
    for session in sessions:
        index = bisect_left(done_at, session - QUESTIONNAIRE_LEAD)
        done += index < len(done_at) and done_at[index] <= session
    if patient.phase == "maintenance":

        def block(at: datetime) -> int:
            return (at.astimezone(zone).date() - first).days // BLOCK_DAYS

        with_session = {block(s) for s in sessions}
        with_questionnaire = {block(at) for at in done_at}
        blocks = ((last - first).days + 1) // BLOCK_DAYS
        free = [n for n in range(blocks) if n not in with_session]
        expected += len(free)
        done += sum(1 for n in free if n in with_questionnaire)
    return done, expected


def patient_adherence(patient: CohortPatient, windows: AdherenceWindows) -> PatientAdherence | None:
    first = max(windows.first, patient.enrolled_on)
    expected = _days(first, windows.last)
    if not expected:
        return None
    counts = patient.checkins
    recent_expected = _days(max(windows.recent_first, patient.enrolled_on), windows.last)
    earlier_expected = _days(max(windows.earlier_first, patient.enrolled_on), windows.earlier_last)
    recent_done = min(counts.recent, recent_expected)
    earlier_done = min(counts.earlier, earlier_expected)
    q_done, q_expected = questionnaire_adherence(patient, first, windows.last)
    return PatientAdherence(
        key=patient.key,
        checkins_done=min(counts.period, expected),
        checkins_expected=expected,
        questionnaires_done=q_done,
        questionnaires_expected=q_expected,
        recent_done=recent_done,
        recent_expected=recent_expected,
        earlier_done=earlier_done,
        earlier_expected=earlier_expected,
        dropped=adherence_dropped(
            recent_done=recent_done,
            recent_expected=recent_expected,
            earlier_done=earlier_done,
            earlier_expected=earlier_expected,
        ),
    )


def adherence(
    patients: Sequence[CohortPatient], period: Period, *, today: date
) -> AdherenceFigures:
    """Adherence patient by patient; the lowest check-in shares ordered as the page did
    (share, then name), every dropped patient in cohort order."""
    windows = adherence_windows(period, today=today)
    active = [p for p in patients if p.status == "active"]
    rows = []
    if windows is not None:
        rows = [row for p in active if (row := patient_adherence(p, windows)) is not None]
    names = {p.key: p.name for p in patients}
    ordered = sorted(
        rows, key=lambda r: (Fraction(r.checkins_done, r.checkins_expected), names[r.key], r.key)
    )
    return AdherenceFigures(
        windows=windows,
        patients=len(rows),
        left_out=len(patients) - len(active),
        checkins_done=sum(r.checkins_done for r in rows),
        checkins_expected=sum(r.checkins_expected for r in rows),
        questionnaires_done=sum(r.questionnaires_done for r in rows),
        questionnaires_expected=sum(r.questionnaires_expected for r in rows),
        with_earlier_share=sum(1 for r in rows if r.earlier_expected and r.recent_expected),
        dropped=tuple(r for r in rows if r.dropped),
        lowest=tuple(ordered[:ADHERENCE_ROWS]),
    )


def reference_data(
    *, clinic: Clinic, filters: OutcomeFilters, today: date
) -> tuple[OutcomeData, dict[int, CohortMember]]:
    """The cohort read row by row, its figures patient by patient."""
    period = Period(filters.start, filters.end, clinic.tz)
    candidates = cohort_patients(clinic=clinic, filters=filters, period=period, stored_facts=False)
    cohort = candidates.filter(first_held_at__isnull=False).values("pk")
    starts_at, ends_at = period.starts_at, period.ends_at
    rows = list(candidates.select_related("user"))
    treated = [p for p in rows if p.first_held_at is not None]

    counts: dict[int, CheckInCounts] = {}
    windows = adherence_windows(period, today=today)
    if windows is not None:
        span = (windows.first, windows.last)
        recent = (windows.recent_first, windows.last)
        earlier = (windows.earlier_first, windows.earlier_last)
        for pk, done, done_recent, done_earlier in (
            CheckIn.objects.filter(patient__in=cohort)
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

    scores: defaultdict[int, defaultdict[str, list[ScorePoint]]] = defaultdict(
        lambda: defaultdict(list)
    )
    completions = defaultdict(list)
    for pk, code, at, total, is_correction, superseded_by in (
        Assessment.objects.filter(patient__in=cohort, completed_at__lt=ends_at)
        .order_by("completed_at", "pk")
        .values_list(
            "patient_id", "instrument", "completed_at", "total", "supersedes", "superseded_by"
        )
    ):
        if code in INSTRUMENT_CODES and total is not None and superseded_by is None:
            scores[pk][code].append(ScorePoint(at, total))
        if is_correction is None:
            completions[pk].append((code, at))

    sessions = defaultdict(list)
    for pk, at in (
        held_sessions()
        .filter(
            patient__in=cohort,
            scheduled_at__gte=starts_at - timedelta(days=2),
            scheduled_at__lt=ends_at + timedelta(days=2),
        )
        .values_list("patient_id", "scheduled_at")
    ):
        sessions[pk].append(at)

    alerts = tuple(
        AlertRecord(kind, created_at, acknowledged_at, escalated_at is not None)
        for kind, created_at, acknowledged_at, escalated_at in Alert.objects.filter(
            patient__in=cohort, created_at__gte=starts_at, created_at__lt=ends_at
        ).values_list("kind", "created_at", "acknowledged_at", "escalated_at")
    )
    reply = Q(messages__from_patient=False, messages__is_staff_note=False)
    in_period = Q(messages__created_at__gte=starts_at, messages__created_at__lt=ends_at)
    threads = tuple(
        ThreadRecord(*row)
        for row in MessageThread.objects.filter(
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
            name=p.user.full_name or p.preferred_name,
            instruments=tuple(patient_instrument_codes(patient=p)),
            scores={code: tuple(points) for code, points in scores[p.pk].items()},
            held_sessions=tuple(sorted(sessions[p.pk])),
            completions=tuple(completions[p.pk]),
            checkins=counts.get(p.pk, CheckInCounts()),
        )
        for p in treated
    )
    figures = adherence(patients, period, today=today)
    data = OutcomeData(
        period=period,
        patients=len(patients),
        not_treated_yet=len(rows) - len(treated),
        instruments=tuple(instrument_counts(code, patients, period) for code in INSTRUMENT_CODES),
        adherence=figures,
        alerts=alerts,
        alert_kinds=tuple(Alert.Kind.values),
        reminders=reminder_counts(cohort=cohort, starts_at=starts_at, ends_at=ends_at),
        threads=threads,
    )
    listed = {r.key for r in figures.lowest} | {r.key for r in figures.dropped}
    members = {
        p.pk: CohortMember(p.user.full_name or p.preferred_name, p.public_id)
        for p in treated
        if p.pk in listed
    }
    return data, members
