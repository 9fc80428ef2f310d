"""A patient's reminder preference: read with its defaults, saved, unsubscribed."""

from django.db import transaction

from care.models import (
    Patient,
)
from notifications.models import Delivery, ReminderPreference, TextNumberBlock
from notifications.schedule import (
    ReminderSettings,
)


def reminder_preference_create(*, patient: Patient, by_text: bool = False) -> ReminderPreference:
    """A new patient's preference: the clinic's default check-in time, the rest defaults;
    `by_text`: every kind a patient may take by text, as texts too."""
    return ReminderPreference.objects.create(
        patient=patient,
        checkin_time=patient.clinic.default_checkin_time,
        text_kinds=[str(kind) for kind in Delivery.TEXT_KINDS] if by_text else [],
    )


def on_patient_enrolled(
    sender, *, patient: Patient, reminders_by_text: bool = False, **kwargs
) -> None:
    """Receiver of care.accounts.events.patient_enrolled (inside the enrollment's transaction)."""
    reminder_preference_create(patient=patient, by_text=reminders_by_text)


def reminder_preference_for(patient: Patient) -> ReminderPreference:
    """The patient's reminder preference, created with the defaults if missing."""
    preference, _ = ReminderPreference.objects.get_or_create(patient=patient)
    return preference


def reminder_settings(preference: ReminderPreference, tz: str) -> ReminderSettings:
    return ReminderSettings(
        tz=tz,
        email_enabled=preference.email_enabled,
        checkin_time=preference.checkin_time,
        quiet_start=preference.quiet_start,
        quiet_end=preference.quiet_end,
        paused_until=preference.paused_until,
        unsubscribed=tuple(preference.unsubscribed),
    )


def reminder_unsubscribe(*, patient_id: int, kind: str) -> bool:
    """Stop one kind of reminder for a patient; False if it was already stopped (or the
    patient no longer exists)."""
    if not Patient.objects.filter(pk=patient_id).exists():
        return False
    with transaction.atomic():
        preference = (
            ReminderPreference.objects.select_for_update().filter(patient_id=patient_id).first()
        )
        if preference is None:
            preference = ReminderPreference.objects.create(patient_id=patient_id)
        if kind in preference.unsubscribed:
            return False
        preference.unsubscribed = [*preference.unsubscribed, kind]
        preference.save(update_fields=["unsubscribed"])
    return True


def reminder_preference_update(
    *,
    preference: ReminderPreference,
    values: dict,
    unsubscribed: list[str],
    text_kinds: list[str] | None = None,
) -> ReminderPreference:
    """Save the patient's reminder settings (`text_kinds`, the kinds also sent as texts:
    left as they are when None)."""
    for name, value in values.items():
        setattr(preference, name, value)
    preference.unsubscribed = unsubscribed
    if text_kinds is not None:
        preference.text_kinds = text_kinds
    preference.save()
    return preference


# Whether texts can go to a patient (text_number_state): to their mobile number, with their
# consent, unless the number replied STOP or the provider refused it.
TEXTS_OK = "ok"
NO_MOBILE = "no_mobile"
NO_CONSENT = "no_consent"


def text_number_state(patient: Patient) -> str:
    """TEXTS_OK, NO_MOBILE, NO_CONSENT, or the TextNumberBlock reason of the patient's
    mobile number (stop, failed)."""
    if not patient.phone_mobile:
        return NO_MOBILE
    if not patient.may_text:
        return NO_CONSENT
    block = TextNumberBlock.objects.filter(number=str(patient.phone_mobile)).first()
    return block.reason if block is not None else TEXTS_OK
