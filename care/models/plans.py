"""Treatment plans: one per patient, versioned. A version is never changed: a change to the
plan is a new version, with who made it, when, why and, when it answered an alert, which.

The limits are entry checks, not dosing advice (docs/clinical.md, "Treatment plans"): IV / IM
0.1-1.0 mg/kg, set wide around the usual 0.5 mg/kg so that a dose typed in mg is refused;
intranasal esketamine 56 or 84 mg, the doses of the Spravato prescribing information.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from care.models.accounts import Patient
from care.models.alerts import Alert
from care.models.records import Assessment
from care.models.sessions import TreatmentSession

PLAN_DOSE_MG_PER_KG_MIN = Decimal("0.1")
PLAN_DOSE_MG_PER_KG_MAX = Decimal("1.0")
PLAN_ESKETAMINE_DOSES_MG = (56, 84)
PLAN_INDUCTION_SESSIONS = (1, 12)
PLAN_INDUCTION_WEEKS = (1, 8)


class TreatmentPlan(models.Model):
    """The patient's plan; its content is in its versions (`current_version`: the latest)."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="treatment_plan")
    created_at = models.DateTimeField(_("created"))

    def __str__(self) -> str:
        return f"Treatment plan of patient #{self.patient_id}"


class TreatmentPlanVersion(models.Model):
    class Reason(models.TextChoices):
        FIRST = "first", _("First plan")
        RESPONSE = "response", _("Response")
        PARTIAL_RESPONSE = "partial_response", _("Partial response")
        SIDE_EFFECTS = "side_effects", _("Side effects")
        BOOSTER_SIGNAL = "booster_signal", _("Booster signal")
        PATIENT_REQUEST = "patient_request", _("Patient request")
        BLOOD_PRESSURE = "blood_pressure", _("Blood pressure")
        OTHER = "other", _("Other")

    class Maintenance(models.TextChoices):
        EVERY_N_WEEKS = "every_n_weeks", _("Every few weeks")
        AS_NEEDED = "as_needed", _("As needed by signal")

    # The reasons a change (any version after the first) may give.
    CHANGE_REASONS = (
        Reason.RESPONSE,
        Reason.PARTIAL_RESPONSE,
        Reason.SIDE_EFFECTS,
        Reason.BOOSTER_SIGNAL,
        Reason.PATIENT_REQUEST,
        Reason.BLOOD_PRESSURE,
        Reason.OTHER,
    )

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField(_("version"))
    route = models.CharField(_("route"), max_length=20, choices=TreatmentSession.Route)
    induction_sessions = models.PositiveSmallIntegerField(
        _("induction sessions"),
        validators=[
            MinValueValidator(PLAN_INDUCTION_SESSIONS[0]),
            MaxValueValidator(PLAN_INDUCTION_SESSIONS[1]),
        ],
    )
    induction_weeks = models.PositiveSmallIntegerField(
        _("induction over (weeks)"),
        validators=[
            MinValueValidator(PLAN_INDUCTION_WEEKS[0]),
            MaxValueValidator(PLAN_INDUCTION_WEEKS[1]),
        ],
    )
    target_dose_mg_per_kg = models.DecimalField(
        _("target dose (mg/kg)"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(PLAN_DOSE_MG_PER_KG_MIN),
            MaxValueValidator(PLAN_DOSE_MG_PER_KG_MAX),
        ],
    )
    target_dose_mg = models.PositiveSmallIntegerField(
        _("target dose (mg)"),
        null=True,
        blank=True,
        choices=[(d, f"{d} mg") for d in PLAN_ESKETAMINE_DOSES_MG],
    )
    maintenance = models.CharField(_("maintenance"), max_length=20, choices=Maintenance)
    maintenance_every_weeks = models.PositiveSmallIntegerField(
        _("maintenance every (weeks)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(26)],
    )
    questionnaires = models.JSONField(_("questionnaires"), default=list, blank=True)
    questionnaire_every_days = models.PositiveSmallIntegerField(
        _("questionnaires every (days)"),
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    goals = models.TextField(_("goals, in the patient's words"), max_length=2000, blank=True)
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("prescriber"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    reason_code = models.CharField(_("reason"), max_length=20, choices=Reason)
    reason = models.TextField(_("why"), max_length=2000, blank=True)
    answered_alert = models.ForeignKey(
        Alert, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_version_number_unique"),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="plan_version_number_from_1"
            ),
        ]

    def __str__(self) -> str:
        return f"Version {self.number} of plan #{self.plan_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("A plan version is never changed: make a new version.")
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """The checks a clinician expects across fields (single fields: their validators)."""
        errors: dict[str, object] = {}
        intranasal = self.route == TreatmentSession.Route.INTRANASAL
        if intranasal:
            if self.target_dose_mg not in PLAN_ESKETAMINE_DOSES_MG:
                errors["target_dose_mg"] = _("Intranasal esketamine: 56 or 84 mg.")
            if self.target_dose_mg_per_kg is not None:
                errors["target_dose_mg_per_kg"] = _("A dose in mg/kg is for IV or IM ketamine.")
        else:
            if self.target_dose_mg_per_kg is None:
                errors["target_dose_mg_per_kg"] = _("Give the target dose in mg/kg.")
            if self.target_dose_mg is not None:
                errors["target_dose_mg"] = _("A fixed dose in mg is for intranasal esketamine.")
        if self.maintenance == self.Maintenance.EVERY_N_WEEKS:
            if not self.maintenance_every_weeks:
                errors["maintenance_every_weeks"] = _("Say every how many weeks.")
        elif self.maintenance_every_weeks is not None:
            errors["maintenance_every_weeks"] = _("Only for maintenance every few weeks.")
        known = set(Assessment.Instrument.values)
        if not isinstance(self.questionnaires, list) or not set(self.questionnaires) <= known:
            errors["questionnaires"] = _("Choose among PHQ-9, GAD-7 and PCL-5.")
        if errors:
            raise ValidationError(errors)


# Body weight entry limits (kg): wide, to refuse a slip of the keyboard, not a real weight.
WEIGHT_KG_MIN = Decimal("20")
WEIGHT_KG_MAX = Decimal("350")
KG_PER_LB = Decimal("0.45359237")


class BodyWeight(models.Model):
    """A measured weight: kept in kg (one decimal), with the unit and value as entered."""

    class Unit(models.TextChoices):
        KG = "kg", _("kg")
        LB = "lb", _("lb")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="weights")
    weight_kg = models.DecimalField(
        _("weight (kg)"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(WEIGHT_KG_MIN), MaxValueValidator(WEIGHT_KG_MAX)],
    )
    entered_value = models.DecimalField(_("weight as entered"), max_digits=5, decimal_places=1)
    entered_unit = models.CharField(_("unit"), max_length=2, choices=Unit, default=Unit.KG)
    measured_on = models.DateField(_("measured on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"))

    class Meta:
        verbose_name = _("body weight")
        ordering = ["-measured_on", "-created_at"]
        indexes = [models.Index(fields=["patient", "-measured_on"], name="weight_latest")]

    def __str__(self) -> str:
        return f"Weight of patient #{self.patient_id} on {self.measured_on}"
