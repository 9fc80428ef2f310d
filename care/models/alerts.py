"""Alerts the care team must acknowledge."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .accounts import Patient


class Alert(models.Model):
    class Kind(models.TextChoices):
        SAFETY = "safety", _("Safety")
        WORSENING = "worsening", _("Worsening")
        MISSED_CHECKINS = "missed_checkins", _("Missed check-ins")
        HIGH_BP = "high_bp", _("High blood pressure")
        BOOSTER_DUE = "booster_due", _("Booster may be due")
        DELIVERY_FAILURE = "delivery_failure", _("Delivery failure")

    class Priority(models.TextChoices):
        URGENT = "urgent", _("Urgent")
        HIGH = "high", _("High")
        ROUTINE = "routine", _("Routine")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority)
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("raised"))
    checkin = models.ForeignKey(
        "care.CheckIn", on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    assessment = models.ForeignKey(
        "care.Assessment", on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action_taken = models.TextField(_("action taken"), blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    escalated_to = models.TextField(_("escalated to"), blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "acknowledged_at"])]

    def __str__(self) -> str:
        return f"{self.get_priority_display()} {self.get_kind_display()} alert #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None
