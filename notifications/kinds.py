"""One entry per kind of delivery: how its e-mail is built and whether it is still needed
when its time to be sent comes (notifications.sending asks the entry of the row's kind).

Each entry reads what its delivery is about from the row's columns (patient, alert, session,
recipient, day), never from its subject key, which is only the idempotency key. A test checks
that every `Delivery.Kind` has exactly one entry.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from django.core.mail import EmailMultiAlternatives
from django.db.models import Count

from care.domain.clock import local_date
from care.models import (
    Alert,
    CheckIn,
    MessageThread,
    SessionReflection,
    StaffMembership,
    TreatmentSession,
)
from care.records.selectors import patient_instrument_codes
from notifications.emails import (
    checkin_reminder_email,
    digest_email,
    integration_prompt_email,
    message_notice_email,
    questionnaire_reminder_email,
    session_reminder_email,
    staff_alert_email,
    staff_message_notice_email,
)
from notifications.models import Delivery, TextNumberBlock
from notifications.preferences import reminder_preference_for, reminder_settings
from notifications.schedule import (
    INTEGRATION_CLOSES,
    QUESTIONNAIRE_WINDOW,
    ReminderSettings,
    local_moment,
    pre_session_questionnaire_due,
    session_reminder_due,
    text_send_at,
)
from notifications.selectors import questionnaires_done_since
from notifications.sms.backends import texts_enabled
from notifications.texts import text_body


@dataclass(frozen=True)
class DeliveryKind:
    """What sending needs to know of one kind of delivery."""

    kind: Delivery.Kind
    # Why a delivery of this kind is no longer needed at the moment given (a
    # Delivery.SkipReason), or "" if it still is.
    no_longer_needed: Callable[[Delivery, datetime], str]
    # The e-mail (to the row's address).
    build: Callable[[Delivery], EmailMultiAlternatives]
    # E-mailed to the clinic's staff about an alert: its failure raises no "could not be
    # delivered" alert of its own (that alert is for a patient's e-mail address).
    to_staff: bool = False
    # `no_longer_needed` for many rows of the kind at once, in a fixed number of queries
    # (their reasons by id, "" for those still needed), where the kind has one: a chunk of
    # sends asks it for its rows at its start (notifications.sending.deliveries_send).
    no_longer_needed_many: Callable[[list[Delivery], datetime], dict[int, str]] | None = None


def _checkin_no_longer_needed(delivery: Delivery, now: datetime) -> str:
    patient = delivery.patient
    if patient is None:
        return ""
    day = local_date(delivery.due_at, patient.tz)
    done = CheckIn.objects.filter(patient=patient, local_date=day).exists()
    return Delivery.SkipReason.ALREADY_DONE if done else ""


def _checkins_no_longer_needed(deliveries: list[Delivery], now: datetime) -> dict[int, str]:
    """`_checkin_no_longer_needed` of many rows, in one query."""
    days = {
        delivery.id: local_date(delivery.due_at, delivery.patient.tz)
        for delivery in deliveries
        if delivery.patient is not None
    }
    done = set(
        CheckIn.objects.filter(
            patient_id__in={delivery.patient_id for delivery in deliveries},
            local_date__in=set(days.values()),
        ).values_list("patient_id", "local_date")
    )
    return {
        delivery.id: Delivery.SkipReason.ALREADY_DONE
        if (delivery.patient_id, days.get(delivery.id)) in done
        else ""
        for delivery in deliveries
    }


def _session_of(delivery: Delivery) -> TreatmentSession | None:
    """The delivery's session, if it still exists and is still the patient's."""
    if delivery.session_id is None:
        return None
    return TreatmentSession.objects.filter(pk=delivery.session_id, patient=delivery.patient).first()


def _chosen_settings(delivery: Delivery, patient) -> ReminderSettings:
    """The patient's reminder settings as they bear on this delivery: a text's are the
    same without the e-mail ones (e-mails off, unsubscribed), which say nothing of texts."""
    chosen = reminder_settings(reminder_preference_for(patient), patient.tz)
    if delivery.channel == Delivery.Channel.TEXT:
        return replace(chosen, email_enabled=True, unsubscribed=())
    return chosen


def _email_settings_skip(delivery: Delivery, preference) -> str:
    """EMAIL_OFF or UNSUBSCRIBED for an e-mail the patient no longer takes; "" for a text
    (its own settings are checked by text_no_longer_needed)."""
    if delivery.channel == Delivery.Channel.TEXT:
        return ""
    if not preference.email_enabled:
        return Delivery.SkipReason.EMAIL_OFF
    if delivery.kind in preference.unsubscribed:
        return Delivery.SkipReason.UNSUBSCRIBED
    return ""


def _questionnaire_no_longer_needed(delivery: Delivery, now: datetime) -> str:
    patient = delivery.patient
    if patient is None:
        return ""
    if delivery.session_id is None:
        # A maintenance reminder: its episode counts from the completion on `day` (none
        # yet if empty).
        codes = patient_instrument_codes(patient=patient)
        completed = patient.assessments.filter(instrument__in=codes)
        if delivery.day is not None:
            next_day = delivery.day + timedelta(days=1)
            completed = completed.filter(
                completed_at__gte=local_moment(next_day, time(0), patient.tz)
            )
        # A questionnaire was completed since: no need to remind.
        return Delivery.SkipReason.ALREADY_DONE if completed.exists() else ""
    session = _session_of(delivery)
    if session is None or session.status != TreatmentSession.Status.SCHEDULED:
        return Delivery.SkipReason.CHANGED
    chosen = _chosen_settings(delivery, patient)
    expected = pre_session_questionnaire_due(
        chosen, session_at=session.scheduled_at, now=delivery.due_at
    )
    if expected != delivery.due_at:
        return Delivery.SkipReason.CHANGED
    opens = session.scheduled_at - QUESTIONNAIRE_WINDOW
    return Delivery.SkipReason.ALREADY_DONE if questionnaires_done_since(patient, opens) else ""


def _session_no_longer_needed(delivery: Delivery, now: datetime) -> str:
    patient = delivery.patient
    if patient is None:
        return ""
    # Moved or cancelled since: this reminder no longer matches a booked session.
    session = _session_of(delivery)
    if session is None or session.status != TreatmentSession.Status.SCHEDULED:
        return Delivery.SkipReason.CHANGED
    chosen = _chosen_settings(delivery, patient)
    expected = session_reminder_due(chosen, session_at=session.scheduled_at, now=delivery.due_at)
    return Delivery.SkipReason.CHANGED if expected != delivery.due_at else ""


def _session_reminder(delivery: Delivery) -> EmailMultiAlternatives:
    return session_reminder_email(delivery, _session_of(delivery))


def _integration_no_longer_needed(delivery: Delivery, now: datetime) -> str:
    """The session is no longer held (its record changed), the reflection was written
    meanwhile, the patient takes no e-mails of this kind, or the 72 hours after the session
    are over (a send deferred past them)."""
    session = _session_of(delivery)
    if session is None or session.status != TreatmentSession.Status.COMPLETED:
        return Delivery.SkipReason.CHANGED
    if SessionReflection.objects.filter(session=session).exists():
        return Delivery.SkipReason.ALREADY_DONE
    if now > session.scheduled_at + INTEGRATION_CLOSES:
        return Delivery.SkipReason.WINDOW_PASSED
    return _email_settings_skip(delivery, reminder_preference_for(session.patient))


def _integration_prompt(delivery: Delivery) -> EmailMultiAlternatives:
    return integration_prompt_email(delivery, _session_of(delivery))


def _alert_no_longer_needed(delivery: Delivery, now: datetime) -> str:
    if delivery.alert_id is None:
        return ""
    # Someone acknowledged the alert meanwhile: nobody needs to be chased.
    acknowledged = Alert.objects.filter(pk=delivery.alert_id, acknowledged_at__isnull=False)
    return Delivery.SkipReason.ACKNOWLEDGED if acknowledged.exists() else ""


def open_alert_counts(delivery: Delivery) -> dict[str, int]:
    """Open alerts by priority in the clinic of the digest's recipient."""
    if delivery.recipient_id is None:
        # The user was deleted: the digest fails visibly (as any data it needs gone).
        raise StaffMembership.DoesNotExist("The digest's recipient no longer exists.")
    membership = StaffMembership.objects.select_related("clinic").get(user_id=delivery.recipient_id)
    counts = dict(
        Alert.objects.filter(patient__clinic=membership.clinic, acknowledged_at__isnull=True)
        .values("priority")
        .annotate(n=Count("id"))
        .values_list("priority", "n")
    )
    return {
        p: counts.get(p, 0)
        for p in (Alert.Priority.URGENT, Alert.Priority.HIGH, Alert.Priority.ROUTINE)
    }


def unread_thread_count(delivery: Delivery) -> int:
    """Conversations of the recipient's clinic with messages nobody has opened."""
    if delivery.recipient_id is None:
        raise StaffMembership.DoesNotExist("The digest's recipient no longer exists.")
    membership = StaffMembership.objects.get(user_id=delivery.recipient_id)
    return MessageThread.objects.filter(
        patient__clinic_id=membership.clinic_id, staff_unread__gt=0
    ).count()


def _digest_no_longer_needed(delivery: Delivery, now: datetime) -> str:
    if any(open_alert_counts(delivery).values()) or unread_thread_count(delivery):
        return ""
    return Delivery.SkipReason.NOTHING_OPEN


def _digest(delivery: Delivery) -> EmailMultiAlternatives:
    return digest_email(delivery, open_alert_counts(delivery), unread_thread_count(delivery))


def _thread_of(delivery: Delivery) -> MessageThread | None:
    if delivery.thread_id is None:
        return None
    return MessageThread.objects.filter(pk=delivery.thread_id).first()


def _message_no_longer_needed(delivery: Delivery, now: datetime) -> str:
    """The patient read the reply meanwhile, or takes no e-mails of this kind."""
    thread = _thread_of(delivery)
    if thread is None or thread.patient_unread == 0:
        return Delivery.SkipReason.READ
    return _email_settings_skip(delivery, reminder_preference_for(thread.patient))


def _staff_message_no_longer_needed(delivery: Delivery, now: datetime) -> str:
    """Someone of the care team opened the thread meanwhile."""
    thread = _thread_of(delivery)
    return Delivery.SkipReason.READ if thread is None or thread.staff_unread == 0 else ""


def _message_notice(delivery: Delivery) -> EmailMultiAlternatives:
    return message_notice_email(delivery, _thread_of(delivery))


def _staff_message_notice(delivery: Delivery) -> EmailMultiAlternatives:
    return staff_message_notice_email(delivery, _thread_of(delivery))


# One entry per Delivery.Kind (a test checks).
ENTRIES = (
    DeliveryKind(
        Delivery.Kind.CHECKIN,
        _checkin_no_longer_needed,
        checkin_reminder_email,
        no_longer_needed_many=_checkins_no_longer_needed,
    ),
    DeliveryKind(
        Delivery.Kind.QUESTIONNAIRE,
        _questionnaire_no_longer_needed,
        questionnaire_reminder_email,
    ),
    DeliveryKind(Delivery.Kind.SESSION, _session_no_longer_needed, _session_reminder),
    DeliveryKind(
        Delivery.Kind.SAFETY_ONCALL, _alert_no_longer_needed, staff_alert_email, to_staff=True
    ),
    DeliveryKind(
        Delivery.Kind.SAFETY_ESCALATION,
        _alert_no_longer_needed,
        staff_alert_email,
        to_staff=True,
    ),
    DeliveryKind(Delivery.Kind.DIGEST, _digest_no_longer_needed, _digest),
    DeliveryKind(Delivery.Kind.MESSAGE, _message_no_longer_needed, _message_notice),
    DeliveryKind(
        Delivery.Kind.MESSAGE_STAFF,
        _staff_message_no_longer_needed,
        _staff_message_notice,
        to_staff=True,
    ),
    DeliveryKind(Delivery.Kind.INTEGRATION, _integration_no_longer_needed, _integration_prompt),
)
KINDS: dict[str, DeliveryKind] = {entry.kind: entry for entry in ENTRIES}


def kind_of(delivery: Delivery) -> DeliveryKind:
    """The entry of the delivery's kind (KeyError for a kind without one)."""
    return KINDS[delivery.kind]


# Skips of an e-mail that say nothing of its text (the patient's e-mail settings).
EMAIL_ONLY_SKIPS = (Delivery.SkipReason.EMAIL_OFF, Delivery.SkipReason.UNSUBSCRIBED)


def text_no_longer_needed(delivery: Delivery, now: datetime) -> str:
    """Why a text is no longer needed at `now` (a Delivery.SkipReason), or "": texts are
    off at this installation (SMS_URL emptied since), the patient
    no longer takes the kind by text, paused reminders, the number changed or lost its
    consent, texts to it are stopped, no moment in the text hours is left for it (one later
    than `now` makes the send wait: text_moment); then whatever its kind's entry says, but
    the e-mail settings."""
    patient = delivery.patient
    if patient is None:
        return ""
    if not texts_enabled():
        return Delivery.SkipReason.TEXTS_OFF
    preference = reminder_preference_for(patient)
    if delivery.kind not in preference.text_kinds:
        return Delivery.SkipReason.UNSUBSCRIBED
    if preference.paused_until is not None and local_date(now, patient.tz) <= (
        preference.paused_until
    ):
        return Delivery.SkipReason.PAUSED
    if str(patient.phone_mobile or "") != delivery.to_phone or not patient.may_text:
        return Delivery.SkipReason.NO_TEXT_CONSENT
    if TextNumberBlock.objects.filter(number=delivery.to_phone).exists():
        return Delivery.SkipReason.TEXT_STOPPED
    if text_moment(delivery, now) is None:
        return Delivery.SkipReason.TEXT_HOURS
    reason = kind_of(delivery).no_longer_needed(delivery, now)
    return "" if reason in EMAIL_ONLY_SKIPS else reason


def text_moment(delivery: Delivery, now: datetime) -> datetime | None:
    """When the text may go, from `now` on (schedule.text_send_at): `now`, a later moment
    in the text hours (the send waits for it), or None (too late for the text hours)."""
    patient = delivery.patient
    if patient is None:
        return None
    preference = reminder_preference_for(patient)
    return text_send_at(
        kind=delivery.kind,
        due=delivery.due_at,
        tz=patient.tz,
        quiet_start=preference.quiet_start,
        quiet_end=preference.quiet_end,
        not_before=now,
    )


def build_text(delivery: Delivery) -> str:
    """The words of a text (notifications.texts)."""
    return text_body(delivery, session=_session_of(delivery))
