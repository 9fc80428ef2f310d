"""The care team's e-mails about alerts: escalations and daily digests."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count

from care.domain.clock import local_date
from care.models import (
    Alert,
    Clinic,
    MessageThread,
    StaffMembership,
)
from notifications.dispatch.rows import NewDelivery, deliveries_insert
from notifications.models import Delivery
from notifications.schedule import (
    digest_due,
)

# Urgent alerts older than this are past escalating by e-mail (the inbox still shows them).
ESCALATION_WINDOW = timedelta(days=7)


def escalations_dispatch(*, now: datetime) -> None:
    """E-mails for open urgent alerts (safety answers, messages the patient marked urgent):
    the on-call contact at once, then every clinician of the clinic once the clinic's
    response target has passed without acknowledgement."""
    alerts = list(
        Alert.objects.filter(
            priority=Alert.Priority.URGENT,
            acknowledged_at__isnull=True,
            created_at__gte=now - ESCALATION_WINDOW,
        ).select_related("patient__clinic")
    )
    rows = []
    escalated = defaultdict(list)  # by clinic: alerts escalating for the first time
    clinics = {a.patient.clinic_id: a.patient.clinic for a in alerts}
    clinicians = defaultdict(list)
    for membership in StaffMembership.objects.filter(
        clinic_id__in=clinics, deactivated_at__isnull=True, user__is_active=True
    ).select_related("user"):
        clinicians[membership.clinic_id].append(membership.user)
    for alert in alerts:
        clinic = clinics[alert.patient.clinic_id]
        if clinic.on_call_email:
            rows.append(
                NewDelivery(
                    kind=Delivery.Kind.SAFETY_ONCALL,
                    subject_key=f"alert:{alert.pk}:oncall",
                    due_at=alert.created_at,
                    to_email=clinic.on_call_email,
                    patient_id=alert.patient_id,
                    alert_id=alert.pk,
                )
            )
        target = alert.created_at + timedelta(minutes=clinic.alert_response_minutes)
        if now >= target:
            if alert.escalated_at is None and clinicians[clinic.pk]:
                escalated[clinic.pk].append(alert.pk)
            rows += [
                NewDelivery(
                    kind=Delivery.Kind.SAFETY_ESCALATION,
                    subject_key=f"alert:{alert.pk}:user:{user.pk}",
                    due_at=target,
                    to_email=user.email,
                    patient_id=alert.patient_id,
                    alert_id=alert.pk,
                    recipient_id=user.pk,
                )
                for user in clinicians[clinic.pk]
            ]
    with transaction.atomic():
        # The alert records when it escalated and to whom (once; one statement a clinic).
        for clinic_id, alert_ids in escalated.items():
            Alert.objects.filter(pk__in=alert_ids, escalated_at__isnull=True).update(
                escalated_at=now,
                escalated_to=", ".join(sorted(user.email for user in clinicians[clinic_id])),
            )
        deliveries_insert(rows)


def digests_dispatch(*, now: datetime) -> None:
    """Each clinician's daily digest of the clinic's open alerts and of the conversations
    with messages nobody has opened (07:30 clinic time): how the care team hears of the
    messages written while the clinic was closed (dispatch/messages.py).

    Both are counted only for the clinics whose digest may be due now (a few hours a day),
    found from their zones first.
    """
    zones = Clinic.objects.order_by().values_list("tz", flat=True).distinct()
    due_zones = [tz for tz in zones if digest_due(tz=tz, now=now) is not None]
    if not due_zones:
        return
    open_by_clinic = dict(
        Alert.objects.filter(acknowledged_at__isnull=True, patient__clinic__tz__in=due_zones)
        .values("patient__clinic_id")
        .annotate(n=Count("id"))
        .values_list("patient__clinic_id", "n")
    )
    with_unread = set(
        MessageThread.objects.filter(staff_unread__gt=0, patient__clinic__tz__in=due_zones)
        .order_by()
        .values_list("patient__clinic_id", flat=True)
        .distinct()
    )
    rows = []
    members = StaffMembership.objects.filter(
        clinic_id__in={c for c, n in open_by_clinic.items() if n} | with_unread,
        deactivated_at__isnull=True,
        user__is_active=True,
    ).select_related("user", "clinic")
    for membership in members:
        due = digest_due(tz=membership.clinic.tz, now=now)
        if due is not None:
            rows.append(
                NewDelivery(
                    kind=Delivery.Kind.DIGEST,
                    subject_key=f"digest:user:{membership.user_id}:{due.date()}",
                    due_at=due,
                    to_email=membership.user.email,
                    recipient_id=membership.user_id,
                    day=local_date(due, membership.clinic.tz),
                )
            )
    deliveries_insert(rows)
