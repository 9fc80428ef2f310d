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
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from django.db.models import (
    Count,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from care.domain.outcomes import ReminderCount
from care.models import (
    CheckIn,
    Patient,
)
from care.records.selectors import patient_instrument_codes
from notifications.models import Delivery, Heartbeat
from notifications.schedule import AFTER_SESSION, LATE_AFTER, ChosenTimeWindow, chosen_time_window
from notifications.sql import candidate_batches, patient_zones

# A session moves the day's check-in reminder to about AFTER_SESSION after it; wall-clock
# arithmetic on a DST day and rounding to the minute move it by up to an hour more.
SESSION_SLACK = timedelta(hours=1, minutes=1)


# So the sessions that may move a reminder due at or after `since` (LATE_AFTER before now,
# or earlier after a stall) to no later than now began between since - SESSIONS_MOVING_BEFORE
# and now - SESSIONS_MOVING_UNTIL.
SESSIONS_MOVING_BEFORE = AFTER_SESSION + SESSION_SLACK


SESSIONS_MOVING_UNTIL = AFTER_SESSION - SESSION_SLACK


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
        """An unsaved Patient with what care.records.selectors.patient_instrument_codes reads."""
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
        Q(reminder_preference__email_enabled=True)
        | Q(reminder_preference__isnull=False) & ~Q(reminder_preference__text_kinds=[]),
        status=Patient.Status.ACTIVE,
        user__is_active=True,
    ).order_by()


def reminder_windows(
    *, now: datetime, since: datetime | None = None
) -> dict[str, ChosenTimeWindow]:
    """The chosen-time window at `now` of each time zone patients live in, looking back to
    `since` (schedule.look_back_start) for the check-in reminders."""
    zones = patient_zones()  # a skip over index patient_tz, not a read of every patient
    windows = {tz: chosen_time_window(tz, now=now, since=since) for tz in zones}
    return {tz: window for tz, window in windows.items() if window is not None}


def reminder_candidate_batches(
    *,
    now: datetime,
    since: datetime | None = None,
    windows: dict[str, ChosenTimeWindow] | None = None,
    patient_ids: list[int] | None = None,
    size: int = 2000,
) -> Iterator[list[Candidate]]:
    """Patients who may have a daily check-in or maintenance questionnaire reminder due at
    `now` (of those given, if any), with what the rules need, by key, `size` at a time (a
    patient may come twice, once for each kind; at most once per kind). `windows`: those
    of reminder_windows, if already read (with the same `since`). `since`: the earliest due
    time of a check-in reminder to decide on (schedule.look_back_start; None: LATE_AFTER
    before `now`).

    The database keeps the candidates until they are read (notifications.sql.
    candidate_batches): however many there are, this process holds one batch. The two lists
    come as JSON text, decoded only when not empty (which they nearly always are).
    """
    since = now - LATE_AFTER if since is None else since
    windows = reminder_windows(now=now, since=since) if windows is None else windows
    if not windows or patient_ids == []:
        return
    batches = candidate_batches(
        windows,
        sessions_from=since - SESSIONS_MOVING_BEFORE,
        sessions_until=now - SESSIONS_MOVING_UNTIL,
        patient_ids=patient_ids,
        size=size,
    )
    for rows in batches:
        yield [
            Candidate._make((*row[:9], _json_list(row[9]), _json_list(row[10]), *row[11:]))
            for row in rows
        ]


def reminder_candidates(
    *,
    now: datetime,
    since: datetime | None = None,
    patient_ids: list[int] | None = None,
) -> list[Candidate]:
    """All of reminder_candidate_batches at once (for a look at a few patients)."""
    batches = reminder_candidate_batches(now=now, since=since, patient_ids=patient_ids)
    return [candidate for batch in batches for candidate in batch]


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


def questionnaires_done_since(patient: Patient, since: datetime) -> bool:
    wanted = set(patient_instrument_codes(patient=patient))
    done = set(
        patient.assessments.filter(completed_at__gte=since).values_list("instrument", flat=True)
    )
    return wanted <= done


# The reminders e-mailed to patients (not the staff's alert e-mails or digests).
PATIENT_REMINDER_KINDS = (
    Delivery.Kind.CHECKIN,
    Delivery.Kind.QUESTIONNAIRE,
    Delivery.Kind.SESSION,
)


def outcome_reminder_counts(cohort, starts_at: datetime, ends_at: datetime):
    """The outcome report's reminder counts (care.outcomes.reminders): the cohort's patient
    reminders due in [starts_at, ends_at), by status and skip reason."""
    return (
        ReminderCount(status, skip_reason, n, channel)
        for status, skip_reason, channel, n in Delivery.objects.filter(
            patient__in=cohort,
            kind__in=PATIENT_REMINDER_KINDS,
            due_at__gte=starts_at,
            due_at__lt=ends_at,
        )
        .values("status", "skip_reason", "channel")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("status", "skip_reason", "channel", "n")
    )


def skip_reasons() -> dict[str, str]:
    """A skipped delivery's reason codes and their words."""
    return {code: str(words) for code, words in Delivery.SkipReason.choices}
