"""HTML input validation for the care app."""

import zoneinfo
from datetime import date
from functools import partial

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .access import membership_for_user, patient_for_user
from .caseload import CaseloadFilters
from .dates import weekday_moment
from .induction import induction_times
from .models import Alert, Clinic, Patient, StaffMembership, TreatmentSession, User
from .selectors import clinic_clinicians_list
from .timezones import timezone_groups

CONDITION_CHOICES = [
    ("depression", _("Depression")),
    ("anxiety", _("Anxiety")),
    ("ptsd", _("PTSD")),
]


def form_field[F: forms.Field](form: forms.BaseForm, name: str, kind: type[F]) -> F:
    """The form's own copy of a declared field, typed as the kind it was declared
    (`form.fields` holds plain `Field`s to a type checker); any other kind is a bug."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"{name} is a {type(field).__name__}, not a {kind.__name__}")
    return field


def timezone_field() -> forms.ChoiceField:
    """A zone picker grouped by country; forms put the clinic's country first
    (`timezone_groups(clinic.tz)`). `static/js/zone-filter.js` adds a search box."""
    return forms.ChoiceField(
        label=_("Time zone"),
        choices=partial(timezone_groups, "America/New_York"),
        widget=forms.Select(attrs={"data-zone-filter": ""}),
        help_text=_("Grouped by country, this clinic's country first."),
    )


class DateInput(forms.DateInput):
    input_type = "date"


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


class PatientProfileForm(forms.Form):
    """The patient profile fields staff enter at enrollment and may change later."""

    full_name = forms.CharField(label=_("Full name"), max_length=150)
    preferred_name = forms.CharField(
        label=_("Preferred name"),
        max_length=100,
        help_text=_("Used to greet the patient, including in e-mails."),
    )
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateInput)
    tz = timezone_field()
    conditions = forms.MultipleChoiceField(
        label=_("Conditions being treated"),
        choices=CONDITION_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one condition.")},
    )
    consultation_on = forms.DateField(label=_("Consultation date"), widget=DateInput)
    questionnaires = forms.MultipleChoiceField(
        label=_("Questionnaires to ask for"),
        choices=[("phq9", "PHQ-9"), ("gad7", "GAD-7"), ("pcl5", "PCL-5")],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "Asked for at baseline, then every 2 weeks (PCL-5 monthly). "
            "Leave empty to follow the conditions."
        ),
    )
    primary_clinician = forms.ModelChoiceField(
        label=_("Primary clinician"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Not assigned yet"),
    )

    def __init__(self, *args, clinic: Clinic, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.clinic = clinic
        self.clinic_tz = clinic.tz
        clinicians = clinic_clinicians_list(clinic=clinic)
        form_field(self, "primary_clinician", forms.ModelChoiceField).queryset = clinicians
        self.fields["tz"].initial = clinic.tz
        form_field(self, "tz", forms.ChoiceField).choices = timezone_groups(clinic.tz)
        self.fields["consultation_on"].initial = today

    def full_clean(self) -> None:
        # Date-times are typed in the clinic's zone, whatever zone the request runs in.
        with timezone.override(zoneinfo.ZoneInfo(self.clinic_tz)):
            super().full_clean()

    def clean_date_of_birth(self) -> date:
        born = self.cleaned_data["date_of_birth"]
        if born >= self.today:
            raise ValidationError(_("The date of birth must be in the past."))
        if born.year < self.today.year - 120:
            raise ValidationError(_("Check the year: that is more than 120 years ago."))
        return born

    def clean_consultation_on(self) -> date:
        day = self.cleaned_data["consultation_on"]
        if day > self.today:
            raise ValidationError(_("The consultation date cannot be in the future."))
        return day

    def profile_data(self) -> dict:
        """Cleaned values as service keyword arguments (conditions become flags)."""
        data = dict(self.cleaned_data)
        conditions = set(data.pop("conditions"))
        data.update(
            has_depression="depression" in conditions,
            has_anxiety="anxiety" in conditions,
            has_ptsd="ptsd" in conditions,
        )
        return data

    @staticmethod
    def initial_for(patient: Patient) -> dict:
        conditions = [
            code
            for code, flag in [
                ("depression", patient.has_depression),
                ("anxiety", patient.has_anxiety),
                ("ptsd", patient.has_ptsd),
            ]
            if flag
        ]
        return {
            "full_name": patient.user.full_name,
            "preferred_name": patient.preferred_name,
            "date_of_birth": patient.date_of_birth,
            "tz": patient.tz,
            "conditions": conditions,
            "consultation_on": patient.consultation_on,
            "questionnaires": patient.questionnaires,
            "primary_clinician": patient.primary_clinician_id,
            "status": patient.status,
            "treatment_phase": patient.treatment_phase,
        }


class EnrollmentForm(PatientProfileForm):
    email = forms.EmailField(label=_("E-mail address"))
    first_session_at = forms.DateTimeField(
        label=_("First session"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("Optional; in the clinic's time zone."),
    )
    induction = forms.ChoiceField(
        label=_("Book"),
        required=False,
        choices=[
            ("", _("Only the first session")),
            ("iv", _("IV induction: 6 infusions over 12 days (days 0, 2, 4, 7, 9, 11)")),
            ("intranasal", _("Esketamine induction: twice weekly for 4 weeks (8 sessions)")),
        ],
    )
    first_session_route = forms.ChoiceField(
        label=_("Route of the first session"),
        choices=TreatmentSession.Route.choices,
        required=False,
    )

    field_order = ["full_name", "preferred_name", "email"]

    def clean_email(self) -> str:
        return validate_email_unused(self.cleaned_data["email"], clinic=self.clinic)

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        first = cleaned.get("first_session_at")
        if first is not None:
            first = first.astimezone(zoneinfo.ZoneInfo(self.clinic_tz))
            cleaned["first_session_at"] = first
            if first.date() < self.today:
                self.add_error("first_session_at", _("The first session cannot be in the past."))
        elif cleaned.get("induction"):
            self.add_error("first_session_at", _("Give the date of the first session."))
        return cleaned

    def profile_data(self) -> dict:
        data = super().profile_data()
        first, series = data.pop("first_session_at"), data.pop("induction")
        route = series or data.pop("first_session_route") or TreatmentSession.Route.IV
        data.pop("first_session_route", None)
        data["sessions"] = (
            induction_times(first, series) if first and series else ([first] if first else [])
        )
        data["session_route"] = route
        return data


class PatientEditForm(PatientProfileForm):
    status = forms.ChoiceField(label=_("Status"), choices=Patient.Status)
    treatment_phase = forms.ChoiceField(label=_("Treatment phase"), choices=Patient.Phase)


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


class AlertAcknowledgeForm(forms.Form):
    action = forms.ChoiceField(
        label=_("What was done"),
        choices=[("", _("Choose…")), *Alert.Action.choices],
        error_messages={"required": _("Say what was done.")},
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )

    also = forms.ModelMultipleChoiceField(
        label=_("Also acknowledge this patient's other open safety alerts"),
        queryset=Alert.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("Only this patient's other safety alerts can go along."),
            "invalid_pk_value": _("Only this patient's other safety alerts can go along."),
        },
    )

    def __init__(self, *args, related: QuerySet[Alert] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        also = form_field(self, "also", forms.ModelMultipleChoiceField)
        # Any of the patient's safety alerts is accepted (one acknowledged meanwhile is
        # skipped, not an error); only the open ones are offered.
        also.queryset = related if related is not None else Alert.objects.none()
        offered = [
            (a.pk, f"{a.reason} (raised {weekday_moment(timezone.localtime(a.created_at))})")
            for a in also.queryset
            if a.is_open
        ]
        if offered:
            also.widget.choices = offered
        else:
            also.widget = forms.MultipleHiddenInput()

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("action") == Alert.Action.OTHER and not cleaned.get("note", "").strip():
            self.add_error("note", _("Add a note when the action is “Other”."))
        return cleaned


class CaseloadFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False, max_length=100)
    clinician = forms.ModelChoiceField(
        label=_("Primary clinician"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Anyone"),
    )
    condition = forms.ChoiceField(
        label=_("Condition"), choices=[("", _("Any")), *CONDITION_CHOICES], required=False
    )
    phase = forms.ChoiceField(
        label=_("Phase"), choices=[("", _("Any")), *Patient.Phase.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[*Patient.Status.choices, ("all", _("Any"))],
        required=False,
        initial=Patient.Status.ACTIVE,
    )

    def __init__(self, *args, clinic: Clinic, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        clinicians = clinic_clinicians_list(clinic=clinic)
        form_field(self, "clinician", forms.ModelChoiceField).queryset = clinicians

    def filters(self):
        """The chosen filters; invalid values fall back to the defaults."""
        # Each valid filter counts; an invalid one alone falls back to its default.
        data = {}
        if self.is_bound:
            self.is_valid()  # leaves the valid fields in cleaned_data
            data = self.cleaned_data
        status = data.get("status") or Patient.Status.ACTIVE
        return CaseloadFilters(
            clinician=data["clinician"].pk if data.get("clinician") else None,
            condition=data.get("condition", ""),
            phase=data.get("phase", ""),
            status="" if status == "all" else status,
            search=data.get("q", ""),
        )
