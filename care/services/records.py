"""Writes of patient records: daily check-ins and questionnaires, with the safety loop.

A safety alert is created in the same transaction as the answer that raises it, so the
care team can never miss an answer that was saved. Nothing here logs answers or notes.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from ..clock import local_date
from ..instruments import INSTRUMENTS
from ..models import Alert, Assessment, CheckIn, CheckInRevision, Patient, User
from ..safety import assessment_safety_reason, checkin_safety_reason
from ..scoring import questionnaire_score, validate_answers

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
    *, patient: Patient, reason: str, now: datetime, checkin=None, assessment=None
) -> Alert:
    alert = Alert.objects.create(
        patient=patient,
        kind=Alert.Kind.SAFETY,
        priority=Alert.Priority.URGENT,
        reason=reason,
        created_at=now,
        checkin=checkin,
        assessment=assessment,
    )
    logger.info("Urgent safety alert %s raised for patient %s", alert.id, patient.id)
    return alert


def _snapshot(checkin: CheckIn) -> dict:
    values = {name: getattr(checkin, name) for name in CHECKIN_FIELDS}
    values["sleep_hours"] = str(values["sleep_hours"])
    return values


@transaction.atomic
def checkin_submit(
    *, patient: Patient, values: dict, client_id: uuid.UUID | None, now: datetime
) -> CheckInResult:
    """Record today's check-in (the patient's local day); a later one that day updates it.

    The same `client_id` sent again (a retry, a double click) changes nothing. Thoughts of
    self-harm raise an urgent safety alert, once per check-in.
    """
    day = local_date(now, patient.tz)
    checkin = CheckIn.objects.select_for_update().filter(patient=patient, local_date=day).first()
    if checkin is not None and client_id is not None and checkin.client_id == client_id:
        return CheckInResult(checkin, created=False, duplicate=True, alert=None)
    created = checkin is None
    if created:
        try:
            with transaction.atomic():
                checkin = CheckIn.objects.create(
                    patient=patient,
                    local_date=day,
                    client_id=client_id,
                    submitted_at=now,
                    updated_at=now,
                    **values,
                )
        except IntegrityError:
            # Another request created today's check-in a moment ago: update that one.
            return checkin_submit(patient=patient, values=values, client_id=client_id, now=now)
    else:
        CheckInRevision.objects.create(
            checkin=checkin, version=checkin.version, values=_snapshot(checkin), replaced_at=now
        )
        for name, value in values.items():
            setattr(checkin, name, value)
        checkin.version += 1
        checkin.client_id = client_id
        checkin.updated_at = now
        checkin.save()
    alert = None
    reason = checkin_safety_reason(
        has_self_harm_thoughts=checkin.has_self_harm_thoughts, day_label=day.strftime("%d %b %Y")
    )
    if reason and not checkin.alerts.filter(kind=Alert.Kind.SAFETY).exists():
        alert = _raise_safety_alert(patient=patient, reason=reason, now=now, checkin=checkin)
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
    if client_id is not None:
        existing = Assessment.objects.filter(patient=patient, client_id=client_id).first()
        if existing is not None:
            return AssessmentResult(existing, duplicate=True, alert=None)
    clean = validate_answers(instrument, answers)
    score = questionnaire_score(instrument, clean, pcl5_cutoff=patient.clinic.pcl5_cutoff)
    try:
        with transaction.atomic():
            assessment = Assessment.objects.create(
                patient=patient,
                instrument=instrument.code,
                answers={str(number): value for number, value in sorted(clean.items())},
                difficulty=difficulty if instrument.difficulty else None,
                total=score.total,
                band=score.band.code if score.band else "",
                flags=list(score.flags),
                completed_at=now,
                client_id=client_id,
                entered_by=entered_by,
                supersedes=supersedes,
            )
    except IntegrityError:
        existing = Assessment.objects.get(patient=patient, client_id=client_id)
        return AssessmentResult(existing, duplicate=True, alert=None)
    alert = None
    reason = assessment_safety_reason(instrument, clean, score.flags)
    if reason:
        alert = _raise_safety_alert(patient=patient, reason=reason, now=now, assessment=assessment)
    return AssessmentResult(assessment, duplicate=False, alert=alert)
