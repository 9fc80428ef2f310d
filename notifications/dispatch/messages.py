"""Notices of new messages: an e-mail to the other side of a thread, without its words.

A patient gets one when the care team has replied and the reply is unread; the care team
gets one when the patient wrote and nobody has opened the thread: the clinician it is
assigned to, or every clinician of the clinic if it is assigned to nobody, and only while
the clinic is open (its opening hours; a clinic without hours counts as open). Outside
them the thread waits for the inbox, the navigation's count and the response-target alert.

At most one notice per thread and recipient an hour: a thread that keeps getting messages
gets one notice, then another an hour later if there are still unread ones. Each notice is
keyed by the latest unread message (its time is the notice's due time), so a second tick
makes nothing new. A fixed number of statements, whatever the number of threads.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import OuterRef, Q, Subquery

from care.domain.clinic_hours import HoursInvalid, has_hours, is_open
from care.models import Message, MessageThread, Patient, StaffMembership
from notifications.dispatch.rows import NewDelivery, deliveries_insert
from notifications.models import Delivery

# One notice per thread and recipient in this span.
NOTICE_CAP = timedelta(hours=1)
# Messages older than this get no notice any more (the inbox and the alerts have them).
NOTICE_WINDOW = timedelta(days=7)


def _latest(*, from_patient: bool) -> tuple[Subquery, Subquery]:
    """The id and time of a thread's latest message from one side (never a staff note)."""
    latest = Message.objects.filter(
        thread=OuterRef("pk"), from_patient=from_patient, is_staff_note=False
    ).order_by("-created_at", "-id")
    return Subquery(latest.values("id")[:1]), Subquery(latest.values("created_at")[:1])


def _clinic_open(clinic, now: datetime) -> bool:
    try:
        week = clinic.week
    except (HoursInvalid, TypeError, ValueError):
        return True  # hours that cannot be read count as not given
    return not has_hours(week) or is_open(week, now, clinic.tz)


def message_notices_dispatch(*, now: datetime) -> int:
    """Make the notices due now; returns how many rows were made."""
    active = {
        "patient__status": Patient.Status.ACTIVE,
        "patient__user__is_active": True,
        "last_message_at__gte": now - NOTICE_WINDOW,
    }
    latest_reply, replied_at = _latest(from_patient=False)
    latest_message, written_at = _latest(from_patient=True)
    # One statement: the threads with unread messages on either side, each with the latest
    # message of the side that wrote them.
    unread = list(
        MessageThread.objects.filter(Q(patient_unread__gt=0) | Q(staff_unread__gt=0), **active)
        .annotate(
            reply_id=latest_reply,
            reply_at=replied_at,
            latest_id=latest_message,
            latest_at=written_at,
        )
        .select_related("patient__clinic", "patient__user")
    )
    to_patients = [
        (t.pk, t.patient_id, t.patient.user.email, t.reply_id, t.reply_at)
        for t in unread
        if t.patient_unread > 0 and t.reply_id is not None
    ]
    to_staff = [t for t in unread if t.staff_unread > 0 and t.latest_id is not None]
    thread_ids = [row[0] for row in to_patients] + [thread.pk for thread in to_staff]
    if not thread_ids:
        return 0
    # Who had a notice of which thread within the cap (a patient's: recipient empty).
    recent = set(
        Delivery.objects.filter(
            thread_id__in=thread_ids,
            kind__in=[Delivery.Kind.MESSAGE, Delivery.Kind.MESSAGE_STAFF],
            due_at__gt=now - NOTICE_CAP,
        ).values_list("thread_id", "recipient_id")
    )
    rows = [
        NewDelivery(
            kind=Delivery.Kind.MESSAGE,
            subject_key=f"message:{latest_id}:patient",
            due_at=latest_at,
            to_email=email,
            patient_id=patient_id,
            thread_id=thread_id,
        )
        for thread_id, patient_id, email, latest_id, latest_at in to_patients
        if (thread_id, None) not in recent
    ]
    open_threads = [t for t in to_staff if _clinic_open(t.patient.clinic, now)]
    clinicians = defaultdict(list)
    for membership in StaffMembership.objects.filter(
        clinic_id__in={t.patient.clinic_id for t in open_threads},
        deactivated_at__isnull=True,
        user__is_active=True,
    ).select_related("user"):
        clinicians[membership.clinic_id].append(membership.user)
    for thread in open_threads:
        team = clinicians[thread.patient.clinic_id]
        recipients = [u for u in team if u.pk == thread.assigned_to_id] or (
            team if thread.assigned_to_id is None else []
        )
        rows += [
            NewDelivery(
                kind=Delivery.Kind.MESSAGE_STAFF,
                subject_key=f"message:{thread.latest_id}:user:{user.pk}",
                due_at=thread.latest_at,
                to_email=user.email,
                patient_id=thread.patient_id,
                recipient_id=user.pk,
                thread_id=thread.pk,
            )
            for user in recipients
            if (thread.pk, user.pk) not in recent
        ]
    return deliveries_insert(rows)
