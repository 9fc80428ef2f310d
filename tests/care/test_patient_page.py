"""The staff patient page and its trends: marks, contents, and a flat query count."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from care.caseload.trends import patient_trends
from care.models import Assessment, TreatmentSession
from tests.factories import build_history

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 18, tzinfo=UTC)


def history(patient, days, *, end=NOW):
    build_history(patient, days, end=end)


def test_trends_mark_baseline_response_and_remission(patient):
    patient.consultation_on = (NOW - timedelta(days=60)).date()
    patient.save()
    TreatmentSession.objects.create(
        patient=patient,
        scheduled_at=NOW - timedelta(days=40),
        route="intranasal",
        dose_mg=56,
        status="completed",
    )
    for days_ago, total in [(45, 20), (25, 12), (10, 9), (2, 4)]:
        Assessment.objects.create(
            patient=patient,
            instrument="phq9",
            answers={},
            total=total,
            band="",
            completed_at=NOW - timedelta(days=days_ago),
        )

    trends = patient_trends(patient=patient, now=NOW)

    points = trends["questionnaires"]["phq9"]["points"]
    assert [(p["total"], p["baseline"], p["response"], p["remission"]) for p in points] == [
        (20, True, False, False),
        (12, False, False, False),
        (9, False, True, False),
        (4, False, True, True),
    ]
    assert [p["change"] for p in points] == [None, -8, -11, -16]
    assert trends["questionnaires"]["phq9"]["bands"][-1] == {
        "low": 20,
        "high": 27,
        "label": "Severe",
    }
    assert trends["sessions"] == [
        {
            "at": (NOW - timedelta(days=40)).isoformat(),
            "at_local": "2026-04-22T13:00:00",  # the patient's wall clock (Chicago, CDT)
            "status": "completed",
            "route": "Intranasal esketamine",
            "dose": "56 mg",
        }
    ]


def test_the_patient_page_shows_notes_answers_sessions_and_chart_data(clinician_client, patient):
    history(patient, 30, end=timezone.now())

    page = clinician_client.get(reverse("care:patient-detail", args=[patient.public_id]))

    html = page.content.decode()
    assert 'id="trends-data"' in html and "patient-chart.js" in html
    assert "note 1" in html
    assert "Little interest or pleasure in doing things — <strong>Several days</strong>" in html
    assert "0.50 mg/kg" in html
    assert "print.css" in html


def test_the_patient_page_costs_the_same_queries_for_90_and_730_days(
    clinician_client, patient, other_patient
):
    now = timezone.now()
    history(patient, 90, end=now)
    history(other_patient, 730, end=now)

    counts = []
    for who in (patient, other_patient):
        with CaptureQueriesContext(connection) as queries:
            response = clinician_client.get(reverse("care:patient-detail", args=[who.public_id]))
        assert response.status_code == 200
        counts.append(len(queries.captured_queries))

    assert counts[0] == counts[1]


def test_trends_cost_a_fixed_number_of_queries(patient, django_assert_max_num_queries):
    patient.consultation_on = (NOW - timedelta(days=500)).date()
    patient.save()
    history(patient, 400)

    with django_assert_max_num_queries(5):
        trends = patient_trends(patient=patient, now=NOW)

    assert len(trends["checkins"]) == 179  # the last 180 days, today not yet checked in


def test_trends_show_a_corrected_result_and_not_the_one_it_supersedes(patient):
    patient.consultation_on = (NOW - timedelta(days=30)).date()
    patient.save()

    def result(total, days_ago, supersedes=None):
        return Assessment.objects.create(
            patient=patient,
            instrument="phq9",
            answers={},
            total=total,
            band="",
            completed_at=NOW - timedelta(days=days_ago),
            supersedes=supersedes,
        )

    first = result(15, 20)
    wrong = result(3, 10)
    result(13, 9, supersedes=wrong)

    points = patient_trends(patient=patient, now=NOW)["questionnaires"]["phq9"]["points"]

    assert [(p["total"], p["change"]) for p in points] == [(15, None), (13, -2)]
    assert points[0]["id"] == str(first.public_id)
