"""Writes of patient records: daily check-ins and questionnaires, with the safety loop.

A safety alert is created in the same transaction as the answer that raises it, so the
care team can never miss an answer that was saved. Nothing here logs answers or notes.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction

from care.alerts.services import alert_raise, assessment_alerts_run
from care.audit.services import FROM_REQUEST, audit_record
from care.domain.clock import local_date
from care.domain.dates import day_month_year
from care.domain.instruments import INSTRUMENTS
from care.domain.rules import AlertDraft
from care.domain.safety import assessment_safety_reason, checkin_safety_reason
from care.domain.scoring import AnswersInvalid, questionnaire_score, validate_answers
from care.models import Alert, Assessment, AuditEvent, CheckIn, CheckInRevision, Patient, User

logger = logging.getLogger(__name__)

CHECKIN_FIELDS = (
    "mood",
    "anxiety",
    "energy",
    "sleep_hours",
    "sleep_quality",
    "side_effects",
    "has_self_harm_thoughts",
    "note",
)


@dataclass(frozen=True)
class CheckInResult:
    checkin: CheckIn
    created: bool
    duplicate: bool
    alert: Alert | None


@dataclass(frozen=True)
class AssessmentResult:
    assessment: Assessment
    duplicate: bool
    alert: Alert | None


def _raise_safety_alert(
    *, patient: Patient, reason: str, now: datetime, cause: str, **source
) -> Alert | None:
    draft = AlertDraft(Alert.Kind.SAFETY, Alert.Priority.URGENT, cause, reason)
    return alert_raise(patient=patient, draft=draft, now=now, again_after_ack=True, **source)


class ClientIdConflict(Exception):
    """A client id already used for a different submission."""


def _snapshot(checkin: CheckIn) -> dict:
    values = {name: getattr(checkin, name) for name in CHECKIN_FIELDS}
    values["sleep_hours"] = str(values["sleep_hours"])
    return values


def _same_checkin_values(stored: dict, values: dict) -> bool:
    def normal(v: dict) -> dict:
        return {
            **{name: v.get(name) for name in CHECKIN_FIELDS},
            "sleep_hours": Decimal(str(v.get("sleep_hours"))),
            "side_effects": sorted(v.get("side_effects") or []),
            "note": v.get("note") or "",
        }

    return normal(stored) == normal(values)


def _checkin_for_client_id(patient: Patient, client_id: uuid.UUID) -> tuple[CheckIn, dict] | None:
    """The check-in a client id already produced, with the values it sent, if any."""
    current = CheckIn.objects.filter(patient=patient, client_id=client_id).first()
    if current is not None:
        return current, _snapshot(current)
    revision = (
        CheckInRevision.objects.filter(checkin__patient=patient, client_id=client_id)
        .select_related("checkin")
        .first()
    )
    return (revision.checkin, revision.values) if revision else None


@transaction.atomic
def checkin_submit(
    *,
    patient: Patient,
    values: dict,
    client_id: uuid.UUID | None,
    now: datetime,
    channel: str | None = None,
) -> CheckInResult:
    """Record today's check-in (the patient's local day); a later one that day updates it.

    A `client_id` sent again with the same answers (a retry, a double click, even after
    midnight) changes nothing; with different answers it is a ClientIdConflict. Thoughts
    of self-harm raise an urgent safety alert unless one is already open for the check-in.
    """
    day = local_date(now, patient.tz)
    # Lock the patient row: submissions of one patient are handled one at a time. (Only
    # that row: without the default ordering's join, which would lock the user's row too.)
    list(Patient.objects.select_for_update().filter(pk=patient.pk).order_by().values_list("pk"))
    if client_id is not None:
        known = _checkin_for_client_id(patient, client_id)
        if known is not None:
            checkin, sent = known
            if not _same_checkin_values(sent, values):
                raise ClientIdConflict
            return CheckInResult(checkin, created=False, duplicate=True, alert=None)
    found = CheckIn.objects.filter(patient=patient, local_date=day).first()
    created = found is None
    if found is None:
        checkin = CheckIn.objects.create(
            patient=patient,
            local_date=day,
            client_id=client_id,
            submitted_at=now,
            updated_at=now,
            **values,
        )
    else:
        checkin = found
        CheckInRevision.objects.create(
            checkin=checkin,
            version=checkin.version,
            values=_snapshot(checkin),
            client_id=checkin.client_id,
            replaced_at=now,
        )
        for name, value in values.items():
            setattr(checkin, name, value)
        checkin.version += 1
        checkin.client_id = client_id
        checkin.updated_at = now
        checkin.save()
    audit_record(
        action=AuditEvent.Action.CREATED if created else AuditEvent.Action.CHANGED,
        what=AuditEvent.What.CHECKIN,
        patient=patient,
        object_id=checkin.pk,
        actor=patient.user,
        channel=channel,
        now=now,
    )
    alert = None
    reason = checkin_safety_reason(
        has_self_harm_thoughts=checkin.has_self_harm_thoughts,
        day_label=day_month_year(day),
    )
    if reason:
        alert = _raise_safety_alert(
            patient=patient, reason=reason, now=now, cause=f"checkin:{checkin.pk}", checkin=checkin
        )
    return CheckInResult(checkin, created=created, duplicate=False, alert=alert)


@transaction.atomic
def assessment_submit(
    *,
    patient: Patient,
    instrument_code: str,
    answers: dict,
    difficulty: int | None,
    client_id: uuid.UUID | None,
    entered_by: User | None,
    now: datetime,
    supersedes: Assessment | None = None,
) -> AssessmentResult:
    """Score and store a completed questionnaire; raise a safety alert when it calls for one.

    `answers` are validated again here (AnswersInvalid names the item). The same
    `client_id` sent again returns the stored result and creates nothing.
    """
    instrument = INSTRUMENTS[instrument_code]
    clean = validate_answers(instrument, answers)
    if instrument.difficulty is None:
        difficulty = None
    elif difficulty is not None and difficulty not in {
        o.value for o in instrument.difficulty_options
    }:
        raise AnswersInvalid({"difficulty": "Choose one of the difficulty answers shown."})
    if supersedes is not None and (
        supersedes.patient_id != patient.id or supersedes.instrument != instrument.code
    ):
        raise AnswersInvalid({"supersedes": "Only the same patient's same questionnaire."})
    stored_answers = {str(number): value for number, value in sorted(clean.items())}
    if client_id is not None:
        existing = Assessment.objects.filter(patient=patient, client_id=client_id).first()
        if existing is not None:
            same = (existing.instrument, existing.answers, existing.difficulty) == (
                instrument.code,
                stored_answers,
                difficulty,
            )
            if not same:
                raise ClientIdConflict
            return AssessmentResult(existing, duplicate=True, alert=None)
    score = questionnaire_score(instrument, clean, pcl5_cutoff=patient.clinic.pcl5_cutoff)
    try:
        with transaction.atomic():
            assessment = Assessment.objects.create(
                patient=patient,
                instrument=instrument.code,
                answers=stored_answers,
                difficulty=difficulty,
                total=score.total,
                band=score.band.code if score.band else "",
                flags=list(score.flags),
                completed_at=now,
                client_id=client_id,
                entered_by=entered_by,
                supersedes=supersedes,
            )
    except IntegrityError:
        if client_id is None:
            raise
        # The same client id committed a moment ago by a parallel request.
        existing = Assessment.objects.get(patient=patient, client_id=client_id)
        return AssessmentResult(existing, duplicate=True, alert=None)
    audit_record(
        action=AuditEvent.Action.CREATED,
        what=AuditEvent.What.ASSESSMENT,
        patient=patient,
        object_id=assessment.public_id,
        actor=entered_by or FROM_REQUEST,
        now=now,
    )
    alert = None
    reason = assessment_safety_reason(instrument, clean, score.flags)
    if reason:
        alert = _raise_safety_alert(
            patient=patient,
            reason=reason,
            now=now,
            cause=f"assessment:{assessment.pk}",
            assessment=assessment,
        )
    assessment_alerts_run(assessment=assessment, now=now)
    return AssessmentResult(assessment, duplicate=False, alert=alert)
