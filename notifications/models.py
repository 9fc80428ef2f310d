"""Operational records of the notification pipeline."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last time a named periodic source (e.g. Celery beat) was seen working.

    Beat enqueues `record_heartbeat("beat")` every minute and a worker writes this row,
    so a fresh row proves that beat, the broker and a worker all work.
    """

    name = models.CharField(_("name"), max_length=50, unique=True)
    beat_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
