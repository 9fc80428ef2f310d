"""Forms for treatment sessions: schedule / reschedule, and the session record (with the dose
the plan proposes and the warnings about it); a new version of a treatment plan; a weight."""

import zoneinfo
from datetime import date, datetime
from typing import TYPE_CHECKING

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from care.domain.booking import out_of_range
from care.domain.dosing import DoseBasis, DoseCheck, dose_check, dose_proposal
from care.domain.reflections import REFLECTION_MAX_CHARS, reflection_problems
from care.domain.rules import blood_pressure_alert
from care.domain.session_rules import session_record_problems
from care.models import (
    Assessment,
    BodyWeight,
    Clinic,
    TreatmentPlanVersion,
    TreatmentSession,
    User,
)
from care.models.sessions import Severity
from care.treatment.services import PLAN_VALUE_FIELDS, BookingConflict

if TYPE_CHECKING:
    # The type of gettext_lazy's strings; django-stubs-ext is a dev dependency only.
    from django_stubs_ext import StrPromise

INTRANASAL_DOSES = (28, 56, 84)


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def local_datetime_field(label, *, required=True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=LocalDateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("In the clinic's time zone."),
    )


def override_reason_field() -> forms.CharField:
    return forms.CharField(
        label=_("Book anyway because"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Only to book over the conflict above (outside hours, no chair free, the patient "
            "already booked that day); kept with the session."
        ),
    )


class _ClinicTimeForm(forms.Form):
    """Date-times typed in the clinic's zone (whatever zone the request runs in)."""

    def __init__(self, *args, tz: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zoneinfo.ZoneInfo(tz)

    def full_clean(self) -> None:
        with timezone.override(self.zone):
            super().full_clean()

    def _aware[D: datetime | None](self, value: D) -> D:
        return value

    @staticmethod
    def _bookable[D: datetime | None](value: D) -> D:
        if value is not None and (problem := out_of_range(value)):
            raise forms.ValidationError(problem)
        return value


class SessionScheduleForm(_ClinicTimeForm):
    """A session's time and route, and the reason to book over a conflict (drawn once the
    booking met one: `conflict`)."""

    scheduled_at = local_datetime_field(_("Date and time"))
    route = forms.ChoiceField(label=_("Route"), choices=TreatmentSession.Route.choices)
    override_reason = override_reason_field()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.conflict: BookingConflict | None = None

    def clean_scheduled_at(self) -> datetime:
        return self._bookable(self._aware(self.cleaned_data["scheduled_at"]))

    def show_conflict(self, conflict: BookingConflict) -> None:
        self.conflict = conflict
        self.add_error("scheduled_at", [p.message for p in conflict.problems])


def vital_field(label: "str | StrPromise", low: int, high: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=low,
        max_value=high,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class SessionRecordForm(_ClinicTimeForm):
    route = forms.ChoiceField(label=_("Route"), choices=TreatmentSession.Route.choices)
    dose_mg = forms.DecimalField(
        label=_("Dose (mg)"),
        required=False,
        min_value=0,
        max_value=500,
        decimal_places=1,
        help_text=_("Intranasal esketamine: 28, 56 or 84 mg."),
    )
    dose_mg_per_kg = forms.DecimalField(
        label=_("Dose (mg/kg)"),
        required=False,
        min_value=0,
        max_value=5,
        decimal_places=2,
        help_text=_("IV or IM ketamine, e.g. 0.5."),
    )
    monitoring_started_at = local_datetime_field(_("Monitoring started"))
    monitoring_ended_at = local_datetime_field(_("Monitoring ended"), required=False)
    bp_pre_systolic = vital_field(_("Before dosing: systolic"), 60, 260)
    bp_pre_diastolic = vital_field(_("Before dosing: diastolic"), 30, 160)
    hr_pre = vital_field(_("Before dosing: heart rate"), 30, 220)
    bp_40_systolic = vital_field(_("At 40 minutes: systolic"), 60, 260)
    bp_40_diastolic = vital_field(_("At 40 minutes: diastolic"), 30, 160)
    hr_40 = vital_field(_("At 40 minutes: heart rate"), 30, 220)
    bp_discharge_systolic = vital_field(_("At discharge: systolic"), 60, 260)
    bp_discharge_diastolic = vital_field(_("At discharge: diastolic"), 30, 160)
    hr_discharge = vital_field(_("At discharge: heart rate"), 30, 220)
    dissociation = forms.ChoiceField(
        label=_("Dissociation observed"),
        choices=Severity.choices,
    )
    sedation = forms.ChoiceField(label=_("Sedation observed"), choices=Severity.choices)
    adverse_events = forms.CharField(
        label=_("Adverse events"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    lot_number = forms.CharField(label=_("Lot number"), required=False, max_length=50)
    rems_submitted_on = forms.DateField(
        label=_("REMS monitoring form submitted on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    confirm_high_bp = forms.BooleanField(
        label=_("I have reviewed the blood pressure above the hold threshold; record anyway"),
        required=False,
    )
    confirm_dose = forms.BooleanField(label=_("I confirm this dose"), required=False)

    # The fields that are the form's questions, not the session's values.
    CONFIRMATIONS = ("confirm_high_bp", "confirm_dose")

    def __init__(
        self,
        *args,
        hold_systolic: int,
        hold_diastolic: int,
        scheduled_at: datetime,
        now: datetime,
        dose_basis: DoseBasis,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.hold = (hold_systolic, hold_diastolic)
        self.bp_warning = ""
        self.scheduled_at, self.now = scheduled_at, now
        # The plan's dose for this session, and the warnings about it (no plan, no weight or a
        # stale one, another route, a dose beyond the clinic's margin): shown, never blocking,
        # but a departure beyond the margin asks for `confirm_dose`.
        self.dose_basis = dose_basis
        self.dose_proposal = dose_proposal(dose_basis)
        self._prefill_dose()
        self.dose_check: DoseCheck = dose_check(
            dose_basis,
            route=self.initial.get("route"),
            dose_mg=self.initial.get("dose_mg"),
            dose_mg_per_kg=self.initial.get("dose_mg_per_kg"),
        )
        # Shown instead of the save button until the session has started.
        self.not_started = self._problems(None, None).get("scheduled_at", "")

    def _prefill_dose(self) -> None:
        """A session with no dose yet, of the plan's route, starts with the plan's dose."""
        proposal, initial = self.dose_proposal, self.initial
        if (
            proposal is None
            or initial.get("route") != self.dose_basis.plan_route
            or initial.get("dose_mg") is not None
            or initial.get("dose_mg_per_kg") is not None
        ):
            return
        initial["dose_mg"], initial["dose_mg_per_kg"] = proposal.mg, proposal.mg_per_kg

    def _problems(self, started: datetime | None, ended: datetime | None) -> dict[str, str]:
        return session_record_problems(
            scheduled_at=self.scheduled_at,
            monitoring_started_at=started,
            monitoring_ended_at=ended,
            now=self.now,
            tz=self.zone.key,
        )

    def clean_monitoring_started_at(self):
        return self._aware(self.cleaned_data["monitoring_started_at"])

    def clean_monitoring_ended_at(self):
        return self._aware(self.cleaned_data.get("monitoring_ended_at"))

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        route = data.get("route")
        if route == TreatmentSession.Route.INTRANASAL:
            dose = data.get("dose_mg")
            if dose is None or int(dose) not in INTRANASAL_DOSES or dose != int(dose):
                self.add_error("dose_mg", _("Intranasal esketamine doses are 28, 56 or 84 mg."))
            data["dose_mg_per_kg"] = None
        elif route and data.get("dose_mg") is None and data.get("dose_mg_per_kg") is None:
            self.add_error("dose_mg_per_kg", _("Enter the dose in mg/kg, mg, or both."))
        for where in ("pre", "40", "discharge"):
            systolic, diastolic = (
                data.get(f"bp_{where}_systolic"),
                data.get(f"bp_{where}_diastolic"),
            )
            if (systolic is None) != (diastolic is None):
                self.add_error(
                    f"bp_{where}_diastolic", _("Enter both numbers of the blood pressure.")
                )
            elif systolic is not None and diastolic >= systolic:
                self.add_error(
                    f"bp_{where}_diastolic", _("The diastolic must be below the systolic.")
                )
        if data.get("bp_pre_systolic") is None:
            self.add_error("bp_pre_systolic", _("Record the blood pressure before dosing."))
        start, end = data.get("monitoring_started_at"), data.get("monitoring_ended_at")
        for field, problem in self._problems(start, end).items():
            self.add_error(None if field == "scheduled_at" else field, problem)
        if start and end and end <= start and "monitoring_ended_at" not in self.errors:
            self.add_error("monitoring_ended_at", _("Monitoring must end after it started."))
        submitted = data.get("rems_submitted_on")
        if submitted and start and submitted < start.astimezone(self.zone).date():
            self.add_error(
                "rems_submitted_on", _("The form cannot be submitted before the session.")
            )
        elif submitted and submitted > self.now.astimezone(self.zone).date():
            self.add_error("rems_submitted_on", _("The submission date cannot be in the future."))
        high = blood_pressure_alert(
            data.get("bp_pre_systolic"),
            data.get("bp_pre_diastolic"),
            hold_systolic=self.hold[0],
            hold_diastolic=self.hold[1],
        )
        if high and not self.errors:
            self.bp_warning = high.reason
            if not data.get("confirm_high_bp"):
                self.add_error(
                    "confirm_high_bp", _("Confirm that you reviewed the blood pressure.")
                )
        if route and not any(f in self.errors for f in ("route", "dose_mg", "dose_mg_per_kg")):
            self.dose_check = dose_check(
                self.dose_basis,
                route=route,
                dose_mg=data.get("dose_mg"),
                dose_mg_per_kg=data.get("dose_mg_per_kg"),
            )
            if self.dose_check.departure and not data.get("confirm_dose"):
                self.add_error("confirm_dose", _("Confirm the dose, or correct it."))
        return data

    VITAL_TIMES = (
        ("pre", _("Before dosing")),
        ("40", _("At 40 minutes")),
        ("discharge", _("At discharge")),
    )

    def vital_rows(self) -> list[tuple["StrPromise", list[forms.BoundField]]]:
        """The vital signs as the page lays them out: a row per time, a column per measure."""
        return [
            (label, [self[f"bp_{key}_systolic"], self[f"bp_{key}_diastolic"], self[f"hr_{key}"]])
            for key, label in self.VITAL_TIMES
        ]

    def session_values(self) -> dict:
        values = dict(self.cleaned_data)
        for name in self.CONFIRMATIONS:
            values.pop(name, None)
        return values


class TreatmentPlanForm(forms.Form):
    """A new version of a patient's treatment plan (prefilled from the current one). The
    checks across fields are the model's (`TreatmentPlanVersion.clean`), run by the service."""

    route = forms.ChoiceField(label=_("Route"), choices=TreatmentSession.Route.choices)
    induction_sessions = forms.IntegerField(
        label=_("Induction: number of sessions"), min_value=1, max_value=12
    )
    induction_weeks = forms.IntegerField(
        label=_("Induction: over how many weeks"), min_value=1, max_value=8
    )
    target_dose_mg_per_kg = forms.DecimalField(
        label=_("Target dose (mg/kg), IV or IM"),
        required=False,
        max_digits=4,
        decimal_places=2,
        help_text=_("From the patient's latest weight at each session."),
    )
    target_dose_mg = forms.TypedChoiceField(
        label=_("Target dose, intranasal esketamine"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), (56, "56 mg"), (84, "84 mg")],
    )
    maintenance = forms.ChoiceField(
        label=_("Maintenance"), choices=TreatmentPlanVersion.Maintenance.choices
    )
    maintenance_every_weeks = forms.IntegerField(
        label=_("Maintenance every (weeks)"), required=False, min_value=1, max_value=26
    )
    questionnaires = forms.MultipleChoiceField(
        label=_("Questionnaires"),
        required=False,
        choices=Assessment.Instrument.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    questionnaire_every_days = forms.IntegerField(
        label=_("Questionnaires every (days)"), min_value=1, max_value=90
    )
    goals = forms.CharField(
        label=_("Goals, in the patient's words"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    prescriber = forms.ModelChoiceField(label=_("Prescriber"), queryset=User.objects.none())
    reason_code = forms.ChoiceField(label=_("Why the plan changes"), required=False)
    reason = forms.CharField(
        label=_("In words"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, clinic: Clinic, first: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        prescriber = self.fields["prescriber"]
        assert isinstance(prescriber, forms.ModelChoiceField)
        prescriber.queryset = User.objects.filter(
            is_active=True,
            staff_membership__clinic=clinic,
            staff_membership__deactivated_at__isnull=True,
        ).order_by("full_name")
        reasons = [(r.value, r.label) for r in TreatmentPlanVersion.CHANGE_REASONS]
        reason_code = self.fields["reason_code"]
        assert isinstance(reason_code, forms.ChoiceField)
        reason_code.choices = [("", "—"), *reasons]
        if first:  # the first plan needs no reason
            del self.fields["reason_code"], self.fields["reason"]
        else:
            reason_code.required = True
            self.fields["reason"].required = True

    @staticmethod
    def initial_for(version: TreatmentPlanVersion | None) -> dict[str, object]:
        if version is None:
            return {"questionnaire_every_days": 14, "induction_sessions": 6, "induction_weeks": 3}
        return {name: getattr(version, name) for name in PLAN_VALUE_FIELDS}

    def plan_values(self) -> dict[str, object]:
        return {name: self.cleaned_data[name] for name in PLAN_VALUE_FIELDS}


class WeightForm(forms.Form):
    """A measured weight, in kg or lb (the service converts and checks the range)."""

    value = forms.DecimalField(
        label=_("Weight"),
        max_digits=5,
        decimal_places=1,
        min_value=0,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
    )
    unit = forms.ChoiceField(
        label=_("Unit"),
        choices=BodyWeight.Unit.choices,
        initial=BodyWeight.Unit.KG,
        widget=forms.RadioSelect,
    )
    measured_on = forms.DateField(
        label=_("Measured on"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["measured_on"].initial = today

    def clean_measured_on(self) -> date:
        measured_on = self.cleaned_data["measured_on"]
        if measured_on > self.today:
            raise forms.ValidationError(_("The date cannot be in the future."))
        return measured_on


def _reflection_box(label: "StrPromise", help_text: "StrPromise") -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=False,
        max_length=REFLECTION_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ReflectionForm(forms.Form):
    """The patient's reflection after a session: three boxes, at least one filled in."""

    what_came_up = _reflection_box(
        _("What came up"),
        _("Thoughts, feelings, images or memories from the session or the days since."),
    )
    feeling = _reflection_box(_("How you feel now"), _("In your own words."))
    for_team = _reflection_box(
        _("Anything to tell your care team"),
        _("Your care team reads this with your record. To ask a question, write a message."),
    )

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        if not self.errors:
            for field, message in reflection_problems(cleaned).items():
                self.add_error(None if field == "__all__" else field, message)
        return cleaned


def _yes_no(label: "str | StrPromise") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Please answer yes or no.")},
    )


class ReadinessForm(forms.Form):
    """The readiness check: every question answered yes or no, none taken for granted."""

    ride_arranged = _yes_no(_("Is a ride home arranged? You must not drive until the next day."))
    fasting_understood = _yes_no(_("Do you know when to stop eating and drinking before?"))
    feeling_well = _yes_no(_("Do you feel well (no fever, cold or new illness)?"))
    new_medicines = _yes_no(_("Have you started or changed a medicine since your last visit?"))
    new_medicines_details = forms.CharField(
        label=_("If so, which medicine, and what changed?"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
        help_text=_("Up to 500 characters. Your care team reads it before the session."),
    )

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        details = (cleaned.get("new_medicines_details") or "").strip()
        if cleaned.get("new_medicines") and not details:
            self.add_error("new_medicines_details", _("Say which medicine you started or changed."))
        return cleaned

    def readiness_values(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in (
                "ride_arranged",
                "fasting_understood",
                "feeling_well",
                "new_medicines",
                "new_medicines_details",
            )
        }


class MoveRequestForm(forms.Form):
    preferred_times = forms.CharField(
        label=_("Which days and times would suit you?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
        help_text=_("Up to 500 characters. Your care team will answer here."),
        error_messages={"required": _("Say which days and times would suit you.")},
    )


class MoveRequestDecisionForm(_ClinicTimeForm):
    """The care team's answer to a request to move a session."""

    decision = forms.ChoiceField(
        label=_("Answer"),
        choices=[("accept", _("Accept: move the session")), ("decline", _("Decline"))],
        widget=forms.RadioSelect,
    )
    new_start = local_datetime_field(_("New date and time"), required=False)
    answer = forms.CharField(
        label=_("Words to the patient"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to the patient with the answer."),
    )
    override_reason = override_reason_field()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.conflict: BookingConflict | None = None

    def clean_new_start(self) -> datetime | None:
        return self._bookable(self.cleaned_data.get("new_start"))

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        accept = data.get("decision") == "accept"
        if accept and not data.get("new_start") and "new_start" not in self.errors:
            self.add_error("new_start", _("Give the new time to accept the request."))
        if data.get("decision") == "decline" and not (data.get("answer") or "").strip():
            self.add_error("answer", _("Tell the patient why the session cannot move."))
        return data

    def show_conflict(self, conflict: BookingConflict) -> None:
        self.conflict = conflict
        self.add_error("new_start", [p.message for p in conflict.problems])


class SeriesProposalForm(_ClinicTimeForm):
    """What to propose from the plan: its induction series or the next session, from when."""

    kind = forms.ChoiceField(
        label=_("Propose"),
        choices=[("induction", _("The induction series")), ("next", _("The next session"))],
    )
    first = local_datetime_field(_("From"))

    def clean_first(self) -> datetime | None:
        return self._bookable(self.cleaned_data.get("first"))


SERIES_MAX = 12


class SeriesBookingForm(_ClinicTimeForm):
    """The proposed sessions as the clinician confirms or adjusts them (`count` time fields;
    one left empty is left out), booked all or none."""

    route = forms.ChoiceField(label=_("Route"), choices=TreatmentSession.Route.choices)
    # Shown once a session could not be booked as asked: books those that conflict anyway.
    override_reason = override_reason_field()

    def __init__(self, *args, count: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.count = max(1, min(count, SERIES_MAX))
        self.conflict_target = ""  # the id of the time field a conflict is about
        self.conflict: BookingConflict | None = None
        for index in range(self.count):
            field = local_datetime_field(
                _("Session %(number)s") % {"number": index + 1}, required=False
            )
            field.help_text = ""
            self.fields[f"start_{index}"] = field

    def clean(self) -> dict:
        super().clean()
        for index in range(self.count):
            name = f"start_{index}"
            value = self.cleaned_data.get(name)
            if value is not None and (problem := out_of_range(value)):
                self.add_error(name, problem)
        if not self.errors and not self.starts():
            raise forms.ValidationError(_("Give at least one session's time."))
        return self.cleaned_data

    def starts(self) -> list[datetime]:
        """The times given, in field order (what the `index` of a conflict counts)."""
        return [
            value
            for index in range(self.count)
            if (value := self.cleaned_data.get(f"start_{index}")) is not None
        ]

    def start_fields(self) -> list[forms.BoundField]:
        return [self[f"start_{index}"] for index in range(self.count)]

    def show_conflict(self, conflict: BookingConflict) -> None:
        given = [i for i in range(self.count) if self.cleaned_data.get(f"start_{i}") is not None]
        index = given[conflict.index or 0]
        self.conflict_target = self[f"start_{index}"].auto_id
        self.conflict = conflict
        self.add_error(f"start_{index}", [p.message for p in conflict.problems])
