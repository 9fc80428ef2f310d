"""The words of a text message (SMS) reminder, and its short single-use link.

A text is one GSM-7 segment at most (160 characters): the clinic's neutral sender name (as
on its e-mails), what is waiting in a few plain words, a short link, "Reply STOP to end
texts". No first name (a phone's lock screen shows texts to whoever holds it), no health
words, no times but a session's. Templates: templates/notifications/texts/<kind>.txt.

The link is `/t/<code>/`: the delivery's id and a MAC of it (12 base32 characters, 60 bits,
keyed by SECRET_KEY), short enough for one segment. It opens what the e-mail's link opens,
with the same rules: the day's check-in once without signing in, the readiness check once,
the rest after signing in (notifications.views.text_link).
"""

import base64
import unicodedata
import zoneinfo

from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from notifications.models import Delivery
from notifications.sms.gsm import encoding_and_segments

TEXT_LINK_SALT = "notifications.text-link"
MAC_LENGTH = 12
ONE_SEGMENT = 160

TEXT_KINDS = Delivery.TEXT_KINDS


def _mac(delivery_id: int) -> str:
    digest = salted_hmac(TEXT_LINK_SALT, str(delivery_id), algorithm="sha256").digest()
    return base64.b32encode(digest).decode("ascii")[:MAC_LENGTH].lower()


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def text_link_code(*, delivery_id: int) -> str:
    """The short code of a text's link: the delivery id in base 36, a dash, its MAC."""
    return f"{_base36(delivery_id)}-{_mac(delivery_id)}"


def read_text_link_code(code: str) -> int:
    """The delivery id behind a text link's code; signing.BadSignature if it is not one of
    ours (tampered, truncated, another id)."""
    number, _, mac = code.partition("-")
    try:
        delivery_id = int(number, 36)
    except ValueError:
        raise signing.BadSignature("Not a text link code.") from None
    if not 0 < delivery_id < 2**63 or not constant_time_compare(mac, _mac(delivery_id)):
        raise signing.BadSignature("Not a text link code.")
    return delivery_id


def text_link(delivery_id: int) -> str:
    return settings.SITE_URL + reverse(
        "notifications:text-link", args=[text_link_code(delivery_id=delivery_id)]
    )


def _gsm_safe(name: str) -> str:
    """The sender name in characters every phone shows in one GSM-7 segment: accents kept
    where GSM-7 has them, else dropped (a name in UCS-2 would halve the room)."""
    if encoding_and_segments(name)[0] == "GSM-7":
        return name
    kept = "".join(c for c in name if encoding_and_segments(c)[0] == "GSM-7")
    if kept.strip() == name.strip():
        return kept
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return " ".join(plain.split())


def text_body(delivery: Delivery, *, session=None) -> str:
    """The words of a text reminder (one GSM-7 segment: a long sender name is shortened)."""
    if delivery.kind not in TEXT_KINDS:
        raise ValueError(f"{delivery.kind} is not sent as a text.")
    patient = delivery.patient
    if patient is None:
        raise ValueError("A text goes to a patient.")
    context: dict[str, str] = {"link": text_link(delivery.id)}
    if delivery.kind == Delivery.Kind.SESSION:
        if session is None:
            raise ValueError("A session reminder needs its session.")
        local = session.scheduled_at.astimezone(zoneinfo.ZoneInfo(patient.tz))
        context["when"] = local.strftime("%a %-I:%M %p")
    sender = _gsm_safe(patient.clinic.email_sender_name or patient.clinic.name) or "Care team"
    template = f"notifications/texts/{delivery.kind}.txt"
    body = render_to_string(template, {**context, "sender": sender}).strip()
    over = len(body) - ONE_SEGMENT
    if over > 0:  # shorten the sender name, never the link or the STOP line
        short = sender[: max(len(sender) - over - 1, 8)].rstrip() + "."
        body = render_to_string(template, {**context, "sender": short}).strip()
    return body
