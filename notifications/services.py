"""Writes of the notifications app."""

from datetime import datetime

from .models import Heartbeat


def heartbeat_record(*, name: str, now: datetime) -> Heartbeat:
    """Record that `name` was seen working at `now`."""
    heartbeat, _ = Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": now})
    return heartbeat
