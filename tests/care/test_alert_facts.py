"""One alert per fact, and a patient's related open safety alerts acknowledged together
(each with its own acknowledgement and audit row)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from care.alerts.services import (
    AlertAlreadyAcknowledged,
    alert_acknowledge,
    alert_raise,
    alerts_acknowledge,
    assessment_alerts_run,
    daily_alerts_run,
)
from care.domain.rules import AlertDraft, ScorePoint, worsening_alerts
from care.models import Alert, AuditEvent, TreatmentSession
from tests.factories import AssessmentFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 20, 18, tzinfo=UTC)


def day(n: int) -> datetime:
    return NOW + timedelta(days=n)


def safety(patient, n: int, *, at=NOW) -> Alert:
    draft = AlertDraft("safety", "urgent", f"checkin:{n}", "Thoughts of self-harm.")
    return alert_raise(patient=patient, draft=draft, now=at, again_after_ack=True)


# One alert per fact


def test_a_rise_into_the_top_band_is_one_alert_naming_both():
    drafts = worsening_alerts(
        "phq9", [ScorePoint(day(0), 14)], ScorePoint(day(14), 20), first_session_at=None
    )

    [draft] = drafts
    assert "rose from 14 to 20" in draft.reason and "most severe band" in draft.reason


def test_a_rise_after_induction_says_a_booster_may_be_due():
    earlier = [ScorePoint(day(0), 22), ScorePoint(day(30), 20)]

    [draft] = worsening_alerts(
        "phq9",
        earlier,
        ScorePoint(day(60), 25),
        first_session_at=day(1),
        induction_ends_at=day(22),
    )

    assert draft.kind == "worsening" and "booster may be due" in draft.reason


def test_one_phq9_score_raises_one_alert_not_a_worsening_and_a_booster(patient):
    patient.treatment_phase = "maintenance"
    patient.enrolled_at = day(-120)
    patient.save()
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=day(-100), route="iv", status="completed"
    )
    AssessmentFactory(patient=patient, total=24, completed_at=day(-101))
    AssessmentFactory(patient=patient, total=20, completed_at=day(-60))
    new = AssessmentFactory(patient=patient, total=25, completed_at=day(-1))
    assessment_alerts_run(assessment=new, now=day(-1))

    daily_alerts_run(patient=patient, now=NOW)

    about_it = Alert.objects.filter(patient=patient).exclude(kind="missed_checkins")
    assert [(a.kind, a.assessment_id) for a in about_it] == [("worsening", new.pk)]
    assert "booster may be due" in about_it[0].reason


def test_a_booster_signal_no_alert_has_named_yet_is_raised_for_its_score(patient):
    patient.treatment_phase = "maintenance"
    patient.enrolled_at = day(-120)
    patient.save()
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=day(-100), route="iv", status="completed"
    )
    AssessmentFactory(patient=patient, total=4, completed_at=day(-60))
    latest = AssessmentFactory(patient=patient, total=9, completed_at=day(-1))

    raised = daily_alerts_run(patient=patient, now=NOW)

    assert [(a.kind, a.assessment_id) for a in raised if a.kind != "missed_checkins"] == [
        ("booster_due", latest.pk)
    ]


def test_a_safety_alert_on_the_score_does_not_hide_its_booster_signal(patient):
    # Item 9 answered on the same PHQ-9 is another fact: its safety alert is linked to the
    # score too, and must not stand in for "booster may be due".
    patient.treatment_phase = "maintenance"
    patient.enrolled_at = day(-120)
    patient.save()
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=day(-100), route="iv", status="completed"
    )
    AssessmentFactory(patient=patient, total=4, completed_at=day(-60))
    latest = AssessmentFactory(patient=patient, total=9, completed_at=day(-1))
    draft = AlertDraft("safety", "urgent", f"assessment:{latest.pk}", "Item 9 answered.")
    alert_raise(patient=patient, draft=draft, now=day(-1), assessment_id=latest.pk)

    raised = daily_alerts_run(patient=patient, now=NOW)

    assert [(a.kind, a.assessment_id) for a in raised if a.kind != "missed_checkins"] == [
        ("booster_due", latest.pk)
    ]


# Related open safety alerts acknowledged together


def test_related_open_safety_alerts_are_acknowledged_together_each_recorded(
    patient, other_patient, clinician
):
    first, second = safety(patient, 1), safety(patient, 2, at=NOW + timedelta(hours=1))

    done = alerts_acknowledge(
        alert=first, also=[second], by=clinician, action="called_patient", note="Safe", now=NOW
    )

    assert done == [first, second]
    for alert in (first, second):
        alert.refresh_from_db()
        assert (alert.acknowledged_by, alert.acknowledged_at, alert.action, alert.action_note) == (
            clinician,
            NOW,
            "called_patient",
            "Safe",
        )
    acknowledged = AuditEvent.objects.filter(action=AuditEvent.Action.ACKNOWLEDGED)
    assert sorted(acknowledged.values_list("object_id", flat=True)) == sorted(
        [str(first.pk), str(second.pk)]
    )


def test_only_open_safety_alerts_of_the_same_patient_go_along(patient, other_patient, clinician):
    first = safety(patient, 1)
    others = safety(other_patient, 1)
    routine = alert_raise(
        patient=patient, draft=AlertDraft("missed_checkins", "routine", "m", "x"), now=NOW
    )

    with pytest.raises(ValueError):
        alerts_acknowledge(
            alert=first, also=[others], by=clinician, action="no_action", note="", now=NOW
        )
    with pytest.raises(ValueError):
        alerts_acknowledge(
            alert=first, also=[routine], by=clinician, action="no_action", note="", now=NOW
        )

    assert Alert.objects.filter(acknowledged_at__isnull=False).count() == 0


def test_a_related_alert_someone_acknowledged_meanwhile_keeps_its_record(
    patient, clinician, other_clinician
):
    first, second = safety(patient, 1), safety(patient, 2)
    alert_acknowledge(alert=second, by=other_clinician, action="no_action", note="x", now=NOW)

    alerts_acknowledge(
        alert=first, also=[second], by=clinician, action="called_patient", note="", now=NOW
    )

    second.refresh_from_db()
    assert second.acknowledged_by == other_clinician


def test_the_main_alert_already_acknowledged_is_still_refused(patient, clinician):
    first, second = safety(patient, 1), safety(patient, 2)
    alert_acknowledge(alert=first, by=clinician, action="no_action", note="", now=NOW)

    with pytest.raises(AlertAlreadyAcknowledged):
        alerts_acknowledge(
            alert=first, also=[second], by=clinician, action="no_action", note="", now=NOW
        )
    second.refresh_from_db()
    assert second.is_open


def test_the_inbox_offers_a_safety_alerts_related_ones_and_acknowledges_them_together(
    clinician_client, clinician, patient
):
    first, second = safety(patient, 1), safety(patient, 2, at=NOW + timedelta(hours=1))

    inbox = clinician_client.get("/staff/alerts/").content.decode()
    assert f'name="also" value="{second.pk}"' in inbox

    clinician_client.post(
        reverse("care:alert-acknowledge", args=[first.pk]),
        {"action": "called_patient", "note": "", "also": [second.pk]},
    )

    assert Alert.objects.filter(patient=patient, acknowledged_by=clinician).count() == 2


def test_the_page_refuses_an_unrelated_alert_to_acknowledge_along(
    clinician_client, patient, other_patient
):
    first, foreign = safety(patient, 1), safety(other_patient, 1)

    response = clinician_client.post(
        reverse("care:alert-acknowledge", args=[first.pk]),
        {"action": "no_action", "also": [foreign.pk]},
    )

    assert response.status_code == 400
    assert Alert.objects.filter(acknowledged_at__isnull=False).count() == 0


def test_the_api_acknowledges_related_safety_alerts_together(clinician_client, patient):
    first, second = safety(patient, 1), safety(patient, 2)

    response = clinician_client.post(
        f"/api/v1/alerts/{first.pk}/acknowledge/",
        {"action": "called_patient", "also": [second.pk]},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["also_acknowledged"] == [second.pk]
    assert Alert.objects.filter(patient=patient, acknowledged_at__isnull=True).count() == 0


@pytest.mark.parametrize("also", [["x"], [0], "nope"])
def test_the_api_refuses_a_bad_list_of_related_alerts_with_a_400(
    clinician_client, patient, other_patient, also
):
    first = safety(patient, 1)

    response = clinician_client.post(
        f"/api/v1/alerts/{first.pk}/acknowledge/",
        {"action": "no_action", "also": also},
        content_type="application/json",
    )

    assert response.status_code == 400 and "also" in response.json()["errors"]
    assert Alert.objects.get(pk=first.pk).is_open


def test_the_api_refuses_an_alert_of_another_patient_along(
    clinician_client, patient, other_patient
):
    first, foreign = safety(patient, 1), safety(other_patient, 1)

    response = clinician_client.post(
        f"/api/v1/alerts/{first.pk}/acknowledge/",
        {"action": "no_action", "also": [foreign.pk]},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert Alert.objects.filter(acknowledged_at__isnull=False).count() == 0


def test_the_error_page_offers_only_open_related_safety_alerts(
    clinician_client, clinician, patient
):
    first, second, done = safety(patient, 1), safety(patient, 2), safety(patient, 3)
    alert_acknowledge(alert=done, by=clinician, action="no_action", note="", now=NOW)
    routine = alert_raise(
        patient=patient, draft=AlertDraft("missed_checkins", "routine", "m", "x"), now=NOW
    )

    page = clinician_client.post(reverse("care:alert-acknowledge", args=[first.pk]), {})
    other = clinician_client.post(reverse("care:alert-acknowledge", args=[routine.pk]), {})

    body = page.content.decode()
    assert page.status_code == 400 and f'value="{second.pk}"' in body
    assert f'value="{done.pk}"' not in body
    assert "Also acknowledge" not in other.content.decode()
