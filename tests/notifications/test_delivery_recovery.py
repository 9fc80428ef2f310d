"""A delivery whose sends never finish: bounded by its attempts (tests/faults has the real
processes behind these cases)."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.mail import EmailMultiAlternatives

from care.models import Alert
from notifications.models import Delivery, ReminderPreference
from notifications.services import LEASE, MAX_ATTEMPTS, checkin_reminders_dispatch, delivery_send
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
    monkeypatch.setattr(EmailMultiAlternatives, "send", lambda message: sent.append(message))

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
    monkeypatch.setattr(EmailMultiAlternatives, "send", lambda message: sent.append(message))

    status = delivery_send(delivery_id=delivery.id, now=NINE + LEASE + timedelta(minutes=1))

    assert status == "sent" and len(sent) == 1
