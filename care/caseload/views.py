"""The care team's pages about its patients: caseload, enrollment, patient page, edits."""

from django.contrib import messages
from django.db import IntegrityError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from care.accounts.forms import EMAIL_UNAVAILABLE
from care.accounts.selectors import user_latest_invitation
from care.accounts.services import invitation_reissue, patient_enroll, patient_update
from care.alerts.selectors import alerts_with_related, patient_alert_history
from care.audit.services import audit_view
from care.caseload.display import caseload_lines, caseload_rows_html, filter_controls
from care.caseload.forms import CaseloadFilterForm, EnrollmentForm, PatientEditForm
from care.caseload.selectors import caseload_page
from care.caseload.trends import patient_trends
from care.common.access import (
    AuthenticatedHttpRequest,
    get_membership_for_user,
    get_patient_for_user,
)
from care.messages.selectors import patient_threads_list
from care.models import AuditEvent
from care.records.selectors import patient_recent_assessments, patient_recent_checkins
from care.treatment.selectors import (
    patient_plan_versions,
    patient_weight_card,
    pending_move_requests,
)
from care.treatment.services import BookingConflict

CASELOAD_FILTERS = "caseload_filters"


@never_cache
def patient_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The caseload: who needs attention first, with trends, scores and next sessions."""
    membership = get_membership_for_user(request.user)
    if request.method == "POST":
        # The filters travel in the body and live in the session, so a typed name never
        # appears in a URL (browser history, access logs, Referer).
        chosen = {k: request.POST.get(k, "") for k in CaseloadFilterForm.base_fields}
        request.session[CASELOAD_FILTERS] = {} if "clear" in request.POST else chosen
        return redirect("care:patient-list")
    # Filters in the query string (a bookmark, a link) still work; the form never makes them.
    data = {k: v for k, v in request.GET.items() if k in CaseloadFilterForm.base_fields}
    form = CaseloadFilterForm(
        data or request.session.get(CASELOAD_FILTERS) or None, clinic=membership.clinic
    )
    filters = form.filters()
    page, rows = caseload_page(
        clinic=membership.clinic,
        filters=filters,
        now=timezone.now(),
        page_number=request.GET.get("page"),
    )
    audit_view(request, action=AuditEvent.Action.VIEWED, what=AuditEvent.What.CASELOAD)
    clinic = membership.clinic
    lines = caseload_lines(
        rows, missed_checkin_days=clinic.missed_checkin_days, country=clinic.country
    )
    context = {
        "page": page,
        "rows": rows,
        "lines": lines,
        "rows_html": caseload_rows_html(lines),
        "form": form,
        "controls": filter_controls(form),
        "clinic": membership.clinic,
    }
    return render(request, "care/patient_list.html", context)


@never_cache
def patient_enroll_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Enroll a patient after their consultation and e-mail them an invitation."""
    membership = get_membership_for_user(request.user)
    now = timezone.now()
    form = EnrollmentForm(
        request.POST or None, clinic=membership.clinic, today=membership.clinic.local_date(now)
    )
    if request.method == "POST" and form.is_valid():
        try:
            patient = patient_enroll(
                clinic=membership.clinic, enrolled_by=request.user, now=now, **form.profile_data()
            )
        except IntegrityError:  # the same address, enrolled at the same moment
            form.add_error("email", EMAIL_UNAVAILABLE)
        except BookingConflict as conflict:  # nothing written: the form says which and why
            form.show_conflict(conflict)
        else:
            messages.success(request, _("Patient enrolled. An invitation e-mail is on its way."))
            if form.zone_warning:
                messages.warning(request, form.zone_warning)
            return redirect("care:patient-detail", patient.public_id)
    return render(request, "care/patient_enroll.html", {"form": form})


@never_cache
def patient_detail(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    """One patient's record (staff of the patient's clinic only)."""
    get_membership_for_user(request.user)
    patient = get_patient_for_user(request.user, public_id)
    audit_view(
        request,
        action=AuditEvent.Action.VIEWED,
        what=AuditEvent.What.PATIENT,
        patient=patient,
        object_id=patient.public_id,
    )
    alerts = alerts_with_related(list(patient_alert_history(patient=patient)))
    context = {
        "patient": patient,
        "invitation": user_latest_invitation(user=patient.user),
        "alerts": alerts,
        "open_alerts": [a for a in alerts if a.is_open],
        "closed_alerts": [a for a in alerts if not a.is_open],
        "trends": patient_trends(patient=patient, now=timezone.now()),
        "checkins": patient_recent_checkins(patient=patient),
        "assessments": patient_recent_assessments(patient=patient),
        # With each session's readiness check (the patient's answers before it) and the
        # patient's reflection after it, shown beside it (read with the page).
        "sessions": patient.sessions.select_related("readiness", "reflection").order_by(
            "-scheduled_at"
        )[:20],
        "now": timezone.now(),  # "Record" only for sessions that have started
        "deliveries": patient.deliveries.order_by("-due_at")[:20],
        "threads": patient_threads_list(patient=patient),
        "plan_versions": list(patient_plan_versions(patient=patient)),
        "move_requests": list(pending_move_requests(clinic=patient.clinic, patient=patient)),
        "weight_card": patient_weight_card(patient=patient, now=timezone.now()),
    }
    return render(request, "care/patient_detail.html", context)


@never_cache
def patient_edit(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    """Change a patient's profile: names, zone, conditions, status, phase, clinician."""
    membership = get_membership_for_user(request.user)
    patient = get_patient_for_user(request.user, public_id)
    form = PatientEditForm(
        request.POST or None,
        initial=PatientEditForm.initial_for(patient),
        clinic=membership.clinic,
        today=membership.clinic.local_date(timezone.now()),
    )
    if request.method == "POST" and form.is_valid():
        patient_update(patient=patient, **form.profile_data())
        messages.success(request, _("Patient record saved."))
        if form.zone_warning:
            messages.warning(request, form.zone_warning)
        return redirect("care:patient-detail", patient.public_id)
    # Drawn, first or again with errors, the form shows the patient's record: a read.
    audit_view(
        request,
        action=AuditEvent.Action.VIEWED,
        what=AuditEvent.What.PATIENT,
        patient=patient,
        object_id=patient.public_id,
    )
    return render(request, "care/patient_edit.html", {"form": form, "patient": patient})


@require_POST
def invitation_resend(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    """Issue a fresh invitation link; earlier unused links stop working."""
    get_membership_for_user(request.user)
    patient = get_patient_for_user(request.user, public_id)
    if patient.user.is_active:
        messages.info(request, _("This patient has already activated their account."))
    else:
        invitation_reissue(user=patient.user, by=request.user, now=timezone.now())
        messages.success(
            request, _("A new invitation is on its way; earlier links no longer work.")
        )
    return redirect("care:patient-detail", patient.public_id)
