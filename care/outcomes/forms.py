"""The outcomes filters (page, CSV and API): period, condition, route, clinician, phase.

None of them is health data, so they travel in the query string. A bad value is an error
(the page shows it, the API answers 400), never a silent fallback: figures for another
period or group than the one asked for would mislead.
"""

import re
from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from care.accounts.selectors import clinic_clinicians_list
from care.caseload.forms import CONDITION_CHOICES
from care.common.forms import DateInput, form_field
from care.domain.outcomes import default_period
from care.models import Clinic, Patient, TreatmentSession
from care.outcomes.selectors import OutcomeFilters

LONGEST_PERIOD = timedelta(days=3 * 366)
EARLIEST_START = date(2000, 1, 1)


class ClinicianField(forms.ModelChoiceField):
    """A clinician of the clinic by user id; anything but a plausible id is refused before
    the database sees it (a 30-digit number overflows the column)."""

    def to_python(self, value):
        if value not in self.empty_values and not re.fullmatch(r"\d{1,9}", str(value)):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class OutcomeFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=DateInput)
    end = forms.DateField(label=_("To"), required=False, widget=DateInput)
    condition = forms.ChoiceField(
        label=_("Condition"), choices=[("", _("Any")), *CONDITION_CHOICES], required=False
    )
    route = forms.ChoiceField(
        label=_("Route"),
        choices=[("", _("Any")), *TreatmentSession.Route.choices],
        required=False,
    )
    clinician = ClinicianField(
        label=_("Primary clinician"),
        queryset=None,
        required=False,
        empty_label=_("Anyone"),
    )
    phase = forms.ChoiceField(
        label=_("Phase now"), choices=[("", _("Any")), *Patient.Phase.choices], required=False
    )

    def __init__(self, data=None, *, clinic: Clinic, today: date, **kwargs) -> None:
        self.today = today
        self.default_start, _ = default_period(today)
        # Empty values mean the defaults, and the boxes show them.
        defaults = {"start": self.default_start.isoformat(), "end": today.isoformat()}
        given = {k: data.get(k) for k in self.base_fields if data and data.get(k)}
        super().__init__({**defaults, **given}, **kwargs)
        clinicians = clinic_clinicians_list(clinic=clinic)
        form_field(self, "clinician", forms.ModelChoiceField).queryset = clinicians

    def clean(self):
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start is not None and start < EARLIEST_START:
            self.add_error("start", _("The period cannot start before 2000."))
        elif end is not None and end > self.today:
            self.add_error("end", _("The period cannot end after today."))
        elif start is not None and end is not None:
            if end < start:
                self.add_error("end", _("The end of the period must not be before its start."))
            elif end - start > LONGEST_PERIOD:
                self.add_error("start", _("Choose a period of at most 3 years."))
        return data

    def filters(self) -> OutcomeFilters:
        """The chosen filters (call after is_valid())."""
        data = self.cleaned_data
        return OutcomeFilters(
            start=data["start"],
            end=data["end"],
            condition=data["condition"],
            route=data["route"],
            clinician=data["clinician"].pk if data["clinician"] else None,
            phase=data["phase"],
        )

    def error_list(self) -> dict[str, list[str]]:
        return {name: [str(m) for m in messages] for name, messages in self.errors.items()}

    def summary(self) -> list[tuple[str, str]]:
        """The filters other than the period, in words (for the printed report)."""
        data = self.cleaned_data
        shown = []
        for name in ("condition", "route", "clinician", "phase"):
            field = form_field(self, name, forms.ChoiceField)
            value = data.get(name)
            if isinstance(field, forms.ModelChoiceField):
                text = str(value) if value else str(field.empty_label)
            else:
                text = str(dict(field.choices).get(value or "", value))  # type: ignore[arg-type]  # stored as a list of pairs
            shown.append((str(field.label), text))
        return shown
