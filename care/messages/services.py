"""Writes of messages: start a thread, post to it, assign it, mark it handled or reopen it,
and mark it read. Each in a transaction, each with its audit row.

A message's words never leave its row: not in a log line, an audit row (the thread's opaque
id stands for it), an alert's reason, a task argument or a URL.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce

from care.alerts.services import alert_raise, message_waiting_alerts_answer
from care.audit.services import audit_record
from care.domain.messages import message_body, message_subject
from care.domain.rules import AlertDraft
from care.models import (
    Alert,
    AuditEvent,
    Message,
    MessageThread,
    Patient,
    StaffMembership,
    User,
)

logger = logging.getLogger(__name__)

URGENT_REASON = (
    "The patient marked a message as urgent and was shown the crisis resources. "
    "Read it in Messages."
)


class NotAllowed(ValueError):
    """A write this user may not make on this thread (views check access first: a bug)."""


@dataclass(frozen=True)
class Posted:
    message: Message
    alert: Alert | None  # the urgent alert the message raised, if it did


def _audit(thread: MessageThread, action: str, by: User, now: datetime) -> None:
    audit_record(
        action=action,
        what=AuditEvent.What.MESSAGE_THREAD,
        patient=thread.patient,
        object_id=thread.public_id,
        actor=by,
        now=now,
    )


def _is_staff_of(user: User, thread: MessageThread) -> bool:
    return StaffMembership.objects.filter(
        user=user,
        user__is_active=True,
        clinic_id=thread.patient.clinic_id,
        deactivated_at__isnull=True,
    ).exists()


def _raise_urgent(thread: MessageThread, message: Message, now: datetime) -> Alert | None:
    draft = AlertDraft(
        Alert.Kind.MESSAGE_URGENT, Alert.Priority.URGENT, f"message:{message.pk}", URGENT_REASON
    )
    return alert_raise(patient=thread.patient, draft=draft, now=now, message_thread=thread)


@transaction.atomic
def message_thread_start(
    *, patient: Patient, subject: str, body: str, urgent: bool, now: datetime
) -> Posted:
    """A new thread from the patient to their care team, with its first message.

    `urgent`: the patient answered "yes" to "Is this urgent?": an urgent alert is raised
    with the message (the patient is shown the crisis resources). Raises TextInvalid.
    """
    subject, body = message_subject(subject), message_body(body)
    thread = MessageThread.objects.create(
        patient=patient,
        subject=subject,
        created_by=patient.user,
        created_at=now,
        last_message_at=now,
        waiting_since=now,
        staff_unread=1,
        is_urgent=urgent,
    )
    message = Message.objects.create(
        thread=thread,
        author=patient.user,
        from_patient=True,
        is_urgent=urgent,
        body=body,
        created_at=now,
    )
    _audit(thread, AuditEvent.Action.SENT, patient.user, now)
    alert = _raise_urgent(thread, message, now) if urgent else None
    logger.info("Message thread %s started", thread.pk)
    return Posted(message=message, alert=alert)


@transaction.atomic
def message_post(
    *,
    thread: MessageThread,
    by: User,
    body: str,
    now: datetime,
    urgent: bool = False,
    staff_note: bool = False,
) -> Posted:
    """A message to the thread: the patient's (which reopens a handled thread), a care
    team member's reply, or a staff note (`staff_note`: seen by the care team only).

    Only the patient may mark a message `urgent` (an urgent alert is raised); only the care
    team of the patient's clinic may reply or add a note. Raises TextInvalid, NotAllowed.
    """
    body = message_body(body)
    from_patient = by.pk == thread.patient.user_id
    if from_patient and staff_note:
        raise NotAllowed("A patient cannot add a staff note.")
    if not from_patient and (urgent or not _is_staff_of(by, thread)):
        raise NotAllowed("Only the patient marks a message urgent; only their care team replies.")
    message = Message.objects.create(
        thread=thread,
        author=by,
        from_patient=from_patient,
        is_staff_note=staff_note,
        is_urgent=urgent,
        body=body,
        created_at=now,
    )
    threads = MessageThread.objects.filter(pk=thread.pk)
    if staff_note:
        _audit(thread, AuditEvent.Action.NOTE_ADDED, by, now)
        return Posted(message=message, alert=None)
    if from_patient:
        # One statement: a reply the care team sends at the same moment cannot be lost.
        changes = {
            "last_message_at": now,
            "staff_unread": F("staff_unread") + 1,
            "waiting_since": Coalesce(F("waiting_since"), Value(now)),
            "status": MessageThread.Status.OPEN,
            "handled_at": None,
            "handled_by": None,
        }
        if urgent:
            changes["is_urgent"] = True
        threads.update(**changes)
    else:
        threads.update(
            last_message_at=now, waiting_since=None, patient_unread=F("patient_unread") + 1
        )
        # The reply ends the wait: an alert that it was overdue is answered by it.
        message_waiting_alerts_answer(thread=thread, by=by, now=now)
    thread.refresh_from_db()
    _audit(thread, AuditEvent.Action.SENT, by, now)
    alert = _raise_urgent(thread, message, now) if urgent else None
    logger.info("Message %s posted to thread %s", message.pk, thread.pk)
    return Posted(message=message, alert=alert)


@transaction.atomic
def message_thread_read(*, thread: MessageThread, by: User, now: datetime) -> None:
    """`by` opened the thread: the patient (their replies are read; not audited, as their
    reads of their own record are not) or a member of the care team (the patient's messages
    are read for the whole team; audited, every time)."""
    threads = MessageThread.objects.filter(pk=thread.pk)
    if by.pk == thread.patient.user_id:
        threads.update(patient_unread=0, patient_read_at=now)
        thread.patient_unread, thread.patient_read_at = 0, now
        return
    threads.update(staff_unread=0)
    thread.staff_unread = 0
    _audit(thread, AuditEvent.Action.VIEWED, by, now)


@transaction.atomic
def message_thread_assign(
    *, thread: MessageThread, to: User | None, by: User, now: datetime
) -> MessageThread:
    """Give the thread to a clinician of the patient's clinic (None: to nobody)."""
    if to is not None and not _is_staff_of(to, thread):
        raise NotAllowed("Threads are assigned to the care team of the patient's clinic.")
    MessageThread.objects.filter(pk=thread.pk).update(assigned_to=to)
    thread.assigned_to = to
    _audit(thread, AuditEvent.Action.ASSIGNED, by, now)
    return thread


@transaction.atomic
def message_thread_handle(*, thread: MessageThread, by: User, now: datetime) -> bool:
    """Mark the thread handled; False (and nothing recorded) if it already was."""
    done = MessageThread.objects.filter(pk=thread.pk, status=MessageThread.Status.OPEN).update(
        status=MessageThread.Status.HANDLED, handled_at=now, handled_by=by
    )
    thread.refresh_from_db()
    if done:
        _audit(thread, AuditEvent.Action.HANDLED, by, now)
    return bool(done)


@transaction.atomic
def message_thread_reopen(*, thread: MessageThread, by: User, now: datetime) -> bool:
    """Open a handled thread again; False (and nothing recorded) if it was open."""
    done = MessageThread.objects.filter(pk=thread.pk, status=MessageThread.Status.HANDLED).update(
        status=MessageThread.Status.OPEN, handled_at=None, handled_by=None
    )
    thread.refresh_from_db()
    if done:
        _audit(thread, AuditEvent.Action.REOPENED, by, now)
    return bool(done)
