"""Writes of the notifications app: heartbeat, reminder preferences, deliveries.

Delivery follows DESIGN.md section 5: the dispatcher inserts `Delivery` rows for what is
due (a unique constraint makes it idempotent) and enqueues `send` after commit; the sender
claims its row by a conditional update, sends outside any transaction and marks it sent.
At-least-once: a crash after the mail server accepted and before the row is marked sent
sends the e-mail again when the lease expires (a narrow, documented window).
"""

import logging
import smtplib
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from functools import partial
from time import sleep

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from kombu.exceptions import OperationalError as BrokerError

from care.clock import local_date
from care.models import Alert, Assessment, CheckIn, Patient, StaffMembership, TreatmentSession
from care.rules import AlertDraft
from care.selectors import patient_instrument_codes
from care.services import alert_raise, checkin_submit
from care.trends import questionnaires_due

from .emails import (
    checkin_reminder_email,
    digest_email,
    questionnaire_reminder_email,
    session_reminder_email,
    staff_alert_email,
)
from .models import Delivery, Heartbeat, ReminderPreference
from .schedule import (
    QUESTIONNAIRE_WINDOW,
    ReminderSettings,
    checkin_reminder_due,
    checkin_time_for_day,
    digest_due,
    local_moment,
    pre_session_questionnaire_due,
    reminders_capped,
    session_reminder_due,
)

logger = logging.getLogger(__name__)

# A claim is held this long; a pending row waits as long for its broker message before the
# sweeper sends another (5 minutes unless DELIVERY_LEASE_SECONDS says otherwise).
LEASE = timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
# The wait after a first deferral (a minute unless DELIVERY_RETRY_SECONDS says otherwise).
RETRY = timedelta(seconds=settings.DELIVERY_RETRY_SECONDS)
MAX_ATTEMPTS = 6
BATCH = 500


class TransientSendError(Exception):
    """The mail server could not take the message now; try again later."""


def heartbeat_record(*, name: str, now: datetime) -> Heartbeat:
    """Record that `name` was seen working at `now`."""
    heartbeat, _ = Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": now})
    return heartbeat


def reminder_preference_for(patient: Patient) -> ReminderPreference:
    """The patient's reminder preference, created with the defaults if missing."""
    preference, _ = ReminderPreference.objects.get_or_create(patient=patient)
    return preference


def _settings(preference: ReminderPreference, tz: str) -> ReminderSettings:
    return ReminderSettings(
        tz=tz,
        email_enabled=preference.email_enabled,
        checkin_time=preference.checkin_time,
        quiet_start=preference.quiet_start,
        quiet_end=preference.quiet_end,
        paused_until=preference.paused_until,
        unsubscribed=tuple(preference.unsubscribed),
    )


def _enqueue(delivery_id: int) -> None:
    from .tasks import send_delivery

    try:
        send_delivery.delay(delivery_id)
    except BrokerError:
        # The row stays pending; the sweeper on the next tick sends it.
        logger.warning("Broker unavailable; delivery %s left for the sweeper", delivery_id)


def checkin_reminders_dispatch(
    *, now: datetime, after_pk: int = 0, batch: int = BATCH, until_pk: int | None = None
) -> int:
    """Create the daily check-in reminders due by `now` for one batch of patients.

    Patients are scanned in primary-key order from `after_pk`; returns the last key seen
    (0 when the scan is done), so callers can page through a large clinic network.
    """
    last_checkin = CheckIn.objects.filter(patient=OuterRef("pk")).order_by("-submitted_at")
    sent = Delivery.objects.filter(
        patient=OuterRef("pk"), kind=Delivery.Kind.CHECKIN, status=Delivery.Status.SENT
    )
    unanswered = (
        sent.filter(due_at__gt=Coalesce(OuterRef("last_checkin_at"), OuterRef("enrolled_at")))
        .values("patient")
        .annotate(n=Count("id"))
        .values("n")
    )
    candidates = Patient.objects.filter(
        pk__gt=after_pk,
        status=Patient.Status.ACTIVE,
        user__is_active=True,
        reminder_preference__email_enabled=True,
    )
    if until_pk is not None:
        candidates = candidates.filter(pk__lte=until_pk)
    patients = list(
        candidates.select_related("user", "reminder_preference")
        .annotate(
            last_checkin=Max("checkins__local_date"),
            last_checkin_at=Subquery(last_checkin.values("submitted_at")[:1]),
        )
        .annotate(
            unanswered=Coalesce(Subquery(unanswered), 0),
            last_sent_at=Subquery(sent.order_by("-due_at").values("due_at")[:1]),
        )
        .order_by("pk")[:batch]
    )
    sessions_today = defaultdict(list)
    for patient_id, at in TreatmentSession.objects.filter(
        patient_id__in=[p.pk for p in patients],
        status__in=[TreatmentSession.Status.SCHEDULED, TreatmentSession.Status.COMPLETED],
        scheduled_at__range=(now - timedelta(hours=36), now + timedelta(hours=36)),
    ).values_list("patient_id", "scheduled_at"):
        sessions_today[patient_id].append(at)
    rows = []
    for patient in patients:
        today = local_date(now, patient.tz)
        settings = _settings(patient.reminder_preference, patient.tz)
        session_at = max(
            (at for at in sessions_today[patient.pk] if local_date(at, patient.tz) == today),
            default=None,
        )
        settings = replace(
            settings, checkin_time=checkin_time_for_day(settings, session_at=session_at)
        )
        due = checkin_reminder_due(settings, now=now)
        if due is None or patient.last_checkin == today:
            continue
        last_sent_on = (
            local_date(patient.last_sent_at, patient.tz) if patient.last_sent_at else None
        )
        if reminders_capped(unanswered=patient.unanswered, last_sent_on=last_sent_on, today=today):
            _raise_capped_alert(patient, today, now)
            continue
        key = f"patient:{patient.pk}:{today}"  # one check-in reminder per local day
        rows.append(_patient_delivery(Delivery.Kind.CHECKIN, key, due, patient))
    _insert(rows)
    return patients[-1].pk if len(patients) == batch else 0


def _patient_delivery(kind: str, key: str, due: datetime, patient: Patient) -> Delivery:
    return Delivery(
        kind=kind, subject_key=key, due_at=due, patient=patient, to_email=patient.user.email
    )


def _raise_capped_alert(patient: Patient, today, now: datetime) -> None:
    year, week, _ = today.isocalendar()
    draft = AlertDraft(
        Alert.Kind.MISSED_CHECKINS,
        Alert.Priority.ROUTINE,
        f"reminders_capped:{year}-W{week:02d}",
        "Three check-in reminders in a row went unanswered; no more reminders are sent this "
        "week. Consider contacting the patient.",
    )
    alert_raise(patient=patient, draft=draft, now=now)


@transaction.atomic
def _insert(rows: list[Delivery]) -> None:
    """Insert what is not there yet and enqueue what is pending and due to be tried.

    A subject (a patient's day, a session's day, an alert's recipient, an episode) gets one
    delivery even if its due time moves (the patient changes the time, the session moves
    within the day): a row already made for it, unless skipped, stands.
    """
    if not rows:
        return
    taken = set(
        Delivery.objects.filter(
            subject_key__in={r.subject_key for r in rows}, kind__in={r.kind for r in rows}
        )
        .exclude(status=Delivery.Status.SKIPPED)
        .values_list("kind", "subject_key")
    )
    rows = [r for r in rows if (r.kind, r.subject_key) not in taken]
    if not rows:
        return
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    keys = Q()
    for row in rows:
        keys |= Q(kind=row.kind, subject_key=row.subject_key, due_at=row.due_at)
    for delivery_id in Delivery.objects.filter(keys, status=Delivery.Status.PENDING).values_list(
        "id", flat=True
    ):
        transaction.on_commit(partial(_enqueue, delivery_id))


def _due_for_attempt(now: datetime) -> Q:
    """Pending rows not held back by a deferral's backoff."""
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def deliveries_sweep(*, now: datetime, older_than: timedelta = LEASE) -> int:
    """Enqueue again rows left pending (a lost broker message, a deferral whose wait is
    over) or whose claim expired."""
    stuck = Delivery.objects.filter(
        Q(status=Delivery.Status.PENDING, created_at__lt=now - older_than) & _due_for_attempt(now)
        | Q(status=Delivery.Status.SENDING, lease_until__lt=now)
    ).values_list("id", flat=True)
    ids = list(stuck[:1000])
    for delivery_id in ids:
        _enqueue(delivery_id)
    return len(ids)


def delivery_send(*, delivery_id: int, now: datetime) -> str:
    """Claim, build, send and mark one delivery; returns its resulting status.

    Raises TransientSendError (the task retries) when the mail server defers.
    """
    claimed = Delivery.objects.filter(
        Q(status=Delivery.Status.PENDING) & _due_for_attempt(now)
        | Q(status=Delivery.Status.SENDING, lease_until__lt=now),
        id=delivery_id,
    ).update(status=Delivery.Status.SENDING, attempts=F("attempts") + 1, lease_until=now + LEASE)
    if not claimed:
        return "not claimed"  # sent already, or another worker holds it
    delivery = Delivery.objects.select_related("patient__user", "patient__clinic").get(
        id=delivery_id
    )
    if delivery.attempts > MAX_ATTEMPTS:
        # Every try ended without an outcome (the worker died, a time limit struck): a
        # message that kills its worker must not come back for ever.
        return _fail(delivery, f"gave up after {MAX_ATTEMPTS} attempts", now)
    try:
        if _no_longer_needed(delivery, now):
            _mark(delivery, Delivery.Status.SKIPPED)
            return Delivery.Status.SKIPPED
        message = _build(delivery)
    except Exception as exc:
        # Data the e-mail needs is gone or broken: fail visibly rather than loop.
        logger.exception("Delivery %s could not be prepared", delivery.id)
        return _fail(delivery, f"could not prepare: {type(exc).__name__}", now)
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            return _defer(delivery, f"recipient deferred {codes[0]}", now)
        return _fail(delivery, "recipient refused", now)
    except smtplib.SMTPSenderRefused as exc:
        if 400 <= exc.smtp_code < 500:
            return _defer(delivery, f"sender deferred {exc.smtp_code}", now)
        return _fail(delivery, "sender refused", now)
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            return _fail(delivery, f"permanent SMTP {exc.smtp_code}", now)
        return _defer(delivery, f"SMTP {exc.smtp_code}", now)
    except (smtplib.SMTPException, OSError) as exc:
        return _defer(delivery, type(exc).__name__, now)
    _mark_sent(delivery, now)
    return Delivery.Status.SENT


STAFF_KINDS = (Delivery.Kind.SAFETY_ONCALL, Delivery.Kind.SAFETY_ESCALATION)


def _no_longer_needed(delivery: Delivery, now: datetime) -> bool:
    if delivery.kind == Delivery.Kind.CHECKIN and delivery.patient is not None:
        day = local_date(delivery.due_at, delivery.patient.tz)
        return CheckIn.objects.filter(patient=delivery.patient, local_date=day).exists()
    if delivery.kind == Delivery.Kind.QUESTIONNAIRE and ":cycle:" in delivery.subject_key:
        anchor = delivery.subject_key.rsplit(":", 1)[1]
        codes = patient_instrument_codes(patient=delivery.patient)
        done = delivery.patient.assessments.filter(instrument__in=codes)
        if anchor != "never":
            next_day = date.fromisoformat(anchor) + timedelta(days=1)
            done = done.filter(
                completed_at__gte=local_moment(next_day, time(0), delivery.patient.tz)
            )
        return done.exists()  # a questionnaire was completed since: no need to remind
    if delivery.kind == Delivery.Kind.QUESTIONNAIRE:
        session = _session_of(delivery)
        if session is None or session.status != TreatmentSession.Status.SCHEDULED:
            return True
        settings = _settings(reminder_preference_for(delivery.patient), delivery.patient.tz)
        expected = pre_session_questionnaire_due(
            settings, session_at=session.scheduled_at, now=delivery.due_at
        )
        opens = session.scheduled_at - QUESTIONNAIRE_WINDOW
        return expected != delivery.due_at or _questionnaires_done_since(delivery.patient, opens)
    if delivery.kind == Delivery.Kind.SESSION:
        # Moved or cancelled since: this reminder no longer matches a booked session.
        session = _session_of(delivery)
        if session is None or session.status != TreatmentSession.Status.SCHEDULED:
            return True
        settings = _settings(reminder_preference_for(delivery.patient), delivery.patient.tz)
        expected = session_reminder_due(
            settings, session_at=session.scheduled_at, now=delivery.due_at
        )
        return expected != delivery.due_at
    if delivery.kind == Delivery.Kind.DIGEST:
        return not any(_open_alert_counts(delivery).values())
    if delivery.kind in STAFF_KINDS and delivery.alert_id is not None:
        # Someone acknowledged the alert meanwhile: nobody needs to be chased.
        return Alert.objects.filter(pk=delivery.alert_id, acknowledged_at__isnull=False).exists()
    return False


def _open_alert_counts(delivery: Delivery) -> dict[str, int]:
    """Open alerts by priority in the digest recipient's clinic."""
    user_id = int(delivery.subject_key.split(":")[2])
    membership = StaffMembership.objects.select_related("clinic").get(user_id=user_id)
    counts = dict(
        Alert.objects.filter(patient__clinic=membership.clinic, acknowledged_at__isnull=True)
        .values("priority")
        .annotate(n=Count("id"))
        .values_list("priority", "n")
    )
    return {
        p: counts.get(p, 0)
        for p in (Alert.Priority.URGENT, Alert.Priority.HIGH, Alert.Priority.ROUTINE)
    }


def _session_of(delivery: Delivery) -> TreatmentSession | None:
    # "session:<id>:<day>" or "questionnaire:session:<id>:<day>"
    parts = delivery.subject_key.split(":")
    session_id = int(parts[parts.index("session") + 1])
    return TreatmentSession.objects.filter(pk=session_id, patient=delivery.patient).first()


def _build(delivery: Delivery):
    if delivery.kind == Delivery.Kind.CHECKIN:
        return checkin_reminder_email(delivery)
    if delivery.kind in STAFF_KINDS:
        return staff_alert_email(delivery)
    if delivery.kind == Delivery.Kind.SESSION:
        return session_reminder_email(delivery, _session_of(delivery))
    if delivery.kind == Delivery.Kind.DIGEST:
        return digest_email(delivery, _open_alert_counts(delivery))
    if delivery.kind == Delivery.Kind.QUESTIONNAIRE:
        return questionnaire_reminder_email(delivery)
    raise ValueError(f"No e-mail builder for {delivery.kind}")


def _mark(delivery: Delivery, status: str, **fields) -> None:
    Delivery.objects.filter(id=delivery.id).update(status=status, lease_until=None, **fields)


# Waits between tries to record a send while the database is away (a restart, a failover):
# 15 s in all, within the send's soft time limit.
MARK_SENT_PAUSES = (0.5, 1, 2, 4, 8)


def _mark_sent(delivery: Delivery, now: datetime) -> None:
    """Record the send, riding out a short database outage: the mail server has the message,
    and a row left `sending` would be sent again once its claim expires."""
    for pause in MARK_SENT_PAUSES:
        try:
            _mark(delivery, Delivery.Status.SENT, sent_at=now)
            return
        except (OperationalError, InterfaceError):
            logger.warning("Delivery %s sent; database unavailable to record it", delivery.id)
            connection.close()  # the next try connects again
            sleep(pause)
    _mark(delivery, Delivery.Status.SENT, sent_at=now)


def _defer(delivery: Delivery, error: str, now: datetime) -> str:
    if delivery.attempts >= MAX_ATTEMPTS:
        return _fail(delivery, f"gave up after {delivery.attempts} attempts: {error}", now)
    # Exponential backoff (1, 2, 4, 8, 16 minutes), which the sweeper also respects.
    wait = RETRY * min(2 ** (delivery.attempts - 1), 30)
    _mark(delivery, Delivery.Status.PENDING, last_error=error[:300], next_attempt_at=now + wait)
    raise TransientSendError(error)


def _fail(delivery: Delivery, error: str, now: datetime) -> str:
    _mark(delivery, Delivery.Status.FAILED, last_error=error[:300])
    if delivery.patient is not None and delivery.kind not in STAFF_KINDS:
        draft = AlertDraft(
            Alert.Kind.DELIVERY_FAILURE,
            Alert.Priority.ROUTINE,
            f"delivery:{delivery.id}",
            f"A {delivery.get_kind_display().lower()} e-mail could not be delivered "
            f"({error}); check the patient's e-mail address.",
        )
        alert_raise(patient=delivery.patient, draft=draft, now=now)
    logger.warning("Delivery %s failed: %s", delivery.id, error)
    return Delivery.Status.FAILED


def reminder_unsubscribe(*, patient_id: int, kind: str) -> bool:
    """Stop one kind of reminder for a patient; False if it was already stopped (or the
    patient no longer exists)."""
    if not Patient.objects.filter(pk=patient_id).exists():
        return False
    with transaction.atomic():
        preference = (
            ReminderPreference.objects.select_for_update().filter(patient_id=patient_id).first()
        )
        if preference is None:
            preference = ReminderPreference.objects.create(patient_id=patient_id)
        if kind in preference.unsubscribed:
            return False
        preference.unsubscribed = [*preference.unsubscribed, kind]
        preference.save(update_fields=["unsubscribed"])
    return True


def reminder_preference_update(
    *, preference: ReminderPreference, values: dict, unsubscribed: list[str]
) -> ReminderPreference:
    """Save the patient's reminder settings."""
    for name, value in values.items():
        setattr(preference, name, value)
    preference.unsubscribed = unsubscribed
    preference.save()
    return preference


# Safety alerts older than this are past escalating by e-mail (the inbox still shows them).
ESCALATION_WINDOW = timedelta(days=7)


def escalations_dispatch(*, now: datetime) -> None:
    """E-mails for open safety alerts: the on-call contact at once, then every clinician
    of the clinic once the clinic's response target has passed without acknowledgement."""
    alerts = list(
        Alert.objects.filter(
            kind=Alert.Kind.SAFETY,
            acknowledged_at__isnull=True,
            created_at__gte=now - ESCALATION_WINDOW,
        ).select_related("patient__clinic")
    )
    rows = []
    clinics = {a.patient.clinic_id: a.patient.clinic for a in alerts}
    clinicians = defaultdict(list)
    for membership in StaffMembership.objects.filter(
        clinic_id__in=clinics, deactivated_at__isnull=True, user__is_active=True
    ).select_related("user"):
        clinicians[membership.clinic_id].append(membership.user)
    for alert in alerts:
        clinic = clinics[alert.patient.clinic_id]
        common = {"patient": alert.patient, "alert": alert}
        if clinic.on_call_email:
            rows.append(
                Delivery(
                    kind=Delivery.Kind.SAFETY_ONCALL,
                    subject_key=f"alert:{alert.pk}:oncall",
                    due_at=alert.created_at,
                    to_email=clinic.on_call_email,
                    **common,
                )
            )
        target = alert.created_at + timedelta(minutes=clinic.alert_response_minutes)
        if now >= target:
            rows += [
                Delivery(
                    kind=Delivery.Kind.SAFETY_ESCALATION,
                    subject_key=f"alert:{alert.pk}:user:{user.pk}",
                    due_at=target,
                    to_email=user.email,
                    **common,
                )
                for user in clinicians[clinic.pk]
            ]
    _insert(rows)


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


def session_reminders_dispatch(*, now: datetime) -> None:
    """ "Session tomorrow" reminders for sessions booked in the next two days."""
    sessions = _remindable_sessions(now=now, until=now + timedelta(days=2))
    rows = []
    for session in sessions:
        patient = session.patient
        settings = _settings(patient.reminder_preference, patient.tz)
        due = session_reminder_due(settings, session_at=session.scheduled_at, now=now)
        if due is not None:
            rows.append(
                _patient_delivery(
                    Delivery.Kind.SESSION,
                    f"session:{session.pk}:{local_date(session.scheduled_at, patient.tz)}",
                    due,
                    patient,
                )
            )
    _insert(rows)


def digests_dispatch(*, now: datetime) -> None:
    """Each clinician's daily digest of the clinic's open alerts (07:30 clinic time)."""
    open_by_clinic = dict(
        Alert.objects.filter(acknowledged_at__isnull=True)
        .values("patient__clinic_id")
        .annotate(n=Count("id"))
        .values_list("patient__clinic_id", "n")
    )
    rows = []
    members = StaffMembership.objects.filter(
        clinic_id__in=[c for c, n in open_by_clinic.items() if n],
        deactivated_at__isnull=True,
        user__is_active=True,
    ).select_related("user", "clinic")
    for membership in members:
        due = digest_due(tz=membership.clinic.tz, now=now)
        if due is not None:
            rows.append(
                Delivery(
                    kind=Delivery.Kind.DIGEST,
                    subject_key=f"digest:user:{membership.user_id}:{due.date()}",
                    due_at=due,
                    to_email=membership.user.email,
                )
            )
    _insert(rows)


class CheckInLinkInvalid(Exception):
    """The link is unknown, for another day, or was used already."""


def checkin_link_delivery(*, delivery_id: int, now: datetime) -> Delivery:
    """The daily reminder behind a check-in link, if the link is still good at `now`."""
    delivery = (
        Delivery.objects.select_related("patient__user", "patient__clinic")
        .filter(id=delivery_id, kind=Delivery.Kind.CHECKIN, link_used_at__isnull=True)
        .first()
    )
    if delivery is None or delivery.patient is None:
        raise CheckInLinkInvalid
    tz = delivery.patient.tz
    if local_date(now, tz) != local_date(delivery.due_at, tz):
        raise CheckInLinkInvalid  # valid until the end of the reminder's local day
    return delivery


@transaction.atomic
def checkin_link_use(*, delivery_id: int, values: dict, client_id, now: datetime):
    """Submit that day's check-in through the link, once."""
    delivery = checkin_link_delivery(delivery_id=delivery_id, now=now)
    claimed = Delivery.objects.filter(id=delivery.id, link_used_at__isnull=True).update(
        link_used_at=now
    )
    if not claimed:
        raise CheckInLinkInvalid
    return checkin_submit(patient=delivery.patient, values=values, client_id=client_id, now=now)


def opens_day(session: TreatmentSession, patient: Patient) -> date:
    """The session's local day, naming its pre-session questionnaire reminder."""
    return local_date(session.scheduled_at, patient.tz)


def _questionnaires_done_since(patient: Patient, since: datetime) -> bool:
    wanted = set(patient_instrument_codes(patient=patient))
    done = set(
        patient.assessments.filter(completed_at__gte=since).values_list("instrument", flat=True)
    )
    return wanted <= done


def questionnaire_reminders_dispatch(*, now: datetime) -> None:
    """ "Questionnaire due" reminders in the 48 hours before each booked session."""
    sessions = _remindable_sessions(now=now, until=now + QUESTIONNAIRE_WINDOW + timedelta(days=1))
    rows = []
    for session in sessions:
        patient = session.patient
        settings = _settings(patient.reminder_preference, patient.tz)
        due = pre_session_questionnaire_due(settings, session_at=session.scheduled_at, now=now)
        opens = session.scheduled_at - QUESTIONNAIRE_WINDOW
        if due is None or _questionnaires_done_since(patient, opens):
            continue
        rows.append(
            _patient_delivery(
                Delivery.Kind.QUESTIONNAIRE,
                f"questionnaire:session:{session.pk}:{opens_day(session, patient)}",
                due,
                patient,
            )
        )
    _insert(rows)


def maintenance_questionnaire_reminders_dispatch(
    *, now: datetime, after_pk: int = 0, batch: int = BATCH, until_pk: int | None = None
) -> int:
    """ "Questionnaire due" in maintenance: every 14 days (PCL-5: 28) when no session is
    booked in the next 48 hours. Returns the last key seen (0 when done), like the check-in
    dispatcher. One reminder per due episode (keyed by the last completion)."""
    candidates = Patient.objects.filter(
        pk__gt=after_pk,
        status=Patient.Status.ACTIVE,
        treatment_phase=Patient.Phase.MAINTENANCE,
        user__is_active=True,
        reminder_preference__email_enabled=True,
    )
    if until_pk is not None:
        candidates = candidates.filter(pk__lte=until_pk)
    patients = list(candidates.select_related("user", "reminder_preference").order_by("pk")[:batch])
    due_now = {}
    for patient in patients:
        settings = _settings(patient.reminder_preference, patient.tz)
        due = checkin_reminder_due(settings, now=now, kind=Delivery.Kind.QUESTIONNAIRE)
        if due is not None:
            due_now[patient.pk] = (patient, due)
    booked = set(
        TreatmentSession.objects.filter(
            patient_id__in=due_now,
            status=TreatmentSession.Status.SCHEDULED,
            scheduled_at__gt=now,
            scheduled_at__lte=now + QUESTIONNAIRE_WINDOW,
        ).values_list("patient_id", flat=True)
    )
    last = defaultdict(dict)
    for patient_id, code, at in (
        Assessment.objects.filter(patient_id__in=due_now)
        .values("patient_id", "instrument")
        .annotate(last=Max("completed_at"))
        .values_list("patient_id", "instrument", "last")
    ):
        last[patient_id][code] = at
    rows = []
    for patient_id, (patient, due) in due_now.items():
        if patient_id in booked:
            continue
        done = {code: local_date(at, patient.tz) for code, at in last[patient_id].items()}
        codes = questionnaires_due(
            patient_instrument_codes(patient=patient), done, today=local_date(now, patient.tz)
        )
        if not codes:
            continue
        anchor = min((done[c] for c in codes if c in done), default=None)
        rows.append(
            _patient_delivery(
                Delivery.Kind.QUESTIONNAIRE,
                f"questionnaire:cycle:{patient.pk}:{anchor or 'never'}",
                due,
                patient,
            )
        )
    # One reminder per episode (not one a day while it stays due).
    already = set(
        Delivery.objects.filter(
            kind=Delivery.Kind.QUESTIONNAIRE, subject_key__in=[r.subject_key for r in rows]
        ).values_list("subject_key", flat=True)
    )
    _insert([r for r in rows if r.subject_key not in already])
    return patients[-1].pk if len(patients) == batch else 0


def patient_batch_bounds(*, batch: int = BATCH) -> list[tuple[int, int]]:
    """(after, until] primary-key ranges of about `batch` patients, covering them all."""
    patients = Patient.objects.order_by("pk").values_list("pk", flat=True)
    bounds, after = [], 0
    while True:
        upper = list(patients.filter(pk__gt=after)[batch - 1 : batch])
        if not upper:
            last = patients.filter(pk__gt=after).last()
            if last is not None:
                bounds.append((after, last))
            return bounds
        bounds.append((after, upper[0]))
        after = upper[0]


def patient_batch_dispatch(*, after_pk: int, until_pk: int, now: datetime) -> None:
    """Daily check-in and maintenance questionnaire reminders for one range of patients."""
    for dispatch in (checkin_reminders_dispatch, maintenance_questionnaire_reminders_dispatch):
        after = after_pk
        while True:
            after = dispatch(now=now, after_pk=after, until_pk=until_pk)
            if not after:
                break


def enqueue_patient_batch(after_pk: int, until_pk: int, now: datetime) -> None:
    """Hand one range to any worker, so several share a large scan; inline if no broker."""
    from .tasks import dispatch_reminder_batch

    try:
        dispatch_reminder_batch.delay(after_pk, until_pk, now.isoformat())
    except BrokerError:
        logger.warning("Broker unavailable; dispatching patients %s-%s here", after_pk, until_pk)
        patient_batch_dispatch(after_pk=after_pk, until_pk=until_pk, now=now)
