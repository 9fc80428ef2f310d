"""Reads of the notifications app: who may have a reminder due, and their facts, as plain rows.

The dispatcher does not walk every patient. A daily reminder can only fall due in the last
LATE_AFTER of each zone's wall time (schedule.chosen_time_window), so the tick asks the
database only for patients whose chosen time lies there (or whose session today may move it
there), who have not checked in today and have no reminder for today yet. Batches of those
are then read by key, and the pure rules in schedule.py decide for each patient: these reads
narrow the set, they never decide alone.
"""

import json
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    DateField,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat

from care.clock import local_day_start
from care.models import Assessment, CheckIn, Patient, TreatmentSession
from care.trends import REPEAT_AFTER_DAYS

from .models import Delivery, ReminderPreference
from .schedule import AFTER_SESSION, LATE_AFTER, ChosenTimeWindow, chosen_time_window

# A session moves the day's check-in reminder to about AFTER_SESSION after it; wall-clock
# arithmetic on a DST day and rounding to the minute move it by up to an hour more.
SESSION_SLACK = timedelta(hours=1, minutes=1)
HELD_OR_BOOKED = [TreatmentSession.Status.SCHEDULED, TreatmentSession.Status.COMPLETED]
INSTRUMENT_FLAGS = {"phq9": "has_depression", "gad7": "has_anxiety", "pcl5": "has_ptsd"}


class Candidate(NamedTuple):
    """A patient who takes reminder e-mails, with what the reminder rules need."""

    pk: int
    tz: str
    enrolled_at: datetime
    email: str
    treatment_phase: str
    checkin_time: time
    quiet_start: time
    quiet_end: time
    paused_until: date | None
    unsubscribed: list[str]
    questionnaires: list[str]
    has_depression: bool
    has_anxiety: bool
    has_ptsd: bool
    # The third-latest sent check-in reminder: without one, no cap (selectors.cap_facts).
    third_sent_at: datetime | None

    def as_patient(self) -> Patient:
        """An unsaved Patient with what care.selectors.patient_instrument_codes reads."""
        return Patient(
            pk=self.pk,
            questionnaires=self.questionnaires,
            has_depression=self.has_depression,
            has_anxiety=self.has_anxiety,
            has_ptsd=self.has_ptsd,
        )


class CapFacts(NamedTuple):
    """What the cap on unanswered reminders needs besides Candidate.third_sent_at: the
    latest sent check-in reminder and the last check-in."""

    last_sent_at: datetime | None
    last_checkin_at: datetime | None


def _remindable() -> QuerySet:
    return Patient.objects.filter(
        status=Patient.Status.ACTIVE,
        user__is_active=True,
        reminder_preference__email_enabled=True,
    ).order_by()


def reminder_windows(*, now: datetime) -> dict[str, ChosenTimeWindow]:
    """The chosen-time window at `now` of each time zone patients live in."""
    zones = Patient.objects.order_by().values_list("tz", flat=True).distinct()
    windows = {tz: chosen_time_window(tz, now=now) for tz in zones}
    return {tz: window for tz, window in windows.items() if window is not None}


def _by_zone(windows: dict[str, ChosenTimeWindow], value, output_field) -> Case:
    """An expression: `value(tz, window)` for the patient's zone."""
    whens = [When(tz=tz, then=Value(value(tz, window))) for tz, window in windows.items()]
    return Case(*whens, output_field=output_field)


def _pending(windows: dict[str, ChosenTimeWindow]) -> QuerySet:
    """Remindable patients in a zone with a window, not paused on their local day (which
    is annotated as `local_today`)."""
    return (
        _remindable()
        .filter(tz__in=windows)
        .annotate(local_today=_by_zone(windows, lambda tz, w: w.today, DateField()))
        .filter(
            Q(reminder_preference__paused_until__isnull=True)
            | Q(reminder_preference__paused_until__lt=F("local_today"))
        )
    )


def _chosen_time_in(windows: dict[str, ChosenTimeWindow]) -> Q:
    chosen = "reminder_preference__checkin_time__range"
    matches = Q()
    for tz, window in windows.items():
        matches |= Q(tz=tz, **{chosen: (window.earliest, window.latest)})
    return matches


def _checkin_candidates(now: datetime, windows: dict[str, ChosenTimeWindow]) -> list[QuerySet]:
    """Chosen time in the window, or a session that may move it there; not checked in on
    their local day, and no check-in reminder for it yet (a skipped one does not count). Two
    sets rather than one OR, so that each can use its index."""
    key = Concat(
        Value("patient:"),
        Cast(OuterRef("pk"), output_field=CharField()),
        OuterRef("day_key"),
    )
    reminded = Delivery.objects.filter(kind=Delivery.Kind.CHECKIN, subject_key=key).exclude(
        status=Delivery.Status.SKIPPED
    )
    checked_in = CheckIn.objects.filter(patient=OuterRef("pk"), local_date=OuterRef("local_today"))
    sessions = TreatmentSession.objects.filter(
        status__in=HELD_OR_BOOKED,
        scheduled_at__gte=now - LATE_AFTER - AFTER_SESSION - SESSION_SLACK,
        scheduled_at__lte=now - AFTER_SESSION + SESSION_SLACK,
    ).values("patient_id")
    pending = (
        _pending(windows)
        .annotate(day_key=_by_zone(windows, lambda tz, w: f":{w.today}", CharField()))
        .filter(~Exists(checked_in), ~Exists(reminded))
    )
    return [
        pending.filter(_chosen_time_in(windows)).values("pk"),
        pending.filter(pk__in=Subquery(sessions)).values("pk"),
    ]


def _maintenance_candidates(windows: dict[str, ChosenTimeWindow]) -> QuerySet:
    """In maintenance, chosen time in the window, and a questionnaire that may be due: one
    the patient may be asked for (by condition, or any once the team chose a list) without a
    completion recent enough (care.trends.questionnaires_due decides)."""
    maybe_due, recent = Q(), {}
    for code, flag in INSTRUMENT_FLAGS.items():
        # The start of the first local day on which a completion still counts as recent.
        back = timedelta(days=REPEAT_AFTER_DAYS[code] - 1)
        recent[f"{code}_recent"] = _by_zone(
            windows, lambda tz, w, back=back: local_day_start(w.today - back, tz), DateTimeField()
        )
        done = Assessment.objects.filter(
            patient=OuterRef("pk"), instrument=code, completed_at__gte=OuterRef(f"{code}_recent")
        )
        maybe_due |= (Q(**{flag: True}) | ~Q(questionnaires=[])) & ~Exists(done)
    return (
        _pending(windows)
        .filter(_chosen_time_in(windows), treatment_phase=Patient.Phase.MAINTENANCE)
        .annotate(**recent)
        .filter(maybe_due)
        .values("pk")
    )


@contextmanager
def _without_jit():
    """PostgreSQL compiles a query whose estimated cost is high (JIT) before running it. The
    candidate queries' probes make their estimate high while they run in milliseconds, and
    the compiling would take seconds, every tick: off for them (until their transaction ends).
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def checkin_candidate_ids(*, now: datetime) -> list[int]:
    """Patients who may have today's check-in reminder due at `now`, sorted by key."""
    windows = reminder_windows(now=now)
    if not windows:
        return []
    at_chosen, on_session_day = _checkin_candidates(now, windows)
    with _without_jit():
        return sorted(at_chosen.union(on_session_day).order_by().values_list("pk", flat=True))


def maintenance_candidate_ids(*, now: datetime) -> list[int]:
    """Patients who may have a maintenance questionnaire reminder due at `now`, sorted."""
    windows = reminder_windows(now=now)
    if not windows:
        return []
    with _without_jit():
        return sorted(_maintenance_candidates(windows).values_list("pk", flat=True))


def reminder_candidate_ids(*, now: datetime) -> list[int]:
    """Patients who may have a daily or maintenance reminder due at `now`, sorted."""
    windows = reminder_windows(now=now)
    if not windows:
        return []
    at_chosen, on_session_day = _checkin_candidates(now, windows)
    either = at_chosen.union(on_session_day, _maintenance_candidates(windows)).order_by()
    with _without_jit():
        return sorted(either.values_list("pk", flat=True))


def _sent_checkin_reminders(patient: str) -> QuerySet:
    """The patient's sent check-in reminders, newest first (index delivery_checkin_sent)."""
    return Delivery.objects.filter(
        patient=OuterRef(patient), kind=Delivery.Kind.CHECKIN, status=Delivery.Status.SENT
    ).order_by("-due_at")


def reminder_candidates(*, patient_ids: list[int]) -> list[Candidate]:
    """Those of the given patients who take reminder e-mails, by key.

    Read from the preferences, so that the keys pick rows by index in both tables. The two
    lists come as JSON text, decoded only when not empty (which they nearly always are).
    """
    third_sent = _sent_checkin_reminders("patient_id").values("due_at")[2:3]
    rows = (
        ReminderPreference.objects.filter(
            patient_id__any_of=patient_ids,
            email_enabled=True,
            patient__status=Patient.Status.ACTIVE,
            patient__user__is_active=True,
        )
        .order_by("patient_id")
        .annotate(
            unsubscribed_json=Cast("unsubscribed", TextField()),
            questionnaires_json=Cast("patient__questionnaires", TextField()),
            third_sent_at=Subquery(third_sent),
        )
        .values_list(
            "patient_id",
            "patient__tz",
            "patient__enrolled_at",
            "patient__user__email",
            "patient__treatment_phase",
            "checkin_time",
            "quiet_start",
            "quiet_end",
            "paused_until",
            "unsubscribed_json",
            "questionnaires_json",
            "patient__has_depression",
            "patient__has_anxiety",
            "patient__has_ptsd",
            "third_sent_at",
        )
    )
    return [Candidate(*row[:9], _json_list(row[9]), _json_list(row[10]), *row[11:]) for row in rows]


def _json_list(text: str) -> list:
    return [] if text == "[]" else json.loads(text)


def checkins_on(*, patient_ids: list[int], days: set[date]) -> set[tuple[int, date]]:
    """(patient, local day) of the check-ins these patients made on these days."""
    return set(
        CheckIn.objects.filter(patient_id__any_of=patient_ids, local_date__in=days).values_list(
            "patient_id", "local_date"
        )
    )


def checkin_reminders_taken(*, keys: list[str]) -> set[str]:
    """Which of these check-in reminder subjects have a reminder already (not skipped)."""
    return set(
        Delivery.objects.filter(kind=Delivery.Kind.CHECKIN, subject_key__any_of=keys)
        .exclude(status=Delivery.Status.SKIPPED)
        .values_list("subject_key", flat=True)
    )


def sessions_near(*, patient_ids: list[int], now: datetime) -> dict[int, list[datetime]]:
    """Held or booked session times within 36 hours of `now` (covering any local today)."""
    found: dict[int, list[datetime]] = {}
    for patient_id, at in TreatmentSession.objects.filter(
        patient_id__any_of=patient_ids,
        status__in=HELD_OR_BOOKED,
        scheduled_at__range=(now - timedelta(hours=36), now + timedelta(hours=36)),
    ).values_list("patient_id", "scheduled_at"):
        found.setdefault(patient_id, []).append(at)
    return found


def cap_facts(*, patient_ids: list[int]) -> dict[int, CapFacts]:
    """The rest of what `schedule.reminders_capped` needs, for patients with three sent
    check-in reminders: index lookups, not history."""
    if not patient_ids:
        return {}
    last_checkin = CheckIn.objects.filter(patient=OuterRef("pk")).order_by("-submitted_at")
    rows = (
        Patient.objects.filter(pk__any_of=patient_ids)
        .order_by()
        .annotate(
            last_sent_at=Subquery(_sent_checkin_reminders("pk").values("due_at")[:1]),
            last_checkin_at=Subquery(last_checkin.values("submitted_at")[:1]),
        )
        .values_list("pk", "last_sent_at", "last_checkin_at")
    )
    return {pk: CapFacts(last_sent, last_checkin) for pk, last_sent, last_checkin in rows}
