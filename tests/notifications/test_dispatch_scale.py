"""The dispatcher's work grows with the patients who have something due, not with all."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.heartbeats import heartbeat_record
from notifications.models import Delivery, ReminderPreference
from notifications.selectors import REMINDER_TICK
from notifications.tasks import dispatch_reminders
from tests.factories import CheckInFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _ticked_before():
    """The dispatcher's heartbeat rows exist (the first tick ever creates them); its last
    tick was a minute ago."""
    heartbeat_record(name="dispatcher", now=NOW - timedelta(minutes=1))
    heartbeat_record(name=REMINDER_TICK, now=NOW - timedelta(minutes=1))


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
    # were they read, several batches
    monkeypatch.setattr("notifications.dispatch.patients.BATCH", 50)
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
    # PostgreSQL, in a savepoint), the other kinds, the sweeper, the message threads with
    # unread messages (for the notices, and for the digests when in their hours), the
    # heartbeat.
    assert statements_of_a_tick() <= 17


@pytest.mark.parametrize("read_at_once", [1, 10], ids=["through a cursor", "at once"])
def test_statements_grow_with_the_batches_not_with_the_patients(clinic, monkeypatch, read_at_once):
    monkeypatch.setattr("notifications.dispatch.patients.BATCH", 4)
    monkeypatch.setattr("notifications.sql.READ_AT_ONCE", read_at_once)
    counts = {}
    due = []
    # In batches of 4: 1, 1, 2, 2, 3, 3 and 4 (from 5 on, read through a cursor).
    for patients in [3, 4, 5, 8, 9, 12, 13]:
        due += [patient(clinic, time(9)) for _ in range(patients - len(due))]
        Delivery.objects.all().delete()  # all due again
        counts[patients] = statements_of_a_tick()
        assert Delivery.objects.count() == patients

    assert counts[3] == counts[4]  # one batch, however full
    assert counts[5] == counts[8]
    assert counts[9] == counts[12]
    assert counts[13] - counts[12] == counts[9] - counts[8] > 0  # a fixed cost per batch


def test_a_failing_batch_does_not_hold_back_the_others(clinic, monkeypatch, caplog):
    from notifications.dispatch import patients as patient_dispatch

    monkeypatch.setattr(patient_dispatch, "BATCH", 2)
    due = [patient(clinic, time(9)) for _ in range(4)]
    rows_of = patient_dispatch._checkin_rows

    def failing_first(candidates, now, since):
        if due[0].pk in {c.pk for c in candidates}:
            raise RuntimeError("a bad row")
        return rows_of(candidates, now, since)

    monkeypatch.setattr(patient_dispatch, "_checkin_rows", failing_first)

    with pytest.raises(RuntimeError), time_machine.travel(NOW, tick=False):
        patient_dispatch.patient_reminders_dispatch(now=NOW)

    assert set(Delivery.objects.values_list("patient_id", flat=True)) == {p.pk for p in due[2:]}
    assert "A batch of reminder candidates failed" in caplog.text


def test_outside_every_clinics_digest_hours_the_digests_read_only_the_zones(
    clinic, django_assert_num_queries
):
    from care.models import Alert
    from notifications.dispatch.alerts import digests_dispatch

    Alert.objects.create(
        patient=patient(clinic, time(9)),
        kind="missed_checkins",
        priority="routine",
        cause="x",
        reason="an open alert",
        created_at=NOW,
    )
    clinic.tz = "America/New_York"
    clinic.save(update_fields=["tz"])

    with django_assert_num_queries(1):  # the clinics' zones
        digests_dispatch(now=NOW + timedelta(hours=3))  # 12:30 in New York: 07:30 + 3 h past

    assert not Delivery.objects.filter(kind="digest").exists()


def test_skips_recorded_in_a_tick_cost_no_statements_per_patient(clinic, monkeypatch):
    """Too late (chosen 06:00, it is 09:30, the beat stalled at 05:55) or quiet hours:
    skipped rows, in one statement more per batch than the reminders to send; a tick with
    5 skips takes as many as with 50."""
    monkeypatch.setattr("notifications.dispatch.patients.BATCH", 100)
    due = [patient(clinic, time(9)) for _ in range(5)]

    def skipped(count: int) -> None:
        for n in range(count):
            if n % 2:
                patient(clinic, time(6))  # too late
            else:
                quiet = patient(clinic, time(9))
                ReminderPreference.objects.filter(patient=quiet).update(
                    quiet_start=time(8), quiet_end=time(10)
                )

    def stalled() -> None:  # the last tick before the stall
        heartbeat_record(name=REMINDER_TICK, now=NOW - timedelta(hours=3, minutes=35))

    skipped(5)
    stalled()
    few = statements_of_a_tick()
    Delivery.objects.all().delete()
    skipped(45)
    stalled()

    many = statements_of_a_tick()

    assert Delivery.objects.filter(patient__in=due, status="pending").count() == 5
    assert Delivery.objects.filter(status="skipped").count() == 50
    assert many == few
    # Recorded once: the next tick has no skip to write.
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        dispatch_reminders()
    assert Delivery.objects.count() == 55


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("read_at_once", [1, 10], ids=["through a cursor", "at once"])
def test_batches_committed_one_by_one_read_the_rest_from_the_database(
    clinic, monkeypatch, read_at_once
):
    """Outside a test's transaction, as in the worker: each batch commits on its own while
    the rest of the candidates wait in the database (more than READ_AT_ONCE batches: a
    cursor that outlives the commits); a failing batch costs only its own patients; nothing
    of the tick is left behind."""
    from notifications.dispatch import patients as patient_dispatch

    monkeypatch.setattr(patient_dispatch, "BATCH", 2)
    monkeypatch.setattr("notifications.sql.READ_AT_ONCE", read_at_once)
    due = [patient(clinic, time(9)) for _ in range(7)]  # 4 batches: 2, 2, 2 and 1
    rows_of = patient_dispatch._checkin_rows
    seen = []

    def failing_second(candidates, now, since):
        seen.append([c.pk for c in candidates])
        if len(seen) == 2:
            raise RuntimeError("a bad row")
        return rows_of(candidates, now, since)

    monkeypatch.setattr(patient_dispatch, "_checkin_rows", failing_second)

    with pytest.raises(RuntimeError), time_machine.travel(NOW, tick=False):
        patient_dispatch.patient_reminders_dispatch(now=NOW)

    pks = [p.pk for p in due]
    assert seen == [pks[0:2], pks[2:4], pks[4:6], pks[6:]]
    made = set(Delivery.objects.values_list("patient_id", flat=True))
    assert made == set(pks) - set(pks[2:4])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        assert cursor.fetchone() == (0,)
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'tick_candidate%%'")
        assert cursor.fetchone() == (0,)
