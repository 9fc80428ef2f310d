"""Check-ins and assessments: one per local day, revisions, idempotency, the safety loop."""

import logging
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from care.domain.scoring import AnswersInvalid
from care.models import Alert, Assessment, CheckIn
from care.records.services import assessment_submit, checkin_submit

pytestmark = pytest.mark.django_db

CANARY = "ZZCANARY-private-note"


def checkin_values(**overrides):
    values = {
        "mood": 6,
        "anxiety": 3,
        "energy": 5,
        "sleep_hours": Decimal("7.5"),
        "sleep_quality": 3,
        "side_effects": ["nausea"],
        "has_self_harm_thoughts": False,
        "note": CANARY,
    }
    values.update(overrides)
    return values


def phq9(**items):
    answers = {str(n): 0 for n in range(1, 10)}
    answers.update({k.removeprefix("item"): v for k, v in items.items()})
    return answers


# 03:30 UTC on 1 March is still 28 February (evening) in Chicago.
LATE_EVENING_CHICAGO = datetime(2026, 3, 1, 3, 30, tzinfo=UTC)
NEXT_MORNING_CHICAGO = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


def test_a_checkin_belongs_to_the_patients_local_day(patient):
    result = checkin_submit(
        patient=patient, values=checkin_values(), client_id=None, now=LATE_EVENING_CHICAGO
    )

    assert result.created
    assert str(result.checkin.local_date) == "2026-02-28"


def test_a_second_checkin_the_same_day_updates_and_keeps_the_earlier_version(patient):
    first = checkin_submit(
        patient=patient, values=checkin_values(mood=2), client_id=None, now=LATE_EVENING_CHICAGO
    )
    second = checkin_submit(
        patient=patient,
        values=checkin_values(mood=5),
        client_id=None,
        now=LATE_EVENING_CHICAGO.replace(minute=50),
    )

    assert second.checkin.pk == first.checkin.pk and not second.created
    assert (second.checkin.mood, second.checkin.version) == (5, 2)
    [revision] = second.checkin.revisions.all()
    assert (revision.version, revision.values["mood"]) == (1, 2)
    assert CheckIn.objects.count() == 1


def test_the_next_local_day_gets_its_own_checkin(patient):
    checkin_submit(
        patient=patient, values=checkin_values(), client_id=None, now=LATE_EVENING_CHICAGO
    )
    checkin_submit(
        patient=patient, values=checkin_values(), client_id=None, now=NEXT_MORNING_CHICAGO
    )

    assert sorted(str(c.local_date) for c in CheckIn.objects.all()) == ["2026-02-28", "2026-03-01"]


def test_the_same_client_id_twice_changes_nothing(patient):
    client_id = uuid.uuid4()
    first = checkin_submit(
        patient=patient, values=checkin_values(), client_id=client_id, now=LATE_EVENING_CHICAGO
    )
    again = checkin_submit(
        patient=patient, values=checkin_values(), client_id=client_id, now=LATE_EVENING_CHICAGO
    )

    assert again.duplicate and again.checkin.pk == first.checkin.pk
    assert again.checkin.version == 1 and not again.checkin.revisions.exists()


@pytest.mark.django_db(transaction=True)
def test_thoughts_of_self_harm_raise_one_urgent_alert_that_is_committed(patient):
    result = checkin_submit(
        patient=patient,
        values=checkin_values(has_self_harm_thoughts=True),
        client_id=None,
        now=LATE_EVENING_CHICAGO,
    )
    checkin_submit(
        patient=patient,
        values=checkin_values(has_self_harm_thoughts=True, mood=1),
        client_id=None,
        now=LATE_EVENING_CHICAGO.replace(minute=45),
    )

    [alert] = Alert.objects.all()
    assert alert == result.alert
    assert (alert.kind, alert.priority, alert.checkin) == ("safety", "urgent", result.checkin)
    assert "thoughts of harming themself" in alert.reason
    assert alert.is_open


def test_a_checkin_without_self_harm_thoughts_raises_nothing(patient):
    result = checkin_submit(
        patient=patient, values=checkin_values(), client_id=None, now=LATE_EVENING_CHICAGO
    )

    assert result.alert is None and not Alert.objects.exists()


def test_an_assessment_is_scored_and_stored(patient, clinician):
    result = assessment_submit(
        patient=patient,
        instrument_code="phq9",
        answers=phq9(item1=3, item2=3, item3=2, item4=2),
        difficulty=1,
        client_id=None,
        entered_by=patient.user,
        now=LATE_EVENING_CHICAGO,
    )

    stored = Assessment.objects.get()
    assert stored == result.assessment
    assert (stored.total, stored.band, stored.flags, stored.difficulty) == (10, "moderate", [], 1)
    assert stored.answers["1"] == 3 and len(stored.answers) == 9
    assert result.alert is None


@pytest.mark.django_db(transaction=True)
def test_item_9_with_a_minimal_total_raises_an_urgent_safety_alert(patient):
    result = assessment_submit(
        patient=patient,
        instrument_code="phq9",
        answers=phq9(item9=1),
        difficulty=None,
        client_id=None,
        entered_by=patient.user,
        now=LATE_EVENING_CHICAGO,
    )

    alert = Alert.objects.get()
    assert result.assessment.total == 1 and result.assessment.band == "minimal"
    assert result.assessment.flags == ["self_harm"]
    assert (alert.kind, alert.priority, alert.assessment) == ("safety", "urgent", result.assessment)
    assert "item 9 answered “Several days”" in alert.reason


def test_bad_answers_are_refused_naming_the_item_and_nothing_is_stored(patient):
    with pytest.raises(AnswersInvalid) as raised:
        assessment_submit(
            patient=patient,
            instrument_code="gad7",
            answers={"1": 0, "2": 9},
            difficulty=None,
            client_id=None,
            entered_by=patient.user,
            now=LATE_EVENING_CHICAGO,
        )

    assert "Item 2" in raised.value.errors["item_2"]
    assert "item_7" in raised.value.errors
    assert not Assessment.objects.exists()


def test_the_same_assessment_sent_twice_is_stored_once(patient):
    client_id = uuid.uuid4()
    kwargs = {
        "patient": patient,
        "instrument_code": "phq9",
        "answers": phq9(item9=2),
        "difficulty": None,
        "client_id": client_id,
        "entered_by": patient.user,
        "now": LATE_EVENING_CHICAGO,
    }

    first = assessment_submit(**kwargs)
    again = assessment_submit(**kwargs)

    assert again.duplicate and again.assessment == first.assessment
    assert Assessment.objects.count() == 1 and Alert.objects.count() == 1


def test_an_assessment_cannot_be_changed_but_can_be_superseded(patient, clinician):
    original = assessment_submit(
        patient=patient,
        instrument_code="gad7",
        answers={str(n): 1 for n in range(1, 8)},
        difficulty=None,
        client_id=None,
        entered_by=patient.user,
        now=LATE_EVENING_CHICAGO,
    ).assessment

    original.total = 0
    with pytest.raises(ValueError, match="immutable"):
        original.save()
    correction = assessment_submit(
        patient=patient,
        instrument_code="gad7",
        answers={str(n): 2 for n in range(1, 8)},
        difficulty=None,
        client_id=None,
        entered_by=clinician,
        now=LATE_EVENING_CHICAGO,
        supersedes=original,
    ).assessment

    original.refresh_from_db()
    assert original.total == 7
    assert original.superseded_by == correction and correction.total == 14


def test_the_pcl5_band_uses_the_clinics_cut_off(patient):
    patient.clinic.pcl5_cutoff = 31
    patient.clinic.save()

    result = assessment_submit(
        patient=patient,
        instrument_code="pcl5",
        answers={str(n): 2 if n <= 11 else 1 for n in range(1, 21)},  # 22 + 9 = 31
        difficulty=None,
        client_id=None,
        entered_by=patient.user,
        now=LATE_EVENING_CHICAGO,
    )

    assert result.assessment.total == 31
    assert result.assessment.band == "probable_ptsd"


def test_nothing_the_patient_wrote_reaches_the_logs(patient, caplog):
    with caplog.at_level(logging.DEBUG):
        checkin_submit(
            patient=patient,
            values=checkin_values(has_self_harm_thoughts=True),
            client_id=None,
            now=LATE_EVENING_CHICAGO,
        )
        assessment_submit(
            patient=patient,
            instrument_code="phq9",
            answers=phq9(item9=3),
            difficulty=3,
            client_id=None,
            entered_by=patient.user,
            now=LATE_EVENING_CHICAGO,
        )

    logged = caplog.text
    assert re.search(r"Alert \d+ raised", logged)  # something is logged, by id only
    private = (CANARY, "Nearly every day", "thoughts", "harming", "safety", "urgent")
    for secret in (*private, patient.preferred_name):
        assert secret not in logged
