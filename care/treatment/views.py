"""Treatment sessions: the clinic's schedule and day view, booking (one, or from the plan),
moving, cancelling and recording; the answer to a patient's request to move one; the
treatment plan; the patient's weight; the patient's "My plan", readiness check, request to
move a session and reflection after a held session."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

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
    get_move_request_for_user,
    get_own_patient_for_user,
    get_own_session_for_user,
    get_patient_for_user,
    get_session_for_user,
)
from care.domain.patient_plan import readiness_opens_at, readiness_window, route_words
from care.domain.reflections import REFLECTION_DAYS, reflection_open
from care.models import (
    REMS_FORM_DAYS,
    Alert,
    AuditEvent,
    SessionMoveRequest,
    TreatmentSession,
)
from care.treatment.day_view import day_grid
from care.treatment.display import plan_for_patient, upcoming_for_patient
from care.treatment.forms import (
    MoveRequestDecisionForm,
    MoveRequestForm,
    ReadinessForm,
    ReflectionForm,
    SeriesBookingForm,
    SeriesProposalForm,
    SessionRecordForm,
    SessionScheduleForm,
    TreatmentPlanForm,
    WeightForm,
)
from care.treatment.selectors import (
    booking_rules,
    clinic_day_sessions,
    clinic_rems_outstanding,
    clinic_sessions_needing_record,
    clinic_upcoming_sessions,
    patient_current_plan,
    patient_has_sessions,
    patient_session_reflection,
    patient_upcoming_sessions,
    patient_weights,
    pending_move_requests,
    plan_proposal,
    plan_proposal_start,
    session_dose_basis,
    session_readiness,
)
from care.treatment.services import (
    BookingConflict,
    MoveRequestAnswered,
    MoveRequestPending,
    ReadinessAlreadyAnswered,
    ReflectionAlreadyWritten,
    ReflectionNotOpen,
    SessionAlreadyRecorded,
    SessionNotOpen,
    move_request_create,
    move_request_decide,
    readiness_submit,
    reflection_submit,
    session_cancel,
    session_record,
    session_reschedule,
    session_schedule,
    sessions_schedule_series,
    treatment_plan_version_create,
    weight_record,
)

# The days the day view answers (others: 404).
MIN_DAY, MAX_DAY = date(2000, 1, 1), date(2100, 12, 31)


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
    """Book a session for a patient: checked against the clinic's hours, chairs and the
    patient's other bookings; a conflict shows the nearest free slots and the reason field
    to book it anyway."""
    get_membership_for_user(request.user)
    patient = get_patient_for_user(request.user, public_id)
    form = SessionScheduleForm(request.POST or None, tz=patient.clinic.tz)
    if request.method == "POST" and form.is_valid():
        try:
            session = session_schedule(
                patient=patient, by=request.user, now=timezone.now(), **form.cleaned_data
            )
        except BookingConflict as conflict:
            form.show_conflict(conflict)
        else:
            messages.success(request, _booked_words(session))
            return redirect("care:patient-detail", patient.public_id)
    _audit_read(request, patient=patient)
    return render(request, "care/session_form.html", {"form": form, "patient": patient})


@never_cache
def session_edit(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """Move a booked session (checked as a booking is), or mark it cancelled / a no-show."""
    session = get_session_for_user(request.user, session_id)
    initial = {"scheduled_at": timezone.localtime(session.scheduled_at), "route": session.route}
    form = SessionScheduleForm(request.POST or None, initial=initial, tz=session.patient.clinic.tz)
    if request.method == "POST" and form.is_valid():
        try:
            session = session_reschedule(
                session=session, by=request.user, now=timezone.now(), **form.cleaned_data
            )
        except SessionAlreadyRecorded:
            messages.error(request, _("This session is already recorded; book a new one."))
            return redirect("care:patient-detail", session.patient.public_id)
        except BookingConflict as conflict:
            form.show_conflict(conflict)
        else:
            messages.success(request, _booked_words(session, "moved"))
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
        if hasattr(session, name) and name not in SessionRecordForm.CONFIRMATIONS
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
        dose_basis=session_dose_basis(session=session),
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


@never_cache
def weight_new(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    """Record the patient's weight (kg or lb, measured on a day up to the clinic's today)."""
    membership = get_membership_for_user(request.user)
    patient = get_patient_for_user(request.user, public_id)
    now = timezone.now()
    form = WeightForm(request.POST or None, today=membership.clinic.local_date(now))
    if request.method == "POST" and form.is_valid():
        try:
            weight_record(patient=patient, by=request.user, now=now, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Weight recorded."))
            return redirect("care:patient-detail", patient.public_id)
    weights = list(patient_weights(patient=patient)[:5])
    audit_view(  # the page shows the latest weights: a read each time it is drawn
        request,
        action=AuditEvent.Action.VIEWED,
        what=AuditEvent.What.WEIGHT,
        patient=patient,
        object_id=weights[0].pk if weights else "",
    )
    context = {"form": form, "patient": patient, "weights": weights}
    return render(request, "care/weight_form.html", context)


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


def _my_plan_context(patient, now) -> dict:
    return {
        "patient": patient,
        "clinic": patient.clinic,
        "plan": plan_for_patient(patient_current_plan(patient=patient)),
        "upcoming": upcoming_for_patient(
            patient_upcoming_sessions(patient=patient, now=now), now=now
        ),
    }


@never_cache
def my_plan(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The plan in plain words, every coming session with where, how to prepare, the
    readiness check and asking to move it."""
    patient = get_own_patient_for_user(request.user)
    context = _my_plan_context(patient, timezone.now())
    context["move_form"] = MoveRequestForm()
    return render(request, "care/my_plan.html", context)


def _session_closed(request: AuthenticatedHttpRequest, message: str) -> HttpResponse:
    """The patient's own session can no longer take this (started, cancelled, not yet open)."""
    return render(request, "care/my_session_closed.html", {"message": message}, status=410)


@never_cache
def my_session_ready(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """The readiness check of one of the patient's own coming sessions."""
    session = get_own_session_for_user(request.user, session_id)
    now = timezone.now()
    if session.status != TreatmentSession.Status.SCHEDULED or session.scheduled_at <= now:
        return _session_closed(request, _("This session has started or is no longer booked."))
    if session_readiness(session=session) is not None:
        return _session_closed(request, _("You have already answered for this session."))
    opens = readiness_window(scheduled_at=session.scheduled_at, now=now) == "not_yet"
    form = ReadinessForm(None if opens else request.POST or None)
    if request.method == "POST" and not opens and form.is_valid():
        try:
            readiness_submit(
                session=session, values=form.readiness_values(), now=now, by_link=False
            )
        except SessionNotOpen as exc:
            return _session_closed(request, exc.message)
        except ReadinessAlreadyAnswered:
            return _session_closed(request, _("You have already answered for this session."))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Thank you. Your care team has your answers."))
            return redirect("care:my-plan")
    context = {
        "form": form,
        "session": session,
        "route": route_words(session.route),
        "opens": opens,
        "opens_at": readiness_opens_at(session.scheduled_at),
    }
    return render(request, "care/readiness_form.html", context)


@never_cache
def my_session_move(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """Ask the care team to move one of the patient's own coming sessions."""
    session = get_own_session_for_user(request.user, session_id)
    now = timezone.now()
    if session.status != TreatmentSession.Status.SCHEDULED or session.scheduled_at <= now:
        return _session_closed(request, _("This session has started or is no longer booked."))
    form = MoveRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            move_request_create(
                session=session, preferred_times=form.cleaned_data["preferred_times"], now=now
            )
        except SessionNotOpen as exc:
            return _session_closed(request, exc.message)
        except MoveRequestPending:
            messages.error(
                request,
                _("You have already asked to move this session; your care team will answer."),
            )
            return redirect("care:my-plan")
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Your request is sent. Your care team will answer here."))
            return redirect("care:my-plan")
    context = {"form": form, "session": session, "route": route_words(session.route)}
    return render(request, "care/move_request_form.html", context)


def _booked_words(session: TreatmentSession, verb: str = "booked") -> str:
    if session.chair is not None:
        return _("Session %(verb)s in chair %(chair)s.") % {"verb": verb, "chair": session.chair}
    return _("Session %(verb)s without a chair (over a conflict).") % {"verb": verb}


@never_cache
def sessions_from_plan(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    """ "Book from plan": the plan's induction series (or its next session) proposed in free
    slots for the clinician to confirm or adjust, then booked all or none, each in its
    chair. GET ?kind=induction|next&first=<local date-time> proposes again."""
    get_membership_for_user(request.user)
    patient = get_patient_for_user(request.user, public_id)
    clinic = patient.clinic
    plan = patient_current_plan(patient=patient)
    if plan is None:
        messages.info(request, _("Write the treatment plan first."))
        return redirect("care:treatment-plan", patient.public_id)
    now = timezone.now()
    kind = "next" if patient_has_sessions(patient=patient) else "induction"
    proposal = SeriesProposalForm(
        request.GET if "first" in request.GET else None,
        initial={"kind": kind, "first": timezone.localtime(now)},
        tz=clinic.tz,
    )
    if proposal.is_bound and proposal.is_valid():
        kind, first = proposal.cleaned_data["kind"], proposal.cleaned_data["first"]
    else:
        first = plan_proposal_start(patient=patient, plan=plan, kind=kind, now=now)
        proposal = SeriesProposalForm(initial={"kind": kind, "first": first}, tz=clinic.tz)
    placed = plan_proposal(patient=patient, plan=plan, kind=kind, first=first, now=now)
    count = len(placed)
    if request.method == "POST":
        count_text = request.POST.get("count", "")
        count = int(count_text) if count_text.isdigit() else 1
    initial: dict[str, object] = {"route": plan.route}
    initial.update(
        {f"start_{i}": p.start.astimezone(ZoneInfo(clinic.tz)) for i, p in enumerate(placed)}
    )
    form = SeriesBookingForm(request.POST or None, initial=initial, count=count, tz=clinic.tz)
    free_slots: list[datetime] = []
    if request.method == "POST" and form.is_valid():
        try:
            booked = sessions_schedule_series(
                patient=patient,
                starts=form.starts(),
                route=form.cleaned_data["route"],
                by=request.user,
                now=now,
                override_reason=form.cleaned_data["override_reason"],
            )
        except BookingConflict as conflict:
            form.show_conflict(conflict)
            free_slots = conflict.free_slots
        else:
            messages.success(
                request, _("%(count)s session(s) booked from the plan.") % {"count": len(booked)}
            )
            return redirect("care:patient-detail", patient.public_id)
    _audit_read(request, patient=patient)
    audit_view(  # the proposal is the plan's
        request,
        action=AuditEvent.Action.VIEWED,
        what=AuditEvent.What.TREATMENT_PLAN,
        patient=patient,
        object_id=plan.pk,
    )
    rows = [
        {"field": field, "placed": placed[i] if i < len(placed) else None}
        for i, field in enumerate(form.start_fields())
    ]
    context = {
        "patient": patient,
        "plan": plan,
        "kind": kind,
        "proposal": proposal,
        "form": form,
        "rows": rows,
        "free_slots": free_slots,
    }
    return render(request, "care/sessions_from_plan.html", context)


@never_cache
def session_day(request: AuthenticatedHttpRequest, day: str | None = None) -> HttpResponse:
    """A day of the clinic's sessions in its zone: chairs as columns, a row every 30 minutes
    of the opening hours, each session with the patient's preferred name, route, time and
    readiness; a column for sessions booked without a chair. Today by default."""
    membership = get_membership_for_user(request.user)
    clinic = membership.clinic
    if day is None:
        on = clinic.local_date(timezone.now())
    else:
        try:
            on = date.fromisoformat(day)
        except ValueError:
            raise Http404 from None
        if len(day) != 10 or not MIN_DAY <= on <= MAX_DAY:
            raise Http404
    sessions = list(clinic_day_sessions(clinic=clinic, day=on))
    pending = {
        r.session_id: r.pk
        for r in pending_move_requests(clinic=clinic).filter(session__in=[s.pk for s in sessions])
    }
    grid = day_grid(
        rules=booking_rules(clinic=clinic), day=on, sessions=sessions, move_requests=pending
    )
    audit_view(request, action=AuditEvent.Action.VIEWED, what=AuditEvent.What.SESSION)
    context = {
        "day": on,
        "grid": grid,
        "sessions": sessions,
        "previous": on - timedelta(days=1),
        "next": on + timedelta(days=1),
        "today": clinic.local_date(timezone.now()),
    }
    return render(request, "care/session_day.html", context)


@never_cache
def move_request_detail(request: AuthenticatedHttpRequest, request_id: int) -> HttpResponse:
    """A patient's request to move a session: accept it (choosing the new time; the booking
    checks apply, with the reason to book over a conflict) or decline it, with words to the
    patient. An answered request shows its answer."""
    move = get_move_request_for_user(request.user, request_id)
    session = move.session
    clinic = session.patient.clinic
    pending = move.status == SessionMoveRequest.Status.PENDING
    form = MoveRequestDecisionForm(
        (request.POST or None) if pending else None,
        initial={"new_start": timezone.localtime(session.scheduled_at)},
        tz=clinic.tz,
    )
    if request.method == "POST" and pending and form.is_valid():
        data = form.cleaned_data
        accept = data["decision"] == "accept"
        try:
            move_request_decide(
                request=move,
                accept=accept,
                new_start=data.get("new_start") if accept else None,
                answer=data.get("answer", ""),
                by=request.user,
                now=timezone.now(),
                override_reason=data.get("override_reason", ""),
            )
        except BookingConflict as conflict:
            form.show_conflict(conflict)
        except MoveRequestAnswered:
            messages.error(request, _("This request was already answered."))
            return redirect("care:move-request", move.pk)
        except SessionAlreadyRecorded:
            messages.error(request, _("This session is already recorded; it cannot move."))
            return redirect("care:move-request", move.pk)
        else:
            messages.success(
                request, _("Session moved.") if accept else _("The request is declined.")
            )
            return redirect("care:patient-detail", session.patient.public_id)
    audit_view(
        request,
        action=AuditEvent.Action.VIEWED,
        what=AuditEvent.What.MOVE_REQUEST,
        patient=session.patient,
        object_id=move.pk,
    )
    context = {"move": move, "session": session, "patient": session.patient, "form": form}
    return render(request, "care/move_request.html", context)
