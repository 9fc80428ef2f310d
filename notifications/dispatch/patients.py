"""The dispatcher's daily reminders to patients: check-ins and maintenance questionnaires."""

import logging
from collections import defaultdict
from datetime import date, datetime
from functools import cache, partial

from django.db.models import Max

from care.alerts.services import alert_raise
from care.domain.clock import local_date
from care.domain.rules import AlertDraft
from care.domain.trends import questionnaires_due
from care.models import (
    Alert,
    Assessment,
    Patient,
    TreatmentSession,
)
from care.records.selectors import patient_instrument_codes
from notifications.dispatch.rows import NewDelivery, deliveries_insert
from notifications.models import Delivery
from notifications.schedule import (
    QUESTIONNAIRE_WINDOW,
    ReminderDecision,
    ReminderSettings,
    checkin_reminder_decision,
    checkin_reminder_due,
    checkin_time_for_day,
    look_back_start,
    reminders_capped,
)
from notifications.selectors import (
    Candidate,
    CapFacts,
    cap_facts,
    reminder_candidate_batches,
)

logger = logging.getLogger(__name__)


BATCH = 2000


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

    One query (selectors.reminder_candidate_batches) finds the patients who may have one
    due, with what the rules need of them, and the database hands them over BATCH at a time
    (this process never holds more, however many patients fall due at once); the pure rules
    decide for each batch, one transaction with a fixed number of statements. A batch that
    fails does not hold back the others; the first error is raised at the end (the next tick
    tries the failed batch's patients again).
    """
    since = look_back_start(now=now, last_tick=last_tick)
    batches = reminder_candidate_batches(now=now, since=since, patient_ids=patient_ids, size=BATCH)
    made, errors = 0, []
    for candidates in batches:
        try:
            made += _patient_batch(candidates, now, since, kinds)
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
    return deliveries_insert(rows, taken_known=True)


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


def _candidate_delivery(
    kind: str, key: str, due: datetime, candidate: Candidate, *, day: date | None
) -> NewDelivery:
    return NewDelivery(kind, key, due, candidate.email, patient_id=candidate.pk, day=day)


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
