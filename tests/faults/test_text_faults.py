"""Workers die mid-send of a text: the same semantics as the e-mails' (test_worker_faults.py),
and the provider's status report that closes the texts' duplicate window.

The workers send through the real TwilioBackend (SMS_URL with `api=`) to a stand-in of
Twilio's Messages API in this process (tests/fake_twilio.py), whose answer is switched while
they run. Killed before the provider accepted the text (its request arrived and hangs), the
text goes once, whichever way it comes back: the sweeper once the dead worker's claim expires,
or the broker's redelivery of the dead worker's message after the visibility timeout. Killed
after the provider accepted it (the answer is held), it goes once when the provider's status
report ("queued", signed, to the StatusCallback that names the delivery) reaches the web app
before the claim expires: the report records the text sent with the provider's id, so the
sweeper does not send it again. When the report cannot reach us (the webhook unreachable), it
goes twice: the window that remains (docs/delivery.md, Text messages), at least once.
"""

import os
import re
import signal
import time
from datetime import time as clock_time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.utils import timezone

from notifications.kinds import build_text
from notifications.models import Delivery, ReminderPreference
from notifications.texts import text_link_code
from tests.factories import PatientFactory
from tests.fake_twilio import serve_fake_twilio
from tests.faults.harness import STACK_SITE_URL, TIMINGS, free_port, pool_children, wait_until
from tests.faults.helpers import daytime_zone, dispatch, message_id, wait_for_status

pytestmark = [pytest.mark.faults, pytest.mark.real_enqueue, pytest.mark.timeout(120)]

VISIBILITY_TIMEOUT = int(TIMINGS["BROKER_VISIBILITY_TIMEOUT"])
LEASE = int(TIMINGS["DELIVERY_LEASE_SECONDS"])
SID = "AC" + "fa17ed00" * 4
TOKEN = "fa17fa17fa17fa17fa17fa17fa17fa17"
SENDER = "+15005550006"
MOBILE = "+12125550163"


@pytest.fixture
def twilio_api():
    """Requested before `stack`, so it stops after the stack's processes are killed."""
    with serve_fake_twilio() as api:
        yield api


@pytest.fixture
def reporting_twilio():
    """The same, making Twilio's status callbacks ("queued") for each message it takes."""
    with serve_fake_twilio(callbacks=True) as api:
        yield api


def sms_url(api) -> str:
    # A long HTTP timeout (as the e-mail tests' EMAIL_TIMEOUT=30): only the kill ends a send.
    return api.sms_url(account_sid=SID, auth_token=TOKEN, sender=SENDER, timeout=30)


def texting_patient(clinic):
    """A patient whose daily check-in reminder fell due a minute ago, by e-mail and by text,
    at a local time inside the text hours (09:00 to 18:59)."""
    now = timezone.now()
    tz = daytime_zone(now - timedelta(hours=1))
    at = (now - timedelta(minutes=1)).astimezone(ZoneInfo(tz))
    patient = PatientFactory(clinic=clinic, tz=tz, phone_mobile=MOBILE, may_text=True)
    ReminderPreference.objects.create(
        patient=patient,
        checkin_time=clock_time(at.hour, at.minute),
        quiet_start=clock_time(0),
        quiet_end=clock_time(0),  # no quiet hours
        text_kinds=["checkin_due"],
    )
    return patient


def dispatched(patient) -> dict[str, Delivery]:
    rows = {row.channel: row for row in dispatch(patient)}
    assert set(rows) == {"email", "text"}
    assert rows["text"].status == "pending" and rows["text"].next_attempt_at is None
    return rows


def expected_body(text: Delivery, site_url: str = STACK_SITE_URL) -> str:
    """The words the stack's workers send for the row (their SITE_URL, not this one's)."""
    with override_settings(SITE_URL=site_url):
        return build_text(Delivery.objects.select_related("patient__clinic").get(id=text.id))


def received_task(worker) -> str:
    """The id of the one send task the worker took (the dispatcher's chunk of both rows)."""
    [task_id] = re.findall(r"notifications\.send_deliver(?:y|ies)\[([0-9a-f-]+)\] received",
                           worker.output())  # fmt: skip
    return task_id


def send_tasks_done(worker) -> list[str]:
    """The ids of the send tasks the worker ran to the end."""
    return re.findall(r"notifications\.send_deliver(?:y|ies)\[([0-9a-f-]+)\] succeeded",
                      worker.output())  # fmt: skip


def assert_settled(
    stack,
    api,
    rows: dict[str, Delivery],
    *,
    texts: int,
    site_url: str = STACK_SITE_URL,
    counted: bool = True,
) -> Delivery:
    """Both rows sent; the e-mail once at the SMTP sink; the text `texts` times at the
    provider, each the same words to the same number; nothing left pending or sending; no
    process (workers, beat, web) logged the number or the text's link. `counted`: recorded
    by its sender, with the body's encoding and segments (not by the provider's report)."""
    text = Delivery.objects.get(id=rows["text"].id)
    email = Delivery.objects.get(id=rows["email"].id)
    assert (text.status, email.status) == ("sent", "sent")
    assert stack.sink.count(message_id(email, site_url=site_url)) == 1
    assert len(stack.sink.delivered) == 1
    code = text_link_code(delivery_id=text.id)
    accepted = api.accepted_with(code)
    assert len(accepted) == texts, accepted
    assert len(api.accepted) == texts
    body = expected_body(text, site_url)
    assert {(m["to"], m["from"], m["body"]) for m in accepted} == {(MOBILE, SENDER, body)}
    assert text.provider_id == accepted[-1]["sid"]
    assert (text.encoding, text.segments) == (("GSM-7", 1) if counted else ("", None))
    assert not Delivery.objects.filter(status__in=["pending", "sending"]).exists()
    for process in stack.processes:  # nothing logged the number or the words
        output = process.output()
        assert MOBILE not in output and MOBILE[1:] not in output and code not in output
    return text


def test_a_worker_killed_before_twilio_took_the_text_sends_it_once(twilio_api, stack, clinic):
    """The whole worker is SIGKILLed while its request to the provider hangs unaccepted. A new
    worker and beat are started: the sweeper sends the text once the dead worker's claim
    expires (6 s here), before the broker gives the dead worker's message back. A third worker
    started after the visibility timeout puts that message back in the queue (kombu does so at
    start), and the worker that runs it finds both rows sent and sends nothing."""
    twilio_api.mode = "hang"
    first = stack.worker("first", SMS_URL=sms_url(twilio_api))
    rows = dispatched(texting_patient(clinic))

    wait_until(lambda: twilio_api.requests, timeout=10, what="the text's request")
    wait_for_status(rows["text"], "sending")
    task_id = received_task(first)
    first.kill()
    killed_at = time.monotonic()
    assert stack.redis.client().hlen("unacked") == 1
    assert twilio_api.accepted == []
    twilio_api.mode = "accept"

    second = stack.worker("second", SMS_URL=sms_url(twilio_api))
    stack.beat()
    text = wait_for_status(rows["text"], "sent", timeout=30)
    # Sent by the sweeper's message, not the dead worker's (not yet given back).
    assert f"[{task_id}]" not in second.output()
    wait_until(lambda: send_tasks_done(second), timeout=5, what="the sweeper's send to end")
    assert text.attempts == 2
    wait_for_status(rows["email"], "sent", timeout=15)

    time.sleep(max(0, killed_at + VISIBILITY_TIMEOUT + 1 - time.monotonic()))
    third = stack.worker("third", SMS_URL=sms_url(twilio_api))
    wait_until(
        lambda: any(f"[{task_id}] succeeded" in w.output() for w in (second, third)),
        timeout=20,
        what="the dead worker's message to be run again",
    )

    text = assert_settled(stack, twilio_api, rows, texts=1)
    assert text.attempts == 2  # the redelivered message claimed nothing
    assert len(twilio_api.requests) == 2  # the unaccepted one, then the text


def test_a_child_killed_after_twilio_took_the_text_sends_it_once_by_its_status_report(
    reporting_twilio, stack, clinic
):
    """The duplicate window closed, as Twilio behaves: the provider accepts the text and,
    whatever becomes of its answer, reports its status ("queued") to the StatusCallback,
    which names the delivery (SITE_URL + /sms/status/?delivery=<id>) and is signed over that
    address. The pool child dies before the answer comes; the web app (gunicorn, verifying
    the signature with the token from the same SMS_URL) records the text sent with the
    provider's id from the report, so once the dead child's claim has expired the sweeper
    finds nothing to send, nor does the dead child's message, given back to the worker: the
    phone gets the text once.

    The report must reach us before the claim expires (the lease: 6 s here, 5 minutes by
    default). When it cannot (the webhook unreachable), the window remains and the text goes
    twice (the test after this one): at least once, not exactly once."""
    api = reporting_twilio
    port = free_port()
    site_url = f"http://127.0.0.1:{port}"  # the StatusCallback's address: the web app's
    config = {"SMS_URL": sms_url(api), "SITE_URL": site_url}
    stack.web(port=port, **config)
    api.mode = "hold"  # the text is accepted and reported; the answer waits
    worker = stack.worker(**config)
    stack.beat(**config)
    rows = dispatched(texting_patient(clinic))

    wait_until(lambda: api.accepted, timeout=10, what="Twilio to accept the text")
    [child] = pool_children(worker.pid)
    os.kill(child, signal.SIGKILL)
    killed_at = time.monotonic()
    [accepted] = api.accepted
    assert accepted["status_callback"] == f"{site_url}/sms/status/?delivery={rows['text'].id}"

    wait_until(lambda: api.status_callbacks, timeout=10, what="the status callback")
    assert api.status_callbacks == [
        {"sid": accepted["sid"], "status": "queued", "url": accepted["status_callback"],
         "code": 204}
    ]  # fmt: skip
    text = wait_for_status(rows["text"], "sent", timeout=5)
    assert (text.provider_id, text.provider_status) == (accepted["sid"], "queued")
    assert text.attempts == 1 and text.lease_until is None
    api.mode = "accept"  # let the held answer go (to nobody)
    wait_until(lambda: "exited with 'signal 9 (SIGKILL)'" in worker.output(), timeout=10,
               what="the worker to see its child killed")  # fmt: skip

    # Past the dead child's claim (taken before the provider accepted the text), then
    # three more runs of the sweeper: had the row stayed `sending`, one would have sent it.
    time.sleep(max(0, accepted["at"] + LEASE + 1 - time.monotonic()))
    stack.sweeps(3)
    wait_for_status(rows["email"], "sent", timeout=15)
    # The report does not carry the body: its encoding and segments stay unrecorded.
    text = assert_settled(stack, api, rows, texts=1, site_url=site_url, counted=False)
    assert text.attempts == 1
    # The dead child's message, given back to the worker at once (reject_on_worker_lost),
    # ran again and sent nothing; no other send task ran. On a machine so busy that the
    # pool sees its child gone only after the task's hard time limit, the limit
    # ends the message instead and it is not given back: no send task runs again at all.
    received = re.findall(r"notifications\.send_deliver(?:y|ies)\[([0-9a-f-]+)\] received",
                          worker.output())  # fmt: skip
    if len(received) == 1:
        limit = TIMINGS["DELIVERY_TIME_LIMIT_SECONDS"]
        assert f"Hard time limit ({limit}s) exceeded for notifications.send_" in worker.output()
        assert send_tasks_done(worker) == []
    else:
        assert len(received) == 2 and received[0] == received[1]
        assert send_tasks_done(worker) == received[:1]
    assert len(api.requests) == 1
    assert len(api.status_callbacks) == 1
    assert time.monotonic() - killed_at > LEASE


def test_a_child_killed_after_twilio_took_the_text_without_its_status_report_sends_it_twice(
    reporting_twilio, stack, clinic
):
    """The window that remains: as above, but the status report cannot reach us (nothing
    listens at the StatusCallback's address), so the row stays `sending` without the
    provider's id and, once the claim expires, the sweeper sends the text again. Unlike an
    e-mail's Message-ID, nothing lets the phone drop the copy: the same words with the same
    single-use link arrive twice."""
    api = reporting_twilio
    site_url = f"http://127.0.0.1:{free_port()}"  # no web app there
    config = {"SMS_URL": sms_url(api), "SITE_URL": site_url}
    api.mode = "hold"
    worker = stack.worker(**config)
    stack.beat(**config)
    rows = dispatched(texting_patient(clinic))

    wait_until(lambda: api.accepted, timeout=10, what="Twilio to accept the text")
    [child] = pool_children(worker.pid)
    os.kill(child, signal.SIGKILL)
    api.mode = "accept"

    text = wait_for_status(rows["text"], "sent", timeout=30)
    assert "exited with 'signal 9 (SIGKILL)'" in worker.output()
    assert text.attempts == 2
    wait_for_status(rows["email"], "sent", timeout=15)
    text = assert_settled(stack, api, rows, texts=2, site_url=site_url)
    first, second = api.accepted
    assert first["sid"] != second["sid"] == text.provider_id
    api.wait_for_reports()
    assert [(r["sid"], r["code"]) for r in api.status_callbacks] == [
        (first["sid"], None),
        (second["sid"], None),
    ]  # each report made, none answered
