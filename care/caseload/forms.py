"""Forms of the caseload: enrolling and editing a patient, filtering the caseload."""

import zoneinfo
from datetime import date

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from care.accounts.forms import CONTACT_FIELDS, ContactDetailsForm, validate_email_unused
from care.accounts.selectors import clinic_clinicians_list
from care.caseload.selectors import CaseloadFilters
from care.common.forms import DateInput, form_field, timezone_field
from care.domain.crisis import country_resources
from care.domain.induction import induction_times
from care.domain.timezones import country_name, timezone_groups, zone_outside
from care.models import Clinic, Patient, TreatmentSession, User
from care.treatment.forms import override_reason_field
from care.treatment.services import BookingConflict

CONDITION_CHOICES = [
    ("depression", _("Depression")),
    ("anxiety", _("Anxiety")),
    ("ptsd", _("PTSD")),
]


class PatientProfileForm(ContactDetailsForm):
    """The patient profile fields staff enter at enrollment and may change later, with the
    patient's contact details (`ContactDetailsForm`)."""

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
        super().__init__(*args, clinic=clinic, **kwargs)
        self.today = today
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

    @property
    def profile_fields(self) -> list:
        """The visible fields other than the contact details, in order."""
        return [f for f in self.visible_fields() if f.name not in CONTACT_FIELDS]

    @property
    def zone_warning(self) -> str:
        """A warning (not an error) when the patient's zone is in another country than the
        clinic's: the crisis lines they are shown are the clinic's country's."""
        if self.is_bound:
            zone = self.cleaned_data.get("tz", "") if hasattr(self, "cleaned_data") else ""
        else:
            zone = self.initial.get("tz") or self.fields["tz"].initial or ""
        elsewhere = zone_outside(zone, self.clinic.country) if zone else None
        if elsewhere is None:
            return ""
        home = country_resources(self.clinic.country).the_name
        return str(
            _(
                "%(zone)s is in %(elsewhere)s, outside this clinic's country (%(home)s). The "
                "crisis lines and emergency number this patient is shown are those of "
                "%(home)s: make sure they know the emergency number where they are."
            )
            % {"zone": zone, "elsewhere": country_name(elsewhere), "home": home}
        )

    def profile_data(self) -> dict:
        """Cleaned values as service keyword arguments (conditions become flags, the contact
        details one `contact` mapping)."""
        contact = self.contact_data()
        data = {k: v for k, v in self.cleaned_data.items() if k not in CONTACT_FIELDS}
        conditions = set(data.pop("conditions"))
        data.update(
            has_depression="depression" in conditions,
            has_anxiety="anxiety" in conditions,
            has_ptsd="ptsd" in conditions,
            contact=contact,
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
            **ContactDetailsForm.contact_initial(patient, patient.clinic.country),
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
    # Shown only once a session could not be booked as asked (template: form.conflict).
    booking_override_reason = override_reason_field()
    # Offered only where this installation sends texts (SMS_URL); the patient can change
    # which reminders come as texts in their settings.
    reminders_by_text = forms.BooleanField(
        label=_("Send the patient's reminders by text message too"),
        required=False,
        help_text=_(
            "Only with the patient's consent to texts (above). Texts say only that something "
            "is waiting, with a link; the patient can reply STOP."
        ),
    )

    field_order = ["full_name", "preferred_name", "email"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not settings.SMS_URL:
            del self.fields["reminders_by_text"]
        self.conflict: BookingConflict | None = None
        self.conflict_target = ""  # the time field the free slots fill (the first session's)

    BOOKING_FIELDS = ("first_session_at", "induction", "first_session_route")

    @property
    def profile_fields(self) -> list:
        skip = {*self.BOOKING_FIELDS, "booking_override_reason", "reminders_by_text"}
        return [f for f in super().profile_fields if f.name not in skip]

    @property
    def reminders_by_text_fields(self) -> list:
        return [self["reminders_by_text"]] if "reminders_by_text" in self.fields else []

    @property
    def booking_fields(self) -> list:
        """The first sessions' fields (a conflict's free times and reason follow them)."""
        return [self[name] for name in self.BOOKING_FIELDS]

    def show_conflict(self, conflict: BookingConflict) -> None:
        """Say which session of those asked for cannot be booked, and why (the view shows
        the nearest free times and the "book anyway" reason)."""
        self.conflict = conflict
        index = conflict.index or 0
        problems = [p.message for p in conflict.problems]
        if index == 0:
            self.conflict_target = self["first_session_at"].auto_id
            self.add_error("first_session_at", problems)
            return
        starts = self.profile_data()["sessions"]
        when = date_format(
            starts[index].astimezone(zoneinfo.ZoneInfo(self.clinic_tz)), "D, M j, H:i"
        )
        self.add_error(
            "induction",
            _(
                "Session %(number)s of the series (%(when)s) cannot be booked: %(problems)s "
                "Choose another first session, give a reason to book anyway, or book only the "
                "first session now and the rest with “Book from plan”."
            )
            % {"number": index + 1, "when": when, "problems": " ".join(problems)},
        )

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
        if cleaned.get("reminders_by_text") and not cleaned.get("may_text"):
            self.add_error(
                "reminders_by_text",
                _("Record the patient's consent to texts (and a mobile number) first."),
            )
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
        data["reminders_by_text"] = bool(data.pop("reminders_by_text", False))
        return data


class PatientEditForm(PatientProfileForm):
    status = forms.ChoiceField(label=_("Status"), choices=Patient.Status)
    treatment_phase = forms.ChoiceField(label=_("Treatment phase"), choices=Patient.Phase)


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
