"""Reminders about booked sessions: the session itself and the questionnaires before it."""

import logging
from datetime import date, datetime, timedelta

from care.domain.clock import local_date
from care.models import (
    Patient,
    TreatmentSession,
)
from notifications.dispatch.rows import NewDelivery, deliveries_insert
from notifications.models import Delivery
from notifications.preferences import reminder_settings
from notifications.schedule import (
    QUESTIONNAIRE_WINDOW,
    pre_session_questionnaire_decision,
    session_reminder_decision,
)
from notifications.selectors import questionnaires_done_since

logger = logging.getLogger(__name__)


def _session_delivery(
    kind: str, key: str, due: datetime, session: TreatmentSession, day: date, *, skip_reason=""
) -> NewDelivery:
    """A reminder row about the patient's `session` (on the local `day`): to send, or
    recorded as skipped if `skip_reason`."""
    patient = session.patient
    status = Delivery.Status.SKIPPED if skip_reason else Delivery.Status.PENDING
    return NewDelivery(
        kind,
        key,
        due,
        patient.user.email,
        patient_id=patient.pk,
        session_id=session.pk,
        day=day,
        status=status,
        skip_reason=str(skip_reason),
    )


def _remindable_sessions(*, now: datetime, until: datetime):
    """Booked sessions in (now, until] of active patients who take reminder e-mails."""
    return TreatmentSession.objects.filter(
        status=TreatmentSession.Status.SCHEDULED,
        scheduled_at__gt=now,
        scheduled_at__lte=until,
        patient__status=Patient.Status.ACTIVE,
        patient__user__is_active=True,
        patient__reminder_preference__email_enabled=True,
    ).select_related("patient__user", "patient__reminder_preference")


SESSION_AHEAD = timedelta(days=2)


QUESTIONNAIRE_AHEAD = QUESTIONNAIRE_WINDOW + timedelta(days=1)


def booked_session_reminders_dispatch(*, now: datetime) -> None:
    """session_reminders_dispatch and questionnaire_reminders_dispatch from one read of the
    booked sessions; the first error is raised once both ran."""
    sessions = list(
        _remindable_sessions(now=now, until=now + max(SESSION_AHEAD, QUESTIONNAIRE_AHEAD))
    )
    errors = []
    for dispatch in (session_reminders_dispatch, questionnaire_reminders_dispatch):
        try:
            dispatch(now=now, sessions=sessions)
        except Exception as exc:
            logger.exception("Reminders of booked sessions failed")
            errors.append(exc)
    if errors:
        raise errors[0]


def _sessions_until(sessions: list | None, *, now: datetime, until: datetime):
    """The remindable sessions booked in (now, until], from `sessions` if read already."""
    if sessions is None:
        return _remindable_sessions(now=now, until=until)
    return [session for session in sessions if now < session.scheduled_at <= until]


def session_reminders_dispatch(*, now: datetime, sessions: list | None = None) -> None:
    """ "Session tomorrow" reminders for sessions booked in the next two days."""
    sessions = _sessions_until(sessions, now=now, until=now + SESSION_AHEAD)
    rows = []
    for session in sessions:
        patient = session.patient
        chosen = reminder_settings(patient.reminder_preference, patient.tz)
        decision = session_reminder_decision(chosen, session_at=session.scheduled_at, now=now)
        if decision is not None:
            day = local_date(session.scheduled_at, patient.tz)
            rows.append(
                _session_delivery(
                    Delivery.Kind.SESSION,
                    f"session:{session.pk}:{day}",
                    decision.due,
                    session,
                    day,
                    skip_reason=decision.skip_reason,
                )
            )
    deliveries_insert(rows)


def opens_day(session: TreatmentSession, patient: Patient) -> date:
    """The session's local day, naming its pre-session questionnaire reminder."""
    return local_date(session.scheduled_at, patient.tz)


def questionnaire_reminders_dispatch(*, now: datetime, sessions: list | None = None) -> None:
    """ "Questionnaire due" reminders in the 48 hours before each booked session."""
    sessions = _sessions_until(sessions, now=now, until=now + QUESTIONNAIRE_AHEAD)
    rows = []
    for session in sessions:
        patient = session.patient
        chosen = reminder_settings(patient.reminder_preference, patient.tz)
        decision = pre_session_questionnaire_decision(
            chosen, session_at=session.scheduled_at, now=now
        )
        if decision is None:
            continue
        reason = decision.skip_reason
        opens = session.scheduled_at - QUESTIONNAIRE_WINDOW
        if not reason and questionnaires_done_since(patient, opens):
            reason = Delivery.SkipReason.ALREADY_DONE
        day = opens_day(session, patient)
        rows.append(
            _session_delivery(
                Delivery.Kind.QUESTIONNAIRE,
                f"questionnaire:session:{session.pk}:{day}",
                decision.due,
                session,
                day,
                skip_reason=reason,
            )
        )
    deliveries_insert(rows)
