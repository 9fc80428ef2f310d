"""Treatment sessions: IV / IM ketamine and intranasal esketamine, scheduled and recorded."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .accounts import Patient


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
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("treatment session")
        verbose_name_plural = _("treatment sessions")
        ordering = ["scheduled_at"]
        indexes = [models.Index(fields=["patient", "scheduled_at"])]

    def __str__(self) -> str:
        return f"{self.get_route_display()} session of patient #{self.patient_id}"
