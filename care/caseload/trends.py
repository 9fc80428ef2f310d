"""One patient's trends as plain series, ready for charts (staff page and API).

A fixed number of queries whatever the length of the history: check-ins, assessments and
sessions are read once each; averages, baselines, response and remission are computed by
the pure functions of `trends` and `rules`.
"""

import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal

from care.domain.clock import local_date
from care.domain.instruments import INSTRUMENTS
from care.domain.rules import ScorePoint, baseline, score_outcome
from care.domain.scoring import SELF_HARM_FLAG, instrument_bands
from care.domain.trends import rolling_means
from care.models import Assessment, CheckIn, Patient, TreatmentSession
from care.models.sessions import first_treatment_at

# What `get_route_display()` shows (lazy: translated when a body is built, once per route).
ROUTE_LABELS = dict(TreatmentSession.Route.choices)


def patient_trends(*, patient: Patient, now: datetime, days: int = 180) -> dict:
    """Series of the last `days` days: check-ins, questionnaire totals, sessions."""
    zone = zoneinfo.ZoneInfo(patient.tz)
    today = local_date(now, patient.tz)
    since = max(today - timedelta(days=days - 1), patient.consultation_on - timedelta(days=7))
    rows = list(
        CheckIn.objects.filter(patient=patient, local_date__gte=since - timedelta(days=6))
        .order_by("local_date")
        .values_list("local_date", "mood", "anxiety", "has_self_harm_thoughts")
    )
    checkin_days = [day for day, *_ in rows]
    mood_avg, anxiety_avg = rolling_means(
        checkin_days, [mood for _, mood, *_ in rows], [anxiety for _, _, anxiety, _ in rows]
    )
    checkins = [
        {
            "day": day.isoformat(),
            "mood": mood,
            "anxiety": anxiety,
            "mood_avg": m,
            "anxiety_avg": a,
        }
        for (day, mood, anxiety, _), m, a in zip(rows, mood_avg, anxiety_avg, strict=True)
        if day >= since
    ]
    # Safety events on the same timeline: a check-in's "thoughts of harming yourself" (on
    # its day) and a PHQ-9 with item 9 answered above "not at all" (at its time).
    safety = [
        (f"{day.isoformat()}T12:00:00", "Check-in: thoughts of self-harm")
        for day, _, _, harm in rows
        if harm and day >= since
    ]
    # Plain rows, not model instances: building a model per session costs more than the rest.
    sessions = list(
        TreatmentSession.objects.filter(patient=patient)
        .order_by("scheduled_at")
        .values_list("scheduled_at", "status", "route", "dose_mg", "dose_mg_per_kg")
    )
    first = first_treatment_at(patient=patient)
    # All the patient's results, then without those a correction supersedes (always the
    # same patient's: assessment_submit refuses others), as the FHIR export does. Cheaper
    # than asking the database, which would look at every patient's corrections.
    results = list(
        Assessment.objects.filter(patient=patient)
        .order_by("completed_at")
        .values_list(
            "pk", "supersedes", "instrument", "completed_at", "total", "band", "public_id", "flags"
        )
    )
    replaced = {supersedes for _, supersedes, *_ in results if supersedes is not None}
    by_code: dict[str, list[tuple]] = {}
    for pk, _, code, at, total, band, public_id, flags in results:
        if pk in replaced:
            continue
        if total is not None:
            by_code.setdefault(code, []).append((at, total, band, public_id))
        if SELF_HARM_FLAG in (flags or ()) and (local := at.astimezone(zone)).date() >= since:
            safety.append((_wall(local), f"{INSTRUMENTS[code].name} item 9"))
    routes = {route: str(label) for route, label in ROUTE_LABELS.items()}
    questionnaires = {}
    for code, points in by_code.items():
        instrument = INSTRUMENTS[code]
        base = baseline([ScorePoint(at, t) for at, t, _, _ in points], first_session_at=first)
        series = []
        for at, total, band, public_id in points:
            local = at.astimezone(zone)
            if local.date() < since:
                continue
            is_base = base is not None and at == base.at
            outcome = score_outcome(code, base, ScorePoint(at, total), first_treatment_at=first)
            series.append(
                {
                    "id": str(public_id),
                    "at": at.isoformat(),
                    "at_local": _wall(local),
                    "total": total,
                    "band": band,
                    "baseline": is_base,
                    "change": None if base is None or is_base else total - base.total,
                    "response": outcome.response,
                    "remission": outcome.remission,
                }
            )
        questionnaires[code] = {
            "name": instrument.name,
            "max": instrument.max_total,
            "baseline": base.total if base else None,
            "bands": [
                {"low": b.low, "high": b.high, "label": b.label}
                for b in instrument_bands(instrument, pcl5_cutoff=patient.clinic.pcl5_cutoff)
            ],
            "points": series,
        }
    return {
        "since": since.isoformat(),
        "until": today.isoformat(),
        "checkins": checkins,
        "questionnaires": questionnaires,
        "safety_events": [{"at_local": at, "what": what} for at, what in sorted(safety)],
        "sessions": [
            {
                "at": at.isoformat(),
                "at_local": _wall(local),
                "status": status,
                "route": routes.get(route, route),
                "dose": _dose(dose_mg, dose_mg_per_kg),
            }
            for at, status, route, dose_mg, dose_mg_per_kg in sessions
            if (local := at.astimezone(zone)).date() >= since
        ],
    }


def _wall(local: datetime) -> str:
    """The patient's wall-clock time (`local` is in their zone), without offset: charts
    place every point on the patient's own day whatever the viewer's zone."""
    return local.replace(tzinfo=None).isoformat("T", "seconds")


def _dose(dose_mg: Decimal | None, dose_mg_per_kg: Decimal | None) -> str:
    if dose_mg_per_kg is not None:
        return f"{dose_mg_per_kg} mg/kg"
    if dose_mg is not None:
        return f"{dose_mg.normalize():f} mg"
    return ""
