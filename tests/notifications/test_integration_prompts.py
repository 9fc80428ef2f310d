"""The reflection prompt after a held session: one row per held session, made by the
dispatcher when its time comes (sent or recorded skipped), checked again when it is sent."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from care.models import SessionReflection, TreatmentSession
from notifications.dispatch.sessions import (
    booked_session_reminders_dispatch,
    integration_prompts_dispatch,
)
from notifications.models import Delivery, ReminderPreference
from notifications.sending import delivery_send
from notifications.tasks import dispatch_reminders
from tests.factories import PatientFactory
from tests.notifications.mail_text import mail_words

pytestmark = pytest.mark.django_db

HELD = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)  # Monday 10:00 in New York
DUE = datetime(2026, 5, 5, 23, 0, tzinfo=UTC)  # Tuesday 19:00 in New York


@pytest.fixture
def held(clinic):
    patient = PatientFactory(clinic=clinic, tz="America/New_York", preferred_name="Sam")
    ReminderPreference.objects.create(patient=patient, checkin_time=time(19))
    return TreatmentSession.objects.create(
        patient=patient, scheduled_at=HELD, route="iv", status="completed"
    )


def prompts():
    return Delivery.objects.filter(kind="integration_prompt")


def test_one_prompt_per_held_session_at_its_time(held):
    booked_session_reminders_dispatch(now=DUE - timedelta(minutes=1))
    assert not prompts().exists()

    booked_session_reminders_dispatch(now=DUE)
    booked_session_reminders_dispatch(now=DUE + timedelta(minutes=1))
    booked_session_reminders_dispatch(now=DUE + timedelta(hours=5))

    [prompt] = prompts()
    assert (prompt.status, prompt.due_at, prompt.subject_key) == (
        "pending",
        DUE,
        f"integration:session:{held.pk}",
    )
    assert (prompt.patient_id, prompt.session_id, prompt.day) == (
        held.patient_id,
        held.pk,
        date(2026, 5, 4),
    )


def test_the_dispatcher_tick_makes_it_once(held, django_capture_on_commit_callbacks):
    for minutes in (0, 1):
        travel = time_machine.travel(DUE + timedelta(minutes=minutes), tick=False)
        with travel, django_capture_on_commit_callbacks(execute=False):
            dispatch_reminders()

    assert prompts().count() == 1


def test_sessions_not_held_get_no_prompt(held):
    patient = held.patient
    for status in ("scheduled", "cancelled", "no_show"):
        TreatmentSession.objects.create(
            patient=patient, scheduled_at=HELD - timedelta(hours=1), route="iv", status=status
        )
    booked_session_reminders_dispatch(now=DUE)

    assert list(prompts().values_list("session_id", flat=True)) == [held.pk]


def test_patients_no_longer_active_get_none(held):
    held.patient.status = "discharged"
    held.patient.save()

    booked_session_reminders_dispatch(now=DUE)

    assert not prompts().exists()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"email_enabled": False}, "email_off"),
        ({"paused_until": date(2026, 5, 6)}, "paused"),
        ({"unsubscribed": ["integration_prompt"]}, "unsubscribed"),
    ],
)
def test_a_prompt_the_patient_does_not_take_is_recorded_skipped(held, change, reason):
    ReminderPreference.objects.filter(patient=held.patient).update(**change)

    booked_session_reminders_dispatch(now=DUE)
    booked_session_reminders_dispatch(now=DUE + timedelta(minutes=1))

    [prompt] = prompts()
    assert (prompt.status, prompt.skip_reason) == ("skipped", reason)


def test_a_reflection_written_before_its_time_skips_it(held):
    SessionReflection.objects.create(session=held, feeling="calm", created_at=HELD)

    booked_session_reminders_dispatch(now=DUE)

    [prompt] = prompts()
    assert (prompt.status, prompt.skip_reason) == ("skipped", "already_done")


def test_after_a_stall_the_prompt_is_recorded_too_late(held):
    integration_prompts_dispatch(now=DUE + timedelta(hours=4))

    [prompt] = prompts()
    assert (prompt.status, prompt.skip_reason, prompt.due_at) == ("skipped", "too_late", DUE)


def test_after_72_hours_the_prompt_is_recorded_window_passed(clinic):
    patient = PatientFactory(clinic=clinic, tz="America/New_York")
    # 07:59, quiet from 07:00 to 06:00: the prompt of Monday 08:00 falls on Thursday 06:00.
    ReminderPreference.objects.create(
        patient=patient, checkin_time=time(7, 59), quiet_start=time(7), quiet_end=time(6)
    )
    monday_8 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    session = TreatmentSession.objects.create(
        patient=patient, scheduled_at=monday_8, route="iv", status="completed"
    )

    integration_prompts_dispatch(now=monday_8 + timedelta(hours=72, minutes=30))

    [prompt] = prompts()
    assert (prompt.session_id, prompt.status, prompt.skip_reason) == (
        session.pk,
        "skipped",
        "window_passed",
    )


def test_the_email_has_no_treatment_words_and_links_to_the_reflection(held, mailoutbox):
    held.patient.clinic.name = "Riverside Ketamine Wellness Clinic"
    held.patient.clinic.email_sender_name = "Riverside Team"
    held.patient.clinic.save()
    booked_session_reminders_dispatch(now=DUE)

    assert delivery_send(delivery_id=prompts().get().id, now=DUE) == "sent"
    [message] = mailoutbox
    assert message.subject == "A few minutes to look back"
    assert f"/me/sessions/{held.pk}/reflection/" in message.body
    assert f"/me/sessions/{held.pk}/reflection/" in message.alternatives[0].content
    assert "List-Unsubscribe" in message.extra_headers
    text = mail_words(message)
    assert "hi sam" in text and "riverside team" in text
    for word in (
        "ketamine",
        "infusion",
        "session",
        "depress",
        "therapy",
        "dose",
        "treatment",
        "reflection",
        "wellness",
    ):
        assert word not in text, word


def test_not_sent_once_the_reflection_is_written(held, mailoutbox):
    booked_session_reminders_dispatch(now=DUE)
    SessionReflection.objects.create(session=held, for_team="thanks", created_at=DUE)

    assert delivery_send(delivery_id=prompts().get().id, now=DUE) == "skipped"
    assert prompts().get().skip_reason == "already_done" and mailoutbox == []


def test_not_sent_when_the_session_is_no_longer_held(held, mailoutbox):
    booked_session_reminders_dispatch(now=DUE)
    TreatmentSession.objects.filter(pk=held.pk).update(status="no_show")

    assert delivery_send(delivery_id=prompts().get().id, now=DUE) == "skipped"
    assert prompts().get().skip_reason == "changed" and mailoutbox == []


def test_not_sent_when_unsubscribed_meanwhile_or_past_72_hours(held, mailoutbox):
    booked_session_reminders_dispatch(now=DUE)
    prompt = prompts().get()
    ReminderPreference.objects.filter(patient=held.patient).update(
        unsubscribed=["integration_prompt"]
    )
    assert delivery_send(delivery_id=prompt.id, now=DUE) == "skipped"
    assert prompts().get().skip_reason == "unsubscribed"

    Delivery.objects.filter(pk=prompt.pk).update(status="pending", skip_reason="")
    ReminderPreference.objects.filter(patient=held.patient).update(unsubscribed=[])
    late = HELD + timedelta(hours=72, minutes=1)
    assert delivery_send(delivery_id=prompt.id, now=late) == "skipped"
    assert prompts().get().skip_reason == "window_passed" and mailoutbox == []


def test_the_held_sessions_come_in_the_same_read_as_the_booked_ones(held):
    """The prompt adds no statement to a tick with nothing to make: the held sessions are
    read with the booked ones."""
    booked_session_reminders_dispatch(now=DUE)  # made: the held session is no longer read
    TreatmentSession.objects.create(
        patient=held.patient, scheduled_at=DUE + timedelta(days=3), route="iv"
    )

    with CaptureQueriesContext(connection) as queries:
        booked_session_reminders_dispatch(now=DUE + timedelta(minutes=1))

    assert len(queries) == 1
