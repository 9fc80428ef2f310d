"""Forms of accounts: invitations, the care team, clinic settings."""

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from care.common.access import membership_for_user, patient_for_user
from care.common.forms import form_field, timezone_field
from care.domain.timezones import timezone_groups
from care.models import Clinic, StaffMembership, User

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


class ClinicSettingsForm(forms.ModelForm):
    tz = timezone_field()
    default_checkin_time = forms.TimeField(
        label=_("Default daily check-in reminder time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("New patients start with this; each patient can change it."),
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
            "bp_hold_systolic",
            "bp_hold_diastolic",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "tz", forms.ChoiceField).choices = timezone_groups(self.instance.tz)
