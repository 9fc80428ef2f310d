"""The patient's own pages: home, daily check-in, questionnaires, results, history."""

import uuid
from datetime import date

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from care.common.access import (
    AuthenticatedHttpRequest,
    get_own_assessment_for_user,
    get_own_patient_for_user,
    membership_for_user,
    patient_for_user,
)
from care.domain.clock import local_date
from care.domain.instruments import INSTRUMENTS, LOINC_NOTICE
from care.domain.scoring import SELF_HARM_FLAG, AnswersInvalid, band_for_code
from care.domain.trends import questionnaires_due
from care.records.crisis import crisis_without_clinic
from care.records.forms import CheckInForm, QuestionnaireForm
from care.records.progress import patient_progress
from care.records.selectors import (
    patient_checkin_on,
    patient_instrument_codes,
    patient_last_completed,
)
from care.records.services import (
    AssessmentResult,
    ClientIdConflict,
    assessment_submit,
    checkin_submit,
)
from care.treatment.display import upcoming_for_patient
from care.treatment.selectors import patient_reflection_waiting, patient_upcoming_sessions


@never_cache
def me(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Home: today's check-in, questionnaires due, a reflection waiting, every coming session."""
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
        "upcoming": upcoming_for_patient(
            patient_upcoming_sessions(patient=patient, now=now), now=now
        ),
        "clinic": patient.clinic,
        # A held session of the last 14 days without the patient's reflection yet.
        "reflection_waiting": patient_reflection_waiting(patient=patient, now=now),
    }
    return render(request, "care/me.html", context)


@never_cache
def checkin(request: AuthenticatedHttpRequest) -> HttpResponse:
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
def checkin_saved(request: AuthenticatedHttpRequest, day: str) -> HttpResponse:
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
def questionnaire(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """One questionnaire on one page, with its own stem and recall window."""
    patient = get_own_patient_for_user(request.user)
    instrument = INSTRUMENTS.get(code)
    if instrument is None:
        raise Http404
    form = QuestionnaireForm(
        request.POST or None, instrument=instrument, initial={"client_id": uuid.uuid4()}
    )
    if request.method == "POST" and form.is_valid():
        answers, difficulty, now = (
            form.answers(),
            form.cleaned_data.get("difficulty"),
            timezone.now(),
        )

        def submit(client_id: uuid.UUID | None) -> AssessmentResult:
            return assessment_submit(
                patient=patient,
                instrument_code=instrument.code,
                answers=answers,
                difficulty=difficulty,
                client_id=client_id,
                entered_by=request.user,
                now=now,
            )

        try:
            try:
                result = submit(form.cleaned_data["client_id"])
            except ClientIdConflict:
                # The same form sent again with changed answers (back button): a new result.
                result = submit(None)
        except AnswersInvalid as invalid:
            for key, message in invalid.errors.items():
                form.add_error(key if key in form.fields else None, message)
        else:
            return redirect("care:result", result.assessment.public_id)
    context = {"form": form, "instrument": instrument, "loinc_notice": LOINC_NOTICE}
    return render(request, "care/questionnaire.html", context)


@never_cache
def result(request: AuthenticatedHttpRequest, public_id: uuid.UUID) -> HttpResponse:
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
def history(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Mood and anxiety with 7-day averages, questionnaire totals against their baseline,
    treatment sessions; tables for screen readers."""
    patient = get_own_patient_for_user(request.user)
    context = patient_progress(patient=patient, now=timezone.now())
    return render(request, "care/history.html", context)


@login_not_required
def crisis(request: HttpRequest) -> HttpResponse:
    """Crisis resources, reachable without signing in: a patient's (or staff member's) clinic's
    own lines and hours first, then its country's; for anyone else the default country's, or
    another supported country's (`?country=GB`)."""
    context = {}
    user = request.user
    if patient_for_user(user) is None and membership_for_user(user) is None:
        context["crisis"] = crisis_without_clinic(request.GET.get("country", "").upper())
    return render(request, "care/crisis.html", context)
