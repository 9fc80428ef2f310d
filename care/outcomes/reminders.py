"""Where the outcome report's reminder figures come from: the app that sends reminders.

care never imports the notifications app (notifications builds on care: docs/architecture.md),
so notifications registers its source here when it starts (notifications/apps.py): how many
reminders to a cohort fell due in a period, by status and skip reason, and the words for each
skip reason. Without a registered source the report's reminder figures are zeros.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from care.domain.outcomes import ReminderCount


@dataclass(frozen=True)
class ReminderSource:
    # (cohort, starts_at, ends_at) -> the counts of the reminders due in [starts_at, ends_at)
    counts: Callable[[QuerySet, datetime, datetime], Iterable[ReminderCount]]
    # A skip reason's code -> its words for the staff.
    skip_reasons: Callable[[], Mapping[str, str]]


_source: ReminderSource | None = None


def reminder_source_register(source: ReminderSource) -> None:
    global _source
    _source = source


def reminder_counts(*, cohort: QuerySet, starts_at: datetime, ends_at: datetime):
    """The cohort's reminders due in the period, counted by status and skip reason."""
    if _source is None:
        return ()
    return tuple(_source.counts(cohort, starts_at, ends_at))


def skip_reason_labels() -> dict[str, str]:
    """Every skip reason's words (empty without a source)."""
    return {} if _source is None else {k: str(v) for k, v in _source.skip_reasons().items()}
