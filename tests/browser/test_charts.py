"""Trend charts as people see them: one marker shape per meaning (each in the legend),
safety events on the staff timeline, the patient's own charts from their baseline with
their sessions, and time axes that end today. Screenshots in var/screenshots/chart-*.png."""

from datetime import timedelta

import pytest
from django.utils import timezone

from care.domain.clock import local_date
from care.domain.dates import day_month
from care.models import TreatmentSession
from tests.browser.signin import sign_in, staff_sign_in
from tests.factories import (
    AssessmentFactory,
    CheckInFactory,
    ClinicFactory,
    PatientFactory,
    StaffFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What each special marker means; a shape must mean one thing on every chart of a page.
MEANINGS = {
    "Treatment session": "session",
    "Safety event (self-harm answer)": "safety",
    "Baseline": "baseline",
    "Baseline (before your first session)": "baseline",
    "Response (50% or more below baseline)": "response",
    "Remission": "remission",
}

CHARTS = """() => Object.values(Chart.instances).map((chart) => ({
  id: chart.canvas.id,
  legend: chart.legend.legendItems.map((item) => ({
    text: item.text, marker: String(item.pointStyle),
  })),
  lastTick: chart.options.scales.x.ticks.callback(chart.scales.x.max),
  firstTick: chart.options.scales.x.ticks.callback(chart.scales.x.min),
}))"""


@pytest.fixture
def course(db):
    """A responder four months into treatment: baseline PHQ-9 21, held sessions, a
    self-harm check-in and a PHQ-9 with item 9 along the way, 4 this week."""
    clinic = ClinicFactory(tz="America/New_York")
    nurse = StaffFactory(clinic=clinic, user__full_name="Dana Whitfield").user
    now = timezone.now()
    patient = PatientFactory(
        clinic=clinic,
        user__full_name="Robin Alvarez",
        tz="America/New_York",
        consultation_on=(now - timedelta(days=130)).date(),
    )
    AssessmentFactory(patient=patient, total=21, completed_at=now - timedelta(days=120))
    for days_ago in (115, 112, 109, 105, 102, 98, 60):
        TreatmentSession.objects.create(
            patient=patient,
            scheduled_at=now - timedelta(days=days_ago),
            route="iv",
            status="completed",
        )
    for days_ago, total, flags in ((90, 16, ["self_harm"]), (60, 10, []), (2, 4, [])):
        AssessmentFactory(
            patient=patient, total=total, completed_at=now - timedelta(days=days_ago), flags=flags
        )
    for days_ago in range(100, 0, -3):
        day = local_date(now - timedelta(days=days_ago), patient.tz)
        CheckInFactory(
            patient=patient,
            local_date=day,
            mood=min(9, 2 + (100 - days_ago) // 15),
            has_self_harm_thoughts=days_ago == 91,
        )
    return {"nurse": nurse, "patient": patient, "today": local_date(now, patient.tz)}


def charts(page, ids):
    for canvas_id in ids:
        page.wait_for_function(f"document.getElementById('{canvas_id}')?.width > 0")
    return {c["id"]: c for c in page.evaluate(CHARTS)}


def assert_one_shape_per_meaning(found):
    shapes = {}
    for chart in found.values():
        for item in chart["legend"]:
            if item["text"] in MEANINGS:
                shapes.setdefault(item["marker"], set()).add(MEANINGS[item["text"]])
        markers = [item["marker"] for item in chart["legend"]]
        special = [item["marker"] for item in chart["legend"] if item["text"] in MEANINGS]
        # No ordinary series shares a special marker's shape on the same chart.
        assert all(markers.count(m) == 1 for m in special), chart
    assert all(len(meanings) == 1 for meanings in shapes.values()), shapes


def test_staff_charts_have_one_shape_per_meaning_and_mark_safety_events(
    live_server, desktop, course, screenshot
):
    staff_sign_in(desktop, live_server.url, course["nurse"].email)
    desktop.goto(f"{live_server.url}/staff/patients/{course['patient'].public_id}/")

    found = charts(desktop, ["mood-chart", "chart-phq9"])

    phq9 = {item["text"] for item in found["chart-phq9"]["legend"]}
    assert {"Treatment session", "Baseline", "Response (50% or more below baseline)"} <= phq9
    assert {"Remission", "Safety event (self-harm answer)"} <= phq9
    mood = {item["text"] for item in found["mood-chart"]["legend"]}
    assert {"Treatment session", "Safety event (self-harm answer)"} <= mood
    assert_one_shape_per_meaning(found)
    screenshot(desktop, "chart-staff-patient")


def test_chart_time_axes_end_today_not_tomorrow(live_server, new_page, course):
    today = course["today"]
    label = day_month(today)
    staff = new_page(1440, 900)
    staff_sign_in(staff, live_server.url, course["nurse"].email)
    staff.goto(f"{live_server.url}/staff/patients/{course['patient'].public_id}/")
    mine = new_page(390, 844)
    sign_in(mine, live_server.url, course["patient"].user.email)
    mine.goto(f"{live_server.url}/me/history/")

    theirs = charts(staff, ["mood-chart", "chart-phq9"])
    own = charts(mine, ["mood-chart", "chart-phq9"])

    assert {c["lastTick"] for c in [*theirs.values(), *own.values()]} == {label}


def test_my_progress_starts_before_the_baseline_and_shows_the_sessions(
    live_server, phone, course, screenshot
):
    sign_in(phone, live_server.url, course["patient"].user.email)
    phone.goto(f"{live_server.url}/me/history/")

    found = charts(phone, ["mood-chart", "chart-phq9"])

    phq9 = {item["text"] for item in found["chart-phq9"]["legend"]}
    assert {"Baseline (before your first session)", "Treatment session"} <= phq9
    baseline_day = local_date(timezone.now() - timedelta(days=120), course["patient"].tz)
    first = phone.evaluate(
        "() => Object.values(Chart.instances).find((c) => c.canvas.id === 'chart-phq9')"
        ".scales.x.min"
    )
    assert first <= phone.evaluate(f"() => Date.parse('{baseline_day.isoformat()}T00:00:00')")
    assert_one_shape_per_meaning(found)
    screenshot(phone, "chart-my-progress")
