"""Edge cases of the safety loop and of idempotency (found in review)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from care.domain.scoring import AnswersInvalid
from care.models import Alert, Assessment, CheckIn
from care.records.services import ClientIdConflict, assessment_submit, checkin_submit
from tests.care.test_records import checkin_values, phq9

pytestmark = pytest.mark.django_db

# 23:59:59 on 10 March in Chicago (CDT, UTC-5: 04:59:59 UTC on 11 March).
BEFORE_MIDNIGHT = datetime(2026, 3, 11, 4, 59, 59, tzinfo=UTC)


def submit(patient, *, client_id=None, now=BEFORE_MIDNIGHT, **overrides):
    return checkin_submit(
        patient=patient, values=checkin_values(**overrides), client_id=client_id, now=now
    )


def test_self_harm_again_after_the_alert_was_acknowledged_raises_a_new_alert(patient, clinician):
    first = submit(patient, has_self_harm_thoughts=True).alert
    first.acknowledged_at, first.acknowledged_by = timezone.now(), clinician
    first.save()

    again = submit(patient, has_self_harm_thoughts=True, mood=1)

    assert again.alert is not None and again.alert.is_open
    assert Alert.objects.filter(acknowledged_at__isnull=True).count() == 1


def test_the_checkin_is_not_saved_when_its_alert_cannot_be(patient, monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Alert.objects, "create", fail)

    with pytest.raises(RuntimeError):
        submit(patient, has_self_harm_thoughts=True)

    assert not CheckIn.objects.exists()


def test_crisis_resources_survive_a_redirect_across_local_midnight(patient_client, patient):
    data = {
        "client_id": str(uuid.uuid4()),
        "mood": "2",
        "anxiety": "8",
        "energy": "2",
        "sleep_hours": "4",
        "sleep_quality": "0",
        "has_self_harm_thoughts": "yes",
    }
    with time_machine.travel(BEFORE_MIDNIGHT, tick=False):
        response = patient_client.post("/me/checkin/", data)
    with time_machine.travel(BEFORE_MIDNIGHT + timedelta(seconds=2), tick=False):
        page = patient_client.get(response["Location"]).content.decode()

    assert response["Location"] == reverse("care:checkin-saved", args=["2026-03-10"])
    assert 'href="tel:988"' in page and "not watched around the clock" in page


def test_a_late_retry_does_not_overwrite_a_newer_checkin(patient):
    a, b = uuid.uuid4(), uuid.uuid4()
    submit(patient, client_id=a, mood=2)
    submit(patient, client_id=b, mood=7, now=BEFORE_MIDNIGHT - timedelta(minutes=5))

    retried = submit(patient, client_id=a, mood=2)

    checkin = CheckIn.objects.get()
    assert retried.duplicate
    assert (checkin.mood, checkin.version) == (7, 2)


def test_a_retry_after_midnight_does_not_create_the_next_days_checkin(patient):
    client_id = uuid.uuid4()
    submit(patient, client_id=client_id)

    retried = submit(patient, client_id=client_id, now=BEFORE_MIDNIGHT + timedelta(minutes=1))

    assert retried.duplicate
    assert CheckIn.objects.count() == 1


def test_the_same_client_id_with_other_answers_is_a_conflict(patient):
    client_id = uuid.uuid4()
    submit(patient, client_id=client_id, has_self_harm_thoughts=False)

    with pytest.raises(ClientIdConflict):
        submit(patient, client_id=client_id, has_self_harm_thoughts=True)


def test_the_api_answers_a_changed_retry_with_409(patient_client):
    body = {
        "client_id": str(uuid.uuid4()),
        "mood": 5,
        "anxiety": 5,
        "energy": 5,
        "sleep_hours": "7",
        "sleep_quality": 2,
        "has_self_harm_thoughts": False,
    }
    patient_client.post("/api/v1/checkins/", body, content_type="application/json")

    response = patient_client.post(
        "/api/v1/checkins/", body | {"mood": 1}, content_type="application/json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "client_id" in response.json()["errors"]


def test_the_web_form_sent_again_with_changed_answers_saves_the_new_answers(
    patient_client, patient
):
    data = {
        "client_id": str(uuid.uuid4()),
        "mood": "5",
        "anxiety": "5",
        "energy": "5",
        "sleep_hours": "7",
        "sleep_quality": "2",
        "has_self_harm_thoughts": "no",
    }
    patient_client.post("/me/checkin/", data)

    patient_client.post("/me/checkin/", data | {"has_self_harm_thoughts": "yes"})

    checkin = CheckIn.objects.get(patient=patient)
    assert checkin.has_self_harm_thoughts and checkin.version == 2
    assert Alert.objects.filter(patient=patient, kind="safety").count() == 1


def test_an_assessment_retry_with_other_answers_is_a_conflict(patient):
    client_id = uuid.uuid4()
    kwargs = {
        "patient": patient,
        "instrument_code": "phq9",
        "difficulty": None,
        "client_id": client_id,
        "entered_by": None,
        "now": BEFORE_MIDNIGHT,
    }
    assessment_submit(answers=phq9(), **kwargs)

    with pytest.raises(ClientIdConflict):
        assessment_submit(answers=phq9(item9=2), **kwargs)


@pytest.mark.parametrize("bad", ["²", "1" * 5000, "٣", " 1 2 "])
def test_odd_digit_strings_get_a_400_not_a_500(patient_client, bad):
    for answers in ({"1": bad}, {bad: 1}):
        body = {"instrument": "gad7", "answers": {str(n): 0 for n in range(1, 8)} | answers}
        response = patient_client.post(
            "/api/v1/assessments/", body, content_type="application/json"
        )
        assert response.status_code == 400, answers
    assert not Assessment.objects.exists()


@pytest.mark.parametrize("difficulty", [4, -1, 99])
def test_a_difficulty_outside_its_options_is_refused(patient, difficulty):
    with pytest.raises(AnswersInvalid) as raised:
        assessment_submit(
            patient=patient,
            instrument_code="phq9",
            answers=phq9(),
            difficulty=difficulty,
            client_id=None,
            entered_by=None,
            now=BEFORE_MIDNIGHT,
        )

    assert "difficulty" in raised.value.errors


def test_a_correction_cannot_supersede_another_patients_result(patient, other_patient):
    theirs = assessment_submit(
        patient=other_patient,
        instrument_code="phq9",
        answers=phq9(),
        difficulty=None,
        client_id=None,
        entered_by=None,
        now=BEFORE_MIDNIGHT,
    ).assessment

    with pytest.raises(AnswersInvalid):
        assessment_submit(
            patient=patient,
            instrument_code="phq9",
            answers=phq9(item1=1),
            difficulty=None,
            client_id=None,
            entered_by=None,
            now=BEFORE_MIDNIGHT,
            supersedes=theirs,
        )


def test_a_stored_pcl5_band_keeps_its_label_after_the_cut_off_changes(patient_client, patient):
    result = assessment_submit(
        patient=patient,
        instrument_code="pcl5",
        answers={str(n): 2 if n <= 11 else 1 for n in range(1, 21)},
        difficulty=None,
        client_id=None,
        entered_by=None,
        now=BEFORE_MIDNIGHT,
    ).assessment
    patient.clinic.pcl5_cutoff = 25
    patient.clinic.save()

    page = patient_client.get(reverse("care:result", args=[result.public_id])).content.decode()
    api = patient_client.get(f"/api/v1/assessments/{result.public_id}/").json()

    assert result.band == "below_cutoff"
    assert "Below the PTSD threshold" in page and "Probable PTSD" not in page
    assert api["band_label"] == "Below the PTSD threshold"


def test_a_checkin_on_the_night_clocks_go_back_lands_on_one_local_day(patient):
    # 1 November 2026: US clocks go back at 02:00; 01:30 happens twice in Chicago.
    first = submit(patient, now=datetime(2026, 11, 1, 6, 30, tzinfo=UTC))  # 01:30 CDT
    second = submit(patient, now=datetime(2026, 11, 1, 7, 30, tzinfo=UTC), mood=2)  # 01:30 CST

    assert first.checkin.pk == second.checkin.pk
    assert str(second.checkin.local_date) == "2026-11-01"
