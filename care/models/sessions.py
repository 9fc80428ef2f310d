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
    # The treatment chair (1..the clinic's number of chairs) the booking holds; empty for a
    # booking made over a conflict (override_reason says why) or before chairs were kept.
    chair = models.PositiveSmallIntegerField(
        _("chair"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    # Why a clinician booked it despite a conflict (outside hours, no chair free, the patient
    # already booked then); empty for a booking without a conflict.
    override_reason = models.TextField(
        _("booked despite a conflict because"), max_length=500, blank=True
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


class SessionReadiness(models.Model):
    """The patient's answers the day before a session: one per session, never changed."""

    session = models.OneToOneField(
        TreatmentSession, on_delete=models.CASCADE, related_name="readiness"
    )
    ride_arranged = models.BooleanField(_("a ride home is arranged"))
    fasting_understood = models.BooleanField(_("I understand when to stop eating and drinking"))
    feeling_well = models.BooleanField(_("I feel well (no fever, cold or new illness)"))
    new_medicines = models.BooleanField(_("I have started or changed a medicine"))
    new_medicines_details = models.TextField(_("which medicines"), max_length=500, blank=True)
    # True when answered through the e-mailed link without signing in.
    by_link = models.BooleanField(default=False)
    answered_at = models.DateTimeField(_("answered"))

    class Meta:
        verbose_name = _("readiness check")

    def __str__(self) -> str:
        return f"Readiness for session #{self.session_id}"

    @property
    def is_ready(self) -> bool:
        """Ready: ride, fasting understood, feeling well, no new medicine to review."""
        return (
            self.ride_arranged
            and self.fasting_understood
            and self.feeling_well
            and not self.new_medicines
        )


class SessionMoveRequest(models.Model):
    """A patient's request to move a booked session: the care team accepts (moving the
    session) or declines it; the session never changes without that answer."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the care team")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    session = models.ForeignKey(
        TreatmentSession, on_delete=models.CASCADE, related_name="move_requests"
    )
    preferred_times = models.TextField(_("times that suit me"), max_length=500)
    created_at = models.DateTimeField(_("asked"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    decided_at = models.DateTimeField(_("answered"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The care team's words to the patient (shown to them).
    answer = models.TextField(_("answer to the patient"), max_length=500, blank=True)
    moved_from = models.DateTimeField(null=True, blank=True)
    moved_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("request to move a session")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=models.Q(status="pending"),
                name="move_request_one_pending_per_session",
            ),
        ]

    def __str__(self) -> str:
        return f"Move request for session #{self.session_id}"


class SessionReflection(models.Model):
    """The patient's short reflection in the days after a held session (integration)."""

    session = models.OneToOneField(
        TreatmentSession, on_delete=models.CASCADE, related_name="reflection"
    )
    what_came_up = models.TextField(_("what came up"), max_length=2000, blank=True)
    feeling = models.TextField(_("how I feel now"), max_length=2000, blank=True)
    for_team = models.TextField(_("anything to tell my care team"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("written"))

    class Meta:
        verbose_name = _("reflection after a session")

    def __str__(self) -> str:
        return f"Reflection on session #{self.session_id}"
