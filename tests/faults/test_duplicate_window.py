"""The documented duplicate window, measured: PostgreSQL goes down while 300 reminders are
being sent, for longer than a send can wait to record itself. An e-mail the mail server took
whose row could not be marked sent goes out again once its claim expires, with the same
Message-ID (docs/delivery.md, The delivery guarantee); everything else is sent once."""

import time
from collections import Counter

import pytest

from notifications.models import Delivery
from tests.faults.harness import TIMINGS, wait_until
from tests.faults.helpers import due_patient, message_id

pytestmark = [pytest.mark.faults, pytest.mark.real_enqueue, pytest.mark.timeout(240)]

DUE = 300
CONCURRENCY = 2
# Longer than a send may wait to record itself here (its soft time limit, 3 s of the short
# timings; 45 s in production, where an outage of up to about 15 s is ridden out).
OUTAGE = int(TIMINGS["DELIVERY_TIME_LIMIT_SECONDS"]) + 2


def test_postgres_down_mid_stream_sends_again_only_what_was_between_send_and_mark(
    stack, clinic, capsys
):
    for _ in range(DUE):
        due_patient(clinic)
    stack.worker(concurrency=CONCURRENCY)
    stack.beat()
    wait_until(lambda: len(stack.sink.delivered) >= DUE // 3, timeout=60, what="a third sent")

    stack.postgres.stop()  # between any two statements of the sends in flight
    time.sleep(OUTAGE)
    stack.restart_postgres()

    def all_sent() -> bool:
        return Delivery.objects.filter(status=Delivery.Status.SENT).count() == DUE

    wait_until(all_sent, timeout=120, what=f"{DUE} reminders sent")
    stack.sweeps(3)  # and nothing more after a few sweeps

    rows = list(Delivery.objects.all())
    copies = Counter(message["message_id"] for message in stack.sink.delivered)
    twice = [row.id for row in rows if copies[message_id(row)] == 2]
    with capsys.disabled():
        print(
            f"\nduplicate window: {len(twice)} of {DUE} e-mails sent twice (PostgreSQL down "
            f"{OUTAGE} s mid-stream, {CONCURRENCY} sends in flight at most)"
        )
    # Every row sent and delivered; a copy only of a send in flight when PostgreSQL went
    # down (one a pool process at most), never a third, and each with its one Message-ID.
    assert len(rows) == DUE and all(copies[message_id(row)] in (1, 2) for row in rows)
    assert set(copies) == {message_id(row) for row in rows}
    assert len(twice) <= CONCURRENCY
    assert len(stack.sink.delivered) == DUE + len(twice)
