"""Worker processes die mid-send: the reminder is still sent once, by another process."""

import os
import signal
import sys
import time

import pytest

from notifications.sending import MAX_ATTEMPTS
from tests.faults.harness import TIMINGS, pool_children, wait_until
from tests.faults.helpers import (
    assert_exactly_once,
    dispatch,
    due_patient,
    message_id,
    wait_for_status,
)

pytestmark = [pytest.mark.faults, pytest.mark.real_enqueue, pytest.mark.timeout(120)]

VISIBILITY_TIMEOUT = int(TIMINGS["BROKER_VISIBILITY_TIMEOUT"])


def test_a_pool_child_killed_mid_send_is_replaced_and_the_reminder_sent_once(stack, clinic):
    # The server has not got the message: RCPT is never answered.
    stack.sink.mode = "hang"
    worker = stack.worker(EMAIL_TIMEOUT="30")
    stack.beat()  # the sweeper takes the row back when the dead child's claim expires
    patient = due_patient(clinic)
    [delivery] = dispatch(patient)

    wait_for_status(delivery, "sending")
    wait_until(lambda: stack.sink.tries(patient.user.email), timeout=10, what="the send")
    [child] = pool_children(worker.pid)
    os.kill(child, signal.SIGKILL)
    stack.sink.mode = "accept"

    delivery = wait_for_status(delivery, "sent", timeout=30)
    assert "exited with 'signal 9 (SIGKILL)'" in worker.output()
    assert delivery.attempts == 2
    assert_exactly_once(stack.sink, due=1, sent=1)


def test_a_whole_worker_killed_mid_send_leaves_the_message_for_the_next_worker(stack, clinic):
    """SIGKILL the main process and its child: the message was never acknowledged (acks_late),
    so the next worker started after the visibility timeout (15 s here, an hour in production)
    takes it from Redis. No beat, so no sweeper: only the broker can bring it back."""
    stack.sink.mode = "hang"
    first = stack.worker("first", EMAIL_TIMEOUT="30")
    patient = due_patient(clinic)
    [delivery] = dispatch(patient)
    wait_for_status(delivery, "sending")

    first.kill()
    killed_at = time.monotonic()
    assert stack.redis.client().hlen("unacked") == 1
    stack.sink.mode = "accept"
    time.sleep(max(0, killed_at + VISIBILITY_TIMEOUT + 1 - time.monotonic()))
    second = stack.worker("second")

    delivery = wait_for_status(delivery, "sent", timeout=15)
    assert "notifications.send_delivery" in second.output()
    assert delivery.attempts == 2
    assert stack.redis.client().hlen("unacked") == 0
    assert_exactly_once(stack.sink, due=1, sent=1)


def test_a_child_killed_after_the_server_took_the_message_sends_it_twice(stack, clinic):
    """The documented duplicate window (docs/delivery.md): the mail server has the
    whole message, the worker dies before the row is marked sent, so the reminder goes out
    again, with the same Message-ID, once the claim expires."""
    stack.sink.mode = "hold"  # the message arrives in full; the 250 reply waits
    worker = stack.worker(EMAIL_TIMEOUT="30")
    stack.beat()
    patient = due_patient(clinic)
    [delivery] = dispatch(patient)
    wait_until(lambda: stack.sink.delivered, timeout=10, what="the message to arrive")

    [child] = pool_children(worker.pid)
    os.kill(child, signal.SIGKILL)
    stack.sink.mode = "accept"

    delivery = wait_for_status(delivery, "sent", timeout=30)
    assert delivery.attempts == 2
    assert stack.sink.count(message_id(delivery)) == 2
    assert len(stack.sink.delivered) == 2


def test_a_message_that_kills_every_worker_is_given_up_after_its_attempts(stack, clinic):
    poisoned = due_patient(clinic, email="poison@example.org")
    healthy = due_patient(clinic)
    worker = stack.worker(
        program=[sys.executable, "-m", "tests.faults.poison_worker"],
        FAULTS_POISON_ADDRESS="poison@example.org",
    )
    stack.beat()

    poison, fine = dispatch(poisoned, healthy)

    wait_for_status(fine, "sent", timeout=30)  # the others still flow
    poison = wait_for_status(poison, "failed", timeout=100)
    assert poison.last_error == f"gave up after {MAX_ATTEMPTS} attempts"
    # Each attempt killed a child; none after the last.
    assert worker.output().count("exited with 'exitcode 1'") == MAX_ATTEMPTS
    assert_exactly_once(stack.sink, due=2, sent=1)
