"""HTML views of the care app: access, validate, call one service, respond."""

from allauth.account.utils import perform_login
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .access import (
    get_membership_for_user,
    get_own_patient_for_user,
    get_patient_for_user,
    membership_for_user,
    patient_for_user,
)
from .forms import EnrollmentForm, InvitationAcceptForm
from .selectors import clinic_patients_list, patient_latest_invitation
from .services import (
    InvitationInvalid,
    invitation_accept,
    invitation_create,
    invitation_for_token,
    patient_enroll,
)


def home(request: HttpRequest) -> HttpResponse:
    """Send each kind of user to their starting page."""
    if patient_for_user(request.user) is not None:
        return redirect("care:me")
    if membership_for_user(request.user) is not None:
        return redirect("care:patient-list")
    return render(request, "care/no_role.html", status=403)


@never_cache
def me(request: HttpRequest) -> HttpResponse:
    """The patient's home page."""
    patient = get_own_patient_for_user(request.user)
    return render(request, "care/me.html", {"patient": patient})


@never_cache
def patient_list(request: HttpRequest) -> HttpResponse:
    """The clinic's patients (staff only)."""
    membership = get_membership_for_user(request.user)
    page = Paginator(clinic_patients_list(clinic=membership.clinic), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "care/patient_list.html", {"page": page, "clinic": membership.clinic})


@never_cache
def patient_enroll_view(request: HttpRequest) -> HttpResponse:
    """Enroll a patient after their consultation and e-mail them an invitation."""
    membership = get_membership_for_user(request.user)
    now = timezone.now()
    form = EnrollmentForm(
        request.POST or None, clinic=membership.clinic, today=timezone.localdate(now)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        conditions = set(data.pop("conditions"))
        patient = patient_enroll(
            clinic=membership.clinic,
            enrolled_by=request.user,
            has_depression="depression" in conditions,
            has_anxiety="anxiety" in conditions,
            has_ptsd="ptsd" in conditions,
            now=now,
            **data,
        )
        messages.success(request, _("Patient enrolled. An invitation e-mail is on its way."))
        return redirect("care:patient-detail", patient.public_id)
    return render(request, "care/patient_enroll.html", {"form": form})


@never_cache
def patient_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """One patient's record (staff of the patient's clinic only)."""
    get_membership_for_user(request.user)
    patient = get_patient_for_user(request.user, public_id)
    invitation = patient_latest_invitation(patient=patient)
    return render(
        request, "care/patient_detail.html", {"patient": patient, "invitation": invitation}
    )


@require_POST
def invitation_resend(request: HttpRequest, public_id: str) -> HttpResponse:
    """Issue a fresh invitation link; earlier unused links stop working."""
    get_membership_for_user(request.user)
    patient = get_patient_for_user(request.user, public_id)
    if patient.user.is_active:
        messages.info(request, _("This patient has already activated their account."))
    else:
        invitation_create(patient=patient, created_by=request.user, now=timezone.now())
        messages.success(
            request, _("A new invitation is on its way; earlier links no longer work.")
        )
    return redirect("care:patient-detail", patient.public_id)


@login_not_required
@never_cache
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    """Open an invitation link: choose a password, activate the account, sign in."""
    now = timezone.now()
    try:
        invitation = invitation_for_token(token=token, now=now)
    except InvitationInvalid:
        return render(request, "care/invitation_invalid.html", status=410)
    user = invitation.patient.user
    form = InvitationAcceptForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(token=token, password=form.cleaned_data["password1"], now=now)
        except InvitationInvalid:
            return render(request, "care/invitation_invalid.html", status=410)
        return perform_login(request, user, redirect_url="/")
    return render(request, "care/invitation_accept.html", {"form": form, "email": user.email})


@login_not_required
def crisis(request: HttpRequest) -> HttpResponse:
    """Crisis resources, reachable without signing in."""
    return render(request, "care/crisis.html")
