"""Reads of the audit trail."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from care.models import (
    AuditEvent,
    Clinic,
    User,
)


@dataclass(frozen=True)
class AuditFilters:
    actor_id: int | None = None
    patient_id: int | None = None
    action: str = ""
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def clinic_audit_events(*, clinic: Clinic, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """The clinic's audit events, newest first, with who and which patient in one query."""
    events = AuditEvent.objects.filter(clinic=clinic)
    if filters.actor_id is not None:
        events = events.filter(actor_id=filters.actor_id)
    if filters.patient_id is not None:
        events = events.filter(patient_id=filters.patient_id)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.since is not None:
        events = events.filter(at__gte=filters.since)
    if filters.until is not None:
        events = events.filter(at__lt=filters.until)
    return events.select_related("actor", "patient__user").order_by("-at", "-id")


def clinic_audit_actors(*, clinic: Clinic) -> QuerySet[User]:
    """Everyone who can appear in the clinic's audit trail: its staff and its patients."""
    return (
        User.objects.filter(Q(staff_membership__clinic=clinic) | Q(patient__clinic=clinic))
        .select_related("staff_membership", "patient")
        .order_by("full_name", "email")
    )
