"""Contact details and the clinic's crisis resources in a browser: axe-core, no CSP
violation, a screenshot of each screen (var/screenshots/contact-*.png)."""

import pytest
from django.utils import timezone

from care.models import Patient, StaffMembership
from tests.browser.signin import sign_in, staff_sign_in
from tests.factories import ClinicFactory, PatientFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALL_WEEK = {key: [["09:00", "12:30"], ["13:30", "17:00"]] for key in ("mon", "tue", "wed", "thu")}


@pytest.fixture
def uk_clinic():
    return ClinicFactory(
        name="Harbour Care",
        country="GB",
        tz="Europe/London",
        phone="+442079460018",
        after_hours_phone="+447911123456",
        address="1 High Street\nLondon",
        opening_hours=ALL_WEEK | {"fri": [["09:00", "16:00"]]},
    )


@pytest.fixture
def reachable(uk_clinic):
    return PatientFactory(
        clinic=uk_clinic,
        tz="Europe/London",
        user__email="sam@example.org",
        user__full_name="Sam Taylor",
        phone_mobile="+447400654321",
        may_call=True,
        may_text=True,
        preferred_contact="text",
        contact_times="Weekdays after 5 pm",
        emergency_contact_name="Alex Taylor",
        emergency_contact_relationship="Brother",
        emergency_contact_phone="+447400123457",
        safety_plan="Warning signs: not sleeping.\nCall Alex, then Samaritans on 116 123.",
    )


def test_a_uk_patient_finds_their_clinic_first_and_keeps_their_contact_details(
    live_server, phone, step, reachable
):
    page, base = phone, live_server.url
    sign_in(page, base, "sam@example.org")
    page.wait_for_url("**/me/")

    page.goto(f"{base}/crisis/")
    clinic = page.locator("#clinic-heading")
    assert clinic.is_visible()
    assert page.locator("a[href='tel:116123']").first.is_visible()
    assert page.locator("a[href='tel:988']").count() == 0
    step(page, "contact-1-crisis-uk-patient")

    page.goto(f"{base}/me/contact/")
    page.fill("#id_phone_other", "020 7946 0555")
    page.fill("#id_contact_times", "Evenings")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "Your contact details are saved." in page.content()
    step(page, "contact-2-my-contact-details")
    assert str(Patient.objects.get(pk=reachable.pk).phone_other) == "+442079460555"


def test_staff_see_the_patients_phone_and_safety_plan_in_the_header(
    live_server, desktop, step, reachable
):
    staff = StaffFactory(
        clinic=reachable.clinic,
        role=StaffMembership.Role.ADMIN,
        user__email="nurse@example.org",
    )
    page, base = desktop, live_server.url
    staff_sign_in(page, base, staff.user.email)
    page.wait_for_url("**/staff/patients/")
    assert page.locator("a[href='tel:+447400654321']").inner_text() == "07400 654321"

    page.goto(f"{base}/staff/patients/{reachable.public_id}/")
    header = page.locator("dl.facts")
    assert header.locator("a[href='tel:+447400654321']").inner_text() == "07400 654321"
    assert "Alex Taylor (Brother)" in header.inner_text()
    assert page.locator("#plan-heading").is_visible()
    step(page, "contact-3-patient-page-header")

    page.goto(f"{base}/staff/clinic/")
    assert page.locator("#id_hours_mon").input_value() == "09:00-12:30, 13:30-17:00"
    step(page, "contact-4-clinic-settings")

    page.goto(f"{base}/staff/patients/new/")
    page.select_option("#id_tz", "America/Chicago")
    page.fill("#id_full_name", "Robin Example")
    with page.expect_navigation():
        page.click("main button[type=submit]")  # refused (fields missing): the warning shows
    assert page.locator("p.message-warning").is_visible()
    step(page, "contact-5-enrollment-zone-warning")

    # A first session after closing time: refused with the nearest free times, nothing saved.
    next_year = timezone.localdate().year + 1
    page.fill("#id_preferred_name", "Robin")
    page.fill("#id_email", "robin@example.org")
    page.fill("#id_date_of_birth", "1990-02-03")
    page.fill("#id_consultation_on", timezone.localdate().isoformat())
    page.check("input[name=conditions][value=depression]")
    page.fill("#id_first_session_at", f"{next_year}-03-03T20:00")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "Nearest free times" in page.inner_text("main")
    assert not Patient.objects.filter(user__email="robin@example.org").exists()
    step(page, "contact-6-enrollment-booking-conflict")
