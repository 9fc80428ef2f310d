"""Tenancy: patients reach only themselves; staff reach only their clinic; others get 404."""

import uuid

import pytest
from django.http import Http404
from django.urls import reverse

from care.common.access import get_patient_for_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def detail_url(patient):
    return reverse("care:patient-detail", args=[patient.public_id])


def resend_url(patient):
    return reverse("care:invitation-resend", args=[patient.public_id])


# A fixed id of no patient: test ids must be the same in every xdist worker's collection.
NO_PATIENT = uuid.UUID("6f1c0e5e-0000-4000-8000-000000000000")


@pytest.mark.parametrize(
    "url",
    ["/", "/me/", "/staff/patients/", "/staff/patients/new/", f"/staff/patients/{NO_PATIENT}/"],
)
def test_anonymous_users_are_sent_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")


def test_anonymous_post_to_resend_is_sent_to_login(client, patient):
    response = client.post(resend_url(patient))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_access_helper_gives_a_patient_only_themself(patient, other_patient):
    assert get_patient_for_user(patient.user, patient.public_id) == patient
    with pytest.raises(Http404):
        get_patient_for_user(patient.user, other_patient.public_id)


def test_access_helper_gives_staff_only_their_clinics_patients(clinician, patient, foreign_patient):
    assert get_patient_for_user(clinician, patient.public_id) == patient
    with pytest.raises(Http404):
        get_patient_for_user(clinician, foreign_patient.public_id)


def test_access_helper_gives_a_user_without_role_nothing(patient):
    with pytest.raises(Http404):
        get_patient_for_user(UserFactory(), patient.public_id)


def test_access_helper_treats_a_malformed_id_as_not_found(clinician):
    with pytest.raises(Http404):
        get_patient_for_user(clinician, "not-a-uuid")


def test_a_patient_cannot_open_another_patients_record(patient_client, other_patient):
    assert patient_client.get(detail_url(other_patient)).status_code == 404
    assert patient_client.post(resend_url(other_patient)).status_code == 404


def test_a_patient_cannot_use_staff_pages(patient_client, patient):
    assert patient_client.get(reverse("care:patient-list")).status_code == 404
    assert patient_client.get(reverse("care:patient-enroll")).status_code == 404
    assert patient_client.get(detail_url(patient)).status_code == 404


def test_staff_of_clinic_a_get_404_for_a_patient_of_clinic_b(clinician_client, foreign_patient):
    assert clinician_client.get(detail_url(foreign_patient)).status_code == 404
    assert clinician_client.post(resend_url(foreign_patient)).status_code == 404
    foreign_patient.refresh_from_db()
    assert not foreign_patient.user.invitations.exists()


def test_staff_see_their_own_clinics_patient(clinician_client, patient):
    response = clinician_client.get(detail_url(patient))

    assert response.status_code == 200
    assert patient.user.email in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_staff_patient_list_shows_only_their_clinic(clinician_client, patient, foreign_patient):
    response = clinician_client.get(reverse("care:patient-list"))

    page = response.content.decode()
    assert response.status_code == 200
    assert detail_url(patient) in page
    assert detail_url(foreign_patient) not in page


def test_staff_are_not_patients(clinician_client):
    assert clinician_client.get(reverse("care:me")).status_code == 404


def test_home_sends_each_role_to_its_start_page(client, clinician, patient):
    client.force_login(patient.user)
    assert client.get("/").headers["Location"] == reverse("care:me")
    client.force_login(clinician)
    assert client.get("/").headers["Location"] == reverse("care:patient-list")


def test_home_tells_a_user_without_role_to_ask_their_clinic(client):
    client.force_login(UserFactory())

    response = client.get("/")

    assert response.status_code == 403
    assert "not linked to a clinic" in response.content.decode()


def test_crisis_resources_need_no_login(client):
    response = client.get(reverse("care:crisis"))

    assert response.status_code == 200
    assert 'href="tel:988"' in response.content.decode()


def test_not_found_and_forbidden_pages_are_plain_and_helpful(clinician_client):
    missing = clinician_client.get("/staff/patients/00000000-0000-0000-0000-000000000000/")
    forbidden = clinician_client.get("/staff/team/")

    assert missing.status_code == 404 and "Page not found" in missing.content.decode()
    assert forbidden.status_code == 403 and "You cannot do this" in forbidden.content.decode()


def test_staff_see_a_patients_open_safety_alert_first(clinician_client, patient, other_patient):
    from django.utils import timezone

    from care.models import Alert

    Alert.objects.create(
        patient=other_patient,
        kind="safety",
        priority="urgent",
        reason="Answered yes to thoughts of harming themself.",
        created_at=timezone.now(),
    )

    listing = clinician_client.get(reverse("care:patient-list"))
    detail = clinician_client.get(detail_url(other_patient)).content.decode()

    assert listing.context["page"].object_list[0].patient.pk == other_patient.pk
    assert "Safety" in listing.content.decode()
    assert "Answered yes to thoughts of harming themself." in detail
