"""Writes of the notifications app: heartbeat, reminder preferences, the dispatcher.

Delivery (docs/delivery.md): the dispatcher (here) inserts `Delivery` rows for what
is due (a unique constraint makes it idempotent) and enqueues `send` after commit; the
sender (notifications.sending, whose public names this module also offers) claims its row
by a conditional update, sends outside any transaction and marks it sent.
At-least-once: a crash after the mail server accepted and before the row is marked sent
sends the e-mail again when the lease expires (a narrow, documented window).
"""

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import cache, partial
from itertools import batched
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max

from care.alerts.services import alert_raise
from care.domain.clock import local_date
from care.domain.rules import AlertDraft
from care.domain.trends import questionnaires_due
from care.models import (
    Alert,
    Assessment,
    AuditEvent,
    Clinic,
    Patient,
    StaffMembership,
    TreatmentSession,
)
from care.records.selectors import patient_instrument_codes
from care.records.services import checkin_submit
from notifications import sending
from notifications.models import Delivery, Heartbeat, ReminderPreference
from notifications.schedule import (
    QUESTIONNAIRE_WINDOW,
    ReminderDecision,
    ReminderSettings,
    checkin_reminder_decision,
    checkin_reminder_due,
    checkin_time_for_day,
    digest_due,
    look_back_start,
    pre_session_questionnaire_decision,
    reminders_capped,
    session_reminder_decision,
)
from notifications.selectors import Candidate, CapFacts, cap_facts, reminder_candidates
from notifications.sending import LEASE as LEASE
from notifications.sending import MAX_ATTEMPTS as MAX_ATTEMPTS
from notifications.sending import RETRY as RETRY
from notifications.sending import deliveries_send as deliveries_send
from notifications.sending import deliveries_sweep as deliveries_sweep
from notifications.sending import delivery_send as delivery_send
from notifications.sql import binding_cursor

logger = logging.getLogger(__name__)

BATCH = 2000


def heartbeat_record(*, name: str, now: datetime) -> None:
    """Record that `name` was seen working at `now` (one UPDATE once its row exists)."""
    if not Heartbeat.objects.filter(name=name).update(beat_at=now):
        Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": now})


def heartbeats_record(*, names: list[str], now: datetime) -> None:
    """heartbeat_record for each of `names`: one UPDATE for all once their rows exist."""
    if Heartbeat.objects.filter(name__in=names).update(beat_at=now) < len(set(names)):
        for name in names:
            heartbeat_record(name=name, now=now)


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


def _settings_of(candidate: Candidate) -> ReminderSettings:
    return ReminderSettings(
        tz=candidate.tz,
        checkin_time=candidate.checkin_time,
        quiet_start=candidate.quiet_start,
        quiet_end=candidate.quiet_end,
        paused_until=candidate.paused_until,
        unsubscribed=tuple(candidate.unsubscribed),
    )


PATIENT_KINDS = (Delivery.Kind.CHECKIN, Delivery.Kind.QUESTIONNAIRE)


def patient_reminders_dispatch(
    *,
    now: datetime,
    last_tick: datetime | None = None,
    patient_ids: list[int] | None = None,
    kinds: tuple = PATIENT_KINDS,
) -> int:
    """Create the daily check-in and maintenance questionnaire reminders (`kinds`) due by
    `now`, for the patients given or for all; returns how many were created.

    `last_tick`: the moment of the dispatcher's last tick (selectors.last_reminder_tick),
    None if none is on record. The check-in reminders due since then (or LATE_AFTER before
    `now`, whichever is earlier: schedule.look_back_start) are decided on, so those a stall
    dropped are recorded as skipped, too late.

    One query (selectors.reminder_candidates) finds the patients who may have one due, with
    what the rules need of them; the pure rules decide for each, in batches of BATCH, each
    batch one transaction with a fixed number of statements. A batch that fails does not
    hold back the others; the first error is raised at the end (the next tick tries the
    failed batch's patients again).
    """
    since = look_back_start(now=now, last_tick=last_tick)
    candidates = reminder_candidates(now=now, since=since, patient_ids=patient_ids)
    made, errors = 0, []
    for start in range(0, len(candidates), BATCH):
        try:
            made += _patient_batch(candidates[start : start + BATCH], now, since, kinds)
        except Exception as exc:
            logger.exception("A batch of reminder candidates failed")
            errors.append(exc)
    if errors:
        raise errors[0]
    return made


def checkin_reminders_dispatch(
    *, now: datetime, last_tick: datetime | None = None, patient_ids: list[int] | None = None
) -> int:
    """Create the daily check-in reminders due by `now` (for the patients given, or for
    all; `last_tick` as for patient_reminders_dispatch). Returns how many were created."""
    kinds = (Delivery.Kind.CHECKIN,)
    return patient_reminders_dispatch(
        now=now, last_tick=last_tick, patient_ids=patient_ids, kinds=kinds
    )


def _patient_batch(candidates: list[Candidate], now: datetime, since: datetime, kinds) -> int:
    rows = []
    if Delivery.Kind.CHECKIN in kinds:
        rows += _checkin_rows([c for c in candidates if c.checkin_open], now, since)
    if Delivery.Kind.QUESTIONNAIRE in kinds:
        rows += _maintenance_rows([c for c in candidates if c.questionnaire_open], now)
    # Neither kind has a reminder for its subject: the candidates' were left out when read.
    return _insert(rows, taken_known=True)


def _checkin_rows(
    candidates: list[Candidate], now: datetime, since: datetime
) -> list["NewDelivery"]:
    """The check-in reminders due of candidates neither checked in nor reminded today, and
    those whose time came but are not sent, as skipped rows with the reason (too late, quiet
    hours, unsubscribed, capped); the capped ones get the care team's weekly alert too.

    The loop is the dispatcher's per-patient work: the rule is worked out once per distinct
    setting, the local day once per zone.
    """
    today_of = cache(partial(local_date, now))  # the local day, by zone
    rule = _checkin_rule(now, since)
    due_now, maybe_capped, skipped = [], [], []
    for candidate in candidates:
        at = candidate.checkin_time
        if candidate.session_at is not None:
            at = checkin_time_for_day(_settings_of(candidate), session_at=candidate.session_at)
        decision = rule(
            candidate.tz,
            at,
            candidate.quiet_start,
            candidate.quiet_end,
            candidate.paused_until,
            tuple(candidate.unsubscribed) if candidate.unsubscribed else (),
        )
        if decision is None:
            continue
        if decision.skip_reason:
            skipped.append((candidate, decision.due, decision.skip_reason))
            continue
        due_now.append((candidate, decision.due))
        if _three_since(candidate, candidate.enrolled_at):
            maybe_capped.append(candidate.pk)
    # Capped only after three unanswered in a row: the others need no more reading.
    facts = cap_facts(patient_ids=maybe_capped)
    kind, rows, capped = Delivery.Kind.CHECKIN, [], []
    # The subject of the zone's day, to be filled in with the patient's key (made once).
    key_of = cache(lambda tz: _checkin_key("{}", today_of(tz)).format)
    for candidate, due in due_now:
        today = today_of(candidate.tz)
        key = key_of(candidate.tz)(candidate.pk)
        if candidate.pk in facts and _capped(candidate, facts[candidate.pk], today):
            capped.append((candidate.pk, today))
            skipped.append((candidate, due, Delivery.SkipReason.CAPPED))
            continue
        rows.append(NewDelivery(kind, key, due, candidate.email, candidate.pk, day=today))
    _raise_capped_alerts(capped, now)
    # A skip is recorded once: the day's row, skipped or not, keeps its patient from
    # being a candidate again that day (selectors._checkin_candidates).
    rows += [
        NewDelivery(
            kind,
            key_of(candidate.tz)(candidate.pk),
            due,
            candidate.email,
            candidate.pk,
            day=today_of(candidate.tz),
            status=Delivery.Status.SKIPPED,
            skip_reason=str(reason),
        )
        for candidate, due, reason in skipped
    ]
    return rows


def _checkin_rule(now: datetime, since: datetime):
    """`checkin_reminder_decision` at `now` (looking back to `since`), worked out once per
    distinct setting."""

    @cache
    def rule(tz, at, quiet_start, quiet_end, paused_until, unsubscribed) -> ReminderDecision | None:
        chosen = ReminderSettings(
            tz=tz,
            checkin_time=at,
            quiet_start=quiet_start,
            quiet_end=quiet_end,
            paused_until=paused_until,
            unsubscribed=unsubscribed,
        )
        return checkin_reminder_decision(chosen, now=now, since=since)

    return rule


def _three_since(candidate: Candidate, since: datetime) -> bool:
    """Whether the three latest sent check-in reminders all came after `since`."""
    return candidate.third_sent_at is not None and candidate.third_sent_at > since


def _capped(candidate: Candidate, facts: CapFacts, today: date) -> bool:
    # The count up to three is all the cap asks about (three in a row went unanswered).
    unanswered = 3 if _three_since(candidate, facts.last_checkin_at or candidate.enrolled_at) else 0
    last_sent_on = local_date(facts.last_sent_at, candidate.tz) if facts.last_sent_at else None
    return reminders_capped(unanswered=unanswered, last_sent_on=last_sent_on, today=today)


def _checkin_key(patient_id: int | str, today: date) -> str:
    return f"patient:{patient_id}:{today}"  # one check-in reminder per local day


class NewDelivery(NamedTuple):
    """A delivery row to insert (services._insert)."""

    kind: str
    subject_key: str
    due_at: datetime
    to_email: str
    patient_id: int | None = None
    alert_id: int | None = None
    # What else it is about (Delivery's columns of the same names): the session, the staff
    # member it goes to, the day. The subject key names the same things, only to be unique.
    session_id: int | None = None
    recipient_id: int | None = None
    day: date | None = None
    # A reminder the rules skip is a row too (status skipped, with the reason), never sent.
    status: str = Delivery.Status.PENDING
    skip_reason: str = ""


def _candidate_delivery(
    kind: str, key: str, due: datetime, candidate: Candidate, *, day: date | None
) -> NewDelivery:
    return NewDelivery(kind, key, due, candidate.email, patient_id=candidate.pk, day=day)


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


def _capped_cause(today: date) -> str:
    year, week, _ = today.isocalendar()
    return f"reminders_capped:{year}-W{week:02d}"


def _raise_capped_alerts(capped: list[tuple[int, date]], now: datetime) -> None:
    """The care team's alert for each capped patient, once a week (most have it already)."""
    if not capped:
        return
    raised = set(
        Alert.objects.filter(
            patient_id__in=[pk for pk, _ in capped],
            kind=Alert.Kind.MISSED_CHECKINS,
            cause__in={_capped_cause(today) for _, today in capped},
        ).values_list("patient_id", "cause")
    )
    new = [(pk, today) for pk, today in capped if (pk, _capped_cause(today)) not in raised]
    patients = Patient.objects.in_bulk([pk for pk, _ in new])
    for pk, today in new:
        draft = AlertDraft(
            Alert.Kind.MISSED_CHECKINS,
            Alert.Priority.ROUTINE,
            _capped_cause(today),
            "Three check-in reminders in a row went unanswered; no more reminders are sent "
            "this week. Consider contacting the patient.",
        )
        alert_raise(patient=patients[pk], draft=draft, now=now)


def _insert(rows: list[NewDelivery], *, taken_known: bool = False) -> int:
    """Insert what is not there yet and enqueue it after commit; returns how many rows were
    inserted.

    A subject (a patient's day, a session's day, an alert's recipient, an episode) gets one
    delivery even if its due time moves (the patient changes the time, the session moves
    within the day): a row already made for it, unless skipped, stands (`taken_known`: the
    caller left those out a moment ago). A fixed number of statements for up to BATCH rows;
    the sends go out in chunks of DELIVERY_SEND_CHUNK ids, one message each.

    Nearly always none of the rows is there yet (the callers left out the subjects taken),
    so they go in with plain INSERTs, a third cheaper than ones that first look for each
    row; if one is there after all (a tick alongside), the transaction is done again,
    leaving those alone.
    """
    if not rows:
        return 0
    try:
        return _insert_in_transaction(rows, taken_known, if_missing=False)
    except IntegrityError:
        return _insert_in_transaction(rows, taken_known, if_missing=True)


def _insert_in_transaction(rows: list[NewDelivery], taken_known: bool, if_missing: bool) -> int:
    with transaction.atomic():
        inserted = []
        for chunk in map(list, batched(rows, BATCH)):
            if not taken_known:
                chunk = _not_taken(chunk)
            if chunk:
                inserted += _insert_new(chunk, if_missing=if_missing)
        for delivery_ids in map(list, batched(sorted(inserted), settings.DELIVERY_SEND_CHUNK)):
            transaction.on_commit(partial(sending._enqueue_chunk, delivery_ids))
    return len(inserted)


def _not_taken(rows: list[NewDelivery]) -> list[NewDelivery]:
    """The rows whose subject is free: a reminder to send, unless one was made (a row
    skipped at send time, e.g. "the session moved", leaves the subject to a reminder at
    another time); a skip, unless any row was made (one record of a skip, not one a
    tick). A reminder due at the very time of a recorded skip meets the unique
    (kind, subject, due time) and is not made: a skip, once recorded, stands."""
    made: dict[tuple[str, str], bool] = {}
    for kind, key, status in Delivery.objects.filter(
        subject_key__any_of=list({r.subject_key for r in rows}),
        kind__in={r.kind for r in rows},
    ).values_list("kind", "subject_key", "status"):
        made[kind, key] = made.get((kind, key), False) or status != Delivery.Status.SKIPPED
    return [
        r
        for r in rows
        if (r.kind, r.subject_key) not in made
        or (r.status != Delivery.Status.SKIPPED and not made[r.kind, r.subject_key])
    ]


# One statement per kind in a batch on PostgreSQL: the values travel as a few arrays, in
# binary (%b), and the new ids come back. created_at is the column's default, the
# database's clock (never the inserting worker's: the sweeper reads it by that clock).
# The rows to send, all of one status (the last parameter) and without a skip reason: the
# arrays of the common case only.
INSERT_NEW = """
    INSERT INTO notifications_delivery
        (kind, subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id,
         day, status, skip_reason, attempts, last_error)
    SELECT %b, subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id,
        day, %b, '', 0, ''
    FROM unnest(
        %b::varchar[], %b::timestamptz[], %b::varchar[], %b::bigint[], %b::bigint[],
        %b::bigint[], %b::bigint[], %b::date[]
    ) AS new (subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id, day)
"""
INSERT_ALL = INSERT_NEW + " RETURNING id"
# The same, leaving alone a row already there (the unique kind, subject and due time).
INSERT_MISSING = INSERT_NEW + " ON CONFLICT DO NOTHING RETURNING id"
# Skipped rows (never sent: no ids back), each with its reason: a statement more only in a
# batch that has skips (nearly always it has none).
INSERT_SKIPPED_NEW = """
    INSERT INTO notifications_delivery
        (kind, subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id,
         day, status, skip_reason, attempts, last_error)
    SELECT %b, subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id,
        day, %b, skip_reason, 0, ''
    FROM unnest(
        %b::varchar[], %b::timestamptz[], %b::varchar[], %b::bigint[], %b::bigint[],
        %b::bigint[], %b::bigint[], %b::date[], %b::varchar[]
    ) AS new (
        subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id, day,
        skip_reason
    )
"""
INSERT_SKIPPED_MISSING = INSERT_SKIPPED_NEW + " ON CONFLICT DO NOTHING"


def _insert_new(rows: list[NewDelivery], *, if_missing: bool = True) -> list[int]:
    """Insert the rows (only those not there yet, by kind, subject and due time, if
    `if_missing`; else a row there already is an IntegrityError); the ids of the new rows to
    send (the skipped ones are inserted, not sent)."""
    inserted = []
    pending = Delivery.Status.PENDING
    with binding_cursor() as cursor:
        for kind, status in sorted({(r.kind, r.status) for r in rows}):
            of_kind = [r for r in rows if r.kind == kind and r.status == status]
            _, *columns, _, reasons = map(list, zip(*of_kind, strict=True))
            if status == pending:
                statement = INSERT_MISSING if if_missing else INSERT_ALL
                cursor.execute(statement, [str(kind), str(status), *columns])
                inserted += [delivery_id for (delivery_id,) in cursor.fetchall()]
            else:
                statement = INSERT_SKIPPED_MISSING if if_missing else INSERT_SKIPPED_NEW
                reasons = [str(reason) for reason in reasons]
                cursor.execute(statement, [str(kind), str(status), *columns, reasons])
    return inserted


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
        chosen = _settings(patient.reminder_preference, patient.tz)
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
    _insert(rows)


def digests_dispatch(*, now: datetime) -> None:
    """Each clinician's daily digest of the clinic's open alerts (07:30 clinic time).

    The open alerts are counted only for the clinics whose digest may be due now (a few
    hours a day), found from their zones first.
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
                NewDelivery(
                    kind=Delivery.Kind.DIGEST,
                    subject_key=f"digest:user:{membership.user_id}:{due.date()}",
                    due_at=due,
                    to_email=membership.user.email,
                    recipient_id=membership.user_id,
                    day=local_date(due, membership.clinic.tz),
                )
            )
    _insert(rows)


class CheckInLinkInvalid(Exception):
    """The link is unknown, for another day, or was used already."""


def checkin_link_delivery(*, delivery_id: int, now: datetime) -> tuple[Delivery, Patient]:
    """The daily reminder behind a check-in link, and its patient, if the link is still good
    at `now`."""
    delivery = (
        Delivery.objects.select_related("patient__user", "patient__clinic")
        .filter(id=delivery_id, kind=Delivery.Kind.CHECKIN, link_used_at__isnull=True)
        .first()
    )
    patient = delivery.patient if delivery is not None else None
    if delivery is None or patient is None:
        raise CheckInLinkInvalid
    tz = patient.tz
    if local_date(now, tz) != local_date(delivery.due_at, tz):
        raise CheckInLinkInvalid  # valid until the end of the reminder's local day
    return delivery, patient


@transaction.atomic
def checkin_link_use(*, delivery_id: int, values: dict, client_id, now: datetime):
    """Submit that day's check-in through the link, once.

    The audit trail names the patient the link was sent to, by the channel "e-mailed link,
    not signed in": whoever holds the link is not known to be the patient.
    """
    delivery, patient = checkin_link_delivery(delivery_id=delivery_id, now=now)
    claimed = Delivery.objects.filter(id=delivery.id, link_used_at__isnull=True).update(
        link_used_at=now
    )
    if not claimed:
        raise CheckInLinkInvalid
    return checkin_submit(
        patient=patient,
        values=values,
        client_id=client_id,
        now=now,
        channel=AuditEvent.Channel.LINK,
    )


def opens_day(session: TreatmentSession, patient: Patient) -> date:
    """The session's local day, naming its pre-session questionnaire reminder."""
    return local_date(session.scheduled_at, patient.tz)


def _questionnaires_done_since(patient: Patient, since: datetime) -> bool:
    wanted = set(patient_instrument_codes(patient=patient))
    done = set(
        patient.assessments.filter(completed_at__gte=since).values_list("instrument", flat=True)
    )
    return wanted <= done


def questionnaire_reminders_dispatch(*, now: datetime, sessions: list | None = None) -> None:
    """ "Questionnaire due" reminders in the 48 hours before each booked session."""
    sessions = _sessions_until(sessions, now=now, until=now + QUESTIONNAIRE_AHEAD)
    rows = []
    for session in sessions:
        patient = session.patient
        chosen = _settings(patient.reminder_preference, patient.tz)
        decision = pre_session_questionnaire_decision(
            chosen, session_at=session.scheduled_at, now=now
        )
        if decision is None:
            continue
        reason = decision.skip_reason
        opens = session.scheduled_at - QUESTIONNAIRE_WINDOW
        if not reason and _questionnaires_done_since(patient, opens):
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
    _insert(rows)


def maintenance_questionnaire_reminders_dispatch(
    *, now: datetime, patient_ids: list[int] | None = None
) -> int:
    """ "Questionnaire due" in maintenance: every 14 days (PCL-5: 28) when no session is
    booked in the next 48 hours (for the patients given, or for all). One reminder per due
    episode (keyed by the last completion). Returns how many were created."""
    kinds = (Delivery.Kind.QUESTIONNAIRE,)
    return patient_reminders_dispatch(now=now, patient_ids=patient_ids, kinds=kinds)


def _maintenance_rows(candidates: list[Candidate], now: datetime) -> list["NewDelivery"]:
    """The maintenance questionnaire reminders due of candidates who may have one due, less
    those whose episode was reminded already."""
    due_now = {}
    for candidate in candidates:
        if candidate.treatment_phase != Patient.Phase.MAINTENANCE:
            continue
        chosen = _settings_of(candidate)
        due = checkin_reminder_due(chosen, now=now, kind=Delivery.Kind.QUESTIONNAIRE)
        if due is not None:
            due_now[candidate.pk] = (candidate, due)
    if not due_now:
        return []
    booked = set(
        TreatmentSession.objects.filter(
            patient_id__any_of=list(due_now),
            status=TreatmentSession.Status.SCHEDULED,
            scheduled_at__gt=now,
            scheduled_at__lte=now + QUESTIONNAIRE_WINDOW,
        ).values_list("patient_id", flat=True)
    )
    last: defaultdict[int, dict[str, datetime]] = defaultdict(dict)
    for patient_id, code, at in (
        Assessment.objects.filter(patient_id__any_of=list(due_now.keys() - booked))
        .values("patient_id", "instrument")
        .annotate(last=Max("completed_at"))
        .values_list("patient_id", "instrument", "last")
    ):
        last[patient_id][code] = at
    rows = []
    for patient_id, (candidate, due) in due_now.items():
        if patient_id in booked:
            continue
        done = {code: local_date(at, candidate.tz) for code, at in last[patient_id].items()}
        codes = questionnaires_due(
            patient_instrument_codes(patient=candidate.as_patient()),
            done,
            today=local_date(now, candidate.tz),
        )
        if not codes:
            continue
        anchor = min((done[c] for c in codes if c in done), default=None)
        rows.append(
            _candidate_delivery(
                Delivery.Kind.QUESTIONNAIRE,
                f"questionnaire:cycle:{patient_id}:{anchor or 'never'}",
                due,
                candidate,
                day=anchor,
            )
        )
    # One reminder per episode (not one a day while it stays due), skipped or not.
    already = set(
        Delivery.objects.filter(
            kind=Delivery.Kind.QUESTIONNAIRE, subject_key__any_of=[r.subject_key for r in rows]
        ).values_list("subject_key", flat=True)
    )
    return [r for r in rows if r.subject_key not in already]
