"""Treatment sessions: IV / IM ketamine and intranasal esketamine, scheduled and recorded."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from care.models.accounts import Patient


class Severity(models.TextChoices):
    NONE = "none", _("None")
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")


def vital(label) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        label, null=True, blank=True, validators=[MinValueValidator(20), MaxValueValidator(300)]
    )


# Spravato REMS: monitor at least two hours; submit the monitoring form within 7 days.
REMS_MIN_MONITORING = timedelta(hours=2)
REMS_FORM_DAYS = 7


class TreatmentSession(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")

    class Route(models.TextChoices):
        IV = "iv", _("IV infusion")
        IM = "im", _("Intramuscular")
        INTRANASAL = "intranasal", _("Intranasal esketamine")

    # Vital signs in the order they are taken (field names, for forms, API and exports).
    VITAL_FIELDS = (
        "bp_pre_systolic",
        "bp_pre_diastolic",
        "hr_pre",
        "bp_40_systolic",
        "bp_40_diastolic",
        "hr_40",
        "bp_discharge_systolic",
        "bp_discharge_diastolic",
        "hr_discharge",
    )
    # Sessions that did not take place: never the first session of a course.
    NOT_HELD = (Status.CANCELLED, Status.NO_SHOW)

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="sessions")
    scheduled_at = models.DateTimeField(_("scheduled for"))
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.SCHEDULED)
    route = models.CharField(_("route"), max_length=20, choices=Route)
    dose_mg = models.DecimalField(
        _("dose (mg)"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(500)],
    )
    dose_mg_per_kg = models.DecimalField(
        _("dose (mg/kg)"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(5)],
    )
    monitoring_started_at = models.DateTimeField(_("monitoring started"), null=True, blank=True)
    monitoring_ended_at = models.DateTimeField(_("monitoring ended"), null=True, blank=True)
    # Vital signs before dosing, at 40 minutes and before discharge.
    bp_pre_systolic = vital(_("systolic before dosing"))
    bp_pre_diastolic = vital(_("diastolic before dosing"))
    hr_pre = vital(_("heart rate before dosing"))
    bp_40_systolic = vital(_("systolic at 40 minutes"))
    bp_40_diastolic = vital(_("diastolic at 40 minutes"))
    hr_40 = vital(_("heart rate at 40 minutes"))
    bp_discharge_systolic = vital(_("systolic at discharge"))
    bp_discharge_diastolic = vital(_("diastolic at discharge"))
    hr_discharge = vital(_("heart rate at discharge"))
    dissociation = models.CharField(
        _("dissociation observed"), max_length=10, choices=Severity, blank=True
    )
    sedation = models.CharField(_("sedation observed"), max_length=10, choices=Severity, blank=True)
    adverse_events = models.TextField(_("adverse events"), blank=True, max_length=4000)
    notes = models.TextField(_("notes"), blank=True, max_length=4000)
    # Spravato REMS Patient Monitoring Form (intranasal esketamine).
    lot_number = models.CharField(_("lot number"), max_length=50, blank=True)
    rems_submitted_on = models.DateField(_("REMS form submitted"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("treatment session")
        verbose_name_plural = _("treatment sessions")
        ordering = ["scheduled_at"]
        indexes = [
            models.Index(fields=["patient", "scheduled_at"]),
            # The sessions of the coming days (or the last hours) of every patient, read
            # every minute by the reminder dispatcher.
            models.Index(fields=["scheduled_at"], name="session_scheduled_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_route_display()} session of patient #{self.patient_id}"

    @property
    def monitoring_duration(self) -> timedelta | None:
        if self.monitoring_started_at and self.monitoring_ended_at:
            return self.monitoring_ended_at - self.monitoring_started_at
        return None

    @property
    def is_monitoring_short(self) -> bool:
        """Intranasal esketamine monitored for less than the REMS minimum of two hours."""
        duration = self.monitoring_duration
        return (
            self.route == self.Route.INTRANASAL
            and duration is not None
            and duration < REMS_MIN_MONITORING
        )


# The first treatment: one definition for every screen, export and alert rule. A session is
# treatment once it is recorded as held (status "completed"). A booking, in the future or
# never updated from "scheduled", a cancellation and a no-show are not: the baseline is the
# first score at or before the first held session, and response and remission are judged
# only on scores after it.


def held_sessions() -> QuerySet[TreatmentSession]:
    """Every session that took place (recorded as completed)."""
    return TreatmentSession.objects.filter(status=TreatmentSession.Status.COMPLETED)


def first_treatment(*, patient: Patient) -> TreatmentSession | None:
    """The patient's first held session, or None before any."""
    return held_sessions().filter(patient=patient).order_by("scheduled_at").first()


def first_treatment_at(*, patient: Patient) -> datetime | None:
    """When the patient's first held session took place, or None before any."""
    session = first_treatment(patient=patient)
    return session.scheduled_at if session else None


def first_treatment_at_subquery(
    *, patient_ref: str = "pk", before: datetime | None = None
) -> Subquery:
    """`first_treatment_at` as an annotation of a Patient queryset (optionally of the held
    sessions before `before`)."""
    held = held_sessions().filter(patient=OuterRef(patient_ref))
    if before is not None:
        held = held.filter(scheduled_at__lt=before)
    return Subquery(held.order_by("scheduled_at").values("scheduled_at")[:1])
