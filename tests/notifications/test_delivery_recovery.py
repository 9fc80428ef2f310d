"""Deliveries whose sends end without an outcome: a poison message is bounded by its
attempts, a send the database could not record at once is recorded late, not sent again
(tests/faults has the real processes behind these cases)."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.mail.backends import locmem
from django.db import OperationalError

from care.models import Alert
from notifications import sending
from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.sending import LEASE, MAX_ATTEMPTS, delivery_send
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NINE = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def delivery(clinic):
    patient = PatientFactory(clinic=clinic, tz="UTC")
    ReminderPreference.objects.create(patient=patient, checkin_time=time(9, 0))
    checkin_reminders_dispatch(now=NINE)
    return Delivery.objects.get()


def test_a_delivery_whose_every_try_killed_its_worker_is_given_up_unsent(delivery, monkeypatch):
    # The last of MAX_ATTEMPTS tries died holding the claim (no outcome was recorded).
    Delivery.objects.filter(id=delivery.id).update(
        status=Delivery.Status.SENDING, attempts=MAX_ATTEMPTS, lease_until=NINE + LEASE
    )
    sent = []
    monkeypatch.setattr(
        locmem.EmailBackend, "send_messages", lambda self, messages: sent.extend(messages)
    )

    status = delivery_send(delivery_id=delivery.id, now=NINE + LEASE + timedelta(minutes=1))

    delivery.refresh_from_db()
    assert status == "failed" and sent == []
    assert delivery.last_error == f"gave up after {MAX_ATTEMPTS} attempts"
    assert Alert.objects.filter(kind=Alert.Kind.DELIVERY_FAILURE).count() == 1


def test_a_delivery_is_still_tried_on_its_last_attempt(delivery, monkeypatch):
    Delivery.objects.filter(id=delivery.id).update(
        status=Delivery.Status.SENDING, attempts=MAX_ATTEMPTS - 1, lease_until=NINE + LEASE
    )
    sent = []
    monkeypatch.setattr(
        locmem.EmailBackend, "send_messages", lambda self, messages: sent.extend(messages)
    )

    status = delivery_send(delivery_id=delivery.id, now=NINE + LEASE + timedelta(minutes=1))

    assert status == "sent" and len(sent) == 1


@pytest.mark.django_db(transaction=True)  # it closes its connection, as after an outage
def test_a_send_the_database_could_not_record_at_once_is_recorded_when_it_returns(
    delivery, monkeypatch, caplog
):
    sent, pauses = [], []
    monkeypatch.setattr(
        locmem.EmailBackend, "send_messages", lambda self, messages: sent.extend(messages)
    )
    monkeypatch.setattr(sending, "sleep", pauses.append)
    mark = sending._mark

    def database_back_after_two_tries(row, status, **fields):
        if status == Delivery.Status.SENT and len(pauses) < 2:
            raise OperationalError("the database system is shutting down")
        mark(row, status, **fields)

    monkeypatch.setattr(sending, "_mark", database_back_after_two_tries)

    status = delivery_send(delivery_id=delivery.id, now=NINE)

    delivery.refresh_from_db()
    assert status == "sent" and delivery.status == "sent" and len(sent) == 1
    assert pauses == [0.5, 1]
    assert f"Delivery {delivery.id} sent; database unavailable to record it" in caplog.text
