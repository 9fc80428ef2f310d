"""The patient's reminder settings."""

from datetime import date, time, timedelta
from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.models import Delivery, ReminderPreference
from notifications.schedule import in_quiet_hours
from notifications.sms.backends import texts_enabled

if TYPE_CHECKING:
    # The type of gettext_lazy's strings; django-stubs-ext is a dev dependency only.
    from django_stubs_ext import StrPromise

PATIENT_KINDS = [
    (Delivery.Kind.CHECKIN, _("Daily check-in")),
    (Delivery.Kind.QUESTIONNAIRE, _("Questionnaires due")),
    (Delivery.Kind.SESSION, _("Session tomorrow")),
    (Delivery.Kind.MESSAGE, _("New message from your care team")),
    (Delivery.Kind.INTEGRATION, _("A reflection in the days after a session")),
]
# Their codes: the API's ReminderKindEnum (unsubscribed from, taken by text).
PATIENT_KIND_CODES = [str(kind) for kind, _ in PATIENT_KINDS]
MAX_PAUSE_DAYS = 90


def validate_text_choice(
    *, text_kinds: list[str], state: str, consent: bool
) -> dict[str, "StrPromise"]:
    """Errors for choosing kinds by text (shared by the page and the API): texts need a
    mobile number, and the patient's consent to texts (given here or in their contact
    details). `state`: notifications.preferences.text_number_state of the patient."""
    if not text_kinds:
        return {}
    if not texts_enabled():
        return {"text_kinds": _("This clinic sends no text messages.")}
    if state == "no_mobile":
        return {"text_kinds": _("Add your mobile number in your contact details first.")}
    if state == "no_consent" and not consent:
        return {"text_consent": _("To get texts, agree to receive text messages.")}
    return {}


def validate_reminder_values(
    *,
    checkin_time: time,
    quiet_start: time,
    quiet_end: time,
    paused_until: date | None,
    today: date,
) -> dict[str, "StrPromise"]:
    """Errors by field for reminder settings (shared by the page and the API)."""
    errors: dict[str, StrPromise] = {}
    if in_quiet_hours(checkin_time, quiet_start, quiet_end):
        errors["checkin_time"] = _("Choose a reminder time outside your quiet hours.")
    if paused_until is not None and paused_until < today:
        errors["paused_until"] = _("The pause must end today or later.")
    elif paused_until is not None and paused_until > today + timedelta(days=MAX_PAUSE_DAYS):
        errors["paused_until"] = _("Pause for at most 90 days.")
    return errors


class ReminderPreferenceForm(forms.ModelForm):
    kinds = forms.MultipleChoiceField(
        label=_("E-mail me about"),
        choices=PATIENT_KINDS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    text_kinds = forms.MultipleChoiceField(
        label=_("Text me about"),
        choices=PATIENT_KINDS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "To your mobile number, between 08:00 and 21:00 and outside your quiet hours. "
            "Texts never mention your health: reply STOP to end them, HELP for our number."
        ),
    )
    text_consent = forms.BooleanField(
        label=_("I agree to receive text messages from my care team at my mobile number"),
        required=False,
    )

    class Meta:
        model = ReminderPreference
        fields = ["email_enabled", "checkin_time", "quiet_start", "quiet_end", "paused_until"]
        widgets = {
            "checkin_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "paused_until": forms.DateInput(attrs={"type": "date"}),
        }
        help_texts = {
            "checkin_time": _("In your own time zone."),
            "paused_until": _("No reminders up to and including this day (for a holiday, say)."),
        }

    def __init__(self, *args, today: date, text_state: str = "no_mobile", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.text_state = text_state  # notifications.preferences.text_number_state
        self.fields["kinds"].initial = [
            kind for kind, _ in PATIENT_KINDS if kind not in self.instance.unsubscribed
        ]
        self.fields["text_kinds"].initial = list(self.instance.text_kinds)
        if text_state != "no_consent" or not texts_enabled():  # asked only while missing
            del self.fields["text_consent"]
        if not texts_enabled():  # this installation sends no texts: none offered
            del self.fields["text_kinds"]

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        if not self.errors:
            errors = validate_reminder_values(
                checkin_time=cleaned["checkin_time"],
                quiet_start=cleaned["quiet_start"],
                quiet_end=cleaned["quiet_end"],
                paused_until=cleaned.get("paused_until"),
                today=self.today,
            )
            for field, message in errors.items():
                self.add_error(field, message)
        errors = validate_text_choice(
            text_kinds=cleaned.get("text_kinds") or [],
            state=self.text_state,
            consent=bool(cleaned.get("text_consent")),
        )
        for field, message in errors.items():
            self.add_error(field, message)
        return cleaned

    def chosen_text_kinds(self) -> list[str]:
        wanted = set(self.cleaned_data.get("text_kinds") or [])
        return [kind for kind, _ in PATIENT_KINDS if kind in wanted]

    def consent_given(self) -> bool:
        return bool(self.cleaned_data.get("text_consent"))

    def unsubscribed(self) -> list[str]:
        wanted = set(self.cleaned_data.get("kinds") or [])
        return [kind for kind, _ in PATIENT_KINDS if kind not in wanted]
