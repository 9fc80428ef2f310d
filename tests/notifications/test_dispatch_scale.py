"""The dispatcher's work grows with the patients who have something due, not with all."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Delivery, ReminderPreference
from notifications.services import heartbeat_record
from notifications.tasks import dispatch_reminders
from tests.factories import CheckInFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _ticked_before():
    """The dispatcher's heartbeat row exists (the first tick ever creates it)."""
    heartbeat_record(name="dispatcher", now=NOW)


NOW = datetime(2026, 5, 4, 13, 30, tzinfo=UTC)  # 09:30 in New York
TODAY = date(2026, 5, 4)


def patient(clinic, at: time):
    patient = PatientFactory(clinic=clinic, tz="America/New_York")
    ReminderPreference.objects.create(patient=patient, checkin_time=at)
    return patient


def bystanders(clinic, count: int) -> None:
    """Patients with nothing due now: later today, checked in, or reminded already."""
    for n in range(count):
        if n % 3 == 0:
            patient(clinic, time(15))
        elif n % 3 == 1:
            CheckInFactory(patient=patient(clinic, time(8)), local_date=TODAY, submitted_at=NOW)
        else:
            reminded = patient(clinic, time(8))
            Delivery.objects.create(
                kind="checkin_due",
                subject_key=f"patient:{reminded.pk}:{TODAY}",
                due_at=datetime(2026, 5, 4, 12, tzinfo=UTC),
                patient=reminded,
                to_email=reminded.user.email,
                status="sent",
            )


def statements_of_a_tick() -> int:
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
        dispatch_reminders()
    return len(queries)


def test_a_tick_takes_as_many_statements_with_200_bystanders_as_with_20(clinic, monkeypatch):
    monkeypatch.setattr("notifications.services.BATCH", 50)  # were they read, several batches
    due = [patient(clinic, time(9)) for _ in range(5)]
    bystanders(clinic, 20)
    few = statements_of_a_tick()
    Delivery.objects.filter(patient__in=due).delete()  # due again
    bystanders(clinic, 180)

    many = statements_of_a_tick()

    assert Delivery.objects.filter(patient__in=due).count() == 5
    assert many == few


def test_a_tick_with_nothing_due_reads_only_a_few_statements(clinic):
    bystanders(clinic, 60)

    # The zones, the candidates of each kind (none: no batch; planner settings on
    # PostgreSQL, in a savepoint), the other kinds, the sweeper, the heartbeat.
    assert statements_of_a_tick() <= 15
