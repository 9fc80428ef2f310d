"""Celery tasks of the notifications app: thin interfaces to services, ids only."""

from celery import shared_task
from django.utils import timezone

from .services import (
    TransientSendError,
    checkin_reminders_dispatch,
    deliveries_sweep,
    delivery_send,
    digests_dispatch,
    escalations_dispatch,
    heartbeat_record,
    maintenance_questionnaire_reminders_dispatch,
    questionnaire_reminders_dispatch,
    session_reminders_dispatch,
)


@shared_task(name="notifications.record_heartbeat")
def record_heartbeat(name: str) -> None:
    """Write the heartbeat row for `name` (scheduled by beat every minute)."""
    heartbeat_record(name=name, now=timezone.now())


@shared_task(name="notifications.dispatch_reminders", soft_time_limit=50, time_limit=55)
def dispatch_reminders() -> None:
    """Every minute: create the reminders due now, re-enqueue stuck ones, note the tick."""
    now = timezone.now()
    after = checkin_reminders_dispatch(now=now)
    while after:
        after = checkin_reminders_dispatch(now=now, after_pk=after)
    session_reminders_dispatch(now=now)
    questionnaire_reminders_dispatch(now=now)
    after = maintenance_questionnaire_reminders_dispatch(now=now)
    while after:
        after = maintenance_questionnaire_reminders_dispatch(now=now, after_pk=after)
    escalations_dispatch(now=now)
    digests_dispatch(now=now)
    deliveries_sweep(now=now)
    heartbeat_record(name="dispatcher", now=now)


@shared_task(
    name="notifications.send_delivery",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(TransientSendError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=45,
    time_limit=60,
)
def send_delivery(delivery_id: int) -> None:
    """Send one delivery (ids only; idempotent by the row's claim)."""
    delivery_send(delivery_id=delivery_id, now=timezone.now())
