"""A clinician at a desktop: the caseload and a patient page, screenshotted at 1440 x 900.

Screenshots land in var/screenshots/ (rerun: ./dev test tests/browser).
"""

import pytest
from django.core.mail import EmailMessage
from django.core.management import call_command

from care.exports.services import export_job_run
from care.exports.tables import csv_trailer_verify
from care.models import StaffMembership
from devtools.management.commands.seed_demo import DEMO_PASSWORD
from notifications.emails import delivery_message_id
from tests.browser.signin import staff_sign_in
from tests.factories import ClinicFactory, StaffFactory, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_clinician_sees_who_needs_attention_and_why(live_server, desktop, screenshot, enqueued):
    call_command("seed_demo")
    page, base = desktop, live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", "nurse@demo.example")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    # Staff must set up a second factor before seeing anything (DEBUG is off here).
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    screenshot(page, "staff-0-second-factor")
    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", totp_code(secret))
    page.click("main button[type=submit]")
    page.wait_for_url("**/accounts/2fa/**")
    screenshot(page, "staff-0-second-factor-done")
    page.goto(f"{base}/staff/patients/")

    first_row = page.locator("table.caseload tbody tr").first
    assert "Morgan Lee" in first_row.inner_text() and "Safety" in first_row.inner_text()
    screenshot(page, "staff-1-caseload")

    page.click("text=Jordan Blake")
    page.wait_for_function("document.querySelector('#chart-phq9').width > 0")
    assert "Booster may be due" in page.inner_text("main")
    screenshot(page, "staff-2-patient")
    page.emulate_media(media="print")
    screenshot(page, "staff-3-patient-print")
    page.emulate_media(media="screen")

    with page.expect_download() as download:
        page.click("#export-heading + p >> text=questionnaires")
    name = download.value.suggested_filename
    assert name.startswith("patient-") and name.endswith(".csv") and "Jordan" not in name
    data = download.value.path().read_bytes()
    rows = csv_trailer_verify(data)  # the whole file arrived: its trailer's count and checksum
    lines = data.decode("utf-8").splitlines()[:-1]
    assert lines[0].startswith("patient_id,assessment_id,instrument,completed_at,total")
    assert rows == len(lines) - 1 > 4
    assert all(x.split(",")[2] in {"PHQ-9", "GAD-7", "PCL-5"} for x in lines[1:])

    page.goto(f"{base}/staff/alerts/")
    page.select_option("select[name=action] >> nth=0", "called_patient")
    page.fill("input[name=note] >> nth=0", "Called; safe, seen tomorrow")
    # Morgan Lee's two safety answers of one evening: the second goes along, ticked.
    assert page.is_checked(".ack-form >> nth=0 >> input[name=also]")
    screenshot(page, "staff-4-alerts-related")
    page.click(".ack-form button >> nth=0")
    assert "2 alerts acknowledged." in page.inner_text("main")
    screenshot(page, "staff-4-alerts")

    # The whole clinic's check-ins: asked for on the caseload, written by the exports worker
    # (run here as it would run), the page notices by itself, downloaded once.
    page.goto(f"{base}/staff/patients/")
    page.click("button[name=records][value=checkins]")
    page.wait_for_url("**/staff/exports/")
    assert "The check-ins export is being prepared." in page.inner_text("main")
    screenshot(page, "staff-5-export-preparing")
    export_job_run(job_id=enqueued[-1])
    link = page.locator("a:has-text('Download')")
    link.wait_for(timeout=15_000)  # no reload by hand: the page asks for the status
    screenshot(page, "staff-5-export-ready")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.startswith("clinic-checkins-")
    assert csv_trailer_verify(download.value.path().read_bytes()) > 100
    page.reload()
    assert "Downloaded and removed" in page.inner_text("main")
    assert page.problems() == []


def test_a_clinic_admin_finds_a_time_zone_by_typing_part_of_its_name(live_server, desktop, step):
    clinic = ClinicFactory(name="Riverside Wellness", tz="America/New_York")
    admin = StaffFactory(clinic=clinic, role=StaffMembership.Role.ADMIN).user
    page, base = desktop, live_server.url
    staff_sign_in(page, base, admin.email)
    page.goto(f"{base}/staff/clinic/")
    first_group = page.locator("select[name=tz] optgroup").first
    assert first_group.get_attribute("label") == "United States"

    page.fill("input#id_tz_search", "paris")

    shown = page.eval_on_selector(
        "select[name=tz]", "s => [...s.options].filter(o => !o.hidden).map(o => o.value)"
    )
    assert shown == ["Europe/Paris"]
    assert page.input_value("select[name=tz]") == "Europe/Paris"
    step(page, "staff-5-clinic-settings-zone-search")
    page.click("main button[type=submit]")
    clinic.refresh_from_db()
    assert clinic.tz == "Europe/Paris"


def test_the_outbox_pages_through_the_clinics_mail(live_server, desktop, step, settings, tmp_path):
    settings.DEMO_MODE = True  # the Outbox exists only in debug or a declared demo
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path)},
        }
    }
    clinic = ClinicFactory(name="Riverside Wellness", tz="America/New_York")
    nurse = StaffFactory(clinic=clinic).user
    for n in range(1, 26):
        # As the reminder sender writes them: the Message-ID names the delivery.
        headers = {"Message-ID": delivery_message_id(n)}
        EmailMessage(
            f"Reminder {n:02d}", "Hello", "care@example.org", [nurse.email], headers=headers
        ).send()
    page, base = desktop, live_server.url
    staff_sign_in(page, base, nurse.email)

    page.click("header >> text=Outbox")
    assert page.locator("main details").count() == 20
    page.click("main .pagination >> text=Next")
    assert page.locator("main details").count() == 5
    assert "Page 2 of 2" in page.inner_text("main .pagination")
    step(page, "staff-6-outbox-page-2")
