"""Reads of the notifications app: who may have a reminder due, and their facts, as plain rows.

The dispatcher does not walk every patient. A daily reminder can only fall due in the last
LATE_AFTER of each zone's wall time (schedule.chosen_time_window), so the tick asks the
database only for patients whose chosen time lies there (or whose session today may move it
there), who have not checked in today and have no reminder for today yet; the same query
brings what the rules need of each (settings, the day's session, the cap's first fact), so
nothing is read again per patient. The pure rules in schedule.py then decide for each: these
reads narrow the set, they never decide alone. After a stall of the dispatcher, the check-in
read looks further back, to the last tick (schedule.look_back_start), so that the reminders
the stall dropped are recorded as skipped, too late; in normal operation it looks back
LATE_AFTER, no more.
"""

import json
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from operator import attrgetter
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

from .models import Delivery, Heartbeat
from .schedule import AFTER_SESSION, LATE_AFTER, ChosenTimeWindow, chosen_time_window
from .sql import INSTRUMENT_FLAGS, candidate_rows, patient_zones

# A session moves the day's check-in reminder to about AFTER_SESSION after it; wall-clock
# arithmetic on a DST day and rounding to the minute move it by up to an hour more.
SESSION_SLACK = timedelta(hours=1, minutes=1)
# So the sessions that may move a reminder due at or after `since` (LATE_AFTER before now,
# or earlier after a stall) to no later than now began between since - SESSIONS_MOVING_BEFORE
# and now - SESSIONS_MOVING_UNTIL.
SESSIONS_MOVING_BEFORE = AFTER_SESSION + SESSION_SLACK
SESSIONS_MOVING_UNTIL = AFTER_SESSION - SESSION_SLACK
HELD_OR_BOOKED = [TreatmentSession.Status.SCHEDULED, TreatmentSession.Status.COMPLETED]


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
    # The latest held or booked session on the local day, which may move the reminder.
    session_at: datetime | None
    # Whether the daily check-in reminder may be due (neither checked in nor reminded
    # today), and whether a maintenance questionnaire may be due.
    checkin_open: bool
    questionnaire_open: bool

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


# The heartbeat the dispatcher writes at the end of a tick whose patient reminders all went
# through (notifications.tasks.dispatch_reminders): the next tick looks back to it.
REMINDER_TICK = "reminder_tick"


def last_reminder_tick() -> datetime | None:
    """The moment of the dispatcher's last tick whose patient reminders went through, None
    if none is on record."""
    return Heartbeat.objects.filter(name=REMINDER_TICK).values_list("beat_at", flat=True).first()


def _remindable() -> QuerySet:
    return Patient.objects.filter(
        status=Patient.Status.ACTIVE,
        user__is_active=True,
        reminder_preference__email_enabled=True,
    ).order_by()


def reminder_windows(
    *, now: datetime, since: datetime | None = None
) -> dict[str, ChosenTimeWindow]:
    """The chosen-time window at `now` of each time zone patients live in, looking back to
    `since` (schedule.look_back_start) for the check-in reminders."""
    if connection.vendor == "postgresql":
        zones = patient_zones()  # a skip over index patient_tz, not a read of every patient
    else:
        zones = Patient.objects.order_by().values_list("tz", flat=True).distinct()
    windows = {tz: chosen_time_window(tz, now=now, since=since) for tz in zones}
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


def _chosen_time_in(windows: dict[str, ChosenTimeWindow], *, look_back: bool = False) -> Q:
    """Chosen time in the zone's window (from its `look_back` on, if so)."""
    chosen = "reminder_preference__checkin_time__range"
    matches = Q()
    for tz, window in windows.items():
        earliest = window.look_back if look_back else window.earliest
        matches |= Q(tz=tz, **{chosen: (earliest, window.latest)})
    return matches


def _checkin_candidates(
    now: datetime, since: datetime, windows: dict[str, ChosenTimeWindow]
) -> QuerySet:
    """Chosen time in the window or, after a stall, earlier that day back to the last tick
    (`since`: too late, recorded as skipped), or a session that may move it there; not
    checked in on their local day, and no check-in reminder for it yet (a skipped one
    counts: a skip is recorded once)."""
    key = Concat(
        Value("patient:"),
        Cast(OuterRef("pk"), output_field=CharField()),
        OuterRef("day_key"),
    )
    reminded = Delivery.objects.filter(kind=Delivery.Kind.CHECKIN, subject_key=key)
    checked_in = CheckIn.objects.filter(patient=OuterRef("pk"), local_date=OuterRef("local_today"))
    sessions = TreatmentSession.objects.filter(
        status__in=HELD_OR_BOOKED,
        scheduled_at__gte=since - SESSIONS_MOVING_BEFORE,
        scheduled_at__lte=now - SESSIONS_MOVING_UNTIL,
    ).values("patient_id")
    return (
        _pending(windows)
        .annotate(day_key=_by_zone(windows, lambda tz, w: f":{w.today}", CharField()))
        .filter(_chosen_time_in(windows, look_back=True) | Q(pk__in=Subquery(sessions)))
        .filter(~Exists(checked_in), ~Exists(reminded))
        .annotate(
            third_sent_at=Subquery(_sent_checkin_reminders("pk").values("due_at")[2:3]),
            **_session_today(windows),
            checkin_open=Value(True),
            questionnaire_open=Value(False),
        )
    )


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
            patient=OuterRef("pk"),
            instrument=code,
            completed_at__gte=OuterRef(f"{code}_recent"),
        )
        maybe_due |= (Q(**{flag: True}) | ~Q(questionnaires=[])) & ~Exists(done)
    return (
        _pending(windows)
        .filter(_chosen_time_in(windows), treatment_phase=Patient.Phase.MAINTENANCE)
        .annotate(**recent)
        .filter(maybe_due)
        .annotate(
            # What only the daily check-in needs is not read.
            third_sent_at=Value(None, output_field=DateTimeField()),
            session_at=Value(None, output_field=DateTimeField()),
            checkin_open=Value(False),
            questionnaire_open=Value(True),
        )
    )


def _session_today(windows: dict[str, ChosenTimeWindow]) -> dict[str, object]:
    """Annotations: `session_at`, the latest held or booked session on the patient's local
    day (it may move the day's reminder: schedule.checkin_time_for_day), and the bounds of
    that day it needs."""
    starts = {tz: local_day_start(w.today, tz) for tz, w in windows.items()}
    ends = {tz: local_day_start(w.today + timedelta(days=1), tz) for tz, w in windows.items()}
    sessions = TreatmentSession.objects.filter(
        patient=OuterRef("pk"),
        status__in=HELD_OR_BOOKED,
        scheduled_at__gte=OuterRef("day_starts_at"),
        scheduled_at__lt=OuterRef("day_ends_at"),
    )
    return {
        "day_starts_at": _by_zone(windows, lambda tz, w: starts[tz], DateTimeField()),
        "day_ends_at": _by_zone(windows, lambda tz, w: ends[tz], DateTimeField()),
        "session_at": Subquery(sessions.order_by("-scheduled_at").values("scheduled_at")[:1]),
    }


@contextmanager
def _without_jit():
    """PostgreSQL compiles a query whose estimated cost is high (JIT) before running it. The
    candidate query's lookups make its estimate high while it runs in milliseconds, and the
    compiling would take seconds, every tick: off for it (until its transaction ends).
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


# What the rules need of a candidate, read with it (Candidate's fields, in order).
CANDIDATE_COLUMNS = (
    "pk",
    "tz",
    "enrolled_at",
    "user__email",
    "treatment_phase",
    "reminder_preference__checkin_time",
    "reminder_preference__quiet_start",
    "reminder_preference__quiet_end",
    "reminder_preference__paused_until",
    "unsubscribed_json",
    "questionnaires_json",
    "has_depression",
    "has_anxiety",
    "has_ptsd",
    "third_sent_at",
    "session_at",
    "checkin_open",
    "questionnaire_open",
)


def reminder_candidates(
    *,
    now: datetime,
    since: datetime | None = None,
    windows: dict[str, ChosenTimeWindow] | None = None,
    patient_ids: list[int] | None = None,
) -> list[Candidate]:
    """Patients who may have a daily check-in or maintenance questionnaire reminder due at
    `now` (of those given, if any), with what the rules need, sorted by key: a query for
    each kind (a patient may come twice, once for each). `windows`: those of
    reminder_windows, if already read (with the same `since`). `since`: the earliest due
    time of a check-in reminder to decide on (schedule.look_back_start; None: LATE_AFTER
    before `now`).

    The two lists come as JSON text, decoded only when not empty (which they nearly always
    are).
    """
    since = now - LATE_AFTER if since is None else since
    windows = reminder_windows(now=now, since=since) if windows is None else windows
    if not windows or patient_ids == []:
        return []
    with _without_jit():
        if connection.vendor == "postgresql":
            # One pass over the patients for both kinds (notifications.sql.CANDIDATES).
            rows = candidate_rows(
                windows,
                sessions_from=since - SESSIONS_MOVING_BEFORE,
                sessions_until=now - SESSIONS_MOVING_UNTIL,
                patient_ids=patient_ids,
            )
        else:
            rows = []
            checkin = _checkin_candidates(now, since, windows)
            for found in (checkin, _maintenance_candidates(windows)):
                if patient_ids is not None:
                    found = found.filter(pk__any_of=patient_ids)
                rows += found.annotate(
                    unsubscribed_json=Cast("reminder_preference__unsubscribed", TextField()),
                    questionnaires_json=Cast("questionnaires", TextField()),
                ).values_list(*CANDIDATE_COLUMNS)
        candidates = [
            Candidate(*row[:9], _json_list(row[9]), _json_list(row[10]), *row[11:]) for row in rows
        ]
    candidates.sort(key=attrgetter("pk"))
    return candidates


def _sent_checkin_reminders(patient: str) -> QuerySet:
    """The patient's sent check-in reminders, newest first (index delivery_checkin_sent)."""
    return Delivery.objects.filter(
        patient=OuterRef(patient), kind=Delivery.Kind.CHECKIN, status=Delivery.Status.SENT
    ).order_by("-due_at")


def _json_list(text: str) -> list:
    return [] if text == "[]" else json.loads(text)


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
