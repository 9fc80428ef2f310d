"""Enrollment: staff create an inactive patient account and an invitation is e-mailed."""

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from kombu.exceptions import OperationalError

from care import tasks
from care.models import AuditEvent, Invitation, Patient, TreatmentSession, User
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

ENROLL_URL = "/staff/patients/new/"


def enrollment_data(clinician, **overrides):
    data = {
        "full_name": "Robin Example",
        "preferred_name": "Robin",
        "email": "Robin@Example.org",
        "date_of_birth": "1990-02-03",
        "tz": "America/Denver",
        "conditions": ["depression", "ptsd"],
        "consultation_on": "2026-11-20",
        "primary_clinician": str(clinician.pk),
    }
    data.update(overrides)
    return data


def test_enrollment_creates_an_inactive_patient_and_queues_the_invitation(
    clinician_client, clinician, clinic, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = clinician_client.post(ENROLL_URL, enrollment_data(clinician))

    patient = Patient.objects.get(user__email="robin@example.org")
    assert response.status_code == 302
    assert response["Location"] == reverse("care:patient-detail", args=[patient.public_id])
    assert patient.clinic == clinic
    assert patient.primary_clinician == clinician
    assert patient.enrolled_by == clinician
    assert (patient.has_depression, patient.has_anxiety, patient.has_ptsd) == (True, False, True)
    assert patient.tz == "America/Denver"
    assert not patient.user.is_active
    assert not patient.user.has_usable_password()
    assert patient.user.invitations.count() == 1
    assert len(callbacks) == 1


def test_invitation_task_mails_a_link_without_health_information(
    clinician_client, clinician, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        clinician_client.post(ENROLL_URL, enrollment_data(clinician))
    invitation = Invitation.objects.get()

    tasks.send_invitation(invitation.id)

    invitation.refresh_from_db()
    assert invitation.sent_at is not None
    assert invitation.expires_at - invitation.sent_at == timedelta(hours=72)
    [message] = mailoutbox
    assert message.to == ["robin@example.org"]
    assert message.from_email.startswith("Care Team <")
    assert message.subject == "Set up your account"
    body = message.body + message.alternatives[0].content
    assert "http://testserver/invitation/" in body
    assert "Hi Robin" in body
    for word in ["ketamine", "depress", "PTSD", "Clinic A", "Robin Example", "1990"]:
        assert word.lower() not in body.lower()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"conditions": []}, "conditions", "Choose at least one condition."),
        ({"date_of_birth": "2099-01-01"}, "date_of_birth", "must be in the past"),
        ({"date_of_birth": "1850-01-01"}, "date_of_birth", "more than 120 years ago"),
        ({"date_of_birth": "not a date"}, "date_of_birth", "Enter a valid date."),
        ({"consultation_on": "2099-01-01"}, "consultation_on", "cannot be in the future"),
        ({"tz": "Mars/Olympus_Mons"}, "tz", "Select a valid choice."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"conditions": ["schizophrenia"]}, "conditions", "Select a valid choice."),
        ({"full_name": ""}, "full_name", "This field is required."),
    ],
)
def test_enrollment_rejects_bad_input_with_a_clear_message(
    clinician_client, clinician, overrides, field, message
):
    response = clinician_client.post(ENROLL_URL, enrollment_data(clinician, **overrides))

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Patient.objects.exists()


def test_enrollment_rejects_an_email_already_in_use_whatever_its_case(clinician_client, clinician):
    response = clinician_client.post(
        ENROLL_URL, enrollment_data(clinician, email=clinician.email.upper())
    )

    assert response.status_code == 200
    assert "already has an account" in response.context["form"].errors["email"][0]
    assert User.objects.filter(email__iexact=clinician.email).count() == 1


def test_enrollment_refuses_a_primary_clinician_from_another_clinic(
    clinician_client, clinician, other_clinician
):
    response = clinician_client.post(
        ENROLL_URL, enrollment_data(clinician, primary_clinician=str(other_clinician.pk))
    )

    assert response.status_code == 200
    assert "primary_clinician" in response.context["form"].errors
    assert not Patient.objects.exists()


def test_enrollment_form_offers_the_clinic_time_zone_first(clinician_client, clinic):
    response = clinician_client.get(ENROLL_URL)

    assert response.status_code == 200
    assert response.context["form"]["tz"].initial == clinic.tz


@pytest.mark.real_enqueue
def test_a_broker_outage_does_not_break_enrollment(
    clinician_client, clinician, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def refuse(*args, **kwargs):
        raise OperationalError("broker down")

    monkeypatch.setattr(tasks.send_invitation, "apply_async", refuse)

    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        response = clinician_client.post(ENROLL_URL, enrollment_data(clinician))

    patient = Patient.objects.get(user__email="robin@example.org")
    assert response.status_code == 302
    assert patient.user.invitations.get().sent_at is None
    assert "not queued" in caplog.text
    assert "robin" not in caplog.text.lower()


def test_staff_can_resend_an_invitation_which_revokes_the_old_one(
    clinician_client, patient, django_capture_on_commit_callbacks
):
    patient.user.is_active = False
    patient.user.save()
    old = Invitation.objects.create(user=patient.user)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = clinician_client.post(
            reverse("care:invitation-resend", args=[patient.public_id])
        )

    old.refresh_from_db()
    assert response.status_code == 302
    assert old.revoked_at is not None
    assert patient.user.invitations.filter(revoked_at__isnull=True).count() == 1
    assert len(callbacks) == 1


def test_resend_does_nothing_for_an_activated_account(clinician_client, patient):
    response = clinician_client.post(
        reverse("care:invitation-resend", args=[patient.public_id]), follow=True
    )

    assert "already activated" in response.content.decode()
    assert not patient.user.invitations.exists()


def test_resend_is_post_only(clinician_client, patient):
    url = reverse("care:invitation-resend", args=[patient.public_id])

    assert clinician_client.get(url).status_code == 405


def edit_url(patient):
    return reverse("care:patient-edit", args=[patient.public_id])


def edit_data(patient, **overrides):
    data = {
        "full_name": "Pat Renamed",
        "preferred_name": "Pat",
        "date_of_birth": "1985-05-17",
        "tz": "America/Los_Angeles",
        "conditions": ["anxiety"],
        "consultation_on": "2026-11-01",
        "primary_clinician": "",
        "status": "paused",
        "treatment_phase": "maintenance",
    }
    data.update(overrides)
    return data


def test_staff_edit_a_patient_record(clinician_client, patient):
    form = clinician_client.get(edit_url(patient))
    assert form.status_code == 200
    assert form.context["form"]["preferred_name"].value() == patient.preferred_name
    assert form.context["form"]["conditions"].value() == ["depression"]

    response = clinician_client.post(edit_url(patient), edit_data(patient))

    patient.refresh_from_db()
    assert response.status_code == 302
    assert patient.user.full_name == "Pat Renamed"
    assert (patient.tz, patient.status, patient.treatment_phase) == (
        "America/Los_Angeles",
        "paused",
        "maintenance",
    )
    assert (patient.has_depression, patient.has_anxiety, patient.has_ptsd) == (False, True, False)
    assert patient.primary_clinician is None


def test_a_rejected_edit_keeps_the_saved_record(clinician_client, patient):
    before = (patient.preferred_name, patient.status)

    response = clinician_client.post(
        edit_url(patient), edit_data(patient, conditions=[], status="gone")
    )

    patient.refresh_from_db()
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"conditions", "status"}
    assert (patient.preferred_name, patient.status) == before


def test_only_staff_of_the_patients_clinic_can_edit(
    client, patient, other_patient, other_clinician
):
    assert client.get(edit_url(patient)).status_code == 302
    client.force_login(other_patient.user)
    assert client.get(edit_url(patient)).status_code == 404
    client.force_login(patient.user)
    assert client.post(edit_url(patient), edit_data(patient)).status_code == 404
    client.force_login(other_clinician)
    assert client.post(edit_url(patient), edit_data(patient)).status_code == 404
    patient.refresh_from_db()
    assert patient.status == "active"


def test_a_simultaneous_duplicate_enrollment_gets_a_form_error_not_a_500(
    clinician_client, clinician, patient, monkeypatch
):
    # As if another request created the account between validation and saving.
    from care.caseload.forms import EnrollmentForm

    monkeypatch.setattr(EnrollmentForm, "clean_email", lambda form: form.cleaned_data["email"])

    response = clinician_client.post(
        ENROLL_URL, enrollment_data(clinician, email=patient.user.email)
    )

    assert response.status_code == 200
    assert "cannot be used" in response.context["form"].errors["email"][0]
    assert Patient.objects.count() == 1


def test_enrollment_books_an_iv_induction_series_and_chosen_questionnaires(
    clinician_client, clinician, django_capture_on_commit_callbacks
):
    data = enrollment_data(clinician, questionnaires=["phq9", "pcl5"])
    data.update(first_session_at="2099-03-02T09:00", induction="iv")

    with django_capture_on_commit_callbacks(execute=False):
        clinician_client.post(ENROLL_URL, data)

    patient = Patient.objects.get(user__email="robin@example.org")
    sessions = list(TreatmentSession.objects.filter(patient=patient).order_by("scheduled_at"))
    new_york = ZoneInfo("America/New_York")
    assert [s.scheduled_at.astimezone(new_york).strftime("%a %d %H:%M") for s in sessions] == [
        "Mon 02 09:00",
        "Wed 04 09:00",
        "Fri 06 09:00",
        "Mon 09 09:00",
        "Wed 11 09:00",
        "Fri 13 09:00",
    ]
    assert {s.route for s in sessions} == {"iv"}
    assert patient.questionnaires == ["phq9", "pcl5"]


def test_enrollment_refuses_a_series_without_a_date_or_a_date_in_the_past(
    clinician_client, clinician
):
    no_date = clinician_client.post(ENROLL_URL, enrollment_data(clinician, induction="intranasal"))
    past = clinician_client.post(
        ENROLL_URL, enrollment_data(clinician, first_session_at="2020-01-01T09:00")
    )

    assert "Give the date" in no_date.context["form"].errors["first_session_at"][0]
    assert "cannot be in the past" in past.context["form"].errors["first_session_at"][0]
    assert not Patient.objects.exists()


# Enrollment books its sessions with the booking checks (hours, chairs, one a day).

WEEKDAYS_9_TO_5 = {key: [["09:00", "17:00"]] for key in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def weekday_clinic(clinic):
    clinic.opening_hours = WEEKDAYS_9_TO_5
    clinic.treatment_chairs = 1
    clinic.session_minutes = 120
    clinic.save()
    return clinic


def test_an_induction_that_falls_on_a_closed_day_is_refused_with_nothing_saved(
    clinician_client, clinician, weekday_clinic
):
    data = enrollment_data(clinician)
    # Days 0, 2, 4, 7, 9, 11 from a Friday: the second is a Sunday.
    data.update(first_session_at="2099-03-06T10:00", induction="iv")

    response = clinician_client.post(ENROLL_URL, data)

    assert response.status_code == 200
    form = response.context["form"]
    error = str(form.errors["induction"])
    assert "Session 2 of the series (Sun, Mar 8, 10:00)" in error
    assert "closed on Sundays" in error
    assert form.conflict.free_slots  # the nearest free times for that session
    page = response.content.decode()
    assert "Nearest free times" in page and "Book anyway because" in page
    assert not Patient.objects.exists()
    assert not User.objects.filter(email="robin@example.org").exists()
    assert not TreatmentSession.objects.exists()


def test_a_first_session_in_a_taken_chair_offers_free_times_for_that_field(
    clinician_client, clinician, weekday_clinic
):
    other = PatientFactory(clinic=weekday_clinic)
    taken = datetime(2099, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    TreatmentSession.objects.create(patient=other, scheduled_at=taken, route="iv", chair=1)

    response = clinician_client.post(
        ENROLL_URL, enrollment_data(clinician, first_session_at="2099-03-02T11:00")
    )

    form = response.context["form"]
    assert "No chair is free" in str(form.errors["first_session_at"])
    assert form.conflict_target == form["first_session_at"].auto_id
    assert f'data-slot-for="{form.conflict_target}"' in response.content.decode()
    assert not Patient.objects.filter(user__email="robin@example.org").exists()


def test_a_reason_books_the_conflicting_series_anyway_and_is_audited(
    clinician_client, clinician, weekday_clinic, django_capture_on_commit_callbacks
):
    data = enrollment_data(clinician, booking_override_reason="Weekend opening for the series")
    data.update(first_session_at="2099-03-06T10:00", induction="iv")

    with django_capture_on_commit_callbacks(execute=False):
        response = clinician_client.post(ENROLL_URL, data)

    assert response.status_code == 302
    patient = Patient.objects.get(user__email="robin@example.org")
    sessions = list(patient.sessions.order_by("scheduled_at"))
    assert len(sessions) == 6
    # Fri, Sun, Tue, Fri, Sun, Tue: the Sundays kept with the reason, the others without one.
    assert [bool(s.override_reason) for s in sessions] == [False, True, False, False, True, False]
    assert {s.chair for s in sessions} == {1}
    overrides = AuditEvent.objects.filter(
        action=AuditEvent.Action.OVERRIDDEN, patient=patient, actor=clinician
    )
    assert overrides.count() == 2


def test_enrollment_sessions_take_free_chairs_beside_other_patients(
    clinician_client, clinician, weekday_clinic, django_capture_on_commit_callbacks
):
    weekday_clinic.treatment_chairs = 2
    weekday_clinic.save()
    other = PatientFactory(clinic=weekday_clinic)
    at = datetime(2099, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    TreatmentSession.objects.create(patient=other, scheduled_at=at, route="iv", chair=1)

    with django_capture_on_commit_callbacks(execute=False):
        clinician_client.post(
            ENROLL_URL, enrollment_data(clinician, first_session_at="2099-03-02T10:00")
        )

    patient = Patient.objects.get(user__email="robin@example.org")
    assert [s.chair for s in patient.sessions.all()] == [2]


def test_staff_turn_on_texts_at_enrollment_only_with_the_patients_consent(
    clinician_client, clinician, django_capture_on_commit_callbacks
):
    from notifications.models import ReminderPreference

    no_consent = clinician_client.post(
        ENROLL_URL, enrollment_data(clinician, phone_mobile="212 555 0142", reminders_by_text="on")
    )
    assert "consent to texts" in str(no_consent.context["form"].errors["reminders_by_text"])
    assert not Patient.objects.filter(user__email="robin@example.org").exists()

    data = enrollment_data(
        clinician, phone_mobile="212 555 0142", may_text="on", reminders_by_text="on"
    )
    with django_capture_on_commit_callbacks(execute=False):
        clinician_client.post(ENROLL_URL, data)

    patient = Patient.objects.get(user__email="robin@example.org")
    assert patient.may_text
    preference = ReminderPreference.objects.get(patient=patient)
    assert preference.text_kinds == [
        "checkin_due",
        "questionnaire_due",
        "session_tomorrow",
        "message",
        "integration_prompt",
    ]


def test_without_texts_at_this_installation_enrollment_does_not_offer_them(
    clinician_client, settings
):
    settings.SMS_URL = ""

    page = clinician_client.get(ENROLL_URL).content.decode()

    assert "by text message too" not in page
