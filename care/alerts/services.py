"""Writes of alerts: raise (deduplicated), run the rules when data arrives and hourly,
acknowledge."""

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max

from care.alerts.selectors import WaitingThread, threads_waiting_for_reply
from care.audit.services import audit_record
from care.domain.clinic_hours import CLOSED_WEEK, HoursInvalid, Week, week_from_json
from care.domain.clock import local_date
from care.domain.reply_target import message_waiting_alert
from care.domain.rules import (
    AlertDraft,
    ScorePoint,
    booster_alerts,
    missed_checkins_alert,
    worsening_alerts,
)
from care.domain.trends import TrendPoint, rolling_average
from care.models import (
    Alert,
    Assessment,
    AuditEvent,
    CheckIn,
    Invitation,
    MessageThread,
    Patient,
    TreatmentSession,
    User,
)
from care.models.sessions import first_treatment

logger = logging.getLogger(__name__)


# Induction ends three weeks after the first IV / IM session (six infusions over two to
# three weeks), four weeks after the first esketamine one (twice weekly for four weeks).
def induction_length(route: str) -> timedelta:
    return timedelta(days=28 if route == TreatmentSession.Route.INTRANASAL else 21)


class AlertAlreadyAcknowledged(Exception):
    """Someone acknowledged the alert first."""


def alert_raise(
    *, patient: Patient, draft: AlertDraft, now: datetime, again_after_ack: bool = False, **source
) -> Alert | None:
    """Create the alert unless the same patient, kind and cause already has one.

    Causes name what raised them (an assessment, a session, the start of a silence), so by
    default an acknowledged alert is not raised again for the same data. With
    `again_after_ack` (safety), only an open alert holds a new one back. `source` may name
    the checkin, assessment or session. Returns the new alert, or None.
    """
    same = Alert.objects.filter(patient=patient, kind=draft.kind, cause=draft.cause)
    if again_after_ack:
        same = same.filter(acknowledged_at__isnull=True)
    if same.exists():
        return None
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                patient=patient,
                kind=draft.kind,
                priority=draft.priority,
                cause=draft.cause,
                reason=draft.reason,
                created_at=now,
                **source,
            )
    except IntegrityError:
        return None  # a parallel request raised the same alert a moment ago
    # The id only: kind and priority next to a patient id would tell a log reader about,
    # say, a self-harm answer.
    logger.info("Alert %s raised", alert.id)
    return alert


def account_started_at(patient: Patient) -> datetime:
    """When the patient could first check in: the invitation's use, else enrollment."""
    used = (
        Invitation.objects.filter(user_id=patient.user_id, used_at__isnull=False)
        .order_by("used_at")
        .values_list("used_at", flat=True)
        .first()
    )
    return used or patient.enrolled_at


def assessment_alerts_run(*, assessment: Assessment, now: datetime) -> list[Alert]:
    """The worsening and top-band rules for a newly stored questionnaire."""
    earlier = [
        ScorePoint(at, total)
        for at, total in Assessment.objects.filter(
            patient=assessment.patient,
            instrument=assessment.instrument,
            total__isnull=False,
            superseded_by__isnull=True,
        )
        .exclude(pk=assessment.pk)
        .values_list("completed_at", "total")
        if total is not None  # none is (total__isnull=False): for the type checker
    ]
    if assessment.total is None:
        return []
    first = first_treatment(patient=assessment.patient)
    drafts = worsening_alerts(
        assessment.instrument,
        earlier,
        ScorePoint(assessment.completed_at, assessment.total),
        first_session_at=first.scheduled_at if first else None,
        induction_ends_at=first.scheduled_at + induction_length(first.route) if first else None,
    )
    raised = [
        alert_raise(patient=assessment.patient, draft=d, now=now, assessment=assessment)
        for d in drafts
    ]
    return [a for a in raised if a is not None]


def daily_alerts_run(*, patient: Patient, now: datetime) -> list[Alert]:
    """Missed check-ins and "booster may be due" for one patient, at `now`."""
    if patient.status != Patient.Status.ACTIVE or not patient.user.is_active:
        return []
    today = local_date(now, patient.tz)
    last = CheckIn.objects.filter(patient=patient).aggregate(last=Max("local_date"))["last"]
    drafts = []
    missed = missed_checkins_alert(
        last_checkin_on=last,
        counting_from=local_date(account_started_at(patient), patient.tz),
        today=today,
        days=patient.clinic.missed_checkin_days,
    )
    if missed:
        drafts.append(missed)
    first, latest_phq9 = first_treatment(patient=patient), None
    if first is not None:
        induction_end = first.scheduled_at + induction_length(first.route)
        if patient.treatment_phase == Patient.Phase.MAINTENANCE or now >= induction_end:
            rows = list(
                Assessment.objects.filter(
                    patient=patient,
                    instrument="phq9",
                    completed_at__gte=first.scheduled_at,
                    total__isnull=False,
                    superseded_by__isnull=True,
                )
                .order_by("completed_at")
                .values_list("pk", "completed_at", "total")
            )
            # (total__isnull=False above: the test only narrows the type)
            phq9 = [ScorePoint(at, total) for _, at, total in rows if total is not None]
            # One alert per fact: a score whose worsening alert already says a booster may be
            # due raises no "booster may be due" of its own. A safety alert on the same score
            # (item 9) is another fact and does not count.
            latest_phq9 = rows[-1][0] if rows else None
            if (
                latest_phq9
                and Alert.objects.filter(
                    assessment_id=latest_phq9,
                    kind__in=[Alert.Kind.WORSENING, Alert.Kind.BOOSTER_DUE],
                ).exists()
            ):
                phq9 = []
            moods = [
                TrendPoint(day, mood)
                for day, mood in CheckIn.objects.filter(
                    patient=patient, local_date__gte=local_date(induction_end, patient.tz)
                ).values_list("local_date", "mood")
            ]
            averages = [(p.day, p.value) for p in rolling_average(moods)]
            drafts += booster_alerts(
                phq9_since_first_session=phq9,
                induction_ends_at=induction_end,
                mood_averages=averages,
            )
    raised = [
        alert_raise(
            patient=patient,
            draft=d,
            now=now,
            assessment_id=latest_phq9 if d.cause.startswith("booster:phq9:") else None,
        )
        for d in drafts
    ]
    return [a for a in raised if a is not None]


def _acknowledge(*, alert: Alert, by: User, action: str, note: str, now: datetime) -> bool:
    """Acknowledge one open alert, with its own audit row; False if it was no longer open."""
    updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=by, action=action, action_note=note
    )
    if not updated:
        return False
    alert.refresh_from_db()
    audit_record(
        action=AuditEvent.Action.ACKNOWLEDGED,
        what=AuditEvent.What.ALERT,
        patient=alert.patient,
        object_id=alert.pk,
        actor=by,
        now=now,
    )
    logger.info("Alert %s acknowledged by user %s", alert.id, by.id)
    return True


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by: User, action: str, note: str, now: datetime) -> Alert:
    """Record who acknowledged the alert, when, and what was done. Once only."""
    if not _acknowledge(alert=alert, by=by, action=action, note=note, now=now):
        raise AlertAlreadyAcknowledged
    return alert


@transaction.atomic
def alerts_acknowledge(
    *, alert: Alert, also: Sequence[Alert], by: User, action: str, note: str, now: datetime
) -> list[Alert]:
    """Acknowledge `alert` and, with the same action and note, the related open safety
    alerts `also` (of the same patient); each gets its own acknowledgement and audit row.

    Raises ValueError if one of `also` is not a safety alert of the patient (nothing is
    written), AlertAlreadyAcknowledged if `alert` was; a related alert someone else
    acknowledged meanwhile keeps their record. Returns the alerts acknowledged here.
    """
    if any(
        a.pk == alert.pk
        or a.patient_id != alert.patient_id
        or a.kind != Alert.Kind.SAFETY
        or alert.kind != Alert.Kind.SAFETY
        for a in also
    ):
        raise ValueError("Only the patient's other safety alerts can be acknowledged together.")
    done = [alert_acknowledge(alert=alert, by=by, action=action, note=note, now=now)]
    for related in also:
        if _acknowledge(alert=related, by=by, action=action, note=note, now=now):
            done.append(related)
    return done


def _stored_week(opening_hours: object) -> Week:
    """A clinic's opening hours as stored; a value the forms would refuse (written some
    other way) counts as none given, so the target is counted on the clock."""
    try:
        return week_from_json(opening_hours)  # type: ignore[arg-type]  # checked by the parse
    except (HoursInvalid, TypeError, ValueError, AttributeError):
        return CLOSED_WEEK


def _waiting_alert(row: WaitingThread, week: Week, now: datetime) -> Alert | None:
    draft = message_waiting_alert(
        thread_id=row.thread_id,
        waiting_since=row.waiting_since,
        hours=row.hours,
        week=week,
        tz=row.tz,
        now=now,
    )
    if draft is None:
        return None
    return Alert(
        patient_id=row.patient_id,
        kind=draft.kind,
        priority=draft.priority,
        cause=draft.cause,
        reason=draft.reason,
        created_at=now,
        message_thread_id=row.thread_id,
    )


def message_waiting_alerts_run(*, now: datetime) -> list[Alert]:
    """A routine "Message waiting for a reply" alert for every open thread whose patient has
    waited past the clinic's response target (care/domain/reply_target.py), once per waiting
    episode. A fixed number of queries whatever the number of threads: one read of the
    candidates with their clinics' targets and hours, one insert of the new alerts."""
    weeks: dict[int, Week] = {}
    alerts = []
    for row in threads_waiting_for_reply(now=now):
        if row.clinic_id not in weeks:
            weeks[row.clinic_id] = _stored_week(row.opening_hours)
        alert = _waiting_alert(row, weeks[row.clinic_id], now)
        if alert is not None:
            alerts.append(alert)
    if not alerts:
        return []
    try:
        with transaction.atomic():
            raised = Alert.objects.bulk_create(alerts)
    except IntegrityError:
        # A parallel run raised some of them a moment ago: one at a time, skipping those.
        again = (
            alert_raise(
                patient=alert.patient,
                draft=AlertDraft(alert.kind, alert.priority, alert.cause, alert.reason),
                now=now,
                message_thread_id=alert.message_thread_id,
            )
            for alert in alerts
        )
        return [alert for alert in again if alert is not None]
    for alert in raised:
        logger.info("Alert %s raised", alert.id)
    return raised


@transaction.atomic
def message_waiting_alerts_answer(*, thread: MessageThread, by: User, now: datetime) -> int:
    """The care team replied to the thread: its open "Message waiting for a reply" alerts
    are acknowledged by the one who replied, with the action "Replied in Messages" (each
    with its audit row). Returns how many."""
    waiting = Alert.objects.filter(
        message_thread=thread, kind=Alert.Kind.MESSAGE_WAITING, acknowledged_at__isnull=True
    )
    return sum(
        _acknowledge(alert=alert, by=by, action=Alert.Action.REPLIED, note="", now=now)
        for alert in waiting
    )


def daily_alerts_run_all(*, now: datetime) -> int:
    """Run the hourly rules: the daily ones for every active patient, and the response
    target of every clinic's waiting messages; returns how many alerts were raised."""
    patients = (
        Patient.objects.filter(status=Patient.Status.ACTIVE, user__is_active=True)
        .select_related("clinic", "user")
        .order_by("pk")
    )
    raised = sum(len(daily_alerts_run(patient=p, now=now)) for p in patients.iterator(2000))
    return raised + len(message_waiting_alerts_run(now=now))
