"""Due reminders to send, and the exactly-once invariant every fault test ends with."""

from datetime import time, timedelta
from zoneinfo import ZoneInfo

from django.test import override_settings
from django.utils import timezone

from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.emails import delivery_message_id
from notifications.heartbeats import heartbeat_record
from notifications.models import Delivery, ReminderPreference
from notifications.selectors import REMINDER_TICK
from tests.factories import PatientFactory
from tests.faults.harness import STACK_SITE_URL, wait_until


def daytime_zone(now) -> str:
    """A time zone where it is 08:00 to 17:59 now, so a few hours back is the same local day."""
    for hours in range(-12, 15):
        if 8 <= (now.hour + hours) % 24 < 18:
            return f"Etc/GMT{-hours:+d}" if hours else "UTC"
    raise AssertionError("unreachable")


def due_patient(clinic, *, minutes_ago: int = 1, email: str | None = None):
    """A patient whose daily check-in reminder fell due `minutes_ago` minutes ago."""
    now = timezone.now()
    tz = daytime_zone(now)
    at = (now - timedelta(minutes=minutes_ago)).astimezone(ZoneInfo(tz))
    extra = {"user__email": email} if email else {}
    patient = PatientFactory(clinic=clinic, tz=tz, **extra)
    ReminderPreference.objects.create(
        patient=patient,
        checkin_time=time(at.hour, at.minute),
        quiet_start=time(0),
        quiet_end=time(0),  # no quiet hours
    )
    return patient


def beat_stalled(*, minutes_ago: int) -> None:
    """Put on record that the dispatcher's last tick was `minutes_ago` minutes ago (beat
    stalled then): the first tick after looks back to it."""
    heartbeat_record(name=REMINDER_TICK, now=timezone.now() - timedelta(minutes=minutes_ago))


def dispatch(*patients) -> list[Delivery]:
    """Run the check-in dispatcher here: it inserts the rows and publishes their ids."""
    checkin_reminders_dispatch(now=timezone.now())
    return list(Delivery.objects.filter(patient__in=patients).order_by("id"))


def message_id(delivery: Delivery, *, site_url: str = STACK_SITE_URL) -> str:
    """The Message-ID the stack's workers give the delivery (their SITE_URL, not this one's)."""
    with override_settings(SITE_URL=site_url):
        return delivery_message_id(delivery.id)


def status_of(delivery: Delivery) -> str:
    return Delivery.objects.values_list("status", flat=True).get(id=delivery.id)


def wait_for_status(delivery: Delivery, *statuses: str, timeout: float = 30) -> Delivery:
    wait_until(
        lambda: status_of(delivery) in statuses,
        timeout=timeout,
        what=f"delivery {delivery.id} to be {' or '.join(statuses)}",
    )
    return Delivery.objects.get(id=delivery.id)


def assert_exactly_once(sink, *, due: int, sent: int | None = None) -> list[Delivery]:
    """One row per due item; each `sent` row delivered once at the sink, others never;
    nothing left pending or sending."""
    rows = list(Delivery.objects.order_by("id"))
    assert len(rows) == due, [str(r) for r in rows]
    assert not [r for r in rows if r.status in (Delivery.Status.PENDING, Delivery.Status.SENDING)]
    for row in rows:
        expected = 1 if row.status == Delivery.Status.SENT else 0
        assert sink.count(message_id(row)) == expected, (row.status, sink.delivered)
    if sent is not None:
        assert sum(r.status == Delivery.Status.SENT for r in rows) == sent
    assert len(sink.delivered) == sum(r.status == Delivery.Status.SENT for r in rows)
    return rows
