"""Check-in reminders made due by the dispatcher, for the sending tests."""

from datetime import datetime, time

from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.models import Delivery, ReminderPreference
from tests.factories import PatientFactory


def due_checkin_reminders(clinic, count: int, *, now: datetime, prefix: str = "p") -> list[int]:
    """`count` patients in UTC whose 09:00 check-in reminder the dispatcher makes at `now`
    (their addresses `{prefix}0@example.org`, ...); the reminders' ids, in order."""
    for n in range(count):
        patient = PatientFactory(clinic=clinic, tz="UTC", user__email=f"{prefix}{n}@example.org")
        ReminderPreference.objects.create(patient=patient, checkin_time=time(9))
    checkin_reminders_dispatch(now=now)
    return list(Delivery.objects.order_by("id").values_list("id", flat=True))
