"""The patient's own pages: home, daily check-in, questionnaires, results, history."""

import uuid
from datetime import date, timedelta

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from .access import get_own_assessment_for_user, get_own_patient_for_user
from .clock import local_date
from .instruments import INSTRUMENTS, LOINC_NOTICE
from .patient_forms import CheckInForm, QuestionnaireForm
from .scoring import SELF_HARM_FLAG, AnswersInvalid, band_for_code, instrument_bands
from .selectors import (
    patient_assessment_series,
    patient_checkin_on,
    patient_checkin_series,
    patient_instrument_codes,
    patient_last_completed,
    patient_next_session,
)
from .services import ClientIdConflict, assessment_submit, checkin_submit
from .trends import TrendPoint, questionnaires_due, rolling_average

HISTORY_DAYS = 90


@never_cache
def me(request: HttpRequest) -> HttpResponse:
    """Home: today's check-in, questionnaires due, next session."""
    patient = get_own_patient_for_user(request.user)
    now = timezone.now()
    today = local_date(now, patient.tz)
    last = {
        code: local_date(at, patient.tz)
        for code, at in patient_last_completed(patient=patient).items()
    }
    due = questionnaires_due(patient_instrument_codes(patient=patient), last, today=today)
    context = {
        "patient": patient,
        "checkin_today": patient_checkin_on(patient=patient, day=today),
        "due": [INSTRUMENTS[code] for code in due],
        "next_session": patient_next_session(patient=patient, now=now),
    }
    return render(request, "care/me.html", context)


@never_cache
def checkin(request: HttpRequest) -> HttpResponse:
    """Today's check-in; a second one the same day updates it."""
    patient = get_own_patient_for_user(request.user)
    now = timezone.now()
    existing = patient_checkin_on(patient=patient, day=local_date(now, patient.tz))
    initial = CheckInForm.initial_for(existing) if existing else {}
    form = CheckInForm(request.POST or None, initial={**initial, "client_id": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():
        values, client_id = form.checkin_values(), form.cleaned_data["client_id"]
        try:
            result = checkin_submit(patient=patient, values=values, client_id=client_id, now=now)
        except ClientIdConflict:
            # The same form sent again with changed answers (back button): a new submission.
            result = checkin_submit(patient=patient, values=values, client_id=None, now=now)
        return redirect("care:checkin-saved", result.checkin.local_date.isoformat())
    return render(request, "care/checkin_form.html", {"form": form, "existing": existing})


@never_cache
def checkin_saved(request: HttpRequest, day: str) -> HttpResponse:
    """Thanks, and crisis resources first when that day's answers call for them.

    The day is in the address so that a check-in saved just before midnight still shows
    its crisis resources after the redirect.
    """
    patient = get_own_patient_for_user(request.user)
    try:
        saved = patient_checkin_on(patient=patient, day=date.fromisoformat(day))
    except ValueError as exc:
        raise Http404 from exc
    if saved is None:
        raise Http404
    context = {"checkin": saved, "show_crisis": saved.has_self_harm_thoughts}
    return render(request, "care/checkin_saved.html", context)


@never_cache
def questionnaire(request: HttpRequest, code: str) -> HttpResponse:
    """One questionnaire on one page, with its own stem and recall window."""
    patient = get_own_patient_for_user(request.user)
    instrument = INSTRUMENTS.get(code)
    if instrument is None:
        raise Http404
    form = QuestionnaireForm(
        request.POST or None, instrument=instrument, initial={"client_id": uuid.uuid4()}
    )
    if request.method == "POST" and form.is_valid():
        submission = {
            "patient": patient,
            "instrument_code": instrument.code,
            "answers": form.answers(),
            "difficulty": form.cleaned_data.get("difficulty"),
            "entered_by": request.user,
            "now": timezone.now(),
        }
        try:
            try:
                result = assessment_submit(client_id=form.cleaned_data["client_id"], **submission)
            except ClientIdConflict:
                # The same form sent again with changed answers (back button): a new result.
                result = assessment_submit(client_id=None, **submission)
        except AnswersInvalid as invalid:
            for key, message in invalid.errors.items():
                form.add_error(key if key in form.fields else None, message)
        else:
            return redirect("care:result", result.assessment.public_id)
    context = {"form": form, "instrument": instrument, "loinc_notice": LOINC_NOTICE}
    return render(request, "care/questionnaire.html", context)


@never_cache
def result(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The score and its band in plain words; crisis resources first if item 9 was >= 1."""
    assessment = get_own_assessment_for_user(request.user, public_id)
    instrument = INSTRUMENTS[assessment.instrument]
    band = band_for_code(instrument, assessment.band) if assessment.band else None
    context = {
        "assessment": assessment,
        "instrument": instrument,
        "band": band,
        "show_crisis": SELF_HARM_FLAG in assessment.flags,
    }
    return render(request, "care/result.html", context)


@never_cache
def history(request: HttpRequest) -> HttpResponse:
    """Mood and anxiety with 7-day averages, questionnaire totals; tables for screen readers."""
    patient = get_own_patient_for_user(request.user)
    today = local_date(timezone.now(), patient.tz)
    rows = patient_checkin_series(patient=patient, since=today - timedelta(days=HISTORY_DAYS - 1))
    mood_avg = rolling_average([TrendPoint(r["local_date"], r["mood"]) for r in rows])
    anxiety_avg = rolling_average([TrendPoint(r["local_date"], r["anxiety"]) for r in rows])
    checkins = [
        {**row, "mood_avg": m.value, "anxiety_avg": a.value}
        for row, m, a in zip(rows, mood_avg, anxiety_avg, strict=True)
    ]
    assessments = [
        {**row, "name": INSTRUMENTS[row["instrument"]].name}
        for row in patient_assessment_series(patient=patient)
    ]
    # One chart per questionnaire, over its own severity bands (named on the chart).
    questionnaires = []
    for code in dict.fromkeys(row["instrument"] for row in assessments):
        instrument = INSTRUMENTS[code]
        bands = instrument_bands(instrument, pcl5_cutoff=patient.clinic.pcl5_cutoff)
        points = [
            {"day": local_date(row["completed_at"], patient.tz).isoformat(), "total": row["total"]}
            for row in assessments
            if row["instrument"] == code and row["total"] is not None
        ]
        questionnaires.append(
            {
                "code": code,
                "name": instrument.name,
                "max": instrument.max_total,
                "bands": [{"low": b.low, "high": b.high, "label": b.label} for b in bands],
                "points": points,
            }
        )
    chart = {
        "since": (today - timedelta(days=HISTORY_DAYS - 1)).isoformat(),
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
    }
    context = {
        "checkins": checkins,
        "assessments": assessments,
        "questionnaires": questionnaires,
        "chart": chart,
    }
    return render(request, "care/history.html", context)
