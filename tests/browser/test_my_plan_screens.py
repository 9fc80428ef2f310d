"""A patient on a phone reads "My plan", answers the readiness check and asks to move a
session; the care team sees the answers. Each page passes axe-core, screenshotted in
var/screenshots/."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from care.models import SessionMoveRequest, SessionReadiness, TreatmentSession
from care.treatment.services import treatment_plan_version_create
from tests.browser.signin import sign_in, staff_sign_in
from tests.factories import ClinicFactory, PatientFactory, StaffFactory

NEW_YORK = ZoneInfo("America/New_York")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def planned(db):
    clinic = ClinicFactory(
        name="Riverside Wellness", tz="America/New_York", address="12 River Road\nSpringfield"
    )
    nurse = StaffFactory(clinic=clinic, user__full_name="Dana Whitfield").user
    patient = PatientFactory(
        clinic=clinic, preferred_name="Robin", primary_clinician=nurse, tz="America/New_York"
    )
    treatment_plan_version_create(
        patient=patient,
        by=nurse,
        now=timezone.now(),
        values={
            "route": "iv",
            "induction_sessions": 6,
            "induction_weeks": 3,
            "target_dose_mg_per_kg": Decimal("0.5"),
            "maintenance": "every_n_weeks",
            "maintenance_every_weeks": 4,
            "questionnaires": ["phq9"],
            "questionnaire_every_days": 7,
            "goals": "Sleep through the night.",
            "prescriber": nurse,
        },
        reason_code="",
        reason="",
    )
    now = timezone.now()
    soon = TreatmentSession.objects.create(
        patient=patient, scheduled_at=now + timedelta(hours=20), route="iv"
    )
    later = TreatmentSession.objects.create(
        patient=patient, scheduled_at=now + timedelta(days=8), route="iv"
    )
    return {"patient": patient, "nurse": nurse, "soon": soon, "later": later}


def test_my_plan_readiness_and_asking_to_move(live_server, phone, new_page, planned, step):
    page, base = phone, live_server.url
    sign_in(page, base, planned["patient"].user.email)
    page.wait_for_url("**/me/")
    step(page, "patient-plan-1-home")

    page.click("header >> text=My plan")
    assert "6 IV infusions over 3 weeks" in page.inner_text("main")
    step(page, "patient-plan-2-my-plan")

    page.click("text=Answer the readiness check")
    page.click("main button[type=submit]")
    assert page.locator(".form-errors").is_visible()
    step(page, "patient-plan-3-readiness-errors")
    for name in ("ride_arranged", "fasting_understood", "feeling_well"):
        page.check(f"input[name={name}][value='yes']")
    page.check("input[name=new_medicines][value='no']")
    page.click("main button[type=submit]")
    page.wait_for_url("**/me/plan/")
    assert SessionReadiness.objects.get(session=planned["soon"]).is_ready

    later = planned["later"].id
    page.fill(f"#move-{later}", "Any weekday morning")
    page.click(f"form[action='/me/sessions/{later}/move/'] button[type=submit]")
    page.wait_for_url("**/me/plan/")
    assert "Waiting for the care team" in page.inner_text("main")
    assert SessionMoveRequest.objects.get(session_id=later).status == "pending"
    step(page, "patient-plan-4-answered")

    staff = new_page(1280, 800)
    staff_sign_in(staff, base, planned["nurse"].email)
    staff.goto(f"{base}/staff/patients/{planned['patient'].public_id}/")
    assert "Ready" in staff.inner_text(".sessions-table")
    step(staff, "staff-patient-readiness")

    # The care team answers the request: first into the day of the patient's other session
    # (a conflict: free times and "book anyway" shown), then at a free time it offers.
    staff.click("text=Answer the request")
    step(staff, "staff-move-request")
    clash = planned["soon"].scheduled_at + timedelta(minutes=30)
    staff.check("input[name=decision][value='accept']")
    staff.fill("#id_new_start", clash.astimezone(NEW_YORK).strftime("%Y-%m-%dT%H:%M"))
    staff.fill("#id_answer", "Moved as you asked.")
    staff.click("main button[type=submit]")
    assert "Nearest free times" in staff.inner_text("main")
    step(staff, "staff-move-request-conflict")
    staff.click("button[data-slot-for='id_new_start'] >> nth=0")
    staff.click("main button[type=submit]")
    staff.wait_for_url("**/staff/patients/**")
    move = SessionMoveRequest.objects.get(session_id=later)
    assert move.status == "accepted"
    planned["later"].refresh_from_db()
    assert planned["later"].scheduled_at == move.moved_to != clash
