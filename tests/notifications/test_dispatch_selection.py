"""The dispatcher reads only candidates, yet makes exactly the reminders that the per-patient
rules make when every patient is asked (a plain reference over the same data)."""

import random
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Q

from care.domain.clock import local_date
from care.domain.trends import questionnaires_due
from care.models import Alert, Assessment, CheckIn, Patient, TreatmentSession
from care.records.selectors import patient_instrument_codes
from notifications.dispatch import patients as patient_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.schedule import (
    QUESTIONNAIRE_WINDOW,
    ReminderSettings,
    checkin_reminder_decision,
    checkin_reminder_due,
    checkin_time_for_day,
    look_back_start,
    reminders_capped,
)
from tests.factories import AssessmentFactory, CheckInFactory, PatientFactory

pytestmark = pytest.mark.django_db

ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "UTC",
]
TIMES = [time(0, 15), time(1, 30), time(2, 30), time(7), time(9), time(12, 45), time(19), time(23)]
QUIET = [(time(22), time(8)), (time(0), time(0)), (time(12), time(14)), (time(21), time(1))]
HELD_OR_BOOKED = ("scheduled", "completed")


def population(day: date, size: int = 72, seed: int = 7) -> None:
    """Patients of every kind the rules tell apart, around the local `day`."""
    rnd = random.Random(seed)
    for n in range(size):
        tz = ZONES[n % len(ZONES)]
        chosen = rnd.choice(TIMES)
        patient = PatientFactory(
            tz=tz,
            status="active" if rnd.random() < 0.93 else "paused",
            user__is_active=rnd.random() < 0.95,
            treatment_phase="maintenance" if rnd.random() < 0.4 else "induction",
            has_depression=rnd.random() < 0.7,
            has_anxiety=rnd.random() < 0.4,
            has_ptsd=rnd.random() < 0.3,
            questionnaires=rnd.choice([[], [], [], ["gad7"], ["pcl5"]]),
            enrolled_at=datetime(2026, 1, 5, tzinfo=UTC),
        )
        if rnd.random() < 0.05:
            continue  # no preference at all
        quiet_start, quiet_end = rnd.choice(QUIET)
        ReminderPreference.objects.create(
            patient=patient,
            email_enabled=rnd.random() < 0.9,
            checkin_time=chosen,
            quiet_start=quiet_start,
            quiet_end=quiet_end,
            paused_until=rnd.choice([None] * 6 + [day - timedelta(days=1), day]),
            unsubscribed=rnd.choice([[]] * 6 + [["checkin_due"], ["questionnaire_due"]]),
        )
        _history(patient, day, chosen, rnd)


def questionnaire_edges(day: date) -> None:
    """In each zone, maintenance patients whose questionnaire falls due on `day` exactly."""
    for tz in ZONES:
        for code, flag, days in [("phq9", "has_depression", 14), ("pcl5", "has_ptsd", 28)]:
            flags = {"has_depression": False, flag: True}
            patient = PatientFactory(tz=tz, treatment_phase="maintenance", **flags)
            ReminderPreference.objects.create(
                patient=patient, checkin_time=time(19), quiet_start=time(0), quiet_end=time(0)
            )
            completed_at = _at(day - timedelta(days=days), time(10), tz)
            AssessmentFactory(patient=patient, instrument=code, completed_at=completed_at)
            # Checked in: only the maintenance questionnaire can make them candidates.
            CheckInFactory(patient=patient, local_date=day, submitted_at=_at(day, time(0, 5), tz))


def _at(day: date, at: time, tz: str) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def _history(patient: Patient, day: date, chosen: time, rnd: random.Random) -> None:
    tz = patient.tz
    if rnd.random() < 0.3:  # a session that day, which may move the reminder
        TreatmentSession.objects.create(
            patient=patient,
            scheduled_at=_at(
                day + timedelta(days=rnd.choice([0, 0, 1])), time(rnd.randrange(24)), tz
            ),
            status=rnd.choice(["scheduled", "scheduled", "completed", "cancelled"]),
            route="iv",
        )
    if rnd.random() < 0.15:  # checked in already that day
        CheckInFactory(patient=patient, local_date=day, submitted_at=_at(day, time(0, 5), tz))
    if rnd.random() < 0.1:  # a reminder already made for that day
        Delivery.objects.create(
            kind="checkin_due",
            subject_key=f"patient:{patient.pk}:{day}",
            due_at=_at(day, chosen, tz),
            patient=patient,
            to_email=patient.user.email,
            status=rnd.choice(["pending", "sent", "skipped"]),
        )
    sent_before = rnd.choice([0, 0, 2, 3, 3])  # unanswered reminders on the days before
    for back in range(1, sent_before + 1):
        earlier = day - timedelta(days=back)
        Delivery.objects.create(
            kind="checkin_due",
            subject_key=f"patient:{patient.pk}:{earlier}",
            due_at=_at(earlier, chosen, tz),
            patient=patient,
            to_email=patient.user.email,
            status="sent",
        )
    if sent_before and rnd.random() < 0.3:  # answered after all
        answered = day - timedelta(days=1)
        CheckInFactory(
            patient=patient, local_date=answered, submitted_at=_at(answered, time(23), tz)
        )
    completions = [[], [("phq9", 3)], [("phq9", 20)], [("gad7", 30), ("phq9", 2)]]
    completions += [[("phq9", 13)], [("phq9", 14)], [("pcl5", 27)], [("pcl5", 28)]]  # edges
    for code, days_ago in rnd.choice(completions):
        completed_at = _at(day, time(10), tz) - timedelta(days=days_ago)
        AssessmentFactory(patient=patient, instrument=code, completed_at=completed_at)
    if rnd.random() < 0.1:  # booked within the next two days: the pre-session reminder instead
        TreatmentSession.objects.create(
            patient=patient, scheduled_at=_at(day + timedelta(days=1), time(15), tz), route="iv"
        )


def reference(now: datetime, since: datetime) -> tuple[set, set]:
    """Every patient asked, one by one: (subject, due) of the reminders to make now (the
    check-in reminders due since `since`), and the (patient, cause) of the cap alerts."""
    made, capped = set(), set()
    facts = {
        "sessions": _by_patient(
            TreatmentSession.objects.values_list("patient_id", "scheduled_at", "status")
        ),
        "checkins": _by_patient(
            CheckIn.objects.values_list("patient_id", "local_date", "submitted_at")
        ),
        "deliveries": _by_patient(
            Delivery.objects.values_list("patient_id", "kind", "subject_key", "status", "due_at")
        ),
        "assessments": _by_patient(
            Assessment.objects.values_list("patient_id", "instrument", "completed_at")
        ),
    }
    for patient in Patient.objects.select_related("user", "reminder_preference"):
        preference = getattr(patient, "reminder_preference", None)
        if preference is None or not preference.email_enabled:
            continue
        if patient.status != "active" or not patient.user.is_active:
            continue
        settings = ReminderSettings(
            tz=patient.tz,
            checkin_time=preference.checkin_time,
            quiet_start=preference.quiet_start,
            quiet_end=preference.quiet_end,
            paused_until=preference.paused_until,
            unsubscribed=tuple(preference.unsubscribed),
        )
        mine = {name: rows.get(patient.pk, []) for name, rows in facts.items()}
        _reference_checkin(patient, settings, now, since, mine, made, capped)
        if patient.treatment_phase == "maintenance":
            _reference_maintenance(patient, settings, now, mine, made)
    return made, capped


def _by_patient(rows) -> dict[int, list[tuple]]:
    found = {}
    for patient_id, *row in rows:
        found.setdefault(patient_id, []).append(tuple(row))
    return found


def _reference_checkin(patient, settings, now, since, mine, made, capped) -> None:
    today = local_date(now, patient.tz)
    session_at = max(
        (
            at
            for at, status in mine["sessions"]
            if status in HELD_OR_BOOKED and local_date(at, patient.tz) == today
        ),
        default=None,
    )
    day = replace(settings, checkin_time=checkin_time_for_day(settings, session_at=session_at))
    decision = checkin_reminder_decision(day, now=now, since=since)
    key = f"patient:{patient.pk}:{today}"
    if (
        decision is None
        # Paused patients are not read (a standing choice, not recorded day by day).
        or decision.skip_reason == "paused"
        or any(on == today for on, _ in mine["checkins"])
        # A skipped row counts too: a skip is recorded once.
        or any(k == key for _, k, _, _ in mine["deliveries"])
    ):
        return
    due = decision.due
    if decision.skip_reason:  # too late, quiet hours, unsubscribed: a skipped row
        made.add((key, due))
        return
    sent = sorted(
        (
            at
            for kind, _, status, at in mine["deliveries"]
            if kind == "checkin_due" and status == "sent"
        ),
        reverse=True,
    )
    since = max((at for _, at in mine["checkins"]), default=patient.enrolled_at)
    unanswered = sum(1 for at in sent if at > since)
    last_sent_on = local_date(sent[0], patient.tz) if sent else None
    if reminders_capped(unanswered=unanswered, last_sent_on=last_sent_on, today=today):
        year, week, _ = today.isocalendar()
        capped.add((patient.pk, f"reminders_capped:{year}-W{week:02d}"))
    made.add((key, due))  # sent, or skipped as capped


def _reference_maintenance(patient, settings, now, mine, made) -> None:
    due = checkin_reminder_due(settings, now=now, kind="questionnaire_due")
    booked = any(
        status == "scheduled" and now < at <= now + QUESTIONNAIRE_WINDOW
        for at, status in mine["sessions"]
    )
    if due is None or booked:
        return
    last = {}
    for code, at in mine["assessments"]:
        last[code] = max(last.get(code, at), at)
    done = {code: local_date(at, patient.tz) for code, at in last.items()}
    today = local_date(now, patient.tz)
    codes = questionnaires_due(patient_instrument_codes(patient=patient), done, today=today)
    if not codes:
        return
    anchor = min((done[c] for c in codes if c in done), default=None)
    key = f"questionnaire:cycle:{patient.pk}:{anchor or 'never'}"
    if not any(k == key for _, k, _, _ in mine["deliveries"]):
        made.add((key, due))


def _patient_reminders() -> dict[int, tuple[str, datetime]]:
    rows = Delivery.objects.filter(
        Q(subject_key__startswith="patient:") | Q(subject_key__startswith="questionnaire:cycle:")
    )
    return {pk: (key, due) for pk, key, due in rows.values_list("pk", "subject_key", "due_at")}


@pytest.mark.parametrize(
    "day",
    [date(2026, 3, 8), date(2026, 3, 29), date(2026, 4, 5), date(2026, 11, 1), date(2026, 5, 6)],
    ids=["us-forward", "london-forward", "lord-howe-back", "us-back", "plain-wednesday"],
)
def test_the_candidates_get_exactly_the_reminders_of_the_per_patient_rules(day, monkeypatch):
    monkeypatch.setattr(patient_dispatch, "BATCH", 7)  # several batches
    population(day)
    questionnaire_edges(day)
    now = datetime.combine(day, time(0), tzinfo=UTC) - timedelta(hours=14)
    checked, last_tick, ticks = 0, None, 0
    while now < datetime.combine(day, time(0), tzinfo=UTC) + timedelta(hours=38):
        expected, expected_capped = reference(now, look_back_start(now=now, last_tick=last_tick))
        before = _patient_reminders()
        capped_before = set(
            Alert.objects.filter(kind="missed_checkins").values_list("patient_id", "cause")
        )

        patient_dispatch.patient_reminders_dispatch(now=now, last_tick=last_tick)

        made = {row for pk, row in _patient_reminders().items() if pk not in before}
        assert made == expected, now
        capped = set(
            Alert.objects.filter(kind="missed_checkins").values_list("patient_id", "cause")
        )
        assert expected_capped - capped_before == capped - capped_before, now
        checked += len(made)
        # The reminders go out, unanswered: tomorrow's cap counts them.
        Delivery.objects.filter(status="pending").update(status="sent")
        last_tick, ticks = now, ticks + 1
        # Ticks every 37 minutes (the look-back stays 3 hours), but for an 8-hour stall (the
        # next tick looks back to this one: what the stall dropped is skipped, too late).
        now += timedelta(hours=8, minutes=11) if ticks == 30 else timedelta(minutes=37)
    assert checked > 20  # the population is not idle
    assert Delivery.objects.filter(skip_reason="too_late").exists()  # the stall's, on record
