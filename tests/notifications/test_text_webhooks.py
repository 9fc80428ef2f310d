"""The text provider's webhooks: signed with the provider's own signing (the twilio
package's RequestValidator), STOP / START / HELP and any other reply, status callbacks."""

from datetime import UTC, datetime, time

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from twilio.request_validator import RequestValidator

from care.models import Alert, AuditEvent
from notifications.models import Delivery, ReminderPreference, TextNumberBlock, TextReply
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

TOKEN = "webhook-test-auth-token"
TWILIO = f"twilio://AC0123456789abcdef0123456789abcdef:{TOKEN}@?from=%2B15550001111"
MOBILE = "+12125550142"
NOW = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def provider():
    with override_settings(SMS_URL=TWILIO):
        yield


@pytest.fixture
def texter(clinic):
    clinic.email_sender_name = "Riverside Team"
    clinic.phone = "+12125550100"
    clinic.save()
    patient = PatientFactory(clinic=clinic, phone_mobile=MOBILE, may_text=True)
    ReminderPreference.objects.create(
        patient=patient, checkin_time=time(9), text_kinds=["checkin_due"]
    )
    return patient


def post(client, name, params, *, token=TOKEN, signature=None, query=""):
    path = reverse(f"notifications:{name}") + query
    url = settings.SITE_URL + path
    if signature is None:
        signature = RequestValidator(token).compute_signature(url, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def inbound(client, body, sid="SM0001", number=MOBILE, **kwargs):
    params = {"MessageSid": sid, "From": number, "To": "+15550001111", "Body": body}
    return post(client, "text-inbound", params, **kwargs)


def answer_of(response) -> str:
    text = response.content.decode()
    if "<Message>" not in text:
        return ""
    return text.split("<Message>")[1].split("</Message>")[0]


def test_a_wrongly_signed_request_is_refused_and_audited(client, texter):
    forged = inbound(client, "STOP", token="not-the-token")
    unsigned = inbound(client, "STOP", signature="")

    assert forged.status_code == unsigned.status_code == 403
    assert not TextNumberBlock.objects.exists()
    assert not TextReply.objects.exists()
    denied = AuditEvent.objects.filter(
        action=AuditEvent.Action.DENIED, what=AuditEvent.What.TEXT_WEBHOOK
    )
    assert denied.count() == 2


def test_a_changed_parameter_breaks_the_signature(client, texter):
    params = {"MessageSid": "SM1", "From": MOBILE, "Body": "HELP"}
    signature = RequestValidator(TOKEN).compute_signature(
        settings.SITE_URL + reverse("notifications:text-inbound"), params
    )
    params["From"] = "+12125550999"

    response = client.post(
        reverse("notifications:text-inbound"), params, HTTP_X_TWILIO_SIGNATURE=signature
    )

    assert response.status_code == 403


def test_stop_ends_texts_at_once_and_is_confirmed_once(client, texter):
    first = inbound(client, "Stop", sid="SM1")
    second = inbound(client, "STOP please", sid="SM2")

    assert first.status_code == 200 and first["Content-Type"].startswith("text/xml")
    assert "no more texts" in answer_of(first)
    assert "Reply START" in answer_of(first)
    assert answer_of(second) == ""
    assert TextNumberBlock.objects.get(number=MOBILE).reason == "stop"


@pytest.mark.parametrize("word", ["UNSUBSCRIBE", "cancel", "End", "QUIT", "stopall"])
def test_every_stop_word_stops(client, texter, word):
    inbound(client, word)

    assert TextNumberBlock.objects.filter(number=MOBILE, reason="stop").exists()


def test_start_resumes_texts(client, texter):
    inbound(client, "STOP", sid="SM1")
    started = inbound(client, "start", sid="SM2")
    again = inbound(client, "UNSTOP", sid="SM3")

    assert "texts are on again" in answer_of(started)
    assert answer_of(again) == ""  # nothing was stopped
    assert not TextNumberBlock.objects.exists()


def test_help_answers_with_the_clinics_name_and_phone(client, texter):
    response = inbound(client, "help")

    answer = answer_of(response)
    assert answer.startswith("Riverside Team:")
    assert "(212) 555-0100" in answer
    assert not TextNumberBlock.objects.exists()


def test_any_other_reply_gets_one_answer_a_day_pointing_to_the_app_and_crisis_line(client, texter):
    first = inbound(client, "feeling awful today, can someone call", sid="SM1")
    second = inbound(client, "hello?", sid="SM2")

    answer = answer_of(first)
    assert "not read" in answer
    assert reverse("care:my-messages") in answer
    assert "988" in answer
    assert answer_of(second) == ""
    replies = list(TextReply.objects.order_by("received_at"))
    assert [(r.keyword, r.answered) for r in replies] == [("other", True), ("other", False)]
    # The words are never kept.
    assert not any("awful" in str(value) for r in replies for value in r.__dict__.values())


def test_a_webhook_delivered_twice_is_one_reply_answered_once(client, texter):
    first = inbound(client, "HELP", sid="SM1")
    second = inbound(client, "HELP", sid="SM1")

    assert answer_of(first) and answer_of(second) == ""
    assert TextReply.objects.count() == 1


def test_status_callbacks_record_the_fate_and_a_dead_number_stops_texts(client, texter):
    text = Delivery.objects.create(
        kind="checkin_due",
        subject_key="patient:1:2026-05-04",
        due_at=NOW,
        patient=texter,
        channel="text",
        to_phone=MOBILE,
        status="sent",
        provider_id="SMabc",
    )

    delivered = post(client, "text-status", {"MessageSid": "SMabc", "MessageStatus": "delivered"})
    text.refresh_from_db()
    assert delivered.status_code == 204
    assert (text.status, text.provider_status) == ("sent", "delivered")

    post(
        client,
        "text-status",
        {"MessageSid": "SMabc", "MessageStatus": "undelivered", "ErrorCode": "30006"},
    )
    text.refresh_from_db()
    assert (text.status, text.provider_status) == ("failed", "undelivered")
    assert text.last_error == "provider undelivered 30006"
    assert TextNumberBlock.objects.get(number=MOBILE).error_code == 30006
    assert Alert.objects.filter(patient=texter, kind="delivery_failure").count() == 1


def test_an_unknown_status_is_accepted_and_changes_nothing(client, texter):
    response = post(client, "text-status", {"MessageSid": "SMnope", "MessageStatus": "failed"})

    assert response.status_code == 204
    assert not Alert.objects.exists()


@override_settings(SMS_URL="locmem://")
def test_without_a_provider_the_webhooks_are_not_there(client, texter):
    assert client.post(reverse("notifications:text-inbound"), {"Body": "STOP"}).status_code == 404


def test_the_first_report_of_a_text_whose_sender_died_records_it_sent(client, texter):
    # The worker died after Twilio took the text, before its answer came back: the row is
    # still "sending" without a provider id. Twilio's "queued" report names the delivery.
    text = Delivery.objects.create(
        kind="checkin_due",
        subject_key="patient:1:2026-05-04",
        due_at=NOW,
        patient=texter,
        channel="text",
        to_phone=MOBILE,
        status="sending",
        attempts=1,
    )
    query = f"?delivery={text.pk}"
    params = {"MessageSid": "SMlost", "MessageStatus": "queued"}

    # The id is part of what Twilio signs: another delivery's id with this signature fails.
    url = settings.SITE_URL + reverse("notifications:text-status") + query
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    forged = client.post(
        reverse("notifications:text-status") + f"?delivery={text.pk + 1}",
        params,
        HTTP_X_TWILIO_SIGNATURE=signature,
    )
    assert forged.status_code == 403

    assert post(client, "text-status", params, query=query).status_code == 204
    text.refresh_from_db()
    assert (text.status, text.provider_id, text.provider_status) == ("sent", "SMlost", "queued")
    assert text.lease_until is None
    # A later report finds it by the provider's id; a second text's id is not taken over.
    post(client, "text-status", {"MessageSid": "SMlost", "MessageStatus": "delivered"}, query=query)
    post(client, "text-status", {"MessageSid": "SMother", "MessageStatus": "queued"}, query=query)
    text.refresh_from_db()
    assert (text.provider_id, text.provider_status) == ("SMlost", "delivered")


def test_yes_resumes_texts_as_twilio_does(client, texter):
    inbound(client, "STOP", sid="SM1")
    answer = answer_of(inbound(client, "yes", sid="SM2"))

    assert "texts are on again" in answer
    assert not TextNumberBlock.objects.exists()


def test_a_status_report_that_names_no_message_changes_nothing(client, texter):
    waiting = Delivery.objects.create(
        kind="checkin_due",
        subject_key="patient:1:2026-05-04",
        due_at=NOW,
        patient=texter,
        channel="text",
        to_phone=MOBILE,
    )

    post(client, "text-status", {"MessageStatus": "failed", "ErrorCode": "30006"})

    waiting.refresh_from_db()
    assert waiting.status == "pending"
    assert not TextNumberBlock.objects.exists()
