"""Clinic admins manage their team and clinic settings; nobody else can."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from care.accounts.services import invitation_send
from care.models import Invitation, StaffMembership, User
from tests.factories import PASSWORD, StaffFactory

pytestmark = pytest.mark.django_db

TEAM_URL = "/staff/team/"
ADD_URL = "/staff/team/new/"
SETTINGS_URL = "/staff/clinic/"


def edit_url(membership):
    return reverse("care:staff-edit", args=[membership.id])


@pytest.fixture
def admin_client(client, clinic_admin):
    client.force_login(clinic_admin)
    return client


@pytest.mark.parametrize("url", [TEAM_URL, ADD_URL, SETTINGS_URL])
def test_clinicians_who_are_not_admins_get_403(clinician_client, url):
    assert clinician_client.get(url).status_code == 403


def test_clinicians_cannot_add_staff_edit_staff_or_change_settings(
    clinician_client, clinic, clinic_admin
):
    added = clinician_client.post(
        ADD_URL, {"full_name": "X", "email": "x@example.org", "role": "admin"}
    )
    settings = clinician_client.post(SETTINGS_URL, {"name": "Hijacked"})
    edited = clinician_client.post(
        edit_url(clinic_admin.staff_membership), {"role": "clinician", "title": ""}
    )

    clinic.refresh_from_db()
    assert added.status_code == settings.status_code == edited.status_code == 403
    assert not User.objects.filter(email="x@example.org").exists()
    assert clinic.name == "Clinic A"
    assert clinic_admin.staff_membership.role == "admin"


def test_staff_edit_is_404_for_patients_and_login_for_anonymous(client, patient, clinician):
    url = edit_url(clinician.staff_membership)

    assert client.get(url).status_code == 302
    assert client.post(url, {"resend": "1"}).status_code == 302
    client.force_login(patient.user)
    assert client.get(url).status_code == 404
    assert client.post(url, {"role": "admin"}).status_code == 404


@pytest.mark.parametrize("url", [TEAM_URL, ADD_URL, SETTINGS_URL])
def test_patients_get_404_and_anonymous_users_go_to_login(client, patient, url):
    assert client.get(url).status_code == 302
    client.force_login(patient.user)
    assert client.get(url).status_code == 404


def test_an_admin_of_another_clinic_gets_404_for_our_staff(client, clinician, other_clinic):
    other_admin = StaffFactory(clinic=other_clinic, role=StaffMembership.Role.ADMIN).user
    client.force_login(other_admin)
    membership = clinician.staff_membership

    assert client.get(edit_url(membership)).status_code == 404
    response = client.post(edit_url(membership), {"role": "admin", "title": "x"})
    membership.refresh_from_db()
    assert response.status_code == 404
    assert membership.role == StaffMembership.Role.CLINICIAN


def test_team_list_shows_only_our_clinics_staff(admin_client, clinician, other_clinician):
    page = admin_client.get(TEAM_URL).content.decode()

    assert clinician.email in page
    assert other_clinician.email not in page


def test_an_added_staff_member_is_invited_and_can_activate(
    admin_client, clinic, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            ADD_URL,
            {"full_name": "Jamie Rivera", "email": "Jamie@Example.org", "role": "clinician"},
        )

    member = StaffMembership.objects.get(user__email="jamie@example.org")
    assert response.status_code == 302
    assert member.clinic == clinic
    assert not member.user.is_active
    assert len(callbacks) == 1

    invitation = Invitation.objects.get(user=member.user)
    invitation_send(invitation_id=invitation.id, now=timezone.now())
    assert "Hi Jamie," in mailoutbox[0].body
    link = re.search(r"http://testserver(/invitation/\S+/)", mailoutbox[0].body).group(1)
    admin_client.logout()
    admin_client.get(link)
    admin_client.post(
        "/invitation/", {"password1": "a-fine-passphrase", "password2": "a-fine-passphrase"}
    )
    assert admin_client.session[SESSION_KEY] == str(member.user.pk)
    # New staff set up their second factor before anything else.
    assert admin_client.get("/").headers["Location"] == reverse("mfa_activate_totp")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"full_name": "A", "email": "bad", "role": "clinician"}, "email", "valid email"),
        ({"full_name": "A", "email": "a@example.org", "role": "boss"}, "role", "valid choice"),
        ({"full_name": "", "email": "a@example.org", "role": "admin"}, "full_name", "required"),
    ],
)
def test_adding_staff_rejects_bad_input(admin_client, data, field, message):
    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not User.objects.filter(email="a@example.org").exists()


def test_adding_staff_refuses_an_email_in_use(admin_client, patient):
    response = admin_client.post(
        ADD_URL, {"full_name": "X", "email": patient.user.email, "role": "clinician"}
    )

    assert "already has an account" in response.context["form"].errors["email"][0]


def test_an_admin_changes_role_and_title_and_deactivates(admin_client, clinician):
    membership = clinician.staff_membership
    clinician_session = Client()
    clinician_session.force_login(clinician)

    response = admin_client.post(
        edit_url(membership), {"role": "admin", "title": "Lead RN", "is_active": ""}
    )

    membership.refresh_from_db()
    clinician.refresh_from_db()
    assert response.status_code == 302
    assert (membership.role, membership.title) == ("admin", "Lead RN")
    assert not clinician.is_active
    # The open session stops working at once, and signing in again is refused.
    assert clinician_session.get(TEAM_URL).status_code == 302
    fresh = Client()
    fresh.post("/accounts/login/", {"login": clinician.email, "password": PASSWORD})
    assert SESSION_KEY not in fresh.session


def test_an_admin_cannot_demote_or_deactivate_themself(admin_client, clinic_admin):
    membership = clinic_admin.staff_membership

    demote = admin_client.post(edit_url(membership), {"role": "clinician", "is_active": "on"})
    deactivate = admin_client.post(edit_url(membership), {"role": "admin", "is_active": ""})

    membership.refresh_from_db()
    clinic_admin.refresh_from_db()
    assert demote.status_code == deactivate.status_code == 200
    assert "ask another admin" in demote.content.decode()
    assert membership.role == "admin" and clinic_admin.is_active


def test_deactivating_a_pending_member_closes_their_invitation_link(
    admin_client, clinic, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        admin_client.post(
            ADD_URL, {"full_name": "Lee Park", "email": "lee@example.org", "role": "clinician"}
        )
    member = StaffMembership.objects.get(user__email="lee@example.org")
    invitation_send(invitation_id=member.user.invitations.get().id, now=timezone.now())
    link = re.search(r"(/invitation/\S+/)", mailoutbox[0].body).group(1)

    admin_client.post(edit_url(member), {"role": "clinician", "title": "", "is_active": ""})
    resend = admin_client.post(edit_url(member), {"resend": "1"})

    outsider = Client()
    outsider.get(link)
    accepted = outsider.post(
        "/invitation/", {"password1": "lee-passphrase-1", "password2": "lee-passphrase-1"}
    )
    member.refresh_from_db()
    assert member.is_deactivated
    assert resend.status_code == 302
    assert member.user.invitations.filter(revoked_at__isnull=True).count() == 0
    assert accepted.status_code == 410
    assert not member.user.is_active


def test_reactivating_restores_a_member_who_had_a_password(admin_client, clinician):
    membership = clinician.staff_membership
    admin_client.post(edit_url(membership), {"role": "clinician", "title": ""})

    admin_client.post(edit_url(membership), {"role": "clinician", "title": "", "is_active": "on"})

    membership.refresh_from_db()
    clinician.refresh_from_db()
    assert membership.deactivated_at is None
    assert clinician.is_active


def test_an_admin_resends_a_pending_staff_invitation(
    admin_client, clinic, django_capture_on_commit_callbacks
):
    pending = StaffFactory(clinic=clinic, user__is_active=False, user__password=None)
    pending.user.set_unusable_password()
    pending.user.save()
    old = Invitation.objects.create(user=pending.user)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin_client.post(edit_url(pending), {"resend": "1"})

    old.refresh_from_db()
    assert old.revoked_at is not None
    assert len(callbacks) == 1


def test_clinic_settings_are_saved(admin_client, clinic):
    data = {
        "name": "Lakeside Clinic",
        "email_sender_name": "Lakeside Team",
        "tz": "America/Chicago",
        "on_call_email": "oncall@example.org",
        "default_checkin_time": "18:30",
        "alert_response_minutes": "20",
        "missed_checkin_days": "2",
        "message_response_hours": "16",
        "bp_hold_systolic": "150",
        "bp_hold_diastolic": "95",
        "treatment_chairs": "2",
        "session_minutes": "120",
        "weight_max_age_days": "90",
        "dose_margin_percent": "10",
        "country": "US",
    }

    response = admin_client.post(SETTINGS_URL, data)

    clinic.refresh_from_db()
    assert response.status_code == 302
    assert (clinic.name, clinic.tz, clinic.bp_hold_systolic) == (
        "Lakeside Clinic",
        "America/Chicago",
        150,
    )
    assert clinic.message_response_hours == 16


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email_sender_name": "Ketamine Wellness"}, "email_sender_name", "must not reveal"),
        ({"email_sender_name": "Mental Health Partners"}, "email_sender_name", "must not reveal"),
        ({"email_sender_name": "Care\r\nBcc: x@example.org"}, "email_sender_name", "line break"),
        ({"bp_hold_diastolic": "150"}, "bp_hold_diastolic", "must be below the systolic"),
        ({"bp_hold_systolic": "400"}, "bp_hold_systolic", "less than or equal to 220"),
        ({"alert_response_minutes": "soon"}, "alert_response_minutes", "whole number"),
        ({"tz": "Nowhere/City"}, "tz", "valid choice"),
        ({"on_call_email": "not-an-email"}, "on_call_email", "valid email"),
        ({"message_response_hours": "241"}, "message_response_hours", "less than or equal to 240"),
        ({"message_response_hours": "-1"}, "message_response_hours", "greater than or equal to 0"),
        ({"message_response_hours": ""}, "message_response_hours", "required"),
    ],
)
def test_clinic_settings_reject_bad_values_and_keep_the_old_ones(
    admin_client, clinic, changes, field, message
):
    data = {
        "name": clinic.name,
        "email_sender_name": "Care Team",
        "tz": "America/New_York",
        "on_call_email": "",
        "default_checkin_time": "19:00",
        "alert_response_minutes": "30",
        "missed_checkin_days": "3",
        "message_response_hours": "8",
        "bp_hold_systolic": "140",
        "bp_hold_diastolic": "90",
        "treatment_chairs": "2",
        "session_minutes": "120",
        "weight_max_age_days": "90",
        "dose_margin_percent": "10",
        **changes,
    }

    response = admin_client.post(SETTINGS_URL, data)

    clinic.refresh_from_db()
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert (clinic.email_sender_name, clinic.bp_hold_systolic) == ("Care Team", 140)
