"""Reads for the outcomes page: a clinic's cohort as the plain values of `care.domain.outcomes`.

Five queries whatever the number of patients, none of which brings a patient's rows into
Python: the questionnaire figures and the cohort's size, summed by the database
(`care.outcomes.sql`), adherence (sums, and the patients the page lists), the alerts raised in
the period, the reminders due in it (counted by status and skip reason), and the message
threads active in it (one row a thread, its messages counted by the database). Each selects
the cohort by a subquery, not by a list of ids.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, NullIf

from care.caseload.selectors import CONDITIONS
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
    OutcomeReport,
    PatientAdherence,
    Period,
    PointCounts,
    ThreadRecord,
    adherence_windows,
    no_adherence,
    outcome_report,
)
from care.domain.rules import REMISSION_BELOW
from care.models import (
    Alert,
    Clinic,
    MessageThread,
    OutcomeFactsStale,
    Patient,
    PatientOutcomeFacts,
)
from care.models.sessions import first_treatment_at_subquery, held_sessions
from care.outcomes import sql as outcome_sql
from care.outcomes.reminders import reminder_counts

POINT_WINDOWS = tuple((point.first_day, point.last_day) for point in TIME_POINTS)


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


def matching_patients(*, clinic: Clinic, filters: OutcomeFilters, ends_at: datetime) -> QuerySet:
    """The clinic's patients enrolled before `ends_at` who match the filters but the route."""
    patients = Patient.objects.filter(clinic=clinic, enrolled_at__lt=ends_at)
    if filters.condition in CONDITIONS:
        patients = patients.filter(**{CONDITIONS[filters.condition]: True})
    if filters.clinician:
        patients = patients.filter(primary_clinician_id=filters.clinician)
    if filters.phase:
        patients = patients.filter(treatment_phase=filters.phase)
    return patients


def cohort_patients(
    *, clinic: Clinic, filters: OutcomeFilters, period: Period, stored_facts: bool = True
) -> QuerySet:
    """The clinic's patients matching the filters and enrolled by the end of the period,
    with `first_held_at` (their first held session before the end, or None) and `stored`:
    whether their stored outcome facts stand for the period (not marked stale, nothing of
    theirs after its end; never with `stored_facts` False), else read from their sessions."""
    ends_at = period.ends_at
    held = held_sessions().filter(patient=OuterRef("pk"), scheduled_at__lt=ends_at)
    patients = matching_patients(clinic=clinic, filters=filters, ends_at=ends_at)
    stale = Exists(OutcomeFactsStale.objects.filter(patient_id=OuterRef("pk")))
    # Without a facts row `last_at < end` is NULL: such a patient is read from their rows.
    fresh = Q(~stale, outcome_facts__last_at__lt=ends_at) if stored_facts else Value(False)
    patients = patients.annotate(
        stored=Coalesce(ExpressionWrapper(fresh, output_field=BooleanField()), Value(False))
    )
    if filters.route:
        patients = patients.filter(
            Q(stored=True, outcome_facts__routes__contains=[filters.route])
            | Q(Exists(held.filter(route=filters.route)), stored=False)
        )
    return patients.annotate(
        first_held_at=Case(
            When(stored=True, then=F("outcome_facts__first_held_at")),
            default=first_treatment_at_subquery(before=ends_at),
        )
    )


def outcome_data(
    *, clinic: Clinic, filters: OutcomeFilters, today: date
) -> tuple[OutcomeData, dict[int, CohortMember]]:
    """The cohort's counts for `outcomes.outcome_report`, and who the listed patients are."""
    period = Period(filters.start, filters.end, clinic.tz)
    candidates = cohort_patients(clinic=clinic, filters=filters, period=period).annotate(
        display_name=Coalesce(NullIf("user__full_name", Value("")), "preferred_name"),
        group_id=F("outcome_facts__group_id"),
    )
    starts_at, ends_at = period.starts_at, period.ends_at

    # 1. The groups of patients whose sums stand for the period; the cohort but the patients
    # summed in those, written once into a temporary table; the questionnaires' figures and
    # the cohort's size; adherence.
    windows = adherence_windows(period, today=today)
    remission = list(REMISSION_BELOW.items())
    everyone: int | None = None
    with outcome_sql.snapshot() as (cursor, consistent):
        standing: list[int] = []
        # The groups' sums only within one snapshot: a mark or a refresh committed between
        # the statements would count a patient twice or not at all.
        if windows is not None and consistent:
            standing, others = outcome_sql.cohort_groups(
                cursor,
                {
                    **window_params(windows),
                    "ends_at": ends_at,
                    "clinic": clinic.pk,
                    "clinician": filters.clinician,
                    "phase": filters.phase,
                    "route": filters.route,
                },
                filters=outcome_sql.group_filters(
                    condition=filters.condition if filters.condition in CONDITIONS else "",
                    clinician=filters.clinician,
                    phase=filters.phase,
                    route=filters.route,
                ),
            )
        if standing:
            # A constant statement; the patients' ids its one value.
            outside = outcome_sql.not_in_groups(cursor, others)
            listed = RawSQL(outcome_sql.LISTED, (outside,))  # noqa: S611  # nosec B611
            candidates = candidates.filter(pk__in=listed)
            everyone = (
                None
                if filters.route
                else matching_patients(clinic=clinic, filters=filters, ends_at=ends_at).count()
            )
        outcome_sql.write_cohort(cursor, candidates)
        instrument_rows = outcome_sql.instrument_rows(
            cursor,
            {
                "codes": list(INSTRUMENT_CODES),
                "ends_at": ends_at,
                "remission_codes": [code for code, _ in remission],
                "remission_below": [below for _, below in remission],
                "groups": standing,
            },
            points=POINT_WINDOWS,
            weeks=LAST_WEEK + 1,
        )
        adherence_rows = (
            None
            if windows is None
            else outcome_sql.adherence_rows(
                cursor, _adherence_params(windows, period) | {"groups": standing}
            )
        )
        # The treated patients as the cohort table and the groups hold them (not worked out
        # again): a constant statement, the groups' ids its one value.
        held = RawSQL(outcome_sql.TREATED, ())  # noqa: S611  # nosec B611
        treated = Patient.objects.filter(pk__in=held).values("pk")
        parts: tuple[Q, ...] = (Q(patient__in=Patient.objects.filter(pk__in=held).values("pk")),)
        if standing:
            # The patients of the groups that stand, not marked: as a filter of rows with a
            # patient, through their stored facts (not listed, not joined to the patients).
            stored = PatientOutcomeFacts.objects.filter(group_id__in=standing)
            marked = OutcomeFactsStale.objects.values("patient_id")
            parts += (
                Q(Exists(stored.filter(patient_id=OuterRef("patient_id"))))
                & ~Q(patient_id__in=marked),
            )
            covered_patients = Patient.objects.filter(
                pk__in=stored.exclude(patient_id__in=marked).values("patient_id")
            )
            treated = treated.union(covered_patients.values("pk"), all=True)
        alerts, reminders, threads = _activity(treated, parts, starts_at, ends_at)
    patients = left_out = covered = covered_left_out = in_table = 0
    instruments = {code: _InstrumentSums() for code in INSTRUMENT_CODES}
    for kind, code, figures in instrument_rows:
        if kind == "cohort":
            in_table, patients, left_out = figures
        elif kind == "covered":
            covered, covered_left_out = figures
        else:
            instruments[code].add(kind, figures)
    patients += covered
    left_out += covered_left_out
    if not standing:
        everyone = in_table
    elif everyone is None:  # with a route: every patient of the cohort is treated
        everyone = in_table + covered
    not_treated_yet = everyone - patients

    # 2. Adherence of the cohort's active patients, and who the listed ones are.
    adherence = no_adherence(windows, left_out=left_out)
    members: dict[int, CohortMember] = {}
    if adherence_rows is not None:
        adherence, members = _adherence(adherence_rows, windows, left_out=left_out)

    data = OutcomeData(
        period=period,
        patients=patients,
        not_treated_yet=not_treated_yet,
        instruments=tuple(
            sums.counts(code, treated=patients) for code, sums in instruments.items()
        ),
        adherence=adherence,
        alerts=alerts,
        alert_kinds=tuple(Alert.Kind.values),
        reminders=reminders,
        threads=threads,
    )
    return data, members


def _activity(
    cohort: QuerySet, parts: tuple[Q, ...], starts_at: datetime, ends_at: datetime
) -> tuple[tuple[AlertRecord, ...], tuple, tuple[ThreadRecord, ...]]:
    """The cohort's alerts, reminders and message threads of the period; `parts`: the
    cohort as filters of rows with a patient, no patient in two (each read apart: one
    filter of both kinds made the planner list the patients first)."""
    # 3. Alerts about the cohort raised in the period; an escalated one records when it
    # escalated (set with the escalation e-mails).
    alerts = tuple(
        AlertRecord(kind, created_at, acknowledged_at, escalated_at is not None)
        for part in parts
        for kind, created_at, acknowledged_at, escalated_at in Alert.objects.filter(
            part, created_at__gte=starts_at, created_at__lt=ends_at
        )
        .order_by()
        .values_list("kind", "created_at", "acknowledged_at", "escalated_at")
    )

    # 4. The cohort's reminders due in the period, counted by status and skip reason (from
    # the app that sends them: care.outcomes.reminders).
    reminders = reminder_counts(cohort=cohort, starts_at=starts_at, ends_at=ends_at)

    # 5. The cohort's message threads started before the end with a message the patient can
    # see from the start on (the latest such message is `last_message_at`): the care team's
    # first reply, and the messages of each side in the period, counted by the database.
    reply = Q(messages__from_patient=False, messages__is_staff_note=False)
    in_period = Q(messages__created_at__gte=starts_at, messages__created_at__lt=ends_at)
    threads = tuple(
        ThreadRecord(started_at, first_reply_at, patient_messages, replies)
        for part in parts
        for started_at, first_reply_at, patient_messages, replies in MessageThread.objects.filter(
            part, created_at__lt=ends_at, last_message_at__gte=starts_at
        )
        .order_by()
        .annotate(
            first_reply_at=Min("messages__created_at", filter=reply),
            patient_messages=Count("messages", filter=Q(messages__from_patient=True) & in_period),
            replies=Count("messages", filter=reply & in_period),
        )
        .values_list("created_at", "first_reply_at", "patient_messages", "replies")
    )
    return alerts, reminders, threads


@dataclass
class _InstrumentSums:
    """A questionnaire's figures added up from the rows of `outcome_sql.instrument_rows`
    (groups' sums, patients taken back out of them, patients summed one by one)."""

    figures: list[int] = field(default_factory=list)
    responded: dict[int, int] = field(default_factory=dict)
    censored: dict[int, int] = field(default_factory=dict)

    def add(self, kind: str, figures: list[int]) -> None:
        """A 'code' row (`outcome_sql.FIGURES_HEAD` ...: with and without a baseline, three
        per time point, then the patients and their sum of changes per week), or a
        'responded' or 'censored' row (week, patients)."""
        if kind == "code":
            if len(figures) > len(self.figures):
                self.figures.extend([0] * (len(figures) - len(self.figures)))
            for n, value in enumerate(figures):
                self.figures[n] += int(value)
        else:
            weeks = self.responded if kind == "responded" else self.censored
            week, patients = figures
            weeks[week] = weeks.get(week, 0) + int(patients)

    def counts(self, code: str, *, treated: int) -> InstrumentCounts:
        head = len(TIME_POINTS) * 3 + 2
        figures = self.figures or [0] * (head + 2 * (LAST_WEEK + 1))
        with_baseline, no_baseline = figures[0], figures[1]
        rest = figures[2:head]
        weekly = figures[head:]
        return InstrumentCounts(
            code=code,
            with_baseline=with_baseline,
            no_baseline=no_baseline,
            never_scored=treated - with_baseline - no_baseline,
            points=tuple(PointCounts(*rest[3 * n : 3 * n + 3]) for n in range(len(TIME_POINTS))),
            # Weeks and time points without a patient left out, as one by one.
            responded={week: n for week, n in sorted(self.responded.items()) if n},
            censored={week: n for week, n in sorted(self.censored.items()) if n},
            changes={
                week: (weekly[2 * week], weekly[2 * week + 1])
                for week in range(LAST_WEEK + 1)
                if weekly[2 * week]
            },
        )


def _patient_adherence(row: tuple) -> PatientAdherence:
    key, done, expected, q_done, q_expected, recent, of_recent, earlier, of_earlier = (
        int(value) for value in row[1:10]
    )
    return PatientAdherence(
        key, done, expected, q_done, q_expected, recent, of_recent, earlier, of_earlier, row[10]
    )


def window_params(windows: AdherenceWindows) -> dict:
    """The adherence windows as the statements' parameters (and a clinic's stored day)."""
    return {
        "first": windows.first,
        "last": windows.last,
        "recent_first": windows.recent_first,
        "earlier_first": windows.earlier_first,
        "earlier_last": windows.earlier_last,
    }


def _adherence_params(windows: AdherenceWindows, period: Period) -> dict:
    return window_params(windows) | {
        "ends_at": period.ends_at,
        "lead": QUESTIONNAIRE_LEAD,
        "block_days": BLOCK_DAYS,
        # Held sessions two days either side of the period: zones differ by up to 26 hours.
        "sessions_from": period.starts_at - timedelta(days=2),
        "sessions_to": period.ends_at + timedelta(days=2),
        "drop_from": [DROP_FROM_AT_LEAST.numerator, DROP_FROM_AT_LEAST.denominator],
        "drop_points": [DROP_POINTS.numerator, DROP_POINTS.denominator],
        "rows": ADHERENCE_ROWS,
    }


def _adherence(
    rows: list[tuple], windows: AdherenceWindows | None, *, left_out: int
) -> tuple[AdherenceFigures, dict[int, CohortMember]]:
    """The adherence figures (sums, the dropped and the lowest), and the listed patients."""
    totals = next(row for row in rows if row[0] == 0)
    listed = {row[1]: row for row in rows if row[0] == 1}
    lines = {key: _patient_adherence(row) for key, row in listed.items()}
    ordered = sorted(
        (line for line in lines.values() if listed[line.key][13] is not None),
        key=lambda line: listed[line.key][13],
    )
    _, counted, done, expected, q_done, q_expected, with_earlier, _dropped = totals[:8]
    figures = AdherenceFigures(
        windows=windows,
        patients=counted,
        left_out=left_out,
        checkins_done=int(done),
        checkins_expected=int(expected),
        questionnaires_done=int(q_done),
        questionnaires_expected=int(q_expected),
        with_earlier_share=with_earlier,
        dropped=tuple(line for line in lines.values() if line.dropped),
        lowest=tuple(ordered),
    )
    members = {key: CohortMember(row[11], row[12]) for key, row in listed.items()}
    return figures, members


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
