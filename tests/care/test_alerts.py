"""Alerts: raised when data arrives, deduplicated, acknowledged once, visible in history."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from care.alerts.services import (
    AlertAlreadyAcknowledged,
    alert_acknowledge,
    alert_raise,
    daily_alerts_run,
)
from care.caseload.trends import patient_trends
from care.domain.rules import AlertDraft
from care.models import Alert, TreatmentSession
from care.records.services import assessment_submit
from tests.factories import AssessmentFactory, CheckInFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 20, 18, tzinfo=UTC)
DRAFT = AlertDraft("missed_checkins", "routine", "missed_checkins", "No check-in for 3 days.")


def phq9_total(patient, total, at):
    answers = {str(n): 0 for n in range(1, 10)}
    for n in range(1, 9):
        step = min(3, total)
        answers[str(n)] = step
        total -= step
    return assessment_submit(
        patient=patient,
        instrument_code="phq9",
        answers=answers,
        difficulty=None,
        client_id=None,
        entered_by=None,
        now=at,
    )


def test_one_open_alert_per_patient_kind_and_cause(patient):
    first = alert_raise(patient=patient, draft=DRAFT, now=NOW)
    again = alert_raise(patient=patient, draft=DRAFT, now=NOW + timedelta(hours=1))
    other_cause = alert_raise(
        patient=patient, draft=AlertDraft("worsening", "high", "phq9:rise", "x"), now=NOW
    )

    assert first is not None and again is None and other_cause is not None
    assert Alert.objects.filter(patient=patient, kind="missed_checkins").count() == 1


def test_an_acknowledged_cause_is_not_raised_again_unless_asked(patient, clinician):
    first = alert_raise(patient=patient, draft=DRAFT, now=NOW)
    alert_acknowledge(alert=first, by=clinician, action="called_patient", note="", now=NOW)

    later = NOW + timedelta(hours=1)
    assert alert_raise(patient=patient, draft=DRAFT, now=later) is None
    assert alert_raise(patient=patient, draft=DRAFT, now=later, again_after_ack=True) is not None


def test_an_alert_is_acknowledged_once(patient, clinician, other_clinician):
    alert = alert_raise(patient=patient, draft=DRAFT, now=NOW)
    alert_acknowledge(alert=alert, by=clinician, action="no_action", note="On holiday", now=NOW)

    with pytest.raises(AlertAlreadyAcknowledged):
        alert_acknowledge(alert=alert, by=other_clinician, action="other", note="x", now=NOW)
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.action, alert.action_note) == (
        clinician,
        "no_action",
        "On holiday",
    )


def test_a_phq9_rise_of_5_raises_one_high_alert_even_when_repeated(patient):
    phq9_total(patient, 10, NOW - timedelta(days=14))
    phq9_total(patient, 15, NOW)
    phq9_total(patient, 21, NOW + timedelta(days=14))

    worsening = Alert.objects.filter(patient=patient, kind="worsening").order_by(
        "created_at", "cause"
    )
    # 15 -> 21 is a rise into the top band: one fact, one alert naming both.
    assert [(a.cause.rsplit(":", 1)[0], a.priority) for a in worsening] == [
        ("phq9:rise", "high"),
        ("phq9:rise", "high"),
    ]
    assert "most severe band" in worsening[1].reason


def test_missed_checkins_are_found_by_the_daily_run(patient):
    patient.enrolled_at = NOW - timedelta(days=30)
    patient.save()
    CheckInFactory(patient=patient, local_date=datetime(2026, 3, 16).date(), submitted_at=NOW)

    quiet = daily_alerts_run(patient=patient, now=datetime(2026, 3, 19, 18, tzinfo=UTC))
    alerts = daily_alerts_run(patient=patient, now=datetime(2026, 3, 20, 18, tzinfo=UTC))
    repeat = daily_alerts_run(patient=patient, now=datetime(2026, 3, 21, 18, tzinfo=UTC))

    assert quiet == [] and repeat == []
    assert [a.kind for a in alerts] == ["missed_checkins"]


def test_an_acknowledged_missed_checkin_alert_waits_for_a_new_silence(patient, clinician):
    patient.enrolled_at = NOW - timedelta(days=30)
    patient.save()
    CheckInFactory(patient=patient, local_date=datetime(2026, 3, 10).date(), submitted_at=NOW)
    [alert] = daily_alerts_run(patient=patient, now=NOW)
    alert_acknowledge(alert=alert, by=clinician, action="called_patient", note="", now=NOW)

    an_hour_later = daily_alerts_run(patient=patient, now=NOW + timedelta(hours=1))
    CheckInFactory(patient=patient, local_date=datetime(2026, 3, 21).date(), submitted_at=NOW)
    new_silence = daily_alerts_run(patient=patient, now=NOW + timedelta(days=5))

    assert an_hour_later == []
    assert [a.cause for a in new_silence] == ["missed_checkins:20260321"]


def test_the_daily_run_skips_paused_patients_and_pending_accounts(patient):
    patient.enrolled_at = NOW - timedelta(days=30)
    patient.status = "paused"
    patient.save()

    assert daily_alerts_run(patient=patient, now=NOW) == []


def test_a_booster_signal_after_induction(patient):
    patient.treatment_phase = "maintenance"
    patient.enrolled_at = NOW - timedelta(days=90)
    patient.save()
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=NOW - timedelta(days=80), route="iv", status="completed"
    )
    # Stored without running the rules at submission (which would have raised a worsening
    # alert for the 9, and then no booster alert for the same score).
    for total, days_ago in ((6, 40), (4, 26), (9, 12)):
        AssessmentFactory(patient=patient, total=total, completed_at=NOW - timedelta(days=days_ago))

    alerts = daily_alerts_run(patient=patient, now=NOW)
    again = daily_alerts_run(patient=patient, now=NOW + timedelta(hours=1))

    boosters = [a.cause.rsplit(":", 1)[0] for a in alerts if a.kind == "booster_due"]
    assert boosters == ["booster:phq9"]
    assert again == []


def test_a_no_show_is_not_the_first_session(patient):
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=NOW - timedelta(days=40), route="iv", status="no_show"
    )
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=NOW - timedelta(days=30), route="iv", status="completed"
    )
    patient.consultation_on = (NOW - timedelta(days=50)).date()
    patient.save()
    phq9_total(patient, 18, NOW - timedelta(days=35))
    phq9_total(patient, 8, NOW - timedelta(days=1))

    points = patient_trends(patient=patient, now=NOW)["questionnaires"]["phq9"]["points"]

    assert [(p["total"], p["baseline"], p["response"]) for p in points] == [
        (18, True, False),
        (8, False, True),
    ]


def test_the_inbox_lists_open_alerts_urgent_first_and_acknowledges(
    clinician_client, clinician, patient, other_patient
):
    routine = alert_raise(patient=patient, draft=DRAFT, now=NOW)
    urgent = alert_raise(
        patient=other_patient,
        draft=AlertDraft("safety", "urgent", "checkin:1", "Thoughts of self-harm."),
        now=NOW + timedelta(hours=2),
    )

    inbox = clinician_client.get("/staff/alerts/")
    assert [a.pk for a in inbox.context["page"].object_list] == [urgent.pk, routine.pk]

    response = clinician_client.post(
        reverse("care:alert-acknowledge", args=[urgent.pk]),
        {"action": "called_patient", "note": "Safety plan reviewed", "next": "/staff/alerts/"},
    )
    urgent.refresh_from_db()
    assert response["Location"] == "/staff/alerts/"
    assert urgent.acknowledged_by == clinician and urgent.action_note == "Safety plan reviewed"
    assert [a.pk for a in clinician_client.get("/staff/alerts/").context["page"].object_list] == [
        routine.pk
    ]
    history = clinician_client.get(reverse("care:patient-detail", args=[other_patient.public_id]))
    assert "Safety plan reviewed" in history.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [({"action": ""}, "Say what was done."), ({"action": "other", "note": ""}, "Add a note")],
)
def test_acknowledging_without_saying_what_was_done_is_refused(
    clinician_client, patient, data, message
):
    alert = alert_raise(patient=patient, draft=DRAFT, now=NOW)

    response = clinician_client.post(reverse("care:alert-acknowledge", args=[alert.pk]), data)

    alert.refresh_from_db()
    assert response.status_code == 400 and message in response.content.decode()
    assert alert.is_open


def test_alerts_of_another_clinic_are_404(client, other_clinician, patient):
    alert = alert_raise(patient=patient, draft=DRAFT, now=NOW)
    client.force_login(other_clinician)

    response = client.post(
        reverse("care:alert-acknowledge", args=[alert.pk]), {"action": "no_action"}
    )

    alert.refresh_from_db()
    assert response.status_code == 404 and alert.is_open
    assert list(client.get("/staff/alerts/").context["page"].object_list) == []


def test_patients_cannot_see_or_acknowledge_alerts(patient_client, patient):
    alert = alert_raise(patient=patient, draft=DRAFT, now=NOW)

    assert patient_client.get("/staff/alerts/").status_code == 404
    assert (
        patient_client.post(
            reverse("care:alert-acknowledge", args=[alert.pk]), {"action": "no_action"}
        ).status_code
        == 404
    )


def test_an_unsafe_next_address_is_ignored(clinician_client, patient):
    alert = alert_raise(patient=patient, draft=DRAFT, now=timezone.now())

    response = clinician_client.post(
        reverse("care:alert-acknowledge", args=[alert.pk]),
        {"action": "no_action", "next": "https://evil.example/"},
    )

    assert response["Location"] == reverse("care:alert-inbox")
