"""A clinician weighs a patient in pounds and records a session whose dose departs from the
plan: the weight card, the weight form and the session form's proposal, warning and
confirmation, each looked at by axe-core (screenshots in var/screenshots/)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from care.models import TreatmentSession
from care.treatment.services import treatment_plan_version_create
from tests.browser.signin import staff_sign_in
from tests.care.test_treatment_plans import iv_values
from tests.factories import ClinicFactory, PatientFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_clinician_weighs_a_patient_and_confirms_a_dose_beyond_the_plan(
    live_server, desktop, step
):
    clinic = ClinicFactory(name="Riverside Wellness", tz="America/New_York")
    nurse = StaffFactory(clinic=clinic, user__full_name="Dana Whitfield").user
    patient = PatientFactory(
        clinic=clinic, user__full_name="Robin Alvarez", primary_clinician=nurse
    )
    now = timezone.now()
    treatment_plan_version_create(
        patient=patient, by=nurse, now=now, values=iv_values(nurse), reason_code="", reason=""
    )
    session = TreatmentSession.objects.create(
        patient=patient, scheduled_at=now - timedelta(minutes=30), route="iv"
    )
    page, base = desktop, live_server.url
    staff_sign_in(page, base, nurse.email)

    page.goto(f"{base}/staff/patients/{patient.public_id}/")
    assert "No weight recorded yet." in page.inner_text("#weight-heading + p")
    page.click("text=Record a weight")
    page.fill("input[name=value]", "180")
    page.check("input[name=unit][value=lb]")
    # Weighed on the session's day (just after midnight, today is the next day at the clinic)
    page.fill("input[name=measured_on]", clinic.local_date(session.scheduled_at).isoformat())
    step(page, "weight-1-form")
    page.click("main button[type=submit]")
    page.wait_for_url(f"**/staff/patients/{patient.public_id}/")
    assert "81.6 kg" in page.inner_text("section[aria-labelledby=weight-heading]")
    step(page, "weight-2-card")

    page.goto(f"{base}/staff/sessions/{session.pk}/record/")
    assert "0.50 mg/kg x 81.6 kg" in page.inner_text("#dose-plan")
    assert page.input_value("input[name=dose_mg]") == "40.8"
    page.fill("input[name=dose_mg]", "50")
    page.fill("input[name=bp_pre_systolic]", "128")
    page.fill("input[name=bp_pre_diastolic]", "82")
    page.click("main button[type=submit]")
    assert "departs from the plan's 40.8 mg" in page.inner_text("#dose-plan")
    step(page, "weight-3-dose-confirm")
    page.check("input[name=confirm_dose]")
    page.click("main button[type=submit]")
    page.wait_for_url(f"**/staff/patients/{patient.public_id}/")

    session.refresh_from_db()
    assert (session.status, session.dose_mg) == ("completed", Decimal("50.0"))
