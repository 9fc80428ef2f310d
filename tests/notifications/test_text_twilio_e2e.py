"""End to end through Twilio's client: a daily check-in reminder for a patient who takes texts
is dispatched (a text row beside the e-mail row), then sent by `delivery_send` through the
real TwilioBackend (the official `twilio` package, SMS_URL with `api=`) to a local stand-in of
the Messages API (tests/fake_twilio.py). What the API received, what the row records, what a
busy or failing provider (deferred, retried) and a number that can never take texts (failed,
alerted, stopped for the next days while the e-mail still goes) do; and that no log line holds
the patient's number or the text's words."""

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from care.models import Alert
from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.models import Delivery, ReminderPreference, TextNumberBlock
from notifications.sending import RETRY, delivery_send
from notifications.texts import text_link_code
from tests.factories import PatientFactory
from tests.fake_twilio import serve_fake_twilio

pytestmark = pytest.mark.django_db

SID = "AC" + "5ca1ab1e" * 4
TOKEN = "7e57f00d7e57f00d7e57f00d7e57f00d"
SENDER = "+15005550006"
MOBILE = "+12125550187"
# The number in every form a log line could hold it.
NUMBER_FORMS = (MOBILE, MOBILE[1:], MOBILE[2:], "555-0187", "555 0187", "5550187")
NINE_NY = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)  # 09:00 in New York (EDT)
AT = NINE_NY + timedelta(minutes=1)


@pytest.fixture
def twilio_api(settings):
    with serve_fake_twilio() as api:
        settings.SMS_URL = api.sms_url(account_sid=SID, auth_token=TOKEN, sender=SENDER)
        yield api


@pytest.fixture
def texter(clinic):
    clinic.email_sender_name = "Riverside Team"
    clinic.save()
    patient = PatientFactory(
        clinic=clinic,
        tz="America/New_York",
        preferred_name="Jo",
        phone_mobile=MOBILE,
        may_text=True,
    )
    ReminderPreference.objects.create(
        patient=patient, checkin_time=time(9, 0), text_kinds=["checkin_due"]
    )
    return patient


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)  # the twilio client's and urllib3's lines too
    return caplog


def _dispatched(patient, now=AT) -> dict[str, Delivery]:
    checkin_reminders_dispatch(now=now)
    day = now.astimezone(ZoneInfo(patient.tz)).date()
    rows = Delivery.objects.filter(patient=patient, kind="checkin_due", day=day)
    return {row.channel: row for row in rows}


def _row(delivery: Delivery) -> Delivery:
    return Delivery.objects.get(id=delivery.id)


def assert_logs_private(logs, *, body: str, code: str):
    """No log line (message, arguments, traceback) holds the number or the text's words,
    though lines were logged (the twilio client logs each request)."""
    assert any(r.name.startswith("twilio") for r in logs.records), "nothing logged by twilio"
    shown = [logs.text, *(r.getMessage() for r in logs.records)]
    words = (body, code, f"/t/{code}/", "your check-in for today", "Riverside Team")
    for text in shown:
        for secret in (*NUMBER_FORMS, *words, TOKEN):
            assert secret not in text, (secret, text)


def test_a_text_reminder_goes_to_twilio_and_its_row_records_the_message(
    texter, twilio_api, logs, mailoutbox
):
    rows = _dispatched(texter)
    assert set(rows) == {"email", "text"}
    text = rows["text"]
    assert (text.status, text.to_phone, text.next_attempt_at) == ("pending", MOBILE, None)

    assert delivery_send(delivery_id=text.id, now=AT) == "sent"

    [request] = twilio_api.requests
    assert request["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert (request["user"], request["password"]) == (SID, TOKEN)
    fields = request["fields"]
    assert set(fields) == {"To", "From", "Body", "StatusCallback"}
    assert (fields["To"], fields["From"]) == (MOBILE, SENDER)
    body = fields["Body"]
    code = text_link_code(delivery_id=text.id)
    assert body.startswith("Riverside Team: ")
    assert f"http://testserver/t/{code}/" in body
    assert body.endswith("Reply STOP to end texts")
    assert len(body) <= 160
    assert fields["StatusCallback"] == f"http://testserver/sms/status/?delivery={text.id}"
    [message] = twilio_api.accepted
    sent = _row(text)
    assert sent.status == "sent"
    assert sent.provider_id == message["sid"]
    assert sent.provider_id.startswith("SM") and len(sent.provider_id) == 34
    assert (sent.provider_status, sent.encoding, sent.segments) == ("queued", "GSM-7", 1)
    assert (sent.attempts, sent.sent_at, sent.lease_until, sent.last_error) == (1, AT, None, "")
    # The row is the claim: sending it again sends nothing.
    assert delivery_send(delivery_id=text.id, now=AT) == "not claimed"
    assert len(twilio_api.requests) == 1
    # The e-mail of the same reminder is its own row and still goes, by e-mail only.
    assert delivery_send(delivery_id=rows["email"].id, now=AT) == "sent"
    assert [m.to for m in mailoutbox] == [[texter.user.email]]
    assert len(twilio_api.requests) == 1
    assert_logs_private(logs, body=body, code=code)


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (429, 20429, "transient: twilio 20429 HTTP 429 too many requests"),
        (500, 20500, "transient: twilio 20500 HTTP 500 provider error"),
        (503, None, "transient: twilio HTTP 503 provider error"),
    ],
)
def test_a_busy_or_failing_provider_defers_the_text_with_its_backoff(
    texter, twilio_api, logs, status, code, reason
):
    if code is None:
        twilio_api.answer(status, "<html><body>Service Unavailable</body></html>")
    else:
        twilio_api.error(status, code, f"Could not send to {MOBILE}: try again later")
    text = _dispatched(texter)["text"]

    before = timezone.now()
    assert delivery_send(delivery_id=text.id, now=AT) == "deferred"
    after = timezone.now()

    deferred = _row(text)
    assert (deferred.status, deferred.attempts, deferred.last_error) == ("pending", 1, reason)
    # The first backoff, by the database's clock: the sweeper sends it again after it.
    assert before + RETRY - timedelta(seconds=5) <= deferred.next_attempt_at
    assert deferred.next_attempt_at <= after + RETRY + timedelta(seconds=5)
    assert (deferred.provider_id, deferred.sent_at, deferred.lease_until) == ("", None, None)
    assert not TextNumberBlock.objects.exists()
    assert not Alert.objects.filter(patient=texter).exists()
    assert twilio_api.accepted == []
    [request] = twilio_api.requests
    body = request["fields"]["Body"]
    assert f"Delivery {text.id} deferred (attempt 1): {reason}" in logs.messages
    # Not again before its backoff has passed ...
    assert delivery_send(delivery_id=text.id, now=AT) == "not claimed"
    assert len(twilio_api.requests) == 1
    # ... and sent once it has (the test cannot move the database's clock: the wait is
    # moved instead), the same words to the same number.
    Delivery.objects.filter(id=text.id).update(next_attempt_at=timezone.now() - RETRY)
    assert delivery_send(delivery_id=text.id, now=AT + RETRY) == "sent"
    [message] = twilio_api.accepted
    sent = _row(text)
    assert (sent.status, sent.attempts, sent.provider_id) == ("sent", 2, message["sid"])
    assert (sent.encoding, sent.segments) == ("GSM-7", 1)
    assert [r["fields"]["Body"] for r in twilio_api.requests] == [body, body]
    assert message["to"] == MOBILE
    assert_logs_private(logs, body=body, code=text_link_code(delivery_id=text.id))


@pytest.mark.parametrize(
    ("code", "message", "reason"),
    [
        (
            21211,
            f"The 'To' number {MOBILE} is not a valid phone number.",
            "permanent: twilio 21211 invalid number",
        ),
        (
            21610,
            f"Attempt to send to unsubscribed recipient {MOBILE}",
            "permanent: twilio 21610 recipient unsubscribed (STOP)",
        ),
    ],
)
def test_a_number_that_cannot_take_texts_fails_alerts_and_stops_the_next_texts(
    texter, twilio_api, logs, mailoutbox, code, message, reason
):
    twilio_api.error(400, code, message)
    rows = _dispatched(texter)
    text = rows["text"]

    assert delivery_send(delivery_id=text.id, now=AT) == "failed"

    failed = _row(text)
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 1, reason)
    assert (failed.provider_id, failed.next_attempt_at, failed.lease_until) == ("", None, None)
    assert twilio_api.accepted == []
    alert = Alert.objects.get(patient=texter)
    assert alert.kind == Alert.Kind.DELIVERY_FAILURE
    assert "text could not be delivered" in alert.reason
    assert str(code) in alert.reason
    assert not [form for form in NUMBER_FORMS if form in alert.reason]
    block = TextNumberBlock.objects.get()
    assert (block.number, block.reason, block.error_code) == (MOBILE, "failed", code)
    assert f"Delivery {text.id} failed: {reason}" in logs.messages
    [request] = twilio_api.requests
    body = request["fields"]["Body"]
    # Never tried again: a later sweep finds nothing to claim.
    assert delivery_send(delivery_id=text.id, now=AT + RETRY) == "not claimed"

    # The next day: the text is on record as skipped, the e-mail still goes.
    tomorrow = _dispatched(texter, now=AT + timedelta(days=1))
    assert tomorrow["text"].day == date(2026, 5, 5)
    assert (tomorrow["text"].status, tomorrow["text"].skip_reason) == ("skipped", "text_stopped")
    assert tomorrow["email"].status == "pending"
    assert delivery_send(delivery_id=tomorrow["email"].id, now=AT + timedelta(days=1)) == "sent"
    assert [m.to for m in mailoutbox] == [[texter.user.email]]
    assert delivery_send(delivery_id=tomorrow["text"].id, now=AT) == "not claimed"
    assert len(twilio_api.requests) == 1  # nothing more asked of the provider
    assert Alert.objects.filter(patient=texter).count() == 1
    assert_logs_private(logs, body=body, code=text_link_code(delivery_id=text.id))
