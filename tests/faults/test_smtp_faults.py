"""The mail server refuses, defers or hangs: each due reminder still ends sent once, or
failed by policy, and nothing is left pending or sending."""

import pytest

from care.models import Alert
from tests.faults.harness import wait_until
from tests.faults.helpers import assert_exactly_once, dispatch, due_patient, wait_for_status

pytestmark = [pytest.mark.faults, pytest.mark.real_enqueue, pytest.mark.timeout(90)]


def test_a_due_reminder_is_sent_once_through_real_servers(stack, clinic):
    stack.worker()
    patient = due_patient(clinic)

    [delivery] = dispatch(patient)

    delivery = wait_for_status(delivery, "sent")
    assert delivery.attempts == 1
    assert_exactly_once(stack.sink, due=1, sent=1)


def test_a_permanent_refusal_fails_at_once_without_retrying(stack, clinic):
    stack.sink.mode = "permfail"
    stack.worker()
    stack.beat()  # its sweeper would try again if the row were left retryable
    patient = due_patient(clinic)

    [delivery] = dispatch(patient)

    delivery = wait_for_status(delivery, "failed")
    assert delivery.attempts == 1 and delivery.last_error == "recipient refused"
    stack.sink.mode = "accept"
    # Several sweeps later: no second try.
    stack.sweeps(5)
    assert len(stack.sink.tries(patient.user.email)) == 1
    assert Alert.objects.filter(patient=patient, kind=Alert.Kind.DELIVERY_FAILURE).count() == 1
    assert_exactly_once(stack.sink, due=1, sent=0)


def test_a_deferral_is_retried_after_its_backoff_and_sent_once(stack, clinic):
    stack.sink.mode = "tempfail"
    stack.worker()
    stack.beat()
    patient = due_patient(clinic)
    address = patient.user.email

    [delivery] = dispatch(patient)

    wait_until(lambda: len(stack.sink.tries(address)) >= 2, timeout=40, what="a second try")
    stack.sink.mode = "accept"
    delivery = wait_for_status(delivery, "sent", timeout=40)
    tries = stack.sink.tries(address)
    assert delivery.attempts == len(tries) >= 3
    # Each wait at least the backoff (2 s, then 4 s), never a tight loop.
    assert tries[1] - tries[0] >= 2 and tries[2] - tries[1] >= 4
    assert_exactly_once(stack.sink, due=1, sent=1)


@pytest.mark.parametrize(
    ("mode", "cut_off_by", "gap"),
    [
        # Silence: the SMTP timeout (EMAIL_TIMEOUT 2 s) ends the try; the 2 s backoff follows.
        ("hang", "deferred (attempt 1): SMTPServerDisconnected", 2),
        # An endless reply keeps the socket busy: only the task's time limits (3 s, 4 s) end
        # it, and the claim (6 s) outlives them.
        ("trickle", "Soft time limit (3s) exceeded", 4),
    ],
    ids=["hang", "trickle"],
)
def test_a_hanging_mail_server_is_cut_off_and_the_reminder_sent_once(
    stack, clinic, mode, cut_off_by, gap
):
    stack.sink.mode = mode
    worker = stack.worker()
    stack.beat()
    patient = due_patient(clinic)
    address = patient.user.email

    [delivery] = dispatch(patient)

    worker.wait_for_output(cut_off_by, timeout=10)
    stack.sink.mode = "accept"
    delivery = wait_for_status(delivery, "sent", timeout=30)
    tries = stack.sink.tries(address)
    # No second try while the first could still be running.
    assert tries[1] - tries[0] >= gap
    assert delivery.attempts == len(tries)
    assert_exactly_once(stack.sink, due=1, sent=1)
