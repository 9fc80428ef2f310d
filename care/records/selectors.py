"""Reads of a patient's records: check-ins and questionnaires."""

import uuid
from datetime import date, datetime
from typing import TypedDict

from django.db.models import Max

from care.domain.instruments import INSTRUMENTS
from care.domain.scoring import band_for_code
from care.models import (
    Assessment,
    CheckIn,
    Patient,
)


def patient_checkin_on(*, patient: Patient, day: date) -> CheckIn | None:
    """The patient's check-in of a local day, if any."""
    return CheckIn.objects.filter(patient=patient, local_date=day).first()


def patient_last_completed(*, patient: Patient) -> dict[str, datetime]:
    """When the patient last completed each instrument."""
    rows = (
        Assessment.objects.filter(patient=patient)
        .values("instrument")
        .annotate(last=Max("completed_at"))
    )
    return {row["instrument"]: row["last"] for row in rows}


def patient_instrument_codes(*, patient: Patient) -> list[str]:
    """The questionnaires the care team chose, else those that fit the conditions."""
    if patient.questionnaires:
        return [code for code in ("phq9", "gad7", "pcl5") if code in patient.questionnaires]
    flags = {"phq9": patient.has_depression, "gad7": patient.has_anxiety, "pcl5": patient.has_ptsd}
    return [code for code, wanted in flags.items() if wanted]


class CheckInPoint(TypedDict):
    local_date: date
    mood: int
    anxiety: int


class AssessmentPoint(TypedDict):
    public_id: uuid.UUID
    instrument: str
    completed_at: datetime
    total: int | None
    band: str


def patient_checkin_series(*, patient: Patient, since: date | None = None) -> list[CheckInPoint]:
    """Mood and anxiety by local day, oldest first."""
    rows = CheckIn.objects.filter(patient=patient)
    if since is not None:
        rows = rows.filter(local_date__gte=since)
    return list(rows.order_by("local_date").values("local_date", "mood", "anxiety"))


def patient_assessment_series(*, patient: Patient) -> list[AssessmentPoint]:
    """Questionnaire totals over time, oldest first, without superseded results."""
    return list(
        Assessment.objects.filter(patient=patient, superseded_by__isnull=True)
        .order_by("completed_at")
        .values("public_id", "instrument", "completed_at", "total", "band")
    )


def patient_recent_checkins(*, patient: Patient, limit: int = 30) -> list[CheckIn]:
    """The patient's latest check-ins, newest first, with how often each was changed."""
    return list(patient.checkins.order_by("-local_date")[:limit])


def patient_recent_assessments(*, patient: Patient, limit: int = 20) -> list[dict]:
    """The latest questionnaires with each answer next to its item text."""
    results = []
    for assessment in patient.assessments.select_related("supersedes").order_by("-completed_at")[
        :limit
    ]:
        instrument = INSTRUMENTS[assessment.instrument]
        band = band_for_code(instrument, assessment.band) if assessment.band else None
        items = [
            {
                "number": item.number,
                "text": item.text,
                "value": assessment.answers.get(str(item.number)),
                "label": instrument.option_label(assessment.answers[str(item.number)])
                if str(item.number) in assessment.answers
                else "—",
                "flagged": item.number in instrument.self_harm_items
                and assessment.answers.get(str(item.number), 0) >= 1,
            }
            for item in instrument.items
        ]
        results.append(
            {"assessment": assessment, "instrument": instrument, "band": band, "items": items}
        )
    return results
