"""The audit trail page's filters."""

from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from care.audit.selectors import AuditFilters, clinic_audit_actors
from care.common.forms import DateInput, form_field
from care.domain.clock import local_day_start
from care.models import AuditEvent, Clinic, Patient, User


class ActorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user: User) -> str:
        name = user.full_name or user.email
        membership = getattr(user, "staff_membership", None)
        role = membership.get_role_display() if membership is not None else _("Patient")
        return f"{name} ({role})"


class PatientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, patient: Patient) -> str:
        return patient.user.full_name or patient.preferred_name


class AuditFilterForm(forms.Form):
    actor = ActorChoiceField(
        label=_("Who"), queryset=User.objects.none(), required=False, empty_label=_("Anyone")
    )
    patient = PatientChoiceField(
        label=_("Patient"),
        queryset=Patient.objects.none(),
        required=False,
        empty_label=_("Any patient"),
        to_field_name="public_id",
    )
    action = forms.ChoiceField(
        label=_("Action"), choices=[("", _("Any")), *AuditEvent.Action.choices], required=False
    )
    since = forms.DateField(label=_("From"), required=False, widget=DateInput)
    until = forms.DateField(label=_("To"), required=False, widget=DateInput)

    def __init__(self, *args, clinic: Clinic, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        actors = clinic_audit_actors(clinic=clinic)
        form_field(self, "actor", forms.ModelChoiceField).queryset = actors
        form_field(self, "patient", forms.ModelChoiceField).queryset = (
            Patient.objects.filter(clinic=clinic)
            .select_related("user")
            .order_by("user__full_name", "preferred_name", "id")
        )

    def filters(self) -> AuditFilters:
        """The chosen filters (days in the clinic's time zone); an invalid one is ignored."""
        data = {}
        if self.is_bound:
            self.is_valid()  # leaves the valid fields in cleaned_data
            data = self.cleaned_data
        since, until = data.get("since"), data.get("until")
        return AuditFilters(
            actor_id=data["actor"].pk if data.get("actor") else None,
            patient_id=data["patient"].pk if data.get("patient") else None,
            action=data.get("action", ""),
            since=local_day_start(since, self.clinic.tz) if since else None,
            until=local_day_start(until + timedelta(days=1), self.clinic.tz) if until else None,
        )
