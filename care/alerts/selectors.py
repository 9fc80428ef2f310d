"""Reads of alerts: the inbox, related safety alerts, a patient's history."""

from django.db.models import Case, QuerySet, When

from care.models import (
    Alert,
    Clinic,
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
