"""Time passing for the deliveries, as the database's clock sees it (which decides who owns a
row: notifications.sending): time_machine moves this process's clock, not the database's."""

from datetime import timedelta

from django.db.models import F

from notifications.models import Delivery


def deliveries_age(by: timedelta) -> None:
    """Move every delivery's ownership times `by` into the past: created, claimed until,
    next attempt (as if `by` had passed)."""
    Delivery.objects.update(
        created_at=F("created_at") - by,
        lease_until=F("lease_until") - by,
        next_attempt_at=F("next_attempt_at") - by,
    )
