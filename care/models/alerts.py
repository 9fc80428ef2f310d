"""Alerts the care team must acknowledge."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from care.models.accounts import Patient


class Alert(models.Model):
    class Kind(models.TextChoices):
        SAFETY = "safety", _("Safety")
        WORSENING = "worsening", _("Worsening")
        MISSED_CHECKINS = "missed_checkins", _("Missed check-ins")
        HIGH_BP = "high_bp", _("High blood pressure")
        BOOSTER_DUE = "booster_due", _("Booster may be due")
        DELIVERY_FAILURE = "delivery_failure", _("Delivery failure")
        MESSAGE_URGENT = "message_urgent", _("Urgent message")
        MESSAGE_WAITING = "message_waiting", _("Message waiting for a reply")
        NOT_READY = "not_ready", _("Not ready for a session")
        MOVE_REQUEST = "move_request", _("Asks to move a session")

    class Priority(models.TextChoices):
        URGENT = "urgent", _("Urgent")
        HIGH = "high", _("High")
        ROUTINE = "routine", _("Routine")

    class Action(models.TextChoices):
        CALLED_PATIENT = "called_patient", _("Called the patient")
        SCHEDULED_VISIT = "scheduled_visit", _("Scheduled a visit or session")
        REFERRED = "referred", _("Referred to emergency or crisis services")
        NO_ACTION = "no_action", _("No action needed")
        OTHER = "other", _("Other (see note)")
        # Recorded by the care team's reply to the thread (a message-waiting alert), never
        # chosen by hand: the forms and the API offer MANUAL_ACTIONS (PLAN_ADJUSTED below too).
        REPLIED = "replied", _("Replied in Messages")
        # Recorded by saving a new treatment plan version that answers the alert.
        PLAN_ADJUSTED = "plan_adjusted", _("Plan adjusted")
        # Recorded by accepting or declining the patient's request to move a session.
        MOVE_DECIDED = "move_decided", _("Move request answered")

    # The actions a person chooses when acknowledging an alert.
    MANUAL_ACTIONS = (
        Action.CALLED_PATIENT,
        Action.SCHEDULED_VISIT,
        Action.REFERRED,
        Action.NO_ACTION,
        Action.OTHER,
    )

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority)
    # What raised it, e.g. "phq9:rise" or "checkin:42": one open alert per patient, kind, cause.
    cause = models.CharField(_("cause"), max_length=100)
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("raised"))
    checkin = models.ForeignKey(
        "care.CheckIn", on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    session = models.ForeignKey(
        "care.TreatmentSession",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
    )
    assessment = models.ForeignKey(
        "care.Assessment", on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    # An urgent message, or one waiting for a reply: its thread (the alert's reason never
    # quotes the message).
    message_thread = models.ForeignKey(
        "care.MessageThread",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action taken"), max_length=30, choices=Action, blank=True)
    action_note = models.TextField(_("note"), blank=True, max_length=2000)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    escalated_to = models.TextField(_("escalated to"), blank=True)
    # Not a column: the patient's other open safety alerts, set (only) on the alerts that
    # selectors.alerts_with_related returns, for acknowledging them together.
    related: list["Alert"]

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "acknowledged_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "kind", "cause"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="alert_one_open_per_cause",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_priority_display()} {self.get_kind_display()} alert #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def action_choices(self) -> list[tuple[str, str]]:
        """What a person may say was done (the acknowledge form of the inbox)."""
        return [(action.value, str(action.label)) for action in self.MANUAL_ACTIONS]
