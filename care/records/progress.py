"""The patient's own "My progress" page: what its charts and tables show.

The charts start a week before the course did (the first baseline score or the first held
session, whichever came first) when that is more than 90 days back, so a responder's chart
shows where they started, not only the last three months; a course of more than two years
shows its last two. The held treatment sessions are drawn on the same time axis, and each
questionnaire's baseline is marked (the same `rules.baseline` and first treatment as the
care team's pages).
"""

from datetime import datetime, timedelta
from typing import Any

from care.domain.clock import local_date
from care.domain.instruments import INSTRUMENTS
from care.domain.rules import ScorePoint, baseline
from care.domain.scoring import instrument_bands
from care.domain.trends import TrendPoint, rolling_average
from care.models import Patient
from care.models.sessions import held_sessions
from care.records.selectors import patient_assessment_series, patient_checkin_series

RECENT_DAYS = 90
LONGEST_DAYS = 730


def patient_progress(*, patient: Patient, now: datetime) -> dict:
    """Check-ins with 7-day averages, questionnaire results, per-questionnaire series with
    their baseline, held sessions, and the chart data (`chart`) for the page's script."""
    tz = patient.tz
    today = local_date(now, tz)
    held = list(
        held_sessions()
        .filter(patient=patient)
        .order_by("scheduled_at")
        .values_list("scheduled_at", flat=True)
    )
    first_treatment_at = held[0] if held else None
    # The selectors' typed rows, each with what the page adds (for the template).
    assessments: list[dict[str, Any]] = [
        {**row, "name": INSTRUMENTS[row["instrument"]].name}
        for row in patient_assessment_series(patient=patient)
    ]
    questionnaires, starts = [], []
    for code in dict.fromkeys(row["instrument"] for row in assessments):
        instrument = INSTRUMENTS[code]
        scored = [r for r in assessments if r["instrument"] == code and r["total"] is not None]
        base = baseline(
            [ScorePoint(r["completed_at"], r["total"]) for r in scored],
            first_session_at=first_treatment_at,
        )
        if base is not None:
            starts.append(local_date(base.at, tz))
        bands = instrument_bands(instrument, pcl5_cutoff=patient.clinic.pcl5_cutoff)
        questionnaires.append(
            {
                "code": code,
                "name": instrument.name,
                "max": instrument.max_total,
                "baseline": base.total if base else None,
                "bands": [{"low": b.low, "high": b.high, "label": b.label} for b in bands],
                "points": [
                    {
                        "day": local_date(r["completed_at"], tz).isoformat(),
                        "total": r["total"],
                        "baseline": base is not None and r["completed_at"] == base.at,
                    }
                    for r in scored
                ],
            }
        )
    if first_treatment_at is not None:
        starts.append(local_date(first_treatment_at, tz))
    since = today - timedelta(days=RECENT_DAYS - 1)
    if starts:
        since = max(min(since, min(starts) - timedelta(days=7)), today - timedelta(LONGEST_DAYS))
    rows = patient_checkin_series(patient=patient, since=since)
    mood_avg = rolling_average([TrendPoint(r["local_date"], r["mood"]) for r in rows])
    anxiety_avg = rolling_average([TrendPoint(r["local_date"], r["anxiety"]) for r in rows])
    checkins: list[dict[str, Any]] = [
        {**row, "mood_avg": m.value, "anxiety_avg": a.value}
        for row, m, a in zip(rows, mood_avg, anxiety_avg, strict=True)
    ]
    chart = {
        "since": since.isoformat(),
        "until": today.isoformat(),
        "checkins": [
            {
                "day": row["local_date"].isoformat(),
                "mood": row["mood"],
                "anxiety": row["anxiety"],
                "moodAvg": row["mood_avg"],
                "anxietyAvg": row["anxiety_avg"],
            }
            for row in checkins
        ],
        "questionnaires": questionnaires,
        "sessions": [
            {"day": day.isoformat()} for at in held if since <= (day := local_date(at, tz)) <= today
        ],
    }
    return {
        "since": since,
        "checkins": checkins,
        "assessments": assessments,
        "questionnaires": questionnaires,
        "chart": chart,
    }
