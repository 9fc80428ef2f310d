"""Pages of accounts: the signed-in landing, the care team, clinic settings, invitations."""

from allauth.account.utils import perform_login
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from care.accounts.forms import (
    EMAIL_UNAVAILABLE,
    ClinicSettingsForm,
    ContactDetailsForm,
    InvitationAcceptForm,
    PatientContactForm,
    StaffMemberAddForm,
    StaffMemberForm,
)
from care.accounts.selectors import clinic_staff_list, user_latest_invitation
from care.accounts.services import (
    InvitationInvalid,
    clinic_update,
    invitation_accept,
    invitation_for_token,
    invitation_reissue,
    patient_contact_update,
    staff_member_add,
    staff_member_update,
)
from care.common.access import (
    AuthenticatedHttpRequest,
    get_admin_membership_for_user,
    get_own_patient_for_user,
    get_staff_member_for_user,
    membership_for_user,
    patient_for_user,
)

INVITATION_SESSION_KEY = "invitation_token"


def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Send each kind of user to their starting page."""
    if patient_for_user(request.user) is not None:
        return redirect("care:me")
    if membership_for_user(request.user) is not None:
        return redirect("care:patient-list")
    return render(request, "care/no_role.html", status=403)


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
    """The clinic's settings: sender name, time zone, on-call contact, thresholds, its
    contact details (country, phones, address, opening hours), treatment (chairs, chair time,
    weight and dose checks) and what patients read to prepare for a session."""
    admin = get_admin_membership_for_user(request.user)
    form = ClinicSettingsForm(request.POST or None, instance=admin.clinic)
    if request.method == "POST" and form.is_valid():
        clinic_update(clinic=admin.clinic, changes=form.changes())
        messages.success(request, _("Clinic settings saved."))
        return redirect("care:clinic-settings")
    return render(request, "care/clinic_settings.html", {"form": form})


@never_cache
def my_contact(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The patient's own contact details: phones, consent to calls and texts, preferences,
    emergency contact and safety plan; with their clinic's numbers, hours and address."""
    patient = get_own_patient_for_user(request.user)
    clinic = patient.clinic
    form = PatientContactForm(
        request.POST or None,
        initial=ContactDetailsForm.contact_initial(patient, clinic.country),
        clinic=clinic,
    )
    if request.method == "POST" and form.is_valid():
        if patient_contact_update(patient=patient, contact=form.contact_data()):
            messages.success(request, _("Your contact details are saved."))
        else:
            messages.info(request, _("Nothing was changed."))
        return redirect("care:my-contact")
    # The clinic's numbers and hours come with every patient page (`crisis.clinic`).
    return render(request, "care/my_contact.html", {"form": form, "clinic": clinic})


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
