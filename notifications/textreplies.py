"""What the provider tells us about texts: a text's fate (status callbacks) and the texts
patients' numbers send us (replies), with the keywords every texting service answers.

STOP, STOPALL, UNSUBSCRIBE, CANCEL, END or QUIT ends all texts to that number at once
(TextNumberBlock) and is confirmed once; START or UNSTOP resumes them; HELP answers with the
clinic's name and phone. Anything else is not read as a message to the care team: it gets
one automatic answer (at most one a day per number, so that two automatic senders cannot
answer each other for ever) pointing to the app and the crisis line. The words of a reply
are never kept (TextReply keeps which keyword it was).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from care.alerts.services import alert_raise
from care.domain.crisis import country_resources
from care.domain.rules import AlertDraft
from care.models import Alert, Patient
from notifications.models import Delivery, TextNumberBlock, TextReply
from notifications.textnumbers import (
    NUMBER_DEAD_CODES,
    text_number_block,
    text_number_unblock,
)

# Twilio's own opt-out and opt-in keywords (it acts on them too: ours must agree with it).
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
OTHER_ANSWER_EVERY = timedelta(hours=24)

# The provider's final statuses of a text that did not arrive (notifications.textnumbers'
# NUMBER_DEAD_CODES say which also stop texts to the number).
UNDELIVERED = frozenset({"undelivered", "failed"})


def keyword_of(body: str) -> str:
    """The TextReply.Keyword of a reply: its first word, in any case, without punctuation."""
    words = body.strip().split()
    first = "".join(c for c in words[0] if c.isalnum()).upper() if words else ""
    if first in STOP_WORDS:
        return TextReply.Keyword.STOP
    if first in START_WORDS:
        return TextReply.Keyword.START
    if first in HELP_WORDS:
        return TextReply.Keyword.HELP
    return TextReply.Keyword.OTHER


def _patient_of(number: str) -> Patient | None:
    """The patient (active first, latest enrolled) whose mobile number this is."""
    return (
        Patient.objects.filter(phone_mobile=number)
        .select_related("clinic")
        .order_by("status", "-enrolled_at")
        .first()
    )


def _sender(patient: Patient | None) -> str:
    if patient is None:
        return "Care team"
    return patient.clinic.email_sender_name or patient.clinic.name


def _answer(keyword: str, patient: Patient | None) -> str:
    sender = _sender(patient)
    if keyword == TextReply.Keyword.STOP:
        return f"{sender}: you will get no more texts from us. Reply START to get them again."
    if keyword == TextReply.Keyword.START:
        return f"{sender}: texts are on again. Reply STOP to end them."
    if keyword == TextReply.Keyword.HELP:
        phone = patient.clinic.phone.as_national if patient and patient.clinic.phone else ""
        call = f" Call us on {phone}." if phone else ""
        return f"{sender}: reminders from your care team.{call} Reply STOP to end texts."
    country = country_resources(patient.clinic.country if patient else None)
    app = settings.SITE_URL + reverse("care:my-messages")
    return (
        f"{sender}: replies here are not read. To write to your care team: {app} "
        f"In a crisis, {country.helpline_words} or {country.emergency_number}."
    )


@transaction.atomic
def text_reply_receive(*, provider_id: str, number: str, body: str, now: datetime) -> str:
    """Act on a text from `number` (E.164) and return the answer to send back ("" for none).
    The provider's id makes a reply delivered twice one reply, answered once."""
    keyword = keyword_of(body)
    reply, created = TextReply.objects.get_or_create(
        provider_id=provider_id,
        defaults={"number": number, "keyword": keyword, "received_at": now},
    )
    if not created:
        return ""
    patient = _patient_of(number)
    if keyword == TextReply.Keyword.STOP:
        stopped = TextNumberBlock.objects.filter(
            number=number, reason=TextNumberBlock.Reason.STOP
        ).exists()
        text_number_block(number=number, reason=TextNumberBlock.Reason.STOP, now=now)
        answer = "" if stopped else _answer(keyword, patient)  # confirmed once
    elif keyword == TextReply.Keyword.START:
        answer = _answer(keyword, patient) if text_number_unblock(number=number) else ""
    elif keyword == TextReply.Keyword.HELP:
        answer = _answer(keyword, patient)
    else:
        answered_lately = TextReply.objects.filter(
            number=number,
            keyword=TextReply.Keyword.OTHER,
            answered=True,
            received_at__gt=now - OTHER_ANSWER_EVERY,
        ).exists()
        answer = "" if answered_lately else _answer(keyword, patient)
    if answer:
        TextReply.objects.filter(pk=reply.pk).update(answered=True)
    return answer


@transaction.atomic
def text_status_receive(
    *,
    provider_id: str,
    status: str,
    error_code: int | None,
    now,
    delivery_id: int | None = None,
) -> bool:
    """Record the provider's status of a text we sent; returns whether the text is ours.

    `delivery_id` (from the callback's signed address) finds a text whose provider id was
    never recorded: its sender died, or timed out, after the provider took it. Such a text
    (still pending or being sent) is recorded as sent with the provider's id: the provider
    has it, and sending it again would reach the phone twice.

    A text that did not arrive fails (last_error names the code), raising the
    delivery-failure alert once; a code that says the number will never take texts stops
    texts to it until the patient's number changes."""
    if not provider_id:
        return False  # a report that names no message is about none of ours
    texts = Delivery.objects.select_for_update(of=("self",)).select_related("patient")
    delivery = texts.filter(provider_id=provider_id, channel=Delivery.Channel.TEXT).first()
    fields: dict[str, object] = {"provider_status": status[:20]}
    if delivery is None and delivery_id is not None and provider_id:
        delivery = texts.filter(
            pk=delivery_id,
            channel=Delivery.Channel.TEXT,
            provider_id="",
            status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING],
        ).first()
        if delivery is not None:
            fields |= {
                "provider_id": provider_id,
                "status": Delivery.Status.SENT,
                "sent_at": now,
                "lease_until": None,
            }
    if delivery is None:
        return False
    undelivered = status in UNDELIVERED and delivery.status != Delivery.Status.FAILED
    if undelivered:
        fields |= {
            "status": Delivery.Status.FAILED,
            "last_error": f"provider {status} {error_code}",
        }
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    if undelivered and error_code in NUMBER_DEAD_CODES:
        text_number_block(
            number=delivery.to_phone,
            reason=TextNumberBlock.Reason.FAILED,
            error_code=error_code,
            now=now,
        )
    if undelivered and delivery.patient is not None:
        draft = AlertDraft(
            Alert.Kind.DELIVERY_FAILURE,
            Alert.Priority.ROUTINE,
            f"delivery:{delivery.id}",
            f"A {delivery.get_kind_display().lower()} text could not be delivered (provider "
            f"{status}, {error_code}); check the patient's mobile number.",
        )
        alert_raise(patient=delivery.patient, draft=draft, now=now)
    return True
