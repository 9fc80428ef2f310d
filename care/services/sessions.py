"""Writes of treatment sessions: schedule, reschedule, cancel, record (with the BP rule)."""

from datetime import datetime

from django.db import transaction

from ..models import Alert, Patient, TreatmentSession, User
from ..rules import blood_pressure_alert
from .alerts import alert_raise


def session_schedule(
    *, patient: Patient, scheduled_at: datetime, route: str, by: User
) -> TreatmentSession:
    """Book a session."""
    return TreatmentSession.objects.create(
        patient=patient, scheduled_at=scheduled_at, route=route, recorded_by=by
    )


def session_reschedule(
    *, session: TreatmentSession, scheduled_at: datetime, route: str
) -> TreatmentSession:
    """Move a booked session (a cancelled one is booked again)."""
    session.scheduled_at = scheduled_at
    session.route = route
    session.status = TreatmentSession.Status.SCHEDULED
    session.save(update_fields=["scheduled_at", "route", "status"])
    return session


def session_cancel(*, session: TreatmentSession, status: str) -> TreatmentSession:
    """Mark a booked session cancelled or a no-show."""
    session.status = status
    session.save(update_fields=["status"])
    return session


@transaction.atomic
def session_record(
    *, session: TreatmentSession, values: dict, by: User, now: datetime
) -> tuple[TreatmentSession, Alert | None]:
    """Record what happened; a pre-dose blood pressure above the hold raises a high alert."""
    for name, value in values.items():
        setattr(session, name, value)
    session.status = TreatmentSession.Status.COMPLETED
    session.recorded_by = by
    session.save()
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
