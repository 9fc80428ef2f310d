"""Writes of treatment sessions: schedule (checked against the clinic's hours, chairs and the
patient's other bookings), reschedule, cancel, record (with the BP rule); the care team's
answer to a patient's request to move a session; of treatment plans: a new version, answering
an alert; of the patient's body weight; and the patient's side of a session: the readiness
check, a request to move it, the reflection after it."""

import zoneinfo
from collections.abc import Mapping, Sequence
from contextlib import suppress
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from care.alerts.services import AlertAlreadyAcknowledged, alert_acknowledge, alert_raise
from care.audit.services import FROM_REQUEST, audit_record
from care.domain.booking import (
    Problem,
    booking_problems,
    free_chair,
    nearest_free_slots,
    out_of_range,
)
from care.domain.dates import weekday_moment
from care.domain.dosing import lb_from_kg, tenth, weight_in_kg
from care.domain.patient_plan import not_ready_reasons, readiness_opens_at, readiness_window
from care.domain.reflections import REFLECTION_FIELDS, reflection_open, reflection_problems
from care.domain.rules import AlertDraft, blood_pressure_alert
from care.domain.session_rules import session_record_problems
from care.models import (
    Alert,
    AuditEvent,
    BodyWeight,
    Clinic,
    Patient,
    SessionMoveRequest,
    SessionReadiness,
    SessionReflection,
    StaffMembership,
    TreatmentPlan,
    TreatmentPlanVersion,
    TreatmentSession,
    User,
)
from care.models.plans import WEIGHT_KG_MAX, WEIGHT_KG_MIN
from care.treatment.selectors import booking_rules, clinic_bookings


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
    *,
    patient: Patient,
    scheduled_at: datetime,
    route: str,
    by: User,
    override_reason: str = "",
    now: datetime | None = None,
) -> TreatmentSession:
    """Book a session in the lowest free chair (care.domain.booking). Raises BookingConflict
    (nothing written) outside the clinic's hours, with no chair free or the patient already
    booked that day, unless `override_reason` says why it is booked anyway: then it is kept,
    audited "booked despite a conflict", and the session takes a chair only if one is free."""
    now = now or timezone.now()
    chair, reason = _book(
        patient=patient, scheduled_at=scheduled_at, override_reason=override_reason, now=now
    )
    session = TreatmentSession.objects.create(
        patient=patient,
        scheduled_at=scheduled_at,
        route=route,
        recorded_by=by,
        chair=chair,
        override_reason=reason,
    )
    _audit(session, AuditEvent.Action.CREATED, actor=by)
    _audit_override(session, by=by, now=now)
    return session


class SessionAlreadyRecorded(Exception):
    """A recorded (completed) session cannot be moved, cancelled or marked a no-show."""


@transaction.atomic
def session_reschedule(
    *,
    session: TreatmentSession,
    scheduled_at: datetime,
    route: str,
    override_reason: str = "",
    by: User | None = None,
    now: datetime | None = None,
) -> TreatmentSession:
    """Move a booked session (a cancelled one or a no-show is booked again), checked as
    `session_schedule` checks a booking (BookingConflict unless `override_reason`); its
    chair is chosen again."""
    now = now or timezone.now()
    current = TreatmentSession.objects.select_for_update().filter(pk=session.pk).first()
    if current is None or current.status == TreatmentSession.Status.COMPLETED:
        raise SessionAlreadyRecorded
    chair, reason = _book(
        patient=session.patient,
        scheduled_at=scheduled_at,
        override_reason=override_reason,
        now=now,
        exclude=[session.pk],
    )
    TreatmentSession.objects.filter(pk=session.pk).update(
        scheduled_at=scheduled_at,
        route=route,
        status=TreatmentSession.Status.SCHEDULED,
        chair=chair,
        override_reason=reason,
    )
    session.refresh_from_db()
    _audit(session, AuditEvent.Action.CHANGED)
    _audit_override(session, by=by, now=now)
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


# The fields of a plan version a person gives (the rest: who, when, why, which alert).
PLAN_VALUE_FIELDS = (
    "route",
    "induction_sessions",
    "induction_weeks",
    "target_dose_mg_per_kg",
    "target_dose_mg",
    "maintenance",
    "maintenance_every_weeks",
    "questionnaires",
    "questionnaire_every_days",
    "goals",
    "prescriber",
)

# The alerts a change of plan can answer.
PLAN_ANSWERABLE_ALERTS = (Alert.Kind.BOOSTER_DUE, Alert.Kind.WORSENING)


@transaction.atomic
def treatment_plan_version_create(
    *,
    patient: Patient,
    by: User,
    now: datetime,
    values: Mapping[str, object],
    reason_code: str,
    reason: str,
    answered_alert: Alert | None = None,
) -> TreatmentPlanVersion:
    """Add a version to the patient's plan (making the plan with the first one): the plan as
    it stands from now on, who changed it, when and why. Versions are never changed.

    The first version's reason is "first plan"; every later one names a change reason and says
    why in words. `answered_alert`, a "booster may be due" or "worsening" alert of the patient
    still open, is acknowledged "plan adjusted" in the same transaction.

    Raises ValidationError (nothing written) for values a clinician would refuse, a missing
    reason, a prescriber outside the patient's clinic, or an alert that is not the patient's,
    not of those kinds, or no longer open.
    """
    if set(values) - set(PLAN_VALUE_FIELDS):
        raise ValueError(f"Unknown plan fields: {sorted(set(values) - set(PLAN_VALUE_FIELDS))}")
    plan, _created = TreatmentPlan.objects.select_for_update().get_or_create(
        patient=patient, defaults={"created_at": now}
    )
    last = plan.versions.order_by("-number").first()
    reason = reason.strip()
    errors: dict[str, str] = {}
    if last is None:
        reason_code = reason_code or TreatmentPlanVersion.Reason.FIRST
    else:
        if reason_code not in TreatmentPlanVersion.CHANGE_REASONS:
            errors["reason_code"] = "Choose why the plan changes."
        if not reason:
            errors["reason"] = "Say why the plan changes."
    if answered_alert is not None and (
        answered_alert.patient_id != patient.pk
        or answered_alert.kind not in PLAN_ANSWERABLE_ALERTS
        or answered_alert.acknowledged_at is not None
    ):
        errors["answered_alert"] = (
            "This alert is not an open booster or worsening alert of the patient."
        )
    version = TreatmentPlanVersion(
        plan=plan,
        number=(last.number + 1) if last else 1,
        created_by=by,
        created_at=now,
        reason_code=reason_code,
        reason=reason,
        answered_alert=answered_alert,
        **values,
    )
    try:
        version.full_clean(exclude=["plan", "created_by", "answered_alert"])
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}  # type: ignore[dict-item]
    prescriber = values.get("prescriber")
    if (
        isinstance(prescriber, User)
        and not StaffMembership.objects.filter(
            user=prescriber,
            clinic_id=patient.clinic_id,
            deactivated_at__isnull=True,
            user__is_active=True,
        ).exists()
    ):
        errors["prescriber"] = "The prescriber is a member of the patient's clinic."
    if errors:
        raise ValidationError(errors)
    version.save()
    audit_record(
        action=AuditEvent.Action.CREATED if last is None else AuditEvent.Action.CHANGED,
        what=AuditEvent.What.TREATMENT_PLAN,
        patient=patient,
        object_id=version.pk,
        actor=by,
        now=now,
    )
    if answered_alert is not None:
        try:
            alert_acknowledge(
                alert=answered_alert,
                by=by,
                action=Alert.Action.PLAN_ADJUSTED,
                note=f"Treatment plan version {version.number}",
                now=now,
            )
        except AlertAlreadyAcknowledged:  # acknowledged meanwhile: write nothing
            transaction.set_rollback(True)
            raise ValidationError(
                {"answered_alert": "This alert was acknowledged meanwhile."}
            ) from None
    return version


WEIGHT_OUT_OF_RANGE = (
    "Enter a weight between {low} and {high} kg ({low_lb} to {high_lb} lb); check the unit."
)


@transaction.atomic
def weight_record(
    *, patient: Patient, value: Decimal, unit: str, measured_on: date, by: User, now: datetime
) -> BodyWeight:
    """Keep a measured weight, typed in kg or lb, in kg to one decimal (care/domain/dosing.py).

    Raises ValidationError (nothing written) for an unknown unit, a date after the clinic's
    today, or a weight outside 20-350 kg once converted (a slip of the keyboard or the unit).
    """
    errors: dict[str, str] = {}
    if unit not in BodyWeight.Unit.values:
        errors["unit"] = "Choose kg or lb."
    if measured_on > patient.clinic.local_date(now):
        errors["measured_on"] = "The date cannot be in the future."
    entered = tenth(value)
    if "unit" not in errors:
        kg = weight_in_kg(entered, unit)
        if not WEIGHT_KG_MIN <= kg <= WEIGHT_KG_MAX:
            errors["value"] = WEIGHT_OUT_OF_RANGE.format(
                low=WEIGHT_KG_MIN,
                high=WEIGHT_KG_MAX,
                low_lb=lb_from_kg(WEIGHT_KG_MIN).to_integral_value(ROUND_FLOOR),
                high_lb=lb_from_kg(WEIGHT_KG_MAX).to_integral_value(ROUND_FLOOR),
            )
    if errors:
        raise ValidationError(errors)
    weight = BodyWeight.objects.create(
        patient=patient,
        weight_kg=kg,
        entered_value=entered,
        entered_unit=unit,
        measured_on=measured_on,
        recorded_by=by,
        created_at=now,
    )
    audit_record(
        action=AuditEvent.Action.CREATED,
        what=AuditEvent.What.WEIGHT,
        patient=patient,
        object_id=weight.pk,
        actor=by,
        now=now,
    )
    return weight


class ReflectionAlreadyWritten(Exception):
    """A session has one reflection; a second is refused."""


class ReflectionNotOpen(Exception):
    """The session is not held, or its reflection's 14 days are over (or not begun)."""


@transaction.atomic
def reflection_submit(
    *, session: TreatmentSession, values: Mapping[str, str], now: datetime
) -> SessionReflection:
    """The patient's reflection on a held session (care.domain.reflections): what came up,
    how they feel now, anything to tell the care team. One per session, never changed.

    Raises ReflectionNotOpen (not held, or outside its 14 days), ReflectionAlreadyWritten
    (one exists), or ValidationError for the words (all empty, or too long); nothing is
    written then.
    """
    held = session.status == TreatmentSession.Status.COMPLETED
    if not reflection_open(held=held, session_at=session.scheduled_at, now=now):
        raise ReflectionNotOpen
    cleaned = {name: str(values.get(name, "")).strip() for name in REFLECTION_FIELDS}
    problems = reflection_problems(cleaned)
    if problems:
        raise ValidationError(problems)
    if SessionReflection.objects.filter(session=session).exists():
        raise ReflectionAlreadyWritten
    try:
        with transaction.atomic():  # a second written at the same moment: the unique session
            reflection = SessionReflection.objects.create(
                session=session, created_at=now, **cleaned
            )
    except IntegrityError:
        raise ReflectionAlreadyWritten from None
    audit_record(
        action=AuditEvent.Action.CREATED,
        what=AuditEvent.What.REFLECTION,
        patient=session.patient,
        object_id=reflection.pk,
        now=now,
    )
    return reflection


class SessionNotOpen(Exception):
    """The session is no longer booked, has started, or (the readiness check) is more than
    two days ahead; `message` says which, in words for the patient."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReadinessAlreadyAnswered(Exception):
    """The session's readiness check is answered already (once per session, never changed)."""


class MoveRequestPending(Exception):
    """The session already has a request to move it waiting for the care team."""


READINESS_FIELDS = (
    "ride_arranged",
    "fasting_understood",
    "feeling_well",
    "new_medicines",
    "new_medicines_details",
)


def _locked_booked_session(session: TreatmentSession, now: datetime) -> TreatmentSession:
    """The session's row, locked, if still booked and not yet started (else SessionNotOpen)."""
    locked = TreatmentSession.objects.select_for_update().get(pk=session.pk)
    if locked.status != TreatmentSession.Status.SCHEDULED:
        raise SessionNotOpen("This session is no longer booked.")
    if now >= locked.scheduled_at:
        raise SessionNotOpen("This session has started.")
    return locked


def _session_moment(session: TreatmentSession) -> str:
    """'Wed, May 6, 10:00' in the clinic's zone (for the care team's alert reasons)."""
    return weekday_moment(
        session.scheduled_at.astimezone(zoneinfo.ZoneInfo(session.patient.clinic.tz))
    )


@transaction.atomic
def readiness_submit(
    *, session: TreatmentSession, values: Mapping[str, object], now: datetime, by_link: bool
) -> tuple[SessionReadiness, Alert | None]:
    """Save the patient's readiness check for a coming session: once per session, within the
    two days before it starts (`care.domain.patient_plan.readiness_window`).

    `by_link`: answered through the reminder's e-mailed link, not signed in (audited with
    the channel "e-mailed link"). A "not ready" answer (no ride, fasting not understood, not
    feeling well, or a new medicine) raises a routine `not_ready` alert for the session,
    whose reason lists which answers, never the patient's words.

    Raises SessionNotOpen, ReadinessAlreadyAnswered, or ValidationError for bad values.
    """
    if set(values) - set(READINESS_FIELDS):
        raise ValueError(f"Unknown readiness fields: {sorted(set(values) - set(READINESS_FIELDS))}")
    session = _locked_booked_session(session, now)
    if readiness_window(scheduled_at=session.scheduled_at, now=now) == "not_yet":
        opens = readiness_opens_at(session.scheduled_at).astimezone(
            zoneinfo.ZoneInfo(session.patient.tz)
        )
        raise SessionNotOpen(f"The readiness check opens on {weekday_moment(opens)}.")
    if SessionReadiness.objects.filter(session=session).exists():
        raise ReadinessAlreadyAnswered
    readiness = SessionReadiness(session=session, by_link=by_link, answered_at=now, **values)
    readiness.new_medicines_details = readiness.new_medicines_details.strip()
    if not readiness.new_medicines:
        readiness.new_medicines_details = ""
    errors: dict[str, list[str]] = {}
    try:
        readiness.full_clean(exclude=["session"])
    except ValidationError as exc:
        errors = exc.message_dict
    if readiness.new_medicines and not readiness.new_medicines_details:
        errors["new_medicines_details"] = ["Say which medicine you started or changed."]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            readiness.save()
    except IntegrityError:  # answered a moment ago in another request
        raise ReadinessAlreadyAnswered from None
    patient = session.patient
    audit_record(
        action=AuditEvent.Action.CREATED,
        what=AuditEvent.What.READINESS,
        patient=patient,
        object_id=readiness.pk,
        actor=patient.user,
        channel=AuditEvent.Channel.LINK if by_link else None,
        now=now,
    )
    reasons = not_ready_reasons(
        ride_arranged=readiness.ride_arranged,
        fasting_understood=readiness.fasting_understood,
        feeling_well=readiness.feeling_well,
        new_medicines=readiness.new_medicines,
    )
    alert = None
    if reasons:
        draft = AlertDraft(
            kind=Alert.Kind.NOT_READY,
            priority=Alert.Priority.ROUTINE,
            cause=f"readiness:session{session.pk}",
            reason=(
                f"Readiness check for the session on {_session_moment(session)}: "
                + "; ".join(reasons)
                + "."
            ),
        )
        alert = alert_raise(patient=patient, draft=draft, now=now, session=session)
    return readiness, alert


@transaction.atomic
def move_request_create(
    *, session: TreatmentSession, preferred_times: str, now: datetime
) -> tuple[SessionMoveRequest, Alert | None]:
    """The patient asks to move a booked session that has not started: a pending request
    (one per session at a time) and a routine `move_request` alert for the care team, who
    accept or decline it. The session itself is not changed.

    Raises SessionNotOpen, MoveRequestPending, or ValidationError (times missing or over
    500 characters).
    """
    session = _locked_booked_session(session, now)
    if SessionMoveRequest.objects.filter(
        session=session, status=SessionMoveRequest.Status.PENDING
    ).exists():
        raise MoveRequestPending
    request = SessionMoveRequest(
        session=session, preferred_times=preferred_times.strip(), created_at=now
    )
    request.full_clean(exclude=["session"])
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:  # a parallel request made one a moment ago
        raise MoveRequestPending from None
    patient = session.patient
    audit_record(
        action=AuditEvent.Action.CREATED,
        what=AuditEvent.What.MOVE_REQUEST,
        patient=patient,
        object_id=request.pk,
        actor=patient.user,
        now=now,
    )
    draft = AlertDraft(
        kind=Alert.Kind.MOVE_REQUEST,
        priority=Alert.Priority.ROUTINE,
        cause=f"move:{request.pk}",
        reason=(
            f"Asks to move the session on {_session_moment(session)}; "
            "the times that suit them are in the request."
        ),
    )
    alert = alert_raise(patient=patient, draft=draft, now=now, session=session)
    return request, alert


OVERRIDE_REASON_LENGTH = TreatmentSession._meta.get_field("override_reason").max_length or 500


class BookingConflict(Exception):
    """The booking is outside the clinic's hours, no chair is free for it or the patient
    already has a session then (or that day): `problems` (care.domain.booking.Problem, each
    a code and words) and the nearest `free_slots` (aware instants, in time order). Give an
    `override_reason` to book it anyway. For a series, `index` says which session."""

    def __init__(
        self,
        problems: Sequence[Problem],
        free_slots: Sequence[datetime],
        *,
        index: int | None = None,
    ) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)
        self.free_slots = list(free_slots)
        self.index = index


def _book(
    *,
    patient: Patient,
    scheduled_at: datetime,
    override_reason: str,
    now: datetime,
    exclude: Sequence[int] = (),
) -> tuple[int | None, str]:
    """The chair and the override reason a booking is saved with, or BookingConflict.

    The clinic's row is locked until the transaction ends, so two clerks booking in the same
    clinic at once take turns: the second sees the first one's chair taken."""
    if out_of_range(scheduled_at):
        raise ValueError(out_of_range(scheduled_at))
    clinic = Clinic.objects.select_for_update().get(pk=patient.clinic_id)
    rules = booking_rules(clinic=clinic)
    others, own = clinic_bookings(
        clinic=clinic, patient=patient, since=scheduled_at, until=scheduled_at, exclude=exclude
    )
    problems = booking_problems(rules, scheduled_at, others, own)
    chair = free_chair(rules, scheduled_at, others)
    if not problems:
        return chair, ""
    reason = override_reason.strip()
    if reason:
        return chair, reason[:OVERRIDE_REASON_LENGTH]
    raise BookingConflict(
        problems, nearest_free_slots(rules, scheduled_at, others, own, not_before=now)
    )


def _audit_override(session: TreatmentSession, *, by: User | None, now: datetime) -> None:
    if session.override_reason:
        audit_record(
            action=AuditEvent.Action.OVERRIDDEN,
            what=AuditEvent.What.SESSION,
            patient=session.patient,
            object_id=session.pk,
            actor=by if by is not None else FROM_REQUEST,
            now=now,
        )


@transaction.atomic
def sessions_schedule_series(
    *,
    patient: Patient,
    starts: Sequence[datetime],
    route: str,
    by: User,
    now: datetime | None = None,
    override_reason: str = "",
) -> list[TreatmentSession]:
    """Book several sessions, all or none: each checked as `session_schedule` checks it,
    against the others too. Raises BookingConflict (with `index`, from 0) for the first
    that cannot be booked; nothing is then written. With `override_reason`, those that
    conflict are booked anyway, each audited as `session_schedule` audits it."""
    booked = []
    for index, start in enumerate(starts):
        try:
            booked.append(
                session_schedule(
                    patient=patient,
                    scheduled_at=start,
                    route=route,
                    by=by,
                    now=now,
                    override_reason=override_reason,
                )
            )
        except BookingConflict as conflict:
            conflict.index = index
            raise
    return booked


class MoveRequestAnswered(Exception):
    """The request was already answered (or withdrawn): it cannot be answered again."""


ANSWER_LENGTH = SessionMoveRequest._meta.get_field("answer").max_length or 500


@transaction.atomic
def move_request_decide(
    *,
    request: SessionMoveRequest,
    accept: bool,
    new_start: datetime | None,
    answer: str,
    by: User,
    now: datetime,
    override_reason: str = "",
) -> SessionMoveRequest:
    """The care team's answer to a patient's request to move a session: accepting moves the
    session to `new_start` through `session_reschedule` (BookingConflict unless
    `override_reason`, and nothing is written), declining leaves it; either way the request
    records who answered, when and the words for the patient (`answer`), and any open "asks
    to move a session" alert of the session is acknowledged "move request answered".

    Raises MoveRequestAnswered for a request no longer pending, ValueError for an accept
    without a new time, SessionAlreadyRecorded for a session recorded meanwhile."""
    locked = SessionMoveRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != SessionMoveRequest.Status.PENDING:
        raise MoveRequestAnswered
    session = locked.session
    if accept:
        if new_start is None:
            raise ValueError("Accepting a move needs the new time.")
        moved_from = session.scheduled_at
        session = session_reschedule(
            session=session,
            scheduled_at=new_start,
            route=session.route,
            override_reason=override_reason,
            by=by,
            now=now,
        )
        locked.moved_from, locked.moved_to = moved_from, session.scheduled_at
    locked.status = (
        SessionMoveRequest.Status.ACCEPTED if accept else SessionMoveRequest.Status.DECLINED
    )
    locked.decided_at, locked.decided_by = now, by
    locked.answer = answer.strip()[:ANSWER_LENGTH]
    locked.save()
    audit_record(
        action=AuditEvent.Action.CHANGED,
        what=AuditEvent.What.MOVE_REQUEST,
        patient=session.patient,
        object_id=locked.pk,
        actor=by,
        now=now,
    )
    for alert in Alert.objects.filter(
        session=session, kind=Alert.Kind.MOVE_REQUEST, acknowledged_at__isnull=True
    ):
        with suppress(AlertAlreadyAcknowledged):  # someone acknowledged it meanwhile
            alert_acknowledge(
                alert=alert,
                by=by,
                action=Alert.Action.MOVE_DECIDED,
                note="Accepted" if accept else "Declined",
                now=now,
            )
    request.refresh_from_db()
    return request
