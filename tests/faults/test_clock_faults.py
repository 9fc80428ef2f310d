"""Workers whose clocks disagree: one worker's clock runs 10 minutes ahead (Debian's
faketime, libfaketime), beside one whose clock is right, while 300 reminders are due. The
database's clock decides every claim, lease and sweep, so nothing is sent twice."""

import os
import re
import shutil
import sys
from collections import Counter
from datetime import datetime, timedelta

import pytest

from notifications.models import Delivery
from tests.faults.harness import wait_until
from tests.faults.helpers import assert_exactly_once, due_patient

pytestmark = [pytest.mark.faults, pytest.mark.real_enqueue, pytest.mark.timeout(240)]

DUE = 300
AHEAD = timedelta(minutes=10)


def _faketime() -> list[str]:
    faketime = shutil.which("faketime")
    if faketime is None:
        if os.environ.get("CI") == "true":
            pytest.fail("The skewed-clock test needs faketime (apt-get install faketime)")
        pytest.skip("the skewed-clock test needs faketime (apt-get install faketime)")
    return [faketime, "-f", f"+{int(AHEAD.total_seconds() / 60)}m"]


def _clock_of(process) -> datetime:
    """The time of the latest line the process logged, by its own clock."""
    stamps = re.findall(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+:", process.output(), re.M)
    return datetime.fromisoformat(stamps[-1])


def test_a_worker_whose_clock_runs_ten_minutes_ahead_sends_nothing_twice(stack, clinic):
    patients = [due_patient(clinic) for _ in range(DUE)]
    program = [*_faketime(), sys.executable, "-m", "celery"]
    # Its monotonic clock left alone: Celery's timers need no skew to show the fault.
    fast = stack.worker("fast", concurrency=2, program=program, FAKETIME_DONT_FAKE_MONOTONIC="1")
    stack.worker("right", concurrency=2)
    assert _clock_of(fast) - datetime.now() > AHEAD - timedelta(minutes=1)
    stack.beat()  # the dispatcher and its sweeper every second, on either worker

    def all_sent() -> bool:
        return Delivery.objects.filter(status=Delivery.Status.SENT).count() == DUE

    wait_until(all_sent, timeout=150, what=f"{DUE} reminders sent")
    stack.sweeps(3)  # a few more sweeps by both clocks: still nothing sent again
    assert "Task notifications.dispatch_reminders" in fast.output()  # it swept, too
    assert "Task notifications.send_deliver" in fast.output()  # and it sent
    copies = Counter(message["message_id"] for message in stack.sink.delivered)
    twice = sorted(message_id for message_id, count in copies.items() if count > 1)
    assert not twice, f"{len(twice)} of {DUE} sent more than once: {twice[:5]}"
    rows = assert_exactly_once(stack.sink, due=DUE, sent=DUE)
    assert {row.patient_id for row in rows} == {patient.pk for patient in patients}
