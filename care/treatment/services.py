"""Writes of treatment sessions: schedule, reschedule, cancel, record (with the BP rule)."""

from datetime import datetime

from django.db import transaction

from care.alerts.services import alert_raise
from care.audit.services import audit_record
from care.domain.rules import blood_pressure_alert
from care.domain.session_rules import session_record_problems
from care.models import Alert, AuditEvent, Patient, TreatmentSession, User


def _audit(session: TreatmentSession, action: str, **actor) -> None:
    audit_record(
        action=action,
        what=AuditEvent.What.SESSION,
        patient=session.patient,
        object_id=session.pk,
        **actor,
    )


@transaction.atomic
def session_schedule(
    *, patient: Patient, scheduled_at: datetime, route: str, by: User
) -> TreatmentSession:
    """Book a session."""
    session = TreatmentSession.objects.create(
        patient=patient, scheduled_at=scheduled_at, route=route, recorded_by=by
    )
    _audit(session, AuditEvent.Action.CREATED, actor=by)
    return session


class SessionAlreadyRecorded(Exception):
    """A recorded (completed) session cannot be moved, cancelled or marked a no-show."""


@transaction.atomic
def session_reschedule(
    *, session: TreatmentSession, scheduled_at: datetime, route: str
) -> TreatmentSession:
    """Move a booked session (a cancelled one or a no-show is booked again)."""
    moved = (
        TreatmentSession.objects.filter(pk=session.pk)
        .exclude(status=TreatmentSession.Status.COMPLETED)
        .update(scheduled_at=scheduled_at, route=route, status=TreatmentSession.Status.SCHEDULED)
    )
    if not moved:
        raise SessionAlreadyRecorded
    session.refresh_from_db()
    _audit(session, AuditEvent.Action.CHANGED)
    return session


@transaction.atomic
def session_cancel(*, session: TreatmentSession, status: str) -> TreatmentSession:
    """Mark a booked session cancelled or a no-show (never one already recorded)."""
    changed = TreatmentSession.objects.filter(
        pk=session.pk, status=TreatmentSession.Status.SCHEDULED
    ).update(status=status)
    if not changed:
        raise SessionAlreadyRecorded
    session.refresh_from_db()
    cancelled = status == TreatmentSession.Status.CANCELLED
    _audit(session, AuditEvent.Action.CANCELLED if cancelled else AuditEvent.Action.CHANGED)
    return session


class SessionNotRecordable(ValueError):
    """The session has not started yet, or a monitoring time is after now; `errors` maps a
    field (`scheduled_at`, `monitoring_started_at`, `monitoring_ended_at`) to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@transaction.atomic
def session_record(
    *, session: TreatmentSession, values: dict, by: User, now: datetime
) -> tuple[TreatmentSession, Alert | None]:
    """Record what happened; a pre-dose blood pressure above the hold raises a high alert.

    Only from the session's start on and with no monitoring time after `now`
    (SessionNotRecordable), whoever writes: the record page, an API, a script.
    """
    problems = session_record_problems(
        scheduled_at=session.scheduled_at,
        monitoring_started_at=values.get("monitoring_started_at", session.monitoring_started_at),
        monitoring_ended_at=values.get("monitoring_ended_at", session.monitoring_ended_at),
        now=now,
        tz=session.patient.clinic.tz,
    )
    if problems:
        raise SessionNotRecordable(problems)
    for name, value in values.items():
        setattr(session, name, value)
    session.status = TreatmentSession.Status.COMPLETED
    session.recorded_by = by
    session.save()
    audit_record(
        action=AuditEvent.Action.RECORDED,
        what=AuditEvent.What.SESSION,
        patient=session.patient,
        object_id=session.pk,
        actor=by,
        now=now,
    )
    clinic = session.patient.clinic
    draft = blood_pressure_alert(
        session.bp_pre_systolic,
        session.bp_pre_diastolic,
        hold_systolic=clinic.bp_hold_systolic,
        hold_diastolic=clinic.bp_hold_diastolic,
    )
    alert = None
    if draft is not None:
        draft = type(draft)(draft.kind, draft.priority, f"bp:session{session.pk}", draft.reason)
        alert = alert_raise(patient=session.patient, draft=draft, now=now, session=session)
    return session, alert
