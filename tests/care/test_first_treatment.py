"""The first treatment is the first held (completed) session, on every screen and in every
rule: a booking, future or never updated from "scheduled", is not treatment."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from care.alerts.services import assessment_alerts_run, daily_alerts_run
from care.caseload.selectors import CaseloadFilters, caseload_page
from care.caseload.trends import patient_trends
from care.models import Alert, Assessment, TreatmentSession
from care.outcomes.selectors import OutcomeFilters, clinic_outcome_report
from tests.factories import AssessmentFactory

pytestmark = pytest.mark.django_db


def ago(days: float):
    return timezone.now() - timedelta(days=days)


def session(patient, days_ago: float, status: str = "scheduled") -> TreatmentSession:
    return TreatmentSession.objects.create(
        patient=patient, scheduled_at=ago(days_ago), route="iv", status=status
    )


def phq9(patient, days_ago: float, total: int) -> Assessment:
    return AssessmentFactory(patient=patient, total=total, completed_at=ago(days_ago))


@pytest.fixture
def booked_only(patient):
    """Two scores, much better the second time, and only a booking three days ahead."""
    patient.consultation_on = ago(60).date()
    patient.save()
    phq9(patient, 30, 20)
    phq9(patient, 2, 4)
    session(patient, -3)
    return patient


@pytest.fixture
def stale_booking(patient):
    """A booking 40 days ago never updated from "scheduled"; the score before the first
    held session (30 days ago) is the baseline; the latest is a response."""
    patient.consultation_on = ago(60).date()
    patient.save()
    session(patient, 40)
    phq9(patient, 35, 18)
    session(patient, 30, status="completed")
    phq9(patient, 2, 8)
    return patient


@pytest.fixture
def baseline_only(patient):
    patient.consultation_on = ago(60).date()
    patient.save()
    phq9(patient, 35, 18)
    session(patient, 30, status="completed")
    return patient


def caseload_phq9(clinic):
    _, [row] = caseload_page(
        clinic=clinic, filters=CaseloadFilters(), now=timezone.now(), page_number=None
    )
    return row.scores["phq9"]


def trends_phq9(patient):
    return patient_trends(patient=patient, now=timezone.now())["questionnaires"]["phq9"]


def api_caseload_phq9(client):
    [row] = client.get("/api/v1/patients/").json()["results"]
    return row["phq9"]


def api_trends_phq9(client, patient):
    body = client.get(f"/api/v1/patients/{patient.public_id}/trends/").json()
    return body["questionnaires"]["phq9"]


def page(client, patient):
    return client.get(reverse("care:patient-detail", args=[patient.public_id]))


# Only a future booking: no response or remission before any treatment.


def test_caseload_shows_no_response_before_any_held_session(clinic, booked_only):
    summary = caseload_phq9(clinic)

    assert (summary.latest, summary.response, summary.remission) == (4, False, False)


def test_caseload_page_shows_no_badge_before_any_held_session(clinician_client, booked_only):
    body = clinician_client.get(reverse("care:patient-list")).content.decode()

    assert "Response" not in body and "Remission" not in body


def test_trends_mark_no_response_before_any_held_session(booked_only):
    points = trends_phq9(booked_only)["points"]

    assert [(p["response"], p["remission"]) for p in points] == [(False, False)] * 2


def test_patient_page_marks_no_response_before_any_held_session(clinician_client, booked_only):
    response = page(clinician_client, booked_only)

    marks = [
        (p["response"], p["remission"])
        for p in response.context["trends"]["questionnaires"]["phq9"]["points"]
    ]
    assert marks == [(False, False)] * 2
    assert "<td>Response</td>" not in response.content.decode()
    assert "<td>Remission</td>" not in response.content.decode()


def test_api_caseload_shows_no_response_before_any_held_session(clinician_client, booked_only):
    summary = api_caseload_phq9(clinician_client)

    assert (summary["response"], summary["remission"]) == (False, False)


def test_api_trends_mark_no_response_before_any_held_session(clinician_client, booked_only):
    points = api_trends_phq9(clinician_client, booked_only)["points"]

    assert not any(p["response"] or p["remission"] for p in points)


def test_outcomes_leave_out_a_patient_with_only_a_booking(clinic, booked_only):
    today = timezone.localdate()
    report, _ = clinic_outcome_report(
        clinic=clinic,
        filters=OutcomeFilters(start=today - timedelta(days=90), end=today),
        today=today,
    )

    assert (report.patients, report.not_treated_yet) == (0, 1)


# A past booking never updated from "scheduled": the baseline is the score before the
# first held session.


def test_caseload_takes_the_baseline_before_the_first_held_session(clinic, stale_booking):
    summary = caseload_phq9(clinic)

    assert (summary.baseline, summary.change, summary.response) == (18, -10, True)


def test_trends_take_the_baseline_before_the_first_held_session(stale_booking):
    series = trends_phq9(stale_booking)

    assert series["baseline"] == 18
    assert [(p["baseline"], p["change"], p["response"]) for p in series["points"]] == [
        (True, None, False),
        (False, -10, True),
    ]


def test_patient_page_takes_the_baseline_before_the_first_held_session(
    clinician_client, stale_booking
):
    body = page(clinician_client, stale_booking).content.decode()

    assert "baseline 18" in body
    assert "<td>Response</td>" in body


def test_api_caseload_takes_the_baseline_before_the_first_held_session(
    clinician_client, stale_booking
):
    summary = api_caseload_phq9(clinician_client)

    assert (summary["baseline"], summary["change"], summary["response"]) == (18, -10, True)


def test_api_trends_take_the_baseline_before_the_first_held_session(
    clinician_client, stale_booking
):
    series = api_trends_phq9(clinician_client, stale_booking)

    assert series["baseline"] == 18
    assert series["points"][-1]["response"] is True


def test_outcomes_take_the_baseline_before_the_first_held_session(clinic, stale_booking):
    today = timezone.localdate()
    report, _ = clinic_outcome_report(
        clinic=clinic,
        filters=OutcomeFilters(start=today - timedelta(days=90), end=today),
        today=today,
    )

    phq9_report = next(item for item in report.instruments if item.code == "phq9")
    assert (phq9_report.with_baseline, phq9_report.no_baseline) == (1, 0)


def test_the_best_score_since_treatment_began_is_after_the_first_held_session(patient):
    session(patient, 40)  # never updated from "scheduled"
    phq9(patient, 38, 4)  # before treatment: not "its best since treatment began"
    session(patient, 30, status="completed")
    phq9(patient, 20, 12)
    new = phq9(patient, 0, 13)

    assert assessment_alerts_run(assessment=new, now=timezone.now()) == []


def test_no_booster_alert_without_a_held_session(patient):
    patient.treatment_phase = patient.Phase.MAINTENANCE
    patient.save()
    session(patient, 60)  # never updated from "scheduled"
    phq9(patient, 50, 4)
    phq9(patient, 1, 12)

    raised = daily_alerts_run(patient=patient, now=timezone.now())

    assert [a for a in raised if a.kind == Alert.Kind.BOOSTER_DUE] == []


# Only a baseline score: caseload and trends agree.


def test_caseload_and_trends_agree_on_a_lone_baseline_score(clinic, baseline_only):
    summary = caseload_phq9(clinic)
    series = trends_phq9(baseline_only)

    assert summary.baseline == series["baseline"] == 18
    assert summary.change is None and series["points"][0]["change"] is None
    assert not summary.response and not series["points"][0]["response"]


def test_api_caseload_and_trends_agree_on_a_lone_baseline_score(clinician_client, baseline_only):
    assert (
        api_caseload_phq9(clinician_client)["baseline"]
        == api_trends_phq9(clinician_client, baseline_only)["baseline"]
        == 18
    )


def test_caseload_page_says_a_lone_score_is_the_baseline(clinician_client, baseline_only):
    body = clinician_client.get(reverse("care:patient-list")).content.decode()

    assert "(baseline)" in body
