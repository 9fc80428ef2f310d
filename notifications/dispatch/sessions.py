"""Reminders about sessions: the booked session itself and the questionnaires before it, and
the reflection after a held one (the integration prompt)."""

import logging
from datetime import date, datetime, timedelta

from django.db.models import Exists, OuterRef, Q

from care.domain.clock import local_date
from care.models import (
    Patient,
    SessionReflection,
    TreatmentSession,
)
from notifications.dispatch.rows import NewDelivery, deliveries_insert
from notifications.models import Delivery, ReminderPreference
from notifications.preferences import reminder_settings
from notifications.schedule import (
    INTEGRATION_CLOSES,
    INTEGRATION_OPENS,
    QUESTIONNAIRE_WINDOW,
    integration_prompt_decision,
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


def _takes_reminders() -> Q:
    """The session's patient takes reminder e-mails, or some reminders by text (a patient
    without a reminder preference takes neither: the negation alone would let them in)."""
    takes_texts = Q(patient__reminder_preference__isnull=False) & ~Q(
        patient__reminder_preference__text_kinds=[]
    )
    return Q(patient__reminder_preference__email_enabled=True) | takes_texts


def _remindable_sessions(*, now: datetime, until: datetime):
    """Booked sessions in (now, until] of active patients who take reminder e-mails."""
    return (
        TreatmentSession.objects.filter(
            status=TreatmentSession.Status.SCHEDULED,
            scheduled_at__gt=now,
            scheduled_at__lte=until,
            patient__status=Patient.Status.ACTIVE,
            patient__user__is_active=True,
        )
        .filter(_takes_reminders())
        .select_related("patient__user", "patient__reminder_preference")
    )


SESSION_AHEAD = timedelta(days=2)


QUESTIONNAIRE_AHEAD = QUESTIONNAIRE_WINDOW + timedelta(days=1)


# How far back the held sessions are read for their reflection prompt: past the 72 hours (a
# prompt whose time falls later, moved out of quiet hours, is recorded skipped) by a day, so
# a stall of the dispatcher up to then leaves its prompts on record as skipped too.
HELD_LOOK_BACK = INTEGRATION_CLOSES + timedelta(days=1)


def _held_awaiting_prompt(*, now: datetime) -> Q:
    """Held sessions of the last HELD_LOOK_BACK, at least INTEGRATION_OPENS ago, with no
    prompt row yet (sent or skipped: one per session)."""
    prompted = Delivery.objects.filter(session=OuterRef("pk"), kind=Delivery.Kind.INTEGRATION)
    return Q(
        Q(status=TreatmentSession.Status.COMPLETED),
        Q(scheduled_at__gte=now - HELD_LOOK_BACK),
        Q(scheduled_at__lte=now - INTEGRATION_OPENS),
        Q(patient__reminder_preference__isnull=False),
        ~Exists(prompted),
    )


def _has_reflection(session: TreatmentSession) -> bool:
    try:
        return session.reflection is not None
    except SessionReflection.DoesNotExist:
        return False


def _dispatch_sessions(*, now: datetime, until: datetime):
    """In one read: the remindable booked sessions in (now, until], and the held sessions
    awaiting their reflection prompt (of active patients, whatever their e-mail settings:
    a prompt they do not take is recorded skipped, once per session)."""
    booked = Q(
        _takes_reminders(),
        status=TreatmentSession.Status.SCHEDULED,
        scheduled_at__gt=now,
        scheduled_at__lte=until,
    )
    return TreatmentSession.objects.filter(
        booked | _held_awaiting_prompt(now=now),
        patient__status=Patient.Status.ACTIVE,
        patient__user__is_active=True,
    ).select_related("patient__user", "patient__reminder_preference", "reflection")


def booked_session_reminders_dispatch(*, now: datetime) -> None:
    """session_reminders_dispatch, questionnaire_reminders_dispatch and
    integration_prompts_dispatch from one read of the sessions; the first error is raised
    once all ran."""
    sessions = list(
        _dispatch_sessions(now=now, until=now + max(SESSION_AHEAD, QUESTIONNAIRE_AHEAD))
    )
    errors = []
    for dispatch in (
        session_reminders_dispatch,
        questionnaire_reminders_dispatch,
        integration_prompts_dispatch,
    ):
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
    booked = TreatmentSession.Status.SCHEDULED
    return [s for s in sessions if s.status == booked and now < s.scheduled_at <= until]


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


def integration_prompts_dispatch(*, now: datetime, sessions: list | None = None) -> None:
    """The reflection prompt of each held session whose time has come
    (schedule.integration_prompt_decision): one row per session, to send or recorded
    skipped with the reason (also "already done": the reflection was written before its
    time). `sessions`: those of _dispatch_sessions, if read already."""
    if sessions is None:
        sessions = list(
            TreatmentSession.objects.filter(
                _held_awaiting_prompt(now=now),
                patient__status=Patient.Status.ACTIVE,
                patient__user__is_active=True,
            ).select_related("patient__user", "patient__reminder_preference", "reflection")
        )
    held = TreatmentSession.Status.COMPLETED
    rows = []
    for session in sessions:
        if session.status != held:
            continue
        patient = session.patient
        try:
            preference = patient.reminder_preference
        except ReminderPreference.DoesNotExist:  # none: not read (the query leaves them out)
            continue
        chosen = reminder_settings(preference, patient.tz)
        decision = integration_prompt_decision(chosen, session_at=session.scheduled_at, now=now)
        if decision is None:
            continue
        reason = decision.skip_reason
        if not reason and _has_reflection(session):
            reason = Delivery.SkipReason.ALREADY_DONE  # written before its time came
        day = local_date(session.scheduled_at, patient.tz)  # the session's day
        rows.append(
            _session_delivery(
                Delivery.Kind.INTEGRATION,
                f"integration:session:{session.pk}",
                decision.due,
                session,
                day,
                skip_reason=reason,
            )
        )
    deliveries_insert(rows)
