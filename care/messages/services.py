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
from care.common.phones import phone_display
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


class CallNotPossible(ValueError):
    """The patient has no phone number, or has not agreed to be called."""


CALL_REQUEST_SUBJECT = "Please call me"


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


@dataclass(frozen=True)
class CallRequest:
    thread: MessageThread
    # False: an earlier request of the patient was still waiting for the care team, and
    # stands; `sent` says whether its details changed since and were added to it.
    created: bool
    sent: bool


def call_request_body(patient: Patient) -> str:
    """What a "Please call me" message says: the number to call as it is dialled in the
    clinic's country (the mobile, else the other; the other too when both are given), the
    patient's best times if they gave them, and what they agreed to."""
    country = patient.clinic.country
    which = "mobile" if patient.phone_mobile else "other phone"
    lines = [
        "Please call me.",
        f"Number: {phone_display(patient.phone, country)} ({which})",
    ]
    if patient.phone_mobile and patient.phone_other:
        lines.append(f"Other number: {phone_display(patient.phone_other, country)}")
    if patient.contact_times.strip():
        lines.append(f"Best times to call: {patient.contact_times.strip()}")
    lines.append(f"Agrees to be called: {'yes' if patient.may_call else 'no'}")
    lines.append(f"Agrees to text messages: {'yes' if patient.may_text else 'no'}")
    return "\n".join(lines)


@transaction.atomic
def message_call_request(*, patient: Patient, now: datetime) -> CallRequest:
    """The patient asks their care team to call them: a thread "Please call me" whose one
    message gives their number, best times and consent (an ordinary message, not urgent:
    the clinic's response target applies). While an earlier request is open and waiting
    for the care team, that one stands: a second tap sends nothing, unless the details
    changed since (a new number, say), which are then added to it as a message.

    The number is only in the message (read by the care team in the app): never in a log
    line, an audit row, an e-mail or an address. Raises CallNotPossible without a number or
    without the patient's agreement to calls.
    """
    # One request at a time, even from two taps at once: the patient's row is the lock.
    patient = (
        Patient.objects.select_for_update().select_related("clinic", "user").get(pk=patient.pk)
    )
    if not patient.phone or not patient.may_call:
        raise CallNotPossible("Add a phone number and agree to calls in Contact details.")
    waiting = (
        patient.message_threads.filter(
            subject=CALL_REQUEST_SUBJECT,
            status=MessageThread.Status.OPEN,
            waiting_since__isnull=False,
        )
        .order_by("-created_at", "-id")
        .first()
    )
    body = call_request_body(patient)
    if waiting is not None:
        last = (
            waiting.messages.filter(from_patient=True)
            .order_by("-created_at", "-id")
            .values_list("body", flat=True)
            .first()
        )
        if last == body:
            return CallRequest(thread=waiting, created=False, sent=False)
        message_post(thread=waiting, by=patient.user, body=body, now=now)
        return CallRequest(thread=waiting, created=False, sent=True)
    posted = message_thread_start(
        patient=patient, subject=CALL_REQUEST_SUBJECT, body=body, urgent=False, now=now
    )
    return CallRequest(thread=posted.message.thread, created=True, sent=True)
