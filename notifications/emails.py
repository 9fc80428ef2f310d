"""Build e-mails from a template triplet: <name>_subject.txt, _body.txt, _body.html."""

import re
import zoneinfo
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.urls import get_script_prefix, reverse

from care.common.mail import build_email, site_mail_domain
from care.models import StaffMembership

UNSUBSCRIBE_SALT = "notifications.unsubscribe"


# A signed token as django.core.signing writes it: URL-safe base64 and ":" (no quoting).
_TOKEN = re.compile(r"[A-Za-z0-9_:-]+")


def token_link(name: str, token: str) -> str:
    """SITE_URL + the URL of `name` (one `<str:token>` argument) for `token`: what
    `reverse` gives, without resolving the pattern again for each e-mail (about a tenth of
    building a reminder): the URL around the argument is worked out once per process,
    site and script prefix. Anything but a signing token goes through `reverse`."""
    if not _TOKEN.fullmatch(token):
        return settings.SITE_URL + reverse(name, args=[token])
    before, after = _around_token(name, settings.SITE_URL, get_script_prefix())
    return before + token + after


@lru_cache(maxsize=64)
def _around_token(name: str, site_url: str, script_prefix: str) -> tuple[str, str]:
    before, _, after = reverse(name, args=["TOKEN"]).partition("TOKEN")
    return site_url + before, after


def unsubscribe_token(*, patient_id: int, kind: str) -> str:
    """A signed token that stops one kind of reminder for one patient."""
    return signing.dumps({"p": patient_id, "k": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """(patient id, kind) of a token; signing.BadSignature if it was tampered with."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    return int(data["p"]), str(data["k"])


def delivery_message_id(delivery_id: int) -> str:
    """The Message-ID of a delivery's e-mail: stable, so that a rare second send is
    recognisably the same message."""
    return f"<delivery-{delivery_id}@{site_mail_domain()}>"


DELIVERY_MESSAGE_ID = re.compile(r"<delivery-\d+@[^>]+>")


class WireHeader(str):
    """A structured header written exactly as given: never RFC 2047-encoded, which RFC 2369
    and RFC 8058 do not allow in List-Unsubscribe (mail providers then offer no one-click
    unsubscribe), and folded only after the comma between two <…> items when long.

    The `email` package stores an object with a `name` as it is and asks it to `fold`
    itself, instead of re-parsing it as unstructured text (which encodes any word longer
    than a line).
    """

    name: str

    def __new__(cls, name: str, value: str) -> "WireHeader":
        if not value.isascii() or "\r" in value or "\n" in value:
            raise ValueError(f"{name} must be one line of ASCII")
        header = super().__new__(cls, value)
        header.name = name
        return header

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]  # our __new__ takes 2
        # Copies (the test mailer keeps deep copies) are made with the name too.
        return (self.name, str(self))

    def fold(self, *, policy) -> str:
        limit = policy.max_line_length or 78
        items = re.split(r"(?<=>)\s*,\s*(?=<)", self.strip())
        lines = [f"{self.name}: {items[0]}"]
        for item in items[1:]:
            if len(lines[-1]) + len(item) + 2 > limit:
                lines[-1] += ","
                lines.append(f" {item}")
            else:
                lines[-1] += f", {item}"
        if any(len(line) > 998 for line in lines):
            raise ValueError(f"{self.name} has a line longer than RFC 5322 allows")
        return policy.linesep.join(lines) + policy.linesep


def _reminder_headers(delivery, unsubscribe_url: str) -> dict:
    # One list per kind of reminder (the unsubscribe link stops that kind); the label is
    # the kind's code, which names no health matter.
    label = delivery.kind.replace("_", "-")
    return {
        "Message-ID": delivery_message_id(delivery.id),
        "List-Id": WireHeader("List-Id", f"Reminders <{label}.reminders.{site_mail_domain()}>"),
        "List-Unsubscribe": WireHeader("List-Unsubscribe", f"<{unsubscribe_url}>"),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def checkin_reminder_email(delivery) -> EmailMultiAlternatives:
    """ "You have a check-in waiting": first name at most, no health words."""
    token = checkin_link_token(delivery_id=delivery.id)
    # Signed, single use, valid until the end of that local day, for that day's form.
    link = token_link("notifications:checkin-link", token)
    return _patient_reminder(
        delivery, template="notifications/emails/checkin_reminder", context={"link": link}
    )


def _patient_reminder(delivery, *, template: str, context: dict) -> EmailMultiAlternatives:
    """A reminder to a patient: first name, sender name, one-click unsubscribe headers."""
    patient = delivery.patient
    unsubscribe = token_link(
        "notifications:unsubscribe", unsubscribe_token(patient_id=patient.pk, kind=delivery.kind)
    )
    return build_email(
        template=template,
        context={"first_name": patient.preferred_name, "unsubscribe_url": unsubscribe, **context},
        to=[delivery.to_email],
        sender_name=patient.clinic.email_sender_name,
        headers=_reminder_headers(delivery, unsubscribe),
    )


def staff_alert_email(delivery) -> EmailMultiAlternatives:
    """To the on-call contact or a clinician: a link to the alert inbox, no patient data."""
    escalated = delivery.kind == "safety_escalation"
    return build_email(
        template="notifications/emails/staff_alert",
        context={
            "escalated": escalated,
            "minutes": delivery.patient.clinic.alert_response_minutes,
            "link": settings.SITE_URL + reverse("care:alert-inbox"),
        },
        to=[delivery.to_email],
        sender_name=delivery.patient.clinic.email_sender_name,
        headers={"Message-ID": delivery_message_id(delivery.id)},
    )


def session_reminder_email(delivery, session) -> EmailMultiAlternatives:
    """ "Your appointment is tomorrow": the time only, no treatment words; a link to tell the
    care team you are ready."""
    local = session.scheduled_at.astimezone(zoneinfo.ZoneInfo(delivery.patient.tz))
    # Signed, single use, for this reminder's session only, until it starts.
    token = readiness_link_token(delivery_id=delivery.id)
    context = {
        "when": local.strftime("%A at %-I:%M %p"),
        "link": settings.SITE_URL + reverse("care:me"),
        "ready_link": token_link("notifications:ready-link", token),
    }
    return _patient_reminder(
        delivery, template="notifications/emails/session_reminder", context=context
    )


def integration_prompt_email(delivery, session) -> EmailMultiAlternatives:
    """ "A few minutes to look back": no treatment words, a sign-in link to the reflection
    page of the session."""
    link = settings.SITE_URL + reverse("care:my-session-reflection", args=[session.pk])
    return _patient_reminder(
        delivery, template="notifications/emails/integration_prompt", context={"link": link}
    )


def digest_email(delivery, counts: dict[str, int], unread: int = 0) -> EmailMultiAlternatives:
    """A clinician's morning digest: open alerts by priority, conversations with unread
    messages, links; no patient data."""
    membership = StaffMembership.objects.select_related("clinic", "user").get(
        user_id=delivery.recipient_id
    )
    return build_email(
        template="notifications/emails/digest",
        context={
            "first_name": membership.user.get_short_name(),
            "counts": counts,
            "total": sum(counts.values()),
            "link": settings.SITE_URL + reverse("care:alert-inbox"),
            "unread": unread,
            "messages_link": settings.SITE_URL + reverse("care:staff-messages"),
        },
        to=[delivery.to_email],
        sender_name=membership.clinic.email_sender_name,
        headers={"Message-ID": delivery_message_id(delivery.id)},
    )


CHECKIN_LINK_SALT = "notifications.checkin-link"


def checkin_link_token(*, delivery_id: int) -> str:
    """A signed token for one daily reminder's check-in link."""
    return signing.dumps({"d": delivery_id}, salt=CHECKIN_LINK_SALT)


def read_checkin_link_token(token: str) -> int:
    """The delivery id behind a check-in link token; signing.BadSignature if tampered."""
    return int(signing.loads(token, salt=CHECKIN_LINK_SALT)["d"])


READINESS_LINK_SALT = "notifications.readiness-link"


def readiness_link_token(*, delivery_id: int) -> str:
    """A signed token for one "session tomorrow" reminder's readiness link."""
    return signing.dumps({"d": delivery_id}, salt=READINESS_LINK_SALT)


def read_readiness_link_token(token: str) -> int:
    """The delivery id behind a readiness link token; signing.BadSignature if tampered."""
    return int(signing.loads(token, salt=READINESS_LINK_SALT)["d"])


def questionnaire_reminder_email(delivery) -> EmailMultiAlternatives:
    """ "You have a questionnaire waiting": no instrument names, a sign-in link."""
    return _patient_reminder(
        delivery,
        template="notifications/emails/questionnaire_reminder",
        context={"link": settings.SITE_URL + reverse("care:me")},
    )


def message_notice_email(delivery, thread) -> EmailMultiAlternatives:
    """ "You have a new message": never its words or subject, a sign-in link to the thread."""
    return _patient_reminder(
        delivery,
        template="notifications/emails/message_notice",
        context={
            "link": settings.SITE_URL + reverse("care:my-message-thread", args=[thread.public_id])
        },
    )


def staff_message_notice_email(delivery, thread) -> EmailMultiAlternatives:
    """To a clinician: a patient wrote. No patient, no words; a link to the thread."""
    return build_email(
        template="notifications/emails/staff_message_notice",
        context={
            "assigned": thread.assigned_to_id == delivery.recipient_id,
            "link": settings.SITE_URL
            + reverse("care:staff-message-thread", args=[thread.public_id]),
        },
        to=[delivery.to_email],
        sender_name=delivery.patient.clinic.email_sender_name,
        headers={"Message-ID": delivery_message_id(delivery.id)},
    )
