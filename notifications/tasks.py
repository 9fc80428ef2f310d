"""Celery tasks of the notifications app: thin interfaces to services, ids only."""

from celery import shared_task
from django.utils import timezone

from .services import heartbeat_record


@shared_task(name="notifications.record_heartbeat")
def record_heartbeat(name: str) -> None:
    """Write the heartbeat row for `name` (scheduled by beat every minute)."""
    heartbeat_record(name=name, now=timezone.now())
