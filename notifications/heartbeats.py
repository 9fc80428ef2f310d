"""Heartbeats: when beat and the worker last ran a periodic task."""

from datetime import datetime

from notifications.models import Heartbeat


def heartbeat_record(*, name: str, now: datetime) -> None:
    """Record that `name` was seen working at `now` (one UPDATE once its row exists)."""
    if not Heartbeat.objects.filter(name=name).update(beat_at=now):
        Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": now})


def heartbeats_record(*, names: list[str], now: datetime) -> None:
    """heartbeat_record for each of `names`: one UPDATE for all once their rows exist."""
    if Heartbeat.objects.filter(name__in=names).update(beat_at=now) < len(set(names)):
        for name in names:
            heartbeat_record(name=name, now=now)
