"""HTML views of the care app: access, validate, call one service, respond."""

from allauth.account.utils import perform_login
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .access import (
    AuthenticatedHttpRequest,
    get_admin_membership_for_user,
    get_membership_for_user,
    get_patient_for_user,
    get_staff_member_for_user,
    membership_for_user,
    patient_for_user,
)
from .caseload import caseload_page
from .caseload_display import caseload_lines, filter_controls
from .forms import (
    EMAIL_UNAVAILABLE,
    CaseloadFilterForm,
    ClinicSettingsForm,
    EnrollmentForm,
    InvitationAcceptForm,
    PatientEditForm,
    StaffMemberAddForm,
    StaffMemberForm,
)
from .models import AuditEvent
from .patient_trends import patient_trends
from .selectors import (
    alerts_with_related,
    clinic_staff_list,
    patient_alert_history,
    patient_recent_assessments,
    patient_recent_checkins,
    user_latest_invitation,
)
from .services import (
    InvitationInvalid,
    audit_view,
    clinic_update,
    invitation_accept,
    invitation_for_token,
    invitation_reissue,
    patient_enroll,
    patient_update,
    staff_member_add,
    staff_member_update,
)

INVITATION_SESSION_KEY = "invitation_token"


def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Send each kind of user to their starting page."""
    if patient_for_user(request.user) is not None:
        return redirect("care:me")
    if membership_for_user(request.user) is not None:
        return redirect("care:patient-list")
    return render(request, "care/no_role.html", status=403)


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
    lines = caseload_lines(rows, missed_checkin_days=membership.clinic.missed_checkin_days)
    context = {
        "page": page,
        "rows": rows,
        "lines": lines,
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
        else:
            messages.success(request, _("Patient enrolled. An invitation e-mail is on its way."))
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
        "sessions": patient.sessions.order_by("-scheduled_at")[:20],
        "now": timezone.now(),  # "Record" only for sessions that have started
        "deliveries": patient.deliveries.order_by("-due_at")[:20],
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


@never_cache
def staff_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The clinic's care team (clinic admins only)."""
    admin = get_admin_membership_for_user(request.user)
    members = clinic_staff_list(clinic=admin.clinic)
    return render(request, "care/staff_list.html", {"members": members, "clinic": admin.clinic})


@never_cache
def staff_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Add a staff member; they receive an invitation e-mail to set a password."""
    admin = get_admin_membership_for_user(request.user)
    form = StaffMemberAddForm(request.POST or None, clinic=admin.clinic)
    if request.method == "POST" and form.is_valid():
        try:
            staff_member_add(
                clinic=admin.clinic, added_by=request.user, now=timezone.now(), **form.cleaned_data
            )
        except IntegrityError:  # the same address, added at the same moment
            form.add_error("email", EMAIL_UNAVAILABLE)
        else:
            messages.success(request, _("Staff member added. An invitation e-mail is on its way."))
            return redirect("care:staff-list")
    return render(request, "care/staff_add.html", {"form": form})


@never_cache
def staff_edit(request: AuthenticatedHttpRequest, membership_id: int) -> HttpResponse:
    """Change a staff member's role or title, deactivate them, or re-send their invitation."""
    member = get_staff_member_for_user(request.user, membership_id)
    form = StaffMemberForm(request.POST or None, instance=member, editor=request.user)
    if request.method == "POST" and "resend" in request.POST:
        if not member.is_awaiting_activation:
            messages.error(request, _("Only a pending account can get a new invitation."))
            return redirect("care:staff-edit", member.id)
        invitation_reissue(user=member.user, by=request.user, now=timezone.now())
        messages.success(request, _("A new invitation is on its way."))
        return redirect("care:staff-list")
    if request.method == "POST" and form.is_valid():
        staff_member_update(membership=member, now=timezone.now(), **form.cleaned_data)
        messages.success(request, _("Changes saved."))
        return redirect("care:staff-list")
    invitation = user_latest_invitation(user=member.user)
    return render(
        request, "care/staff_edit.html", {"form": form, "member": member, "invitation": invitation}
    )


@never_cache
def clinic_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The clinic's settings: sender name, time zone, on-call contact, thresholds."""
    admin = get_admin_membership_for_user(request.user)
    form = ClinicSettingsForm(request.POST or None, instance=admin.clinic)
    if request.method == "POST" and form.is_valid():
        clinic_update(clinic=admin.clinic, changes=form.cleaned_data)
        messages.success(request, _("Clinic settings saved."))
        return redirect("care:clinic-settings")
    return render(request, "care/clinic_settings.html", {"form": form})


@login_not_required
def invitation_open(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link: keep the token in the session and continue at a token-free URL.

    As in Django's password reset, this keeps the token out of Referer headers and of
    the addresses that later requests log.
    """
    request.session[INVITATION_SESSION_KEY] = token
    return redirect("care:invitation-accept")


@login_not_required
@never_cache
def invitation_accept_view(request: HttpRequest) -> HttpResponse:
    """Choose a password, activate the account and sign in."""
    token = request.session.get(INVITATION_SESSION_KEY, "")
    now = timezone.now()
    try:
        user = invitation_for_token(token=token, now=now).user
    except InvitationInvalid:
        return render(request, "care/invitation_invalid.html", status=410)
    form = InvitationAcceptForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(token=token, password=form.cleaned_data["password1"], now=now)
        except InvitationInvalid:
            return render(request, "care/invitation_invalid.html", status=410)
        del request.session[INVITATION_SESSION_KEY]
        return perform_login(request, user, redirect_url="/")
    return render(request, "care/invitation_accept.html", {"form": form, "email": user.email})


@login_not_required
def crisis(request: HttpRequest) -> HttpResponse:
    """Crisis resources, reachable without signing in."""
    return render(request, "care/crisis.html")
