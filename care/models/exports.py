"""Whole-clinic exports made by a worker: one row per requested file, kept for a limited time."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from care.models.accounts import Clinic


class ExportJob(models.Model):
    """One whole-clinic CSV file of one record kind, written by a Celery worker.

    The file lives under `EXPORT_DIR`, named by the job's opaque id, readable only by the
    app's user. It is removed after its one complete download, or when `expires_at` passes
    (`care.sweep_exports`), whichever comes first; the row stays as the record that it
    existed. No health data in the row: counts, sizes, times and a checksum.
    """

    class Kind(models.TextChoices):
        CHECKINS = "checkins", _("Check-ins")
        ASSESSMENTS = "assessments", _("Questionnaires")
        SESSIONS = "sessions", _("Treatment sessions")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Being written")
        READY = "ready", _("Ready to download")
        DOWNLOADED = "downloaded", _("Downloaded and removed")
        EXPIRED = "expired", _("Expired and removed")
        FAILED = "failed", _("Failed")

    # The statuses in which a job still has work to do (one such job per person and kind).
    PENDING = (Status.QUEUED, Status.RUNNING)

    public_id = models.UUIDField(_("export id"), unique=True, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="export_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="export_jobs",
        verbose_name=_("requested by"),
    )
    kind = models.CharField(_("records"), max_length=20, choices=Kind)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.QUEUED)
    # Progress: the rows the file will hold (counted when the worker starts) and those written.
    rows_total = models.PositiveIntegerField(_("rows to write"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    # The finished file: its data rows, bytes and SHA-256 (of the whole file, trailer included).
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    size_bytes = models.PositiveBigIntegerField(_("size"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    # Why it failed, in words for staff (never a record's content).
    error = models.CharField(_("error"), max_length=200, blank=True)
    # Workers that took the job on: one, unless a worker was lost while writing it.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("requested"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    # Moved forward while the worker writes: a running job whose heartbeat stops was lost.
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("kept until"), null=True, blank=True)
    removed_at = models.DateTimeField(_("file removed"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One unfinished export per person and record kind: asking again shows that one.
            models.UniqueConstraint(
                fields=["requested_by", "kind"],
                condition=models.Q(status__in=["queued", "running"]),
                name="exportjob_one_pending_per_user_kind",
            )
        ]
        indexes = [
            models.Index(fields=["requested_by", "-created_at"], name="exportjob_user_created"),
            models.Index(fields=["status", "expires_at"], name="exportjob_status_expires"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} export {self.public_id}"

    @property
    def file_name(self) -> str:
        """The name of the file on the server (the opaque id: nothing about the clinic)."""
        return f"{self.public_id}.csv"

    @property
    def percent(self) -> int | None:
        """How far the worker is, 0-100 (None before it counted the rows)."""
        if self.status == self.Status.READY:
            return 100
        if not self.rows_total:
            return None if self.rows_total is None else 100
        return min(100, self.rows_done * 100 // self.rows_total)
