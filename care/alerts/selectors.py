"""Reads of alerts: the inbox, related safety alerts, a patient's history, and the threads
the response-target rule looks at."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, DurationField, Exists, F, OuterRef, QuerySet, Value, When

from care.models import (
    Alert,
    Clinic,
    MessageThread,
    Patient,
)

PRIORITY_ORDER = Case(
    When(priority=Alert.Priority.URGENT, then=0),
    When(priority=Alert.Priority.HIGH, then=1),
    default=2,
)


def clinic_alerts_list(*, clinic: Clinic, state: str = "open") -> QuerySet[Alert]:
    """The clinic's alerts: open ones most urgent and oldest first; others newest first."""
    alerts = Alert.objects.filter(patient__clinic=clinic).select_related(
        "patient__user", "acknowledged_by", "message_thread"
    )
    if state == "open":
        return alerts.filter(acknowledged_at__isnull=True).order_by(PRIORITY_ORDER, "created_at")
    if state == "acknowledged":
        alerts = alerts.filter(acknowledged_at__isnull=False)
    return alerts.order_by("-created_at")


def related_safety_alerts(alert: Alert) -> QuerySet[Alert]:
    """The patient's other safety alerts, which may be acknowledged with `alert` (a safety
    alert) while open; none for other kinds. (Acknowledged ones are kept in: one that
    someone acknowledged since the page was shown is skipped, not an error.)"""
    if alert.kind != Alert.Kind.SAFETY:
        return Alert.objects.none()
    return (
        Alert.objects.filter(patient_id=alert.patient_id, kind=Alert.Kind.SAFETY)
        .exclude(pk=alert.pk)
        .order_by("created_at")
    )


def alerts_with_related(alerts: list[Alert]) -> list[Alert]:
    """`alerts`, each open safety alert with `related` set: its patient's other open safety
    alerts (one query for the lot), for acknowledging them together."""
    wanted = [a for a in alerts if a.kind == Alert.Kind.SAFETY and a.acknowledged_at is None]
    if not wanted:
        return alerts
    by_patient: dict[int, list[Alert]] = {}
    for other in Alert.objects.filter(
        patient_id__in={a.patient_id for a in wanted},
        kind=Alert.Kind.SAFETY,
        acknowledged_at__isnull=True,
    ).order_by("created_at"):
        by_patient.setdefault(other.patient_id, []).append(other)
    for alert in wanted:
        alert.related = [a for a in by_patient.get(alert.patient_id, []) if a.pk != alert.pk]
    return alerts


def patient_alert_history(*, patient: Patient) -> QuerySet[Alert]:
    """All of the patient's alerts, open first, then newest first."""
    return (
        patient.alerts.select_related("acknowledged_by", "message_thread")
        .annotate(is_closed=Case(When(acknowledged_at__isnull=True, then=0), default=1))
        .order_by("is_closed", PRIORITY_ORDER, "-created_at")
    )


@dataclass(frozen=True)
class WaitingThread:
    """An open thread whose patient waits for a reply, with what its clinic's response
    target needs (the hours as stored: care/domain/clinic_hours.py reads them)."""

    thread_id: int
    patient_id: int
    waiting_since: datetime
    clinic_id: int
    hours: int
    tz: str
    opening_hours: object


def threads_waiting_for_reply(*, now: datetime) -> list[WaitingThread]:
    """The open threads waiting for a reply that may have passed their clinic's response
    target at `now`, in one query.

    Left out: clinics without a target (0); threads waiting for less than the target in
    hours of the clock (open time passes no faster than the clock, so none of them is due
    yet); threads that already had a message-waiting alert in this waiting episode (raised
    at or after `waiting_since`, acknowledged or not); and threads with an open urgent
    alert, which already stands for the message and escalates sooner.
    """
    hour = Value(timedelta(hours=1), output_field=DurationField())
    earlier_alert = Alert.objects.filter(
        message_thread=OuterRef("pk"),
        kind=Alert.Kind.MESSAGE_WAITING,
        created_at__gte=OuterRef("waiting_since"),
    )
    open_urgent = Alert.objects.filter(
        message_thread=OuterRef("pk"),
        kind=Alert.Kind.MESSAGE_URGENT,
        acknowledged_at__isnull=True,
    )
    rows = (
        MessageThread.objects.filter(
            status=MessageThread.Status.OPEN,
            waiting_since__isnull=False,
            patient__clinic__message_response_hours__gt=0,
        )
        .alias(
            threshold=Value(now) - F("patient__clinic__message_response_hours") * hour,
        )
        .filter(waiting_since__lte=F("threshold"))
        .exclude(Exists(earlier_alert))
        .exclude(Exists(open_urgent))
        .order_by("waiting_since", "pk")
        .values_list(
            "pk",
            "patient_id",
            "waiting_since",
            "patient__clinic_id",
            "patient__clinic__message_response_hours",
            "patient__clinic__tz",
            "patient__clinic__opening_hours",
        )
    )
    return [
        WaitingThread(pk, patient_id, since, clinic_id, hours, tz, opening_hours)
        for pk, patient_id, since, clinic_id, hours, tz, opening_hours in rows
        if since is not None  # none is (waiting_since__isnull=False): for the type checker
    ]
