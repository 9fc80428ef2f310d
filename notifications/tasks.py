"""Celery tasks of the notifications app: thin interfaces to services, ids only."""

from collections.abc import Callable
from datetime import timedelta

from celery import shared_task
from celery.utils.log import get_task_logger
from django.conf import settings
from django.utils import timezone

from notifications.dispatch.alerts import digests_dispatch, escalations_dispatch
from notifications.dispatch.messages import message_notices_dispatch
from notifications.dispatch.patients import patient_reminders_dispatch
from notifications.dispatch.sessions import booked_session_reminders_dispatch
from notifications.heartbeats import heartbeat_record, heartbeats_record
from notifications.selectors import REMINDER_TICK, last_reminder_tick
from notifications.sending import deliveries_send, deliveries_sweep, delivery_send

logger = get_task_logger(__name__)


@shared_task(name="notifications.record_heartbeat")
def record_heartbeat(name: str) -> None:
    """Write the heartbeat row for `name` (scheduled by beat every minute)."""
    heartbeat_record(name=name, now=timezone.now())


@shared_task(name="notifications.dispatch_reminders", soft_time_limit=50, time_limit=55)
def dispatch_reminders() -> None:
    """Every minute: create the reminders due now, re-enqueue stuck ones, note the tick.

    Each step runs even if an earlier one failed (a failing digest must not hold back a
    safety escalation); the first error is raised at the end so Celery records it. The
    patient reminders look back to the last tick whose patient reminders went through
    (after a stall: the reminders it dropped are recorded as skipped, too late); this tick
    becomes that one at its end, if its own went through.
    """
    now = timezone.now()
    done = set()

    def patient_reminders() -> None:
        patient_reminders_dispatch(now=now, last_tick=last_reminder_tick())
        done.add(REMINDER_TICK)

    steps: list[Callable[[], object]] = [
        # First: it looks for rows of earlier ticks (this tick's are not stuck), and need
        # not read past the rows this tick makes.
        deliveries_sweep,
        # Safety e-mails before the reminders: their latency matters most.
        lambda: escalations_dispatch(now=now),
        patient_reminders,
        lambda: booked_session_reminders_dispatch(now=now),
        lambda: digests_dispatch(now=now),
        lambda: message_notices_dispatch(now=now),
        # Last, in one statement: the tick, and the moment the next one's patient reminders
        # look back to if this one's went through.
        lambda: heartbeats_record(names=["dispatcher", *done], now=now),
    ]
    errors = []
    for step in steps:
        try:
            step()
        except Exception as exc:
            logger.exception("A reminder dispatch step failed")
            errors.append(exc)
    if errors:
        raise errors[0]


@shared_task(
    name="notifications.send_delivery",
    acks_late=True,
    reject_on_worker_lost=True,
    # No Celery retries: a deferred row waits, pending, for its backoff and the sweeper's
    # next message (the one retry mechanism: the table's `next_attempt_at`).
    # 45 s and 60 s unless DELIVERY_TIME_LIMIT_SECONDS says otherwise; below the lease.
    soft_time_limit=settings.DELIVERY_TIME_LIMIT_SECONDS * 3 // 4,
    time_limit=settings.DELIVERY_TIME_LIMIT_SECONDS,
)
def send_delivery(delivery_id: int) -> None:
    """Send one delivery (ids only; idempotent by the row's claim)."""
    delivery_send(delivery_id=delivery_id, now=timezone.now())


# A chunk has one send's time limits; what it does not reach in half the soft limit goes
# on in a new message (services.deliveries_send), so every claim ends before its lease.
CHUNK_BUDGET = timedelta(seconds=settings.DELIVERY_TIME_LIMIT_SECONDS * 3 / 8)


@shared_task(
    name="notifications.send_deliveries",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.DELIVERY_TIME_LIMIT_SECONDS * 3 // 4,
    time_limit=settings.DELIVERY_TIME_LIMIT_SECONDS,
)
def send_deliveries(delivery_ids: list[int]) -> None:
    """Send a chunk of deliveries (ids only; each idempotent by its row's claim).

    No retry of the chunk: a deferred row waits, pending, for the sweeper's `send_delivery`.
    """
    deliveries_send(delivery_ids=delivery_ids, now=timezone.now(), budget=CHUNK_BUDGET)
