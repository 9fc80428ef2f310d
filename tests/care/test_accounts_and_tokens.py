"""Accounts and tokens: a deactivated member's API tokens die for good, enrollment does not
reveal another clinic's people, e-mail addresses are the clinic's to set."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.admin.widgets import AdminSplitDateTime as SplitDateTimeWidget
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from care.accounts.forms import EMAIL_UNAVAILABLE
from care.accounts.services import invitation_create, staff_member_update
from care.accounts.tokens import api_token_issue
from care.models import Patient, User
from tests.factories import PASSWORD, PatientFactory, StaffFactory, give_second_factor, totp_code

pytestmark = pytest.mark.django_db

ENROLL_URL = "/staff/patients/new/"
ADD_STAFF_URL = "/staff/team/new/"


@pytest.fixture
def admin_client(client, clinic_admin):
    client.force_login(clinic_admin)
    return client


def api_works(secret) -> bool:
    response = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    return response.status_code == 200


def enrollment_data(clinician, email):
    return {
        "full_name": "Robin Example",
        "preferred_name": "Robin",
        "email": email,
        "date_of_birth": "1990-02-03",
        "tz": "America/Denver",
        "conditions": ["depression"],
        "consultation_on": "2026-11-20",
        "primary_clinician": str(clinician.pk),
    }


# Deactivation and API tokens


def test_deactivating_a_staff_member_revokes_their_api_tokens_for_good(admin_client, clinician):
    issued = api_token_issue(user=clinician, name="phone", days=30, now=timezone.now())
    assert api_works(issued.secret)
    edit = reverse("care:staff-edit", args=[clinician.staff_membership.id])

    admin_client.post(edit, {"role": "clinician", "title": ""})  # deactivate
    admin_client.post(edit, {"role": "clinician", "title": "", "is_active": "on"})  # reactivate

    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    assert not api_works(issued.secret)


# Enrollment and addresses of other clinics


def form_errors(response) -> str:
    return " ".join(response.context["form"].errors.get("email", []))


def test_enrolling_an_address_of_another_clinic_does_not_reveal_it_exists_there(
    clinician_client, clinician, foreign_patient, other_clinician
):
    for address in (foreign_patient.user.email, other_clinician.email):
        response = clinician_client.post(ENROLL_URL, enrollment_data(clinician, address))

        assert response.status_code == 200
        assert form_errors(response) == str(EMAIL_UNAVAILABLE)  # neither "already" nor where
    assert not Patient.objects.filter(clinic=clinician.staff_membership.clinic).exists()


def test_adding_staff_with_an_address_of_another_clinic_does_not_reveal_it(
    admin_client, foreign_patient
):
    response = admin_client.post(
        ADD_STAFF_URL,
        {"full_name": "X", "email": foreign_patient.user.email, "role": "clinician"},
    )

    assert form_errors(response) == str(EMAIL_UNAVAILABLE)
    assert "Clinic B" not in response.content.decode()


def test_an_address_of_our_own_clinic_is_named_as_in_use(clinician_client, clinician, patient):
    response = clinician_client.post(ENROLL_URL, enrollment_data(clinician, patient.user.email))

    assert "already has an account" in form_errors(response)


# E-mail addresses are the clinic's to set


def test_patients_cannot_add_an_e_mail_address(patient_client, patient):
    response = patient_client.post(
        "/accounts/email/", {"action_add": "", "email": "new-name@example.org"}
    )

    assert response.status_code == 404
    assert not EmailAddress.objects.filter(email="new-name@example.org").exists()


def test_an_extra_address_never_becomes_a_sign_in_name(client, patient, clinician):
    # As an address added through allauth's e-mail page would be (unverified or not).
    EmailAddress.objects.create(user=patient.user, email="later-staff@example.org", verified=True)
    EmailAddress.objects.create(user=patient.user, email=clinician.email.upper(), verified=True)

    for login in ("later-staff@example.org", clinician.email):
        client.post("/accounts/login/", {"login": login, "password": PASSWORD})
        assert SESSION_KEY not in client.session, login


def test_the_clinic_can_still_enroll_an_address_someone_tried_to_claim(
    clinician_client, clinician, patient
):
    EmailAddress.objects.create(user=patient.user, email="robin@example.org", verified=False)

    response = clinician_client.post(ENROLL_URL, enrollment_data(clinician, "robin@example.org"))

    assert response.status_code == 302
    robin = User.objects.get(email="robin@example.org")
    client = Client()
    robin.set_password(PASSWORD)
    robin.is_active = True
    robin.save()
    client.post("/accounts/login/", {"login": "robin@example.org", "password": PASSWORD})
    assert client.session[SESSION_KEY] == str(robin.pk)


def test_a_staff_address_in_a_patients_list_does_not_stop_staff_signing_in(clinic):
    staff = StaffFactory(clinic=clinic).user
    other = PatientFactory(clinic=clinic)
    EmailAddress.objects.create(user=other.user, email=staff.email, verified=True)
    client = Client()

    client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    client.post("/accounts/2fa/authenticate/", {"code": totp_code()})

    assert client.session[SESSION_KEY] == str(staff.pk)


# Deactivation outside the staff page: the Django admin, the shell


@pytest.fixture
def operator(django_user_model):
    user = django_user_model.objects.create_superuser(
        email="operator@example.org", password="an-operator-passphrase"
    )
    give_second_factor(user)
    return user


def admin_user_form(client, user, **changes) -> dict:
    """The Django admin's change form for `user` as it would be posted, with `changes`."""
    form = client.get(f"/admin/care/user/{user.pk}/change/").context["adminform"].form
    data = {}
    for name in form.fields:
        widget, value = form[name].field.widget, form[name].value()
        if isinstance(widget, SplitDateTimeWidget):
            day, time = widget.decompress(value)
            data |= {f"{name}_0": day or "", f"{name}_1": time or ""}
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None and name != "password":
            data[name] = value
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return data


def test_deactivating_a_user_in_the_django_admin_revokes_their_api_tokens_for_good(
    client, operator, clinician
):
    issued = api_token_issue(user=clinician, name="phone", days=30, now=timezone.now())
    client.force_login(operator)
    url = f"/admin/care/user/{clinician.pk}/change/"

    off = client.post(url, admin_user_form(client, clinician, is_active=False))
    on = client.post(url, admin_user_form(client, clinician, is_active=True))

    assert off.status_code == on.status_code == 302
    clinician.refresh_from_db()
    issued.token.refresh_from_db()
    assert clinician.is_active
    assert issued.token.revoked_at is not None
    assert not api_works(issued.secret)


def test_deactivating_a_user_by_saving_them_inactive_revokes_their_api_tokens(clinician):
    issued = api_token_issue(user=clinician, name="phone", days=30, now=timezone.now())

    clinician.is_active = False
    clinician.save()
    clinician.is_active = True
    clinician.save()

    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    assert not api_works(issued.secret)


def test_deactivating_through_the_staff_service_revokes_their_api_tokens(clinician):
    issued = api_token_issue(user=clinician, name="phone", days=30, now=timezone.now())
    membership = clinician.staff_membership
    now = timezone.now()

    staff_member_update(membership=membership, role="clinician", title="", is_active=False, now=now)
    staff_member_update(membership=membership, role="clinician", title="", is_active=True, now=now)

    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None


def test_saving_a_pending_invitee_who_was_never_active_keeps_their_invitation():
    user = User.objects.create_user(email="new@example.org", full_name="New", is_active=False)
    invitation = invitation_create(user=user, created_by=None, now=timezone.now())

    user.full_name = "New Member"
    user.save()

    invitation.refresh_from_db()
    assert invitation.revoked_at is None
