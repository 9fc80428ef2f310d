"""What the charts are drawn from: safety events on the staff timeline, the patient's own
charts from before their baseline with their treatment sessions, and monitoring times in
hours and minutes."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from care.caseload.trends import patient_trends
from care.domain.clock import local_date
from care.models import TreatmentSession
from tests.factories import AssessmentFactory, CheckInFactory

pytestmark = pytest.mark.django_db


def ago(days: float):
    return timezone.now() - timedelta(days=days)


def test_trends_mark_safety_events_on_the_timeline(patient):
    today = local_date(timezone.now(), patient.tz)
    patient.consultation_on = today - timedelta(days=30)
    patient.save()
    CheckInFactory(
        patient=patient, local_date=today - timedelta(days=3), has_self_harm_thoughts=True
    )
    CheckInFactory(patient=patient, local_date=today - timedelta(days=2))
    flagged = AssessmentFactory(patient=patient, total=14, completed_at=ago(1), flags=["self_harm"])
    AssessmentFactory(patient=patient, total=9, completed_at=ago(5))

    events = patient_trends(patient=patient, now=timezone.now())["safety_events"]

    assert [e["what"] for e in events] == ["Check-in: thoughts of self-harm", "PHQ-9 item 9"]
    assert events[0]["at_local"].startswith((today - timedelta(days=3)).isoformat())
    local = flagged.completed_at.astimezone(ZoneInfo(patient.tz)).replace(tzinfo=None)
    assert events[1]["at_local"] == local.isoformat("T", "seconds")


def test_the_trends_api_gives_the_safety_events(clinician_client, patient):
    patient.consultation_on = (timezone.now() - timedelta(days=30)).date()
    patient.save()
    AssessmentFactory(patient=patient, total=14, completed_at=ago(1), flags=["self_harm"])

    body = clinician_client.get(f"/api/v1/patients/{patient.public_id}/trends/").json()

    assert [e["what"] for e in body["safety_events"]] == ["PHQ-9 item 9"]


@pytest.fixture
def responder(patient):
    """Baseline 21 four months ago, treated from then on, 5 today: a responder."""
    patient.consultation_on = (timezone.now() - timedelta(days=130)).date()
    patient.save()
    AssessmentFactory(patient=patient, total=21, completed_at=ago(120))
    for days_ago in (115, 112, 109):
        TreatmentSession.objects.create(
            patient=patient, scheduled_at=ago(days_ago), route="iv", status="completed"
        )
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=ago(100), route="iv", status="cancelled"
    )
    TreatmentSession.objects.create(patient=patient, scheduled_at=ago(-2), route="iv")
    AssessmentFactory(patient=patient, total=12, completed_at=ago(60))
    AssessmentFactory(patient=patient, total=5, completed_at=ago(1))
    CheckInFactory(patient=patient, local_date=local_date(ago(118), patient.tz), mood=2)
    CheckInFactory(patient=patient, local_date=local_date(ago(1), patient.tz), mood=7)
    return patient


def test_my_progress_starts_a_week_before_the_baseline(patient_client, responder):
    chart = patient_client.get(reverse("care:history")).context["chart"]

    baseline_day = local_date(ago(120), responder.tz)
    assert chart["since"] <= (baseline_day - timedelta(days=7)).isoformat()
    [phq9] = chart["questionnaires"]
    assert phq9["baseline"] == 21
    assert [(p["total"], p["baseline"]) for p in phq9["points"]] == [
        (21, True),
        (12, False),
        (5, False),
    ]
    assert chart["checkins"][0]["mood"] == 2  # the early check-ins are drawn too


def test_my_progress_shows_the_held_treatment_sessions(patient_client, responder):
    chart = patient_client.get(reverse("care:history")).context["chart"]

    held = [local_date(ago(d), responder.tz).isoformat() for d in (115, 112, 109)]
    assert [s["day"] for s in chart["sessions"]] == held


def test_my_progress_page_names_the_baseline(patient_client, responder):
    page = patient_client.get(reverse("care:history")).content.decode()

    assert "baseline 21" in page


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (timedelta(hours=2, minutes=10), "2 h 10 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=1, minutes=59, seconds=40), "1 h 59 min"),
        (None, ""),
    ],
)
def test_monitoring_time_reads_in_hours_and_minutes(duration, expected):
    from care.templatetags.care_dates import hours_minutes

    assert hours_minutes(duration) == expected


def test_the_rems_list_shows_monitoring_time_in_hours_and_minutes(clinician_client, patient):
    start = ago(2)
    TreatmentSession.objects.create(
        patient=patient,
        scheduled_at=start,
        route="intranasal",
        status="completed",
        monitoring_started_at=start,
        monitoring_ended_at=start + timedelta(hours=2, minutes=10),
    )

    page = clinician_client.get(reverse("care:session-list")).content.decode()

    assert "2 h 10 min" in page and "2:10:00" not in page
