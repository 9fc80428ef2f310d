"""Forms of accounts: invitations, the care team, clinic settings, contact details."""

import phonenumbers
from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from care.common.access import membership_for_user, patient_for_user
from care.common.forms import form_field, timezone_field
from care.common.phones import phone_field, phone_initial, set_phone_region
from care.domain.clinic_hours import (
    DAY_KEYS,
    HoursInvalid,
    day_text,
    parse_day,
    week_to_json,
)
from care.domain.crisis import COUNTRIES, country_resources
from care.domain.timezones import timezone_groups
from care.models import Clinic, Patient, StaffMembership, User

EMAIL_IN_USE = _("Someone in your clinic already has an account with this e-mail address.")


# For an address in use outside the clinic: it says neither that nor where (another clinic's
# patient list is not this clinic's to learn).
EMAIL_UNAVAILABLE = _(
    "This e-mail address cannot be used for a new account here. Ask the person for another "
    "address, for example one they use only for this clinic."
)


def validate_email_unused(email: str, *, clinic: Clinic) -> str:
    """Normalise an e-mail address and refuse one that already has an account: by name if
    the account is in `clinic`, in neutral words otherwise."""
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        return email
    profile = membership_for_user(user) or patient_for_user(user)
    ours = profile is not None and profile.clinic_id == clinic.pk
    raise ValidationError(EMAIL_IN_USE if ours else EMAIL_UNAVAILABLE)


class InvitationAcceptForm(forms.Form):
    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second:
            if first != second:
                self.add_error("password2", _("The two passwords do not match."))
            else:
                try:
                    validate_password(first, self.user)
                except ValidationError as error:
                    self.add_error("password1", error)
        return cleaned


class StaffMemberAddForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=StaffMembership.Role)
    title = forms.CharField(
        label=_("Title"), max_length=100, required=False, help_text=_("e.g. RN, NP, MD")
    )

    def __init__(self, *args, clinic: Clinic, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic

    def clean_email(self) -> str:
        return validate_email_unused(self.cleaned_data["email"], clinic=self.clinic)


class StaffMemberForm(forms.ModelForm):
    is_active = forms.BooleanField(
        label=_("Account active"),
        required=False,
        help_text=_("Untick to stop this person signing in. Their records stay."),
    )

    class Meta:
        model = StaffMembership
        fields = ["role", "title"]

    def __init__(self, *args, editor: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.editor = editor
        self.fields["is_active"].initial = self.instance.user.is_active

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        if self.instance.user_id == self.editor.pk and (
            cleaned.get("role") != StaffMembership.Role.ADMIN or not cleaned.get("is_active")
        ):
            raise ValidationError(
                _(
                    "You cannot remove your own admin role or deactivate yourself; "
                    "ask another admin."
                )
            )
        return cleaned


HOURS_FIELDS = tuple(f"hours_{key}" for key in DAY_KEYS)
WEEKDAY_LABELS = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)
CLINIC_CONTACT_FIELDS = ("country", "phone", "after_hours_phone", "address", *HOURS_FIELDS)
# Chairs and chair time (booking), the weight and dose checks of the session form.
CLINIC_TREATMENT_FIELDS = (
    "treatment_chairs",
    "session_minutes",
    "weight_max_age_days",
    "dose_margin_percent",
)
# What patients read to prepare for each session.
CLINIC_PREPARATION_FIELDS = ("prep_fasting", "prep_medicines", "prep_ride", "prep_bring")


class ClinicSettingsForm(forms.ModelForm):
    tz = timezone_field()
    default_checkin_time = forms.TimeField(
        label=_("Default daily check-in reminder time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("New patients start with this; each patient can change it."),
    )
    phone = phone_field(_("Main phone"))
    after_hours_phone = phone_field(
        _("After-hours phone"), help_text=_("Shown to patients first while the clinic is closed.")
    )
    address = forms.CharField(
        label=_("Address"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    class Meta:
        model = Clinic
        fields = [
            "name",
            "email_sender_name",
            "tz",
            "on_call_email",
            "default_checkin_time",
            "alert_response_minutes",
            "missed_checkin_days",
            "message_response_hours",
            "bp_hold_systolic",
            "bp_hold_diastolic",
            "country",
            "phone",
            "after_hours_phone",
            "address",
            *CLINIC_TREATMENT_FIELDS,
            *CLINIC_PREPARATION_FIELDS,
        ]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in CLINIC_PREPARATION_FIELDS}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "tz", forms.ChoiceField).choices = timezone_groups(self.instance.tz)
        # Numbers typed without a country code are read as the chosen country's.
        chosen = self.data.get("country") if self.is_bound else None
        country = chosen if chosen in COUNTRIES else self.instance.country
        set_phone_region(self, country)
        for name in ("phone", "after_hours_phone"):
            self.initial[name] = phone_initial(getattr(self.instance, name), country)
        week = self.instance.week
        for index, (key, weekday) in enumerate(zip(DAY_KEYS, WEEKDAY_LABELS, strict=True)):
            self.fields[f"hours_{key}"] = forms.CharField(
                label=weekday,
                required=False,
                max_length=100,
                initial=day_text(week[index]),
            )

    def _clean_day(self, key: str) -> str:
        text = self.cleaned_data.get(f"hours_{key}", "")
        try:
            parse_day(text)
        except HoursInvalid as error:
            raise ValidationError(str(error)) from error
        return text

    def clean(self) -> dict:
        super().clean()
        for key in DAY_KEYS:
            try:
                self._clean_day(key)
            except ValidationError as error:
                self.add_error(f"hours_{key}", error)
        return self.cleaned_data

    @property
    def main_fields(self) -> list:
        grouped = {*CLINIC_CONTACT_FIELDS, *CLINIC_TREATMENT_FIELDS, *CLINIC_PREPARATION_FIELDS}
        return [f for f in self.visible_fields() if f.name not in grouped]

    @property
    def treatment_fields(self) -> list:
        return [self[name] for name in CLINIC_TREATMENT_FIELDS]

    @property
    def preparation_fields(self) -> list:
        return [self[name] for name in CLINIC_PREPARATION_FIELDS]

    @property
    def contact_fields(self) -> list:
        return [f for f in self.visible_fields() if f.name in CLINIC_CONTACT_FIELDS[:4]]

    @property
    def hours_fields(self) -> list:
        return [self[name] for name in HOURS_FIELDS]

    def changes(self) -> dict:
        """The clinic's new values, opening hours as stored (care/domain/clinic_hours.py)."""
        changes = {k: v for k, v in self.cleaned_data.items() if not k.startswith("hours_")}
        days = [parse_day(self.cleaned_data.get(f"hours_{key}", "")) for key in DAY_KEYS]
        changes["opening_hours"] = week_to_json(
            (days[0], days[1], days[2], days[3], days[4], days[5], days[6])
        )
        return changes


CONTACT_FIELDS = Patient.CONTACT_FIELDS


class ContactDetailsForm(forms.Form):
    """A patient's contact details, as staff enter them (enrollment, edit) and as the patient
    does (`PatientContactForm`). Numbers without a country code are the clinic's country's."""

    phone_mobile = phone_field(_("Mobile phone"))
    phone_other = phone_field(_("Other phone"), help_text=_("A landline or work number."))
    may_call = forms.BooleanField(
        label=_("Agrees to phone calls from the care team"), required=False
    )
    may_text = forms.BooleanField(
        label=_("Agrees to text messages from the care team"), required=False
    )
    preferred_contact = forms.ChoiceField(
        label=_("Preferred way to be contacted"),
        choices=[("", _("No preference")), *Patient.ContactMethod.choices],
        required=False,
    )
    contact_times = forms.CharField(
        label=_("Best times to contact"),
        max_length=200,
        required=False,
        help_text=_("For example: weekdays after 5 pm."),
    )
    emergency_contact_name = forms.CharField(
        label=_("Emergency contact's name"), max_length=150, required=False
    )
    emergency_contact_relationship = forms.CharField(
        label=_("Relationship"),
        max_length=60,
        required=False,
        help_text=_("For example: partner, parent, friend."),
    )
    emergency_contact_phone = phone_field(_("Emergency contact's phone"))
    safety_plan = forms.CharField(
        label=_("Safety plan"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Warning signs, what helps, who to call and where to go when things get hard. "
            "The patient and the care team both see it."
        ),
    )

    def __init__(self, *args, clinic: Clinic, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        set_phone_region(self, clinic.country)

    @staticmethod
    def contact_initial(patient: Patient, country: str) -> dict:
        initial = {name: getattr(patient, name) for name in CONTACT_FIELDS}
        for name in ("phone_mobile", "phone_other", "emergency_contact_phone"):
            initial[name] = phone_initial(initial[name], country)
        return initial

    @property
    def contact_fields(self) -> list:
        return [self[name] for name in CONTACT_FIELDS]

    @property
    def emergency_fields(self) -> list:
        return [self[name] for name in CONTACT_FIELDS if name.startswith("emergency_")]

    @property
    def reach_fields(self) -> list:
        """How to reach the patient: numbers, consent, preference, times."""
        return [self[name] for name in CONTACT_FIELDS[:6]]

    @property
    def plan_fields(self) -> list:
        return [self["safety_plan"]]

    @property
    def country_name(self) -> str:
        return country_resources(self.clinic.country).the_name

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        mobile, other = data.get("phone_mobile"), data.get("phone_other")
        if mobile and phonenumbers.number_type(mobile) == phonenumbers.PhoneNumberType.FIXED_LINE:
            self.add_error(
                "phone_mobile",
                _("This is a landline number; put it under “Other phone”."),
            )
        if data.get("may_call") and not (mobile or other) and "phone_mobile" not in self.errors:
            self.add_error("may_call", _("Give a phone number to be called on."))
        if data.get("may_text") and not mobile and "phone_mobile" not in self.errors:
            self.add_error("may_text", _("Give a mobile number to receive text messages."))
        preferred = data.get("preferred_contact")
        if preferred == Patient.ContactMethod.CALL and not data.get("may_call"):
            self.add_error(
                "preferred_contact", _("Phone calls are preferred: tick the agreement to calls.")
            )
        if preferred == Patient.ContactMethod.TEXT and not data.get("may_text"):
            self.add_error(
                "preferred_contact",
                _("Text messages are preferred: tick the agreement to text messages."),
            )
        name, phone = data.get("emergency_contact_name"), data.get("emergency_contact_phone")
        if phone and not name:
            self.add_error("emergency_contact_name", _("Give the emergency contact's name."))
        if name and not phone and "emergency_contact_phone" not in self.errors:
            self.add_error(
                "emergency_contact_phone", _("Give a phone number for the emergency contact.")
            )
        return data

    def contact_data(self) -> dict:
        """The cleaned contact details, as `patient_contact_update` takes them."""
        return {name: self.cleaned_data.get(name) or _empty(name) for name in CONTACT_FIELDS}


def _empty(name: str) -> object:
    return False if name in ("may_call", "may_text") else ""


class PatientContactForm(ContactDetailsForm):
    """The patient's own contact details (`/me/contact/`), in the patient's words."""

    LABELS = {
        "may_call": _("My care team may phone me"),
        "may_text": _("My care team may send me text messages"),
        "preferred_contact": _("How I prefer to be contacted"),
        "contact_times": _("Best times to reach me"),
        "safety_plan": _("My safety plan"),
    }
    HELP = {
        "safety_plan": _(
            "Your warning signs, what helps you cope, who you will call and where you can go "
            "when things get hard. Your care team sees it too."
        ),
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, label in self.LABELS.items():
            self.fields[name].label = label
        for name, text in self.HELP.items():
            self.fields[name].help_text = text
