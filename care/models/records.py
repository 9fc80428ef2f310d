"""What patients record: daily check-ins and questionnaire assessments."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from care.models.accounts import Patient

ZERO_TO_TEN = [MinValueValidator(0), MaxValueValidator(10)]

# Side effects asked about on check-ins (docs/clinical.md §5).
SIDE_EFFECTS = [
    ("dissociation", _("Feeling detached, unreal or “not in my body”")),
    ("sedation", _("Unusual sleepiness")),
    ("nausea", _("Nausea or vomiting")),
    ("headache", _("Headache")),
    ("dizziness", _("Dizziness")),
    ("urinary", _("Pain, urgency or blood when passing urine")),
    ("high_bp", _("Pounding headache, chest tightness or other signs of high blood pressure")),
    ("craving", _("Craving, or using more ketamine or other substances")),
]


class CheckIn(models.Model):
    """One short daily check-in per patient per local day (in the patient's time zone).

    A second submission the same day updates this row; the earlier values are kept as a
    `CheckInRevision`.
    """

    class SleepQuality(models.IntegerChoices):
        VERY_POOR = 0, _("Very poor")
        POOR = 1, _("Poor")
        FAIR = 2, _("Fair")
        GOOD = 3, _("Good")
        VERY_GOOD = 4, _("Very good")

    # No index of its own: checkin_one_per_day (patient, local_date) serves lookups by
    # patient, and by patient and day range (the caseload's recent moods).
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="checkins", db_index=False
    )
    local_date = models.DateField(_("day"))
    mood = models.PositiveSmallIntegerField(_("mood"), validators=ZERO_TO_TEN)
    anxiety = models.PositiveSmallIntegerField(_("anxiety"), validators=ZERO_TO_TEN)
    energy = models.PositiveSmallIntegerField(_("energy"), validators=ZERO_TO_TEN)
    sleep_hours = models.DecimalField(
        _("hours of sleep"),
        max_digits=3,
        decimal_places=1,
        validators=[MinValueValidator(0), MaxValueValidator(24)],
    )
    sleep_quality = models.PositiveSmallIntegerField(_("sleep quality"), choices=SleepQuality)
    side_effects = models.JSONField(_("side effects"), default=list, blank=True)
    has_self_harm_thoughts = models.BooleanField(_("thoughts of harming yourself"))
    note = models.TextField(_("note"), max_length=2000, blank=True)
    client_id = models.UUIDField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    submitted_at = models.DateTimeField(_("first submitted"))
    updated_at = models.DateTimeField(_("last changed"))

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        ordering = ["-local_date"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "local_date"], name="checkin_one_per_day"),
            models.UniqueConstraint(fields=["patient", "client_id"], name="checkin_client_id_once"),
        ]
        # The last check-in of a patient, as the reminder cap asks for it (notifications).
        indexes = [
            models.Index(fields=["patient", "submitted_at"], name="checkin_patient_submitted")
        ]

    def __str__(self) -> str:
        return f"Check-in of patient #{self.patient_id} on {self.local_date}"


class CheckInRevision(models.Model):
    """The values a check-in had before a later submission that day replaced them."""

    checkin = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    values = models.JSONField()
    client_id = models.UUIDField(null=True, blank=True, editable=False)
    replaced_at = models.DateTimeField()

    class Meta:
        verbose_name = _("check-in revision")
        verbose_name_plural = _("check-in revisions")
        ordering = ["checkin", "version"]
        constraints = [
            models.UniqueConstraint(fields=["checkin", "version"], name="checkin_revision_unique"),
        ]

    def __str__(self) -> str:
        return f"Check-in #{self.checkin_id} version {self.version}"


class Assessment(models.Model):
    """A completed questionnaire. Immutable: a correction is a new row that supersedes it."""

    class Instrument(models.TextChoices):
        PHQ9 = "phq9", "PHQ-9"
        GAD7 = "gad7", "GAD-7"
        PCL5 = "pcl5", "PCL-5"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No index of its own: (patient, instrument, completed_at) below serves lookups by patient.
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="assessments", db_index=False
    )
    instrument = models.CharField(_("instrument"), max_length=10, choices=Instrument)
    # Item number (as a string) -> answer value.
    answers = models.JSONField(_("answers"))
    difficulty = models.PositiveSmallIntegerField(_("difficulty"), null=True, blank=True)
    total = models.PositiveSmallIntegerField(_("total"), null=True, blank=True)
    band = models.CharField(_("severity band"), max_length=30, blank=True)
    flags = models.JSONField(_("flags"), default=list, blank=True)
    completed_at = models.DateTimeField(_("completed"))
    client_id = models.UUIDField(null=True, blank=True, editable=False)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-completed_at"]
        indexes = [models.Index(fields=["patient", "instrument", "completed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "client_id"], name="assessment_client_id_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} of patient #{self.patient_id}"

    def save(self, *args, **kwargs) -> None:
        # Integrity guard: assessments are written once.
        if not self._state.adding:
            raise ValueError("Assessments are immutable; record a correction instead.")
        super().save(*args, **kwargs)
