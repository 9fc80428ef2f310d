"""The dispatcher's sends go out a chunk of ids to a message; each row still on its own."""

import smtplib
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.mail.backends import locmem

from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.sending import deliveries_send, deliveries_sweep
from notifications.tasks import send_deliveries
from tests.factories import PatientFactory
from tests.notifications.clock import deliveries_age

pytestmark = pytest.mark.django_db

NINE = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def make_due(clinic) -> None:
    for n in range(3):
        patient = PatientFactory(clinic=clinic, tz="UTC", user__email=f"p{n}@example.org")
        ReminderPreference.objects.create(patient=patient, checkin_time=time(9))


@pytest.fixture
def due_ids(clinic) -> list[int]:
    make_due(clinic)
    checkin_reminders_dispatch(now=NINE)
    return list(Delivery.objects.order_by("id").values_list("id", flat=True))


def test_the_new_reminders_are_enqueued_as_one_chunk(
    clinic, enqueued, django_capture_on_commit_callbacks
):
    make_due(clinic)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        checkin_reminders_dispatch(now=NINE)

    assert len(callbacks) == 1  # one message for the three
    assert enqueued == list(Delivery.objects.order_by("id").values_list("id", flat=True))


def test_a_deferred_send_does_not_stop_the_rest_of_its_chunk(due_ids, mailoutbox, monkeypatch):
    send_messages = locmem.EmailBackend.send_messages

    def greylist_p1(self, messages):
        if any("p1@example.org" in message.to for message in messages):
            raise smtplib.SMTPResponseException(451, b"try later")
        return send_messages(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", greylist_p1)

    send_deliveries.run(due_ids)  # no retry of the chunk: nothing raised

    statuses = dict(Delivery.objects.values_list("to_email", "status"))
    assert statuses == {
        "p0@example.org": "sent",
        "p1@example.org": "pending",
        "p2@example.org": "sent",
    }
    assert sorted(m.to[0] for m in mailoutbox) == ["p0@example.org", "p2@example.org"]
    deferred = Delivery.objects.get(to_email="p1@example.org")
    assert deferred.last_error == "SMTP 451" and deferred.next_attempt_at is not None


def test_the_sweeper_sends_a_deferred_row_of_a_chunk_again_alone(due_ids, monkeypatch, enqueued):
    def greylist(self, messages):
        raise smtplib.SMTPResponseException(451, b"try later")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", greylist)
    outcome = deliveries_send(delivery_ids=due_ids[:1], now=NINE, budget=timedelta(seconds=30))
    Delivery.objects.update(created_at=NINE)
    deliveries_age(timedelta(minutes=6))  # past the deferral's backoff
    enqueued.clear()

    assert outcome == {"deferred": 1}
    assert deliveries_sweep() == 3  # the two unsent, and it
    assert sorted(enqueued) == due_ids  # one by one: `send_delivery`, with its retries


def test_a_chunk_sent_twice_sends_each_email_once(due_ids, mailoutbox):
    send_deliveries.run(due_ids)
    send_deliveries.run(due_ids)  # a redelivered message

    assert len(mailoutbox) == 3
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_what_a_chunk_does_not_reach_in_its_time_goes_on_in_a_new_one(
    due_ids, enqueued, mailoutbox
):
    enqueued.clear()

    outcome = deliveries_send(delivery_ids=due_ids, now=NINE, budget=timedelta(0))

    assert outcome == {"sent": 1, "handed on": 2}  # the first always goes
    assert enqueued == due_ids[1:]
    assert len(mailoutbox) == 1
