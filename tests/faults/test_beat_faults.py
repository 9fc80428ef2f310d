"""Beat runs twice, or not at all for a while: each due reminder is still sent once, and one
too late by the project's policy (notifications/schedule.py, LATE_AFTER) is not sent."""

import time

import pytest

from notifications.models import Delivery
from tests.faults.harness import wait_until
from tests.faults.helpers import assert_exactly_once, beat_stalled, due_patient, wait_for_status

pytestmark = [pytest.mark.faults, pytest.mark.real_enqueue, pytest.mark.timeout(90)]


def _wait_for_deliveries(count: int, timeout: float = 30) -> list[Delivery]:
    wait_until(
        lambda: Delivery.objects.count() >= count, timeout=timeout, what=f"{count} deliveries"
    )
    return [wait_for_status(d, "sent") for d in Delivery.objects.order_by("id")]


TICK = "Sending due task dispatch-reminders"


def _ticks(beat, count: int) -> None:
    wait_until(lambda: beat.output().count(TICK) >= count, timeout=20, what=f"{beat.name} ticks")


def test_two_beats_at_once_send_each_due_reminder_once(stack, clinic):
    stack.worker(concurrency=2)  # so that two dispatcher runs can overlap
    beats = [stack.beat("beat-1"), stack.beat("beat-2")]
    for beat in beats:
        _ticks(beat, 1)

    for _ in range(4):  # due while both beats tick
        due_patient(clinic)

    _wait_for_deliveries(4)
    for beat in beats:
        _ticks(beat, beat.output().count(TICK) + 3)  # a few more ticks of each
    stack.sweeps(2)
    assert_exactly_once(stack.sink, due=4, sent=4)


def test_after_a_beat_outage_due_reminders_are_caught_up_once_and_stale_ones_dropped(stack, clinic):
    """Beat was down while these came due: due times in the past stand for the outage (no
    test waits hours). Up to 3 hours late a reminder is still sent, once; later, never."""
    beat_stalled(minutes_ago=200)  # the dispatcher's last tick before the outage
    late = [due_patient(clinic, minutes_ago=minutes) for minutes in (10, 170)]
    stale = due_patient(clinic, minutes_ago=190)
    stack.worker()
    time.sleep(2)  # no beat: nothing happens
    assert not Delivery.objects.exists()

    stack.beat()

    wait_until(lambda: Delivery.objects.count() >= 3, timeout=30, what="3 deliveries")
    sent = [wait_for_status(d, "sent") for d in Delivery.objects.exclude(patient=stale)]
    stack.sweeps(3)
    assert {d.patient for d in sent} == set(late)
    # The stale one is on record as skipped, too late, and never sent.
    assert list(stale.deliveries.values_list("status", "skip_reason")) == [("skipped", "too_late")]
    assert_exactly_once(stack.sink, due=3, sent=2)


def test_a_three_and_a_half_hour_stall_records_the_dropped_reminders_as_skipped_too_late(
    stack, clinic
):
    """Beat was not running for 3.5 hours: the reminders due at its start are past catching
    up. The first tick after records each as a skipped row with reason too_late (none is
    sent), and the ticks after it add nothing."""
    beat_stalled(minutes_ago=211)  # the dispatcher's last tick, just before they fell due
    dropped = [due_patient(clinic, minutes_ago=210) for _ in range(3)]
    caught_up = due_patient(clinic, minutes_ago=5)
    stack.worker()
    beat = stack.beat()

    wait_until(lambda: Delivery.objects.count() >= 4, timeout=30, what="4 deliveries")
    wait_for_status(caught_up.deliveries.get(), "sent")
    _ticks(beat, beat.output().count(TICK) + 2)
    stack.sweeps(2)

    skipped = Delivery.objects.filter(patient__in=dropped)
    assert sorted(skipped.values_list("patient_id", "status", "skip_reason")) == [
        (p.pk, "skipped", "too_late") for p in dropped
    ]
    assert_exactly_once(stack.sink, due=4, sent=1)
