"""PostgreSQL goes down while deliveries are in flight: nothing is sent before the claim is
recorded, nothing twice after, and everything once it is back."""

import time

import pytest

from tests.faults.harness import wait_until
from tests.faults.helpers import assert_exactly_once, dispatch, due_patient, wait_for_status

pytestmark = [pytest.mark.faults, pytest.mark.real_enqueue, pytest.mark.timeout(90)]


def test_postgres_down_when_a_send_starts_holds_it_until_postgres_is_back(stack, clinic):
    patient = due_patient(clinic)
    [delivery] = dispatch(patient)  # queued, no worker yet
    stack.postgres.stop()

    worker = stack.worker()
    stack.beat()
    # The worker takes the message and cannot claim the row: no e-mail without a claim.
    worker.wait_for_output("OperationalError", timeout=15)
    time.sleep(2)
    assert stack.redis.queued() == 0 and not stack.sink.delivered

    stack.restart_postgres()
    delivery = wait_for_status(delivery, "sent", timeout=30)  # the sweeper sends it again
    assert delivery.attempts == 1
    assert_exactly_once(stack.sink, due=1, sent=1)


# Limits long enough for a restart of PostgreSQL within one send; still below the lease.
PATIENT_WORKER = {"DELIVERY_TIME_LIMIT_SECONDS": "8", "DELIVERY_LEASE_SECONDS": "10"}


def test_postgres_restarting_once_the_server_took_the_message_does_not_send_it_twice(stack, clinic):
    """The row cannot be marked sent while PostgreSQL restarts: the worker keeps trying
    instead of leaving it `sending`, which would send it again when the claim expires."""
    stack.sink.mode = "hold"  # the message arrives in full; the 250 reply waits
    patient = due_patient(clinic)
    # Dispatched by beat and the worker, so the send carries the worker's longer limits.
    stack.worker(**PATIENT_WORKER)
    stack.beat(**PATIENT_WORKER)
    wait_until(lambda: stack.sink.delivered, timeout=20, what="the message to arrive")

    stack.postgres.stop()
    stack.sink.mode = "accept"  # the server answers 250; the worker cannot record it
    time.sleep(2)
    stack.restart_postgres()

    [delivery] = patient.deliveries.all()
    # Recorded by the same try (sent is final: the sweeper takes only pending or sending rows).
    delivery = wait_for_status(delivery, "sent", timeout=20)
    assert delivery.attempts == 1
    assert_exactly_once(stack.sink, due=1, sent=1)
