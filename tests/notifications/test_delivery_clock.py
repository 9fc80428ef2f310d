"""Ownership of a delivery is decided by the database's clock, never a worker's: a worker
whose clock runs 10 minutes ahead (time_machine moves this process's clock, not the
database's) neither takes another's live claim, nor sweeps up fresh rows, nor dates the
rows it makes in the future (tests/faults has the real skewed worker)."""

from datetime import time, timedelta

import pytest
import time_machine
from django.utils import timezone

from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.sending import LEASE
from notifications.tasks import dispatch_reminders, send_delivery
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

AHEAD = timedelta(minutes=10)


def fast_clock():
    """This process's clock 10 minutes ahead of the database's (and still ticking)."""
    return time_machine.travel(timezone.now() + AHEAD, tick=True)


def delivery_of(patient, **fields) -> Delivery:
    return Delivery.objects.create(
        kind=Delivery.Kind.CHECKIN,
        subject_key=f"patient:{patient.pk}:2026-05-04",
        due_at=timezone.now(),
        patient=patient,
        to_email=patient.user.email,
        **fields,
    )


def test_a_worker_whose_clock_runs_ahead_does_not_take_a_live_claim(clinic, mailoutbox):
    patient = PatientFactory(clinic=clinic)
    # Claimed a moment ago by a worker whose clock is right: its claim runs for LEASE.
    delivery = delivery_of(
        patient, status=Delivery.Status.SENDING, attempts=1, lease_until=timezone.now() + LEASE
    )
    with fast_clock():
        send_delivery(delivery.id)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(mailoutbox)) == ("sending", 1, 0)


def test_the_sweeper_of_a_worker_whose_clock_runs_ahead_leaves_fresh_rows_and_live_claims(
    clinic, enqueued
):
    patient = PatientFactory(clinic=clinic)  # no reminder preference: nothing else is due
    delivery_of(patient)  # pending, its message on its way
    live = delivery_of(patient, status=Delivery.Status.SENDING, lease_until=timezone.now() + LEASE)
    live.subject_key += ":live"
    live.save()
    with fast_clock():
        dispatch_reminders()
    assert enqueued == []


def test_a_worker_whose_clock_runs_ahead_dates_the_rows_it_makes_by_the_database(clinic):
    before = timezone.now()
    with fast_clock():
        now = timezone.now()
        patient = PatientFactory(clinic=clinic, tz="UTC")
        due = now - timedelta(minutes=1)
        ReminderPreference.objects.create(
            patient=patient, checkin_time=time(due.hour, due.minute), quiet_start=time(0),
            quiet_end=time(0),
        )  # fmt: skip
        assert checkin_reminders_dispatch(now=now) == 1
    after = timezone.now()
    created_at = Delivery.objects.get().created_at
    # The database's time of the insert, not the worker's 10 minutes ahead.
    assert before - timedelta(seconds=1) <= created_at <= after + timedelta(seconds=1)
