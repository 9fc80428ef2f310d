"""The caseload: the clinic's patients, who needs attention first, in a fixed number of queries.

One query sorts and pages the patients (attention first: open safety alerts, then high
alerts, then missed check-ins, then the rest); one more, hand-written (care.caseload.sql),
brings what the page shows for those patients only, so the cost does not grow with the size
of the clinic.
"""

from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

from care.accounts.selectors import latest_invitation_sent_at
from care.caseload.sql import CaseloadPatient, Filters, PageFacts, overview, page_facts
from care.domain.clock import local_date
from care.domain.rules import ScorePoint, baseline, mood_direction, score_outcome
from care.domain.trends import window_average
from care.models import Alert, Clinic, Patient


@dataclass(frozen=True)
class CaseloadEntry:
    """One patient of a caseload page and what its row needs, read with the page (see
    CaseloadSequence.__getitem__): plain values, no model objects."""

    patient: CaseloadPatient
    last_checkin_on: date | None
    next_session_at: datetime | None
    first_treatment_at: datetime | None
    # (kind, priority) of each open alert.
    open_alerts: tuple[tuple[str, str], ...]
    # Of each summarised questionnaire: its first kept score and the latest two, by time.
    scores: dict[str, list[ScorePoint]] = field(default_factory=dict)
    # The check-ins of the last RECENT_DAYS days: their days, oldest first, and moods.
    mood_days: list[date] = field(default_factory=list)
    moods: list[int] = field(default_factory=list)
    # The patient's messages nobody of the care team has opened yet.
    unread_messages: int = 0


PAGE_SIZE = 50


SCORED = ("phq9", "gad7")  # the questionnaires a row summarises

# The check-ins a row reads for its two 7-day averages (this week's, and the one a week or
# more ago).
RECENT_DAYS = 16


CONDITIONS = {"depression": "has_depression", "anxiety": "has_anxiety", "ptsd": "has_ptsd"}


@dataclass(frozen=True)
class CaseloadFilters:
    clinician: int | None = None
    condition: str = ""
    phase: str = ""
    status: str = Patient.Status.ACTIVE
    search: str = ""


@dataclass
class ScoreSummary:
    latest: int | None = None
    latest_at: datetime | None = None
    previous: int | None = None  # the score before the latest
    since_previous: int | None = None
    baseline: int | None = None
    change: int | None = None
    response: bool = False
    remission: bool = False


@dataclass(frozen=True)
class AlertCount:
    priority: str
    label: str
    count: int


@dataclass
class CaseloadRow:
    patient: CaseloadPatient
    last_checkin_on: date | None
    days_since_checkin: int | None
    mood_avg: float | None
    mood_direction: str
    scores: dict[str, ScoreSummary] = field(default_factory=dict)
    alerts: list[AlertCount] = field(default_factory=list)
    next_session_at: datetime | None = None
    unread_messages: int = 0


def _filters(*, clinic: Clinic, filters: CaseloadFilters) -> Filters:
    """The values the caseload's statements filter on (care.caseload.sql.FILTERS)."""
    chosen = Filters.of(
        clinic=clinic.pk,
        status=filters.status,
        clinician=filters.clinician or None,
        phase=filters.phase,
        condition=filters.condition if filters.condition in CONDITIONS else "",
    )
    return chosen.searching(filters.search.strip())


class CaseloadSequence:
    """The clinic's patients, filtered, attention first, as a sliceable sequence.

    The patients with an open safety (or other urgent), high-priority or missed check-in
    alert come first (in that order, then by name); the others follow by name. Two
    hand-written statements (care.caseload.sql): the count with the open alerts (few), then
    the page: those needing attention on it and the next ones by name, with everything their
    rows show. So a page costs the same two whether the clinic has fifty patients or five
    thousand. Paginator (page and API) calls `count()` and slices it.
    """

    def __init__(self, *, clinic: Clinic, filters: CaseloadFilters, now: datetime) -> None:
        self.filters = _filters(clinic=clinic, filters=filters)
        self.now = now
        self._attention: list[int] | None = None
        self._count = 0
        self._open: dict[int, list[tuple[str, str]]] | None = None
        self._names: dict[int, str] = {}

    def _overview(self) -> None:
        if self._open is None:
            self._count, alerts = overview(self.filters)
            self._open, self._names = defaultdict(list), {}
            for patient_id, kind, priority, name in alerts:
                self._open[patient_id].append((kind, priority))
                self._names[patient_id] = name

    def count(self) -> int:
        self._overview()
        return self._count

    def open_alerts(self) -> dict[int, list[tuple[str, str]]]:
        """(kind, priority) of every open alert of the filtered patients, by patient: the
        clinic's open work, which stays small however many patients it has."""
        self._overview()
        assert self._open is not None
        return self._open

    def attention(self) -> list[int]:
        """Ids of the filtered patients needing attention, in caseload order."""
        if self._attention is None:
            ranks = {}
            for patient_id, alerts in self.open_alerts().items():
                flags = (
                    # Safety, and any other urgent alert (a message the patient marked urgent).
                    any(
                        kind == Alert.Kind.SAFETY or priority == Alert.Priority.URGENT
                        for kind, priority in alerts
                    ),
                    any(priority == Alert.Priority.HIGH for _, priority in alerts),
                    any(kind == Alert.Kind.MISSED_CHECKINS for kind, _ in alerts),
                )
                if any(flags):
                    name = self._names[patient_id]
                    ranks[patient_id] = ([not f for f in flags], name.casefold(), name, patient_id)
            self._attention = sorted(ranks, key=ranks.__getitem__)
        return self._attention

    def __getitem__(self, index: slice) -> list[CaseloadEntry]:
        if not isinstance(index, slice) or index.step not in (None, 1) or index.stop is None:
            raise TypeError("CaseloadSequence takes slices with an end")
        start, stop = index.start or 0, index.stop
        first = self.attention()
        chosen = first[start:stop]
        facts = page_facts(
            self.filters,
            chosen=chosen,
            attention=first,
            skip=max(start - len(first), 0),
            wanted=stop - start - len(chosen),
            now=self.now,
            since=(self.now - timedelta(days=RECENT_DAYS)).date(),
            codes=SCORED,
        )
        open_alerts = self.open_alerts()
        return [_entry(f, open_alerts.get(f.patient.pk, [])) for f in facts]

    def __len__(self) -> int:
        return self.count()


def _entry(facts: PageFacts, open_alerts: list[tuple[str, str]]) -> CaseloadEntry:
    scores = {
        code: [ScorePoint(at, total) for at, total in points]
        for code, points in facts.scores.items()
    }
    return CaseloadEntry(
        patient=facts.patient,
        last_checkin_on=facts.last_checkin_on,
        next_session_at=facts.next_session_at,
        first_treatment_at=facts.first_treatment_at,
        open_alerts=tuple(open_alerts),
        scores=scores,
        mood_days=facts.mood_days,
        moods=facts.moods,
        unread_messages=facts.unread_messages,
    )


def caseload_patients(*, clinic: Clinic, filters: CaseloadFilters, now: datetime):
    """The clinic's patients, filtered, attention first (see CaseloadSequence)."""
    return CaseloadSequence(clinic=clinic, filters=filters, now=now)


def caseload_page(
    *, clinic: Clinic, filters: CaseloadFilters, now: datetime, page_number: str | None
) -> tuple[Page, list[CaseloadRow]]:
    """One page of the caseload with everything its rows show."""
    paginator = Paginator(caseload_patients(clinic=clinic, filters=filters, now=now), PAGE_SIZE)
    page = paginator.get_page(page_number)
    return page, caseload_rows(entries=list(page.object_list), now=now)


def caseload_rows(*, entries: list[CaseloadEntry], now: datetime) -> list[CaseloadRow]:
    """The caseload rows of these entries (a slice of `caseload_patients`, which brings
    everything they show along): no more queries."""
    kinds: dict[str, object] = dict(Alert.Kind.choices)
    rank: dict[str, int] = {
        Alert.Priority.URGENT: 0,
        Alert.Priority.HIGH: 1,
        Alert.Priority.ROUTINE: 2,
    }
    rows = []
    for entry in entries:
        counted: Counter[tuple[str, str]] = Counter(entry.open_alerts)
        alerts = sorted(
            (AlertCount(priority, str(kinds[kind]), n) for (kind, priority), n in counted.items()),
            key=lambda c: (rank[c.priority], c.label),
        )
        rows.append(_row(entry, alerts, now))
    return rows


def _row(entry: CaseloadEntry, alerts: list[AlertCount], now: datetime) -> CaseloadRow:
    patient, first_treatment_at = entry.patient, entry.first_treatment_at
    today = local_date(now, patient.tz)
    # The 7-day averages the row needs: at the last check-in of the past week and at the
    # last one a week or more ago (the same values `rolling_average` gives on those days).
    days, moods = entry.mood_days, entry.moods  # by day
    week_ago = today - timedelta(days=7)
    week = [window_average(days, moods, days[-1])] if days and days[-1] >= week_ago else []
    cut = bisect_right(days, week_ago)
    earlier = [window_average(days, moods, days[cut - 1])] if cut else []
    direction = mood_direction([earlier[-1], week[-1]]) if week and earlier else "flat"
    summaries = {}
    for code in SCORED:
        points = entry.scores.get(code, [])
        summary = ScoreSummary()
        if points:
            latest = points[-1]
            base = baseline(points, first_session_at=first_treatment_at)
            summary.latest, summary.latest_at = latest.total, latest.at
            if len(points) > 1:
                summary.previous = points[-2].total
                summary.since_previous = latest.total - points[-2].total
            if base is not None:
                # A lone baseline score is still the baseline (as the trends say); the
                # change and the outcome are the later scores'.
                summary.baseline = base.total
                if base.at != latest.at:
                    summary.change = latest.total - base.total
                outcome = score_outcome(code, base, latest, first_treatment_at=first_treatment_at)
                summary.response, summary.remission = outcome.response, outcome.remission
        summaries[code] = summary
    last = entry.last_checkin_on
    return CaseloadRow(
        patient=patient,
        last_checkin_on=last,
        days_since_checkin=(today - last).days if last else None,
        mood_avg=week[-1] if week else None,
        mood_direction=direction,
        scores=summaries,
        alerts=alerts,
        next_session_at=entry.next_session_at,
        unread_messages=entry.unread_messages,
    )


def clinic_patients_list(*, clinic: Clinic) -> QuerySet[Patient]:
    """The clinic's patients with what the list shows, in a fixed number of queries."""
    open_alerts = Q(alerts__acknowledged_at__isnull=True)
    return (
        Patient.objects.filter(clinic=clinic)
        .select_related("user", "primary_clinician")
        .annotate(
            invitation_sent_at=latest_invitation_sent_at("user_id"),
            open_alerts=Count("alerts", filter=open_alerts),
            open_urgent=Count("alerts", filter=open_alerts & Q(alerts__priority="urgent")),
        )
        .order_by("-open_urgent", "user__full_name", "id")
    )
