"""Contact details: patients' phones (E.164, shown as dialled in the clinic's country), consent
to calls and texts, emergency contact and safety plan; the clinic's phones, address and hours.
Who edits and sees them, what is audited, and where they never go (e-mails, audit rows)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from care.accounts.forms import ContactDetailsForm
from care.common.phones import phone_display, phone_href
from care.models import Alert, AuditEvent, Patient
from notifications.dispatch.alerts import escalations_dispatch
from notifications.models import Delivery
from notifications.sending import delivery_send
from tests.factories import ClinicFactory, PatientFactory, StaffFactory

pytestmark = pytest.mark.django_db

CONTACT = {
    "phone_mobile": "(312) 555-0199",
    "phone_other": "",
    "may_call": "on",
    "may_text": "on",
    "preferred_contact": "text",
    "contact_times": "Weekdays after 5 pm",
    "emergency_contact_name": "Alex Rivera",
    "emergency_contact_relationship": "Partner",
    "emergency_contact_phone": "312-555-0142",
    "safety_plan": "Call Alex; walk the dog; go to my sister's.",
}


def contact_form(country: str, **data) -> ContactDetailsForm:
    return ContactDetailsForm(data, clinic=ClinicFactory(country=country))


# --- phone numbers: validation and formatting ---------------------------------------------


@pytest.mark.parametrize(
    ("country", "typed", "e164", "shown"),
    [
        ("US", "(202) 555-0147", "+12025550147", "(202) 555-0147"),
        ("US", "202.555.0147", "+12025550147", "(202) 555-0147"),
        ("US", "+1 312 555 0199", "+13125550199", "(312) 555-0199"),
        ("GB", "07911 123456", "+447911123456", "07911 123456"),
        ("GB", "+44 7911 123456", "+447911123456", "07911 123456"),
        ("AU", "0491 570 006", "+61491570006", "0491 570 006"),
        ("AU", "0412345678", "+61412345678", "0412 345 678"),
    ],
)
def test_a_mobile_typed_as_people_do_is_stored_in_e164_and_shown_nationally(
    country, typed, e164, shown
):
    form = contact_form(country, phone_mobile=typed)

    assert form.is_valid(), form.errors
    stored = form.contact_data()["phone_mobile"]
    assert str(stored) == e164
    assert phone_display(stored, country) == shown
    assert phone_href(stored) == f"tel:{e164}"


@pytest.mark.parametrize(
    ("country", "typed", "e164", "shown"),
    [
        ("GB", "020 7946 0018", "+442079460018", "020 7946 0018"),
        ("US", "+1 613 555 0123", "+16135550123", "(613) 555-0123"),  # Canada: same code
        ("AU", "(02) 9876 5432", "+61298765432", "(02) 9876 5432"),
        ("US", "+44 20 7946 0018", "+442079460018", "+44 20 7946 0018"),  # abroad: international
        ("AU", "+1 202 555 0147", "+12025550147", "+1 202-555-0147"),
    ],
)
def test_landlines_and_numbers_abroad(country, typed, e164, shown):
    form = contact_form(country, phone_other=typed)

    assert form.is_valid(), form.errors
    stored = form.contact_data()["phone_other"]
    assert (str(stored), phone_display(stored, country)) == (e164, shown)


@pytest.mark.parametrize(
    ("country", "typed"),
    [
        ("US", "555-1234"),  # no area code
        ("US", "12345"),
        ("US", "call me"),
        ("US", "020 7946 0018"),  # a UK number without +44, read as American
        ("GB", "020 7946"),
        ("GB", "07700 900123"),  # Ofcom's range for drama: never a real number
        ("AU", "0491 570"),
    ],
)
def test_numbers_that_cannot_be_dialled_are_refused(country, typed):
    form = contact_form(country, phone_mobile=typed, phone_other=typed)

    assert not form.is_valid()
    for field in ("phone_mobile", "phone_other"):
        assert "Enter a valid phone number" in form.errors[field][0]


@pytest.mark.parametrize(
    ("country", "landline"), [("GB", "020 7946 0018"), ("AU", "(02) 9876 5432")]
)
def test_a_landline_is_not_taken_as_a_mobile(country, landline):
    form = contact_form(country, phone_mobile=landline)

    assert not form.is_valid()
    assert "landline" in form.errors["phone_mobile"][0]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"may_text": "on", "phone_other": "(202) 555-0147"}, "may_text", "mobile number"),
        ({"may_call": "on"}, "may_call", "phone number to be called on"),
        ({"preferred_contact": "text"}, "preferred_contact", "agreement to text"),
        ({"preferred_contact": "call"}, "preferred_contact", "agreement to calls"),
        ({"emergency_contact_name": "Alex"}, "emergency_contact_phone", "phone number for"),
        ({"emergency_contact_phone": "(202) 555-0147"}, "emergency_contact_name", "name"),
    ],
)
def test_consent_and_emergency_contact_must_hold_together(data, field, message):
    form = contact_form("US", **data)

    assert not form.is_valid()
    assert message in form.errors[field][0]


def test_nothing_is_required_and_empty_stays_empty():
    form = contact_form("US")

    assert form.is_valid()
    data = form.contact_data()
    assert data["phone_mobile"] == "" and data["may_call"] is False and data["safety_plan"] == ""


# --- enrollment and staff edits -------------------------------------------------------------


def enrollment(clinician, **overrides):
    data = {
        "full_name": "Robin Example",
        "preferred_name": "Robin",
        "email": "robin@example.org",
        "date_of_birth": "1990-02-03",
        "tz": "America/Chicago",
        "conditions": ["depression"],
        "consultation_on": "2026-11-20",
        "primary_clinician": str(clinician.pk),
    }
    return data | CONTACT | overrides


def test_enrollment_saves_the_contact_details(clinician_client, clinician):
    response = clinician_client.post("/staff/patients/new/", enrollment(clinician), follow=True)

    patient = Patient.objects.get(user__email="robin@example.org")
    assert response.status_code == 200
    assert str(patient.phone_mobile) == "+13125550199"
    assert str(patient.emergency_contact_phone) == "+13125550142"
    assert (patient.may_call, patient.may_text, patient.preferred_contact) == (True, True, "text")
    assert patient.emergency_contact_relationship == "Partner"
    assert patient.safety_plan.startswith("Call Alex")
    events = AuditEvent.objects.filter(patient=patient).exclude(action="viewed")
    assert [(e.action, e.what) for e in events] == [("enrolled", "patient")]
    assert not any(m.level_tag == "warning" for m in response.context["messages"])


def test_enrollment_warns_but_does_not_refuse_a_zone_outside_the_clinics_country(
    clinician_client, clinician
):
    response = clinician_client.post(
        "/staff/patients/new/", enrollment(clinician, tz="Europe/London"), follow=True
    )

    assert Patient.objects.get(user__email="robin@example.org").tz == "Europe/London"
    [warning] = [m for m in response.context["messages"] if m.level_tag == "warning"]
    assert "Europe/London is in the United Kingdom, outside this clinic's country" in str(warning)
    assert "(the United States)" in str(warning)


def test_the_form_shows_the_zone_warning_when_it_comes_back(clinician_client, clinician):
    bad = enrollment(clinician, tz="Australia/Sydney", date_of_birth="")
    page = clinician_client.post("/staff/patients/new/", bad).content.decode()

    assert "Australia/Sydney is in Australia, outside this clinic&#x27;s country" in page


def test_no_warning_for_a_zone_of_the_clinics_own_country(clinic, client, clinician):
    clinic.country = "GB"
    clinic.save()
    patient = PatientFactory(clinic=clinic, tz="Europe/London")
    client.force_login(clinician)

    page = client.get(f"/staff/patients/{patient.public_id}/edit/").content.decode()
    other = PatientFactory(clinic=clinic, tz="America/Chicago")
    warned = client.get(f"/staff/patients/{other.public_id}/edit/").content.decode()

    assert "outside this clinic" not in page
    assert "America/Chicago is in the United States, outside this clinic" in warned


def edit_form(patient, **overrides):
    data = {
        "full_name": patient.user.full_name,
        "preferred_name": patient.preferred_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "tz": patient.tz,
        "conditions": ["depression"],
        "consultation_on": patient.consultation_on.isoformat(),
        "status": patient.status,
        "treatment_phase": patient.treatment_phase,
    }
    return data | CONTACT | overrides


def test_a_staff_edit_of_contact_details_is_audited_once_and_without_the_values(
    clinician_client, patient
):
    url = f"/staff/patients/{patient.public_id}/edit/"

    clinician_client.post(url, edit_form(patient))
    clinician_client.post(url, edit_form(patient))  # the same again: no change to record

    patient.refresh_from_db()
    assert str(patient.phone_mobile) == "+13125550199"
    changes = AuditEvent.objects.filter(patient=patient, action="changed")
    assert sorted(e.what for e in changes) == ["contact", "patient", "patient"]
    row = repr(list(AuditEvent.objects.filter(patient=patient).values()))
    for private in ("5550199", "555-0199", "Alex", "dog", "Partner"):
        assert private not in row


def test_the_edit_form_shows_stored_numbers_as_dialled_in_the_clinics_country(
    clinician_client, patient
):
    patient.phone_mobile = "+13125550199"
    patient.emergency_contact_phone = "+447911123456"
    patient.save()

    page = clinician_client.get(f"/staff/patients/{patient.public_id}/edit/").content.decode()

    assert 'value="(312) 555-0199"' in page
    assert 'value="+44 7911 123456"' in page
    assert 'type="tel"' in page


# --- the patient's own page -----------------------------------------------------------------


def test_the_patient_keeps_their_own_contact_details(patient_client, patient):
    page = patient_client.get("/me/contact/")
    saved = patient_client.post("/me/contact/", CONTACT, follow=True)
    again = patient_client.post("/me/contact/", CONTACT, follow=True)

    patient.refresh_from_db()
    assert page.status_code == 200 and "My safety plan" in page.content.decode()
    assert "Your contact details are saved." in saved.content.decode()
    assert "Nothing was changed." in again.content.decode()
    assert str(patient.phone_mobile) == "+13125550199" and patient.may_text
    [event] = AuditEvent.objects.filter(what="contact")
    assert (event.actor, event.actor_role, event.patient) == (patient.user, "patient", patient)
    assert event.channel == "page"


def test_the_patient_sees_their_clinics_numbers_hours_and_address(patient_client, clinic):
    clinic.phone, clinic.after_hours_phone = "+13125550100", "+13125550111"
    clinic.address = "12 River Street\nChicago, IL"
    clinic.opening_hours = {"mon": [["09:00", "17:00"]]}
    clinic.save()

    page = patient_client.get("/me/contact/").content.decode()

    assert 'href="tel:+13125550100">(312) 555-0100</a>' in page
    assert "(312) 555-0111" in page and "12 River Street<br>Chicago, IL" in page
    assert "09:00\u201317:00" in page


def test_the_patients_download_has_their_contact_details(patient_client, patient):
    patient_client.post("/me/contact/", CONTACT)

    data = patient_client.get("/me/export.json").json()

    contact = data["patient"]["contact"]
    assert contact["phone_mobile"] == "+13125550199" and contact["phone_other"] == ""
    assert (contact["may_call"], contact["preferred_contact"]) == (True, "text")
    assert contact["emergency_contact_phone"] == "+13125550142"
    assert contact["safety_plan"] == CONTACT["safety_plan"]


def test_the_settings_page_links_to_contact_details(patient_client):
    page = patient_client.get("/me/settings/").content.decode()

    assert 'href="/me/contact/"' in page


def test_staff_cannot_use_the_patients_contact_page(client, clinician):
    client.force_login(clinician)

    assert client.get("/me/contact/").status_code == 404
    assert client.post("/me/contact/", CONTACT).status_code == 404


# --- what staff see --------------------------------------------------------------------------


@pytest.fixture
def reachable(patient):
    patient.phone_mobile = "+13125550199"
    patient.phone_other = "+13125550177"
    patient.may_call = True
    patient.emergency_contact_name = "Alex Rivera"
    patient.emergency_contact_relationship = "Partner"
    patient.emergency_contact_phone = "+13125550142"
    patient.safety_plan = "Call Alex.\nWalk the dog."
    patient.save()
    return patient


def test_the_caseload_row_has_the_patients_number_to_call(clinician_client, reachable):
    page = clinician_client.get("/staff/patients/").content.decode()

    assert 'Call <a href="tel:+13125550199">(312) 555-0199</a>' in page


def test_the_patient_page_header_has_the_phones_emergency_contact_and_safety_plan(
    clinician_client, reachable
):
    page = clinician_client.get(f"/staff/patients/{reachable.public_id}/").content.decode()

    header = page.split('id="alerts-heading"')[0]
    assert '<a href="tel:+13125550199">(312) 555-0199</a> (mobile)' in header
    assert '<a href="tel:+13125550177">(312) 555-0177</a> (other)' in header
    assert "Calls: yes" in header and "Texts: not agreed" in header
    assert "Alex Rivera (Partner)" in header and "tel:+13125550142" in header
    assert "Call Alex.<br>Walk the dog." in header


def test_every_alert_in_the_inbox_has_the_patients_number(clinician_client, reachable):
    Alert.objects.create(
        patient=reachable,
        kind="safety",
        priority="urgent",
        cause="checkin:1",
        reason="r",
        created_at=timezone.now(),
    )

    page = clinician_client.get("/staff/alerts/").content.decode()

    assert 'call <a href="tel:+13125550199">(312) 555-0199</a>' in page


def test_another_clinics_staff_still_get_404(client, reachable, other_clinician):
    client.force_login(other_clinician)

    for url in (
        f"/staff/patients/{reachable.public_id}/",
        f"/staff/patients/{reachable.public_id}/edit/",
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, edit_form(reachable)).status_code == 404
    reachable.refresh_from_db()
    assert str(reachable.phone_mobile) == "+13125550199"
    assert "(312) 555-0199" not in client.get("/staff/patients/").content.decode()


def test_the_alert_email_links_to_the_inbox_and_holds_no_phone_number(
    reachable, clinic, clinician, mailoutbox
):
    raised = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)
    clinic.on_call_email = "on-call@clinic.example"
    clinic.phone = "+13125550100"
    clinic.save()
    Alert.objects.create(
        patient=reachable,
        kind="safety",
        priority="urgent",
        cause="checkin:1",
        reason="r",
        created_at=raised,
    )

    escalations_dispatch(now=raised + timedelta(minutes=1))
    escalations_dispatch(now=raised + timedelta(minutes=45))  # every clinician too
    for delivery in Delivery.objects.all():
        assert delivery_send(delivery_id=delivery.id, now=raised) == "sent"

    assert len(mailoutbox) >= 2
    for message in mailoutbox:
        headers = " ".join(f"{k}: {v}" for k, v in message.extra_headers.items())
        text = " ".join(
            [message.subject, message.body, headers, *(str(c) for c, _ in message.alternatives)]
        )
        digits = "".join(ch for ch in text if ch.isdigit())
        assert "http://testserver/staff/alerts/" in text
        for number in ("3125550199", "5550199", "3125550177", "3125550142", "5550100"):
            assert number not in digits
        assert "Alex" not in text and "dog" not in text


# --- the clinic's own details ----------------------------------------------------------------


@pytest.fixture
def admin_client(client, clinic_admin):
    client.force_login(clinic_admin)
    return client


def settings_form(clinic, **changes):
    data = {
        "name": clinic.name,
        "email_sender_name": "Care Team",
        "tz": "Europe/London",
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
        "country": "GB",
        "phone": "020 7946 0018",  # national: read as the country chosen in the same form
        "after_hours_phone": "07911 123456",
        "address": "1 High Street\nLondon",
        "hours_mon": "09:00-12:30, 13:30-17:00",
        "hours_tue": "9:00 - 17:00",
        "hours_wed": "",
        "hours_thu": "09:00-17:00",
        "hours_fri": "09:00-16:00",
        "hours_sat": "closed",
        "hours_sun": "",
    }
    return data | changes


def test_existing_clinics_are_american_with_no_phones_or_hours(clinic):
    assert (clinic.country, str(clinic.phone), clinic.opening_hours) == ("US", "", {})


def test_the_admin_sets_the_clinics_country_phones_address_and_hours(admin_client, clinic):
    response = admin_client.post("/staff/clinic/", settings_form(clinic))

    clinic.refresh_from_db()
    assert response.status_code == 302
    assert (clinic.country, str(clinic.phone)) == ("GB", "+442079460018")
    assert str(clinic.after_hours_phone) == "+447911123456"
    assert clinic.address == "1 High Street\nLondon"
    assert clinic.opening_hours == {
        "mon": [["09:00", "12:30"], ["13:30", "17:00"]],
        "tue": [["09:00", "17:00"]],
        "thu": [["09:00", "17:00"]],
        "fri": [["09:00", "16:00"]],
    }
    assert AuditEvent.objects.filter(what="clinic", action="changed").count() == 1
    page = admin_client.get("/staff/clinic/").content.decode()
    assert 'value="020 7946 0018"' in page and 'value="09:00-12:30, 13:30-17:00"' in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"hours_wed": "17:00-09:00"}, "hours_wed", "closing time must be after"),
        ({"hours_fri": "09:00-13:00, 12:00-16:00"}, "hours_fri", "overlap"),
        ({"hours_sat": "mornings"}, "hours_sat", "not an opening"),
        ({"phone": "020 7946"}, "phone", "valid phone number"),
        ({"country": "US"}, "phone", "valid phone number"),  # a UK number read as American
        ({"country": "FR"}, "country", "valid choice"),
    ],
)
def test_bad_clinic_contact_details_are_refused(admin_client, clinic, changes, field, message):
    response = admin_client.post("/staff/clinic/", settings_form(clinic, **changes))

    clinic.refresh_from_db()
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert (clinic.country, clinic.opening_hours) == ("US", {})


def test_opening_hours_are_validated_on_the_model_too(clinic):
    from django.core.exceptions import ValidationError

    clinic.opening_hours = {"mon": [["17:00", "09:00"]]}
    with pytest.raises(ValidationError, match="closing time"):
        clinic.full_clean()
    clinic.opening_hours = {"mon": "09:00-17:00"}
    with pytest.raises(ValidationError, match="map weekdays"):
        clinic.full_clean()


def test_a_uk_clinics_patient_page_shows_numbers_as_dialled_in_the_uk(client, clinic):
    clinic.country = "GB"
    clinic.save()
    patient = PatientFactory(clinic=clinic, tz="Europe/London", phone_mobile="+447911123456")
    staff = StaffFactory(clinic=clinic).user

    with time_machine.travel(datetime(2026, 12, 7, 12, 0, tzinfo=UTC), tick=False):
        client.force_login(staff)
        page = client.get(reverse("care:patient-detail", args=[patient.public_id]))

    assert '<a href="tel:+447911123456">07911 123456</a>' in page.content.decode()
