"""'Questionnaire due' reminders in the 48 hours before a session."""

from datetime import UTC, datetime, time, timedelta

import pytest

from care.models import TreatmentSession
from care.records.services import assessment_submit
from notifications.dispatch.sessions import questionnaire_reminders_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.schedule import ReminderSettings, pre_session_questionnaire_due
from notifications.sending import delivery_send
from tests.factories import PatientFactory
from tests.notifications.mail_text import mail_words

pytestmark = pytest.mark.django_db

SESSION = datetime(2026, 5, 6, 14, 0, tzinfo=UTC)  # Wednesday 10:00 in New York
MONDAY_EVENING = datetime(2026, 5, 4, 23, 0, tzinfo=UTC)  # Monday 19:00 in New York


@pytest.fixture
def booked(clinic):
    patient = PatientFactory(clinic=clinic, tz="America/New_York", has_depression=True)
    ReminderPreference.objects.create(patient=patient, checkin_time=time(19))
    return TreatmentSession.objects.create(patient=patient, scheduled_at=SESSION, route="iv")


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (time(19), datetime(2026, 5, 4, 23, 0, tzinfo=UTC)),  # Monday evening, in the window
        (time(9), datetime(2026, 5, 5, 13, 0, tzinfo=UTC)),  # Monday 09:00 is before it opens
    ],
)
def test_the_reminder_falls_on_the_first_day_of_the_48_hours(at, expected):
    settings = ReminderSettings(tz="America/New_York", checkin_time=at)

    assert pre_session_questionnaire_due(settings, session_at=SESSION, now=expected) == expected
    assert (
        pre_session_questionnaire_due(
            settings, session_at=SESSION, now=expected - timedelta(minutes=1)
        )
        is None
    )


def test_one_reminder_is_made_and_sent_without_naming_the_questionnaire(booked, mailoutbox):
    questionnaire_reminders_dispatch(now=MONDAY_EVENING)
    questionnaire_reminders_dispatch(now=MONDAY_EVENING + timedelta(minutes=5))

    [delivery] = Delivery.objects.all()
    assert delivery.subject_key == f"questionnaire:session:{booked.pk}:2026-05-06"
    assert delivery_send(delivery_id=delivery.id, now=MONDAY_EVENING) == "sent"
    text = mail_words(mailoutbox[0])  # links left out: their random tokens may spell "gad"
    assert "questionnaire waiting" in text
    for word in ("phq", "gad", "pcl", "depress", "infusion"):
        assert word not in text


def test_no_reminder_once_the_questionnaires_are_done(booked, mailoutbox):
    questionnaire_reminders_dispatch(now=MONDAY_EVENING)
    assessment_submit(
        patient=booked.patient,
        instrument_code="phq9",
        difficulty=None,
        client_id=None,
        entered_by=None,
        now=MONDAY_EVENING,
        answers={str(n): 1 for n in range(1, 10)},
    )

    status = delivery_send(delivery_id=Delivery.objects.get().id, now=MONDAY_EVENING)
    Delivery.objects.all().delete()
    questionnaire_reminders_dispatch(now=MONDAY_EVENING + timedelta(minutes=1))

    assert status == "skipped" and mailoutbox == []
    # Decided again from scratch, it is on record as not needed (no e-mail).
    assert list(Delivery.objects.values_list("status", "skip_reason")) == [
        ("skipped", "already_done")
    ]


def test_a_moved_session_re_anchors_the_reminder(booked, mailoutbox):
    questionnaire_reminders_dispatch(now=MONDAY_EVENING)
    booked.scheduled_at = SESSION + timedelta(days=2)
    booked.save()

    assert delivery_send(delivery_id=Delivery.objects.get().id, now=MONDAY_EVENING) == "skipped"
    questionnaire_reminders_dispatch(now=MONDAY_EVENING + timedelta(days=2))
    assert Delivery.objects.count() == 2


def test_in_maintenance_a_questionnaire_is_reminded_14_days_after_the_last(clinic, mailoutbox):
    from notifications.dispatch.patients import maintenance_questionnaire_reminders_dispatch

    patient = PatientFactory(
        clinic=clinic, tz="America/New_York", has_depression=True, treatment_phase="maintenance"
    )
    ReminderPreference.objects.create(patient=patient, checkin_time=time(19))
    assessment_submit(
        patient=patient,
        instrument_code="phq9",
        difficulty=None,
        client_id=None,
        entered_by=None,
        now=MONDAY_EVENING - timedelta(days=13),
        answers={str(n): 1 for n in range(1, 10)},
    )

    maintenance_questionnaire_reminders_dispatch(now=MONDAY_EVENING)
    assert not Delivery.objects.exists()  # 13 days after: not yet

    maintenance_questionnaire_reminders_dispatch(now=MONDAY_EVENING + timedelta(days=1))
    maintenance_questionnaire_reminders_dispatch(now=MONDAY_EVENING + timedelta(days=2))

    [delivery] = Delivery.objects.all()  # one per due episode, not one a day
    assert delivery.subject_key == f"questionnaire:cycle:{patient.pk}:2026-04-21"
    assert delivery_send(delivery_id=delivery.id, now=delivery.due_at) == "sent"


def test_in_maintenance_a_booked_session_takes_over(clinic):
    from notifications.dispatch.patients import maintenance_questionnaire_reminders_dispatch

    patient = PatientFactory(clinic=clinic, tz="America/New_York", treatment_phase="maintenance")
    ReminderPreference.objects.create(patient=patient, checkin_time=time(19))
    TreatmentSession.objects.create(patient=patient, scheduled_at=SESSION, route="iv")

    maintenance_questionnaire_reminders_dispatch(now=MONDAY_EVENING)

    assert not Delivery.objects.filter(subject_key__contains="cycle").exists()


def test_a_pre_session_reminder_the_rules_skip_is_recorded_once_with_its_reason(booked):
    ReminderPreference.objects.filter(patient=booked.patient).update(
        unsubscribed=["questionnaire_due"]
    )
    for minutes in (0, 1, 240):
        questionnaire_reminders_dispatch(now=MONDAY_EVENING + timedelta(minutes=minutes))

    [row] = Delivery.objects.all()
    assert (row.status, row.skip_reason, row.due_at) == ("skipped", "unsubscribed", MONDAY_EVENING)


def test_questionnaires_done_before_the_reminder_is_due_are_recorded_already_done(booked):
    patient = booked.patient
    for code, items in (("phq9", 9), ("gad7", 7)):
        assessment_submit(
            patient=patient,
            instrument_code=code,
            answers={str(n): 0 for n in range(1, items + 1)},
            difficulty=None,
            client_id=None,
            entered_by=patient.user,
            now=MONDAY_EVENING - timedelta(hours=1),
        )
    questionnaire_reminders_dispatch(now=MONDAY_EVENING)
    questionnaire_reminders_dispatch(now=MONDAY_EVENING + timedelta(minutes=1))

    [row] = Delivery.objects.all()
    assert (row.status, row.skip_reason) == ("skipped", "already_done")
