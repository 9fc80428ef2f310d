"""Treatment sessions: the clinic's schedule, booking, moving, cancelling and recording; the
patient's reflection after a held session."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from care.audit.services import audit_view
from care.common.access import (
    AuthenticatedHttpRequest,
    get_membership_for_user,
    get_own_session_for_user,
    get_patient_for_user,
    get_session_for_user,
)
from care.domain.reflections import REFLECTION_DAYS, reflection_open
from care.models import REMS_FORM_DAYS, Alert, AuditEvent, TreatmentSession
from care.treatment.forms import (
    ReflectionForm,
    SessionRecordForm,
    SessionScheduleForm,
    TreatmentPlanForm,
)
from care.treatment.selectors import (
    clinic_rems_outstanding,
    clinic_sessions_needing_record,
    clinic_upcoming_sessions,
    patient_current_plan,
    patient_session_reflection,
)
from care.treatment.services import (
    ReflectionAlreadyWritten,
    ReflectionNotOpen,
    SessionAlreadyRecorded,
    reflection_submit,
    session_cancel,
    session_record,
    session_reschedule,
    session_schedule,
    treatment_plan_version_create,
)


def _audit_read(
    request: AuthenticatedHttpRequest, *, patient, session: TreatmentSession | None = None
) -> None:
    """A form showing a patient's session (or booking one): a read each time it is drawn,
    first shown or sent back with errors (a valid form redirects before this)."""
    audit_view(
        request,
        action=AuditEvent.Action.VIEWED,
        what=AuditEvent.What.SESSION,
        patient=patient,
        object_id=session.pk if session else "",
    )


@never_cache
def session_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Booked sessions past their day with no record ("needs recording"), those of today and
    the next two weeks, and REMS monitoring forms still to submit."""
    membership = get_membership_for_user(request.user)
    now = timezone.now()
    rems = [
        {"session": s, "days": (now - s.scheduled_at).days}
        for s in clinic_rems_outstanding(clinic=membership.clinic)
    ]
    context = {
        "needs_recording": clinic_sessions_needing_record(clinic=membership.clinic, now=now),
        "upcoming": clinic_upcoming_sessions(clinic=membership.clinic, now=now),
        "now": now,  # "Record" only for sessions that have started
        "rems": rems,
        "rems_days": REMS_FORM_DAYS,
    }
    audit_view(request, action=AuditEvent.Action.VIEWED, what=AuditEvent.What.SESSION)
    return render(request, "care/session_list.html", context)


@never_cache
def session_new(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    """Book a session for a patient."""
    get_membership_for_user(request.user)
    patient = get_patient_for_user(request.user, public_id)
    form = SessionScheduleForm(request.POST or None, tz=patient.clinic.tz)
    if request.method == "POST" and form.is_valid():
        session_schedule(patient=patient, by=request.user, **form.cleaned_data)
        messages.success(request, _("Session booked."))
        return redirect("care:patient-detail", patient.public_id)
    _audit_read(request, patient=patient)
    return render(request, "care/session_form.html", {"form": form, "patient": patient})


@never_cache
def session_edit(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """Move a booked session, or mark it cancelled / a no-show."""
    session = get_session_for_user(request.user, session_id)
    initial = {"scheduled_at": timezone.localtime(session.scheduled_at), "route": session.route}
    form = SessionScheduleForm(request.POST or None, initial=initial, tz=session.patient.clinic.tz)
    if request.method == "POST" and form.is_valid():
        try:
            session_reschedule(session=session, **form.cleaned_data)
        except SessionAlreadyRecorded:
            messages.error(request, _("This session is already recorded; book a new one."))
        else:
            messages.success(request, _("Session moved."))
        return redirect("care:patient-detail", session.patient.public_id)
    _audit_read(request, patient=session.patient, session=session)
    context = {"form": form, "patient": session.patient, "session": session}
    return render(request, "care/session_form.html", context)


@require_POST
def session_cancel_view(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = get_session_for_user(request.user, session_id)
    status = request.POST.get("status")
    if status not in {TreatmentSession.Status.CANCELLED, TreatmentSession.Status.NO_SHOW}:
        messages.error(request, _("Choose cancelled or no-show."))
    else:
        try:
            session_cancel(session=session, status=status)
        except SessionAlreadyRecorded:
            messages.error(request, _("Only a booked session can be cancelled or marked no-show."))
        else:
            label = status.replace("_", "-")
            messages.success(request, _("Session marked %(status)s.") % {"status": label})
    return redirect("care:patient-detail", session.patient.public_id)


@never_cache
def session_record_view(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """Record route, dose, monitoring, vital signs and observations of a session."""
    session = get_session_for_user(request.user, session_id)
    clinic = session.patient.clinic
    initial = {
        name: getattr(session, name)
        for name in SessionRecordForm.base_fields
        if hasattr(session, name) and name != "confirm_high_bp"
    }
    initial["monitoring_started_at"] = timezone.localtime(
        session.monitoring_started_at or session.scheduled_at
    )
    now = timezone.now()
    form = SessionRecordForm(
        request.POST or None,
        initial=initial,
        tz=clinic.tz,
        hold_systolic=clinic.bp_hold_systolic,
        hold_diastolic=clinic.bp_hold_diastolic,
        scheduled_at=session.scheduled_at,
        now=now,
    )
    if request.method == "POST" and form.is_valid():
        session, alert = session_record(
            session=session, values=form.session_values(), by=request.user, now=now
        )
        if alert:
            messages.warning(request, _("Recorded. A high alert was raised: ") + alert.reason)
        else:
            messages.success(request, _("Session recorded."))
        if session.is_monitoring_short:
            messages.warning(request, _("Monitoring was shorter than the 2 hours REMS requires."))
        return redirect("care:patient-detail", session.patient.public_id)
    _audit_read(request, patient=session.patient, session=session)  # vital signs, doses
    context = {"form": form, "session": session, "patient": session.patient, "clinic": clinic}
    return render(request, "care/session_record.html", context)


@never_cache
def treatment_plan_edit(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    """A new version of the patient's treatment plan, prefilled from the current one; with
    `?alert=<id>` (an open "booster may be due" or "worsening" alert of the patient), saving
    acknowledges the alert "plan adjusted"."""
    membership = get_membership_for_user(request.user)
    patient = get_patient_for_user(request.user, public_id)
    alert = None
    alert_id = request.POST.get("alert") or request.GET.get("alert")
    if alert_id:
        if not alert_id.isdigit():
            raise Http404
        alert = Alert.objects.filter(pk=int(alert_id), patient=patient).first()
        if alert is None:
            raise Http404
    current = patient_current_plan(patient=patient)
    form = TreatmentPlanForm(
        request.POST or None,
        initial=TreatmentPlanForm.initial_for(current),
        clinic=membership.clinic,
        first=current is None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            treatment_plan_version_create(
                patient=patient,
                by=request.user,
                now=timezone.now(),
                values=form.plan_values(),
                reason_code=form.cleaned_data.get("reason_code", ""),
                reason=form.cleaned_data.get("reason", ""),
                answered_alert=alert,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Treatment plan saved."))
            return redirect("care:patient-detail", patient.public_id)
    audit_view(  # the form shows the current plan: a read each time it is drawn
        request,
        action=AuditEvent.Action.VIEWED,
        what=AuditEvent.What.TREATMENT_PLAN,
        patient=patient,
        object_id=current.pk if current else "",
    )
    context = {"form": form, "patient": patient, "current": current, "alert": alert}
    return render(request, "care/treatment_plan_form.html", context)


ALREADY_WRITTEN = gettext_lazy(
    "You have already written your reflection on this session; it cannot be changed."
)


@never_cache
def my_session_reflection(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """The patient's reflection on one of their held sessions, within 14 days of it (404
    otherwise): the crisis links first, then three boxes; once written, shown as written
    (one per session, a second refused, 409)."""
    session = get_own_session_for_user(request.user, session_id)
    now = timezone.now()
    held = session.status == TreatmentSession.Status.COMPLETED
    if not reflection_open(held=held, session_at=session.scheduled_at, now=now):
        raise Http404
    existing = patient_session_reflection(session=session)
    form = ReflectionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if existing is not None:
            form = ReflectionForm()
            messages.error(request, ALREADY_WRITTEN)
            status = 409
        elif form.is_valid():
            try:
                reflection_submit(session=session, values=form.cleaned_data, now=now)
            except ReflectionAlreadyWritten:
                messages.error(request, ALREADY_WRITTEN)
                status = 409
                existing = patient_session_reflection(session=session)
            except ReflectionNotOpen:  # the 14 days ended while the form was open
                raise Http404 from None
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
                status = 400
            else:
                messages.success(
                    request, _("Thank you. Your reflection is saved with your record.")
                )
                return redirect("care:me")
        else:
            status = 400
    # The crisis links come first on the page (the `crisis` of every patient's page:
    # care.context_processors), as on the message pages.
    context = {"session": session, "reflection": existing, "form": form, "days": REFLECTION_DAYS}
    return render(request, "care/my_session_reflection.html", context, status=status)
