"""FHIR R4 Bundle of a patient: R4B-valid, codes and values as answered, references resolve."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError, model_validator

from care.api.fhir import communication, patient_bundle
from care.domain.instruments import PCL5_DEFAULT_CUTOFF
from care.domain.messages import message_public_id
from care.messages.selectors import patient_messages
from care.messages.services import message_post, message_thread_start
from care.models import (
    AuditEvent,
    BodyWeight,
    Message,
    MessageThread,
    TreatmentPlanVersion,
    TreatmentSession,
)
from care.records.services import assessment_submit
from care.treatment.selectors import patient_plan_versions
from care.treatment.services import treatment_plan_version_create

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 3, 4, 15, 30, 12, 345678, tzinfo=UTC)
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

# R4 value sets that fhir.resources does not enforce (docs/clinical.md §7).
OBSERVATION_STATUSES = {
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
}
RESPONSE_STATUSES = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
COMMUNICATION_STATUSES = {
    "preparation",
    "in-progress",
    "not-done",
    "on-hold",
    "stopped",
    "completed",
    "entered-in-error",
    "unknown",
}
REQUEST_PRIORITIES = {"routine", "urgent", "asap", "stat"}


class StrictObservation(Observation):
    @model_validator(mode="after")
    def _known_status(self):
        if self.status not in OBSERVATION_STATUSES:
            raise ValueError(f"Observation.status {self.status!r} is not an R4 status")
        return self


class StrictQuestionnaireResponse(QuestionnaireResponse):
    @model_validator(mode="after")
    def _known_status(self):
        if self.status not in RESPONSE_STATUSES:
            raise ValueError(f"QuestionnaireResponse.status {self.status!r} is not an R4 status")
        return self


class StrictCommunication(Communication):
    @model_validator(mode="after")
    def _known_codes(self):
        if self.status not in COMMUNICATION_STATUSES:
            raise ValueError(f"Communication.status {self.status!r} is not an R4 status")
        if self.priority not in REQUEST_PRIORITIES:
            raise ValueError(f"Communication.priority {self.priority!r} is not an R4 priority")
        return self


STRICT = {
    "Observation": StrictObservation,
    "QuestionnaireResponse": StrictQuestionnaireResponse,
    "Communication": StrictCommunication,
}
NOTE = "Staff note: spoke to the pharmacy QQZ"


def submit(patient, code, answers, *, difficulty=None, at=MOMENT, supersedes=None):
    return assessment_submit(
        patient=patient,
        instrument_code=code,
        answers={str(number): value for number, value in answers.items()},
        difficulty=difficulty,
        client_id=None,
        entered_by=patient.user,
        now=at,
        supersedes=supersedes,
    ).assessment


def bundle_of(patient, *, cutoff=PCL5_DEFAULT_CUTOFF):
    return patient_bundle(
        patient=patient,
        assessments=patient.assessments.all(),
        pcl5_cutoff=cutoff,
        now=MOMENT,
        messages=patient_messages(patient=patient),
    )


def resources(bundle, resource_type):
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    ]


def by_link(response):
    return {item["linkId"]: item for item in response["item"]}


def observation_for(bundle, assessment):
    response_ref = f"urn:uuid:{assessment.public_id}"
    (observation,) = [
        o
        for o in resources(bundle, "Observation")
        if o["derivedFrom"] == [{"reference": response_ref, "type": "QuestionnaireResponse"}]
    ]
    return observation


def references(value):
    """Every `reference` string anywhere in a resource tree."""
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            yield value["reference"]
        for child in value.values():
            yield from references(child)
    elif isinstance(value, list):
        for child in value:
            yield from references(child)


@pytest.fixture
def three(patient):
    """A PHQ-9, a GAD-7 and a PCL-5, a day apart."""
    phq9 = submit(
        patient,
        "phq9",
        {1: 3, 2: 2, 3: 1, 4: 1, 5: 0, 6: 1, 7: 2, 8: 0, 9: 1},
        difficulty=2,
        at=MOMENT - timedelta(days=2),
    )
    gad7 = submit(patient, "gad7", dict.fromkeys(range(1, 8), 1), at=MOMENT - timedelta(days=1))
    pcl5 = submit(patient, "pcl5", {n: n % 5 for n in range(1, 21)}, at=MOMENT)
    return phq9, gad7, pcl5


@pytest.fixture
def conversation(patient, clinician):
    """Two threads: a question, a staff note, the care team's reply and the patient's urgent
    answer; and another thread started in between, not replied to."""
    thread = message_thread_start(
        patient=patient, subject="About my dose", body="Can I move it?", urgent=False, now=MOMENT
    ).message.thread
    message_post(
        thread=thread, by=clinician, body=NOTE, staff_note=True, now=MOMENT + timedelta(minutes=1)
    )
    message_post(thread=thread, by=clinician, body="Yes, call us.", now=MOMENT + timedelta(hours=1))
    message_post(
        thread=thread, by=patient.user, body="Thanks", urgent=True, now=MOMENT + timedelta(hours=2)
    )
    other = message_thread_start(
        patient=patient,
        subject="Another thing",
        body="Hello",
        urgent=False,
        now=MOMENT + timedelta(minutes=30),
    ).message.thread
    return thread, other


def test_bundle_and_each_resource_validate_as_r4b(patient, three):
    bundle = bundle_of(patient)

    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    assert [e.resource.get_resource_type() for e in parsed.entry] == [
        "Patient",
        "QuestionnaireResponse",
        "Observation",
        "QuestionnaireResponse",
        "Observation",
        "QuestionnaireResponse",
        "Observation",
    ]
    for entry in bundle["entry"]:
        resource = entry["resource"]
        model = STRICT.get(resource["resourceType"]) or get_fhir_model_class(
            resource["resourceType"]
        )
        assert model.model_validate(resource).id == resource["id"]
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
    # JSON-ready as is, and the timestamp is an instant with an offset.
    assert json.loads(json.dumps(bundle)) == bundle
    assert bundle["timestamp"] == "2026-03-04T15:30:12.345678Z"


def test_strict_models_reject_statuses_outside_r4_value_sets(patient, three, conversation):
    bundle = bundle_of(patient)
    observation = resources(bundle, "Observation")[0]
    response = resources(bundle, "QuestionnaireResponse")[0]
    message = resources(bundle, "Communication")[0]
    Communication.model_validate(message | {"status": "sent", "priority": "whenever"})
    with pytest.raises(ValidationError, match="not an R4 status"):
        StrictCommunication.model_validate(message | {"status": "sent"})
    with pytest.raises(ValidationError, match="not an R4 priority"):
        StrictCommunication.model_validate(message | {"priority": "whenever"})
    # Plain fhir.resources accepts them; the strict subclasses do not.
    Observation.model_validate(observation | {"status": "bogus"})
    with pytest.raises(ValidationError, match="not an R4 status"):
        StrictObservation.model_validate(observation | {"status": "bogus"})
    with pytest.raises(ValidationError, match="not an R4 status"):
        StrictQuestionnaireResponse.model_validate(response | {"status": "done"})


def test_patient_with_no_assessments_gives_just_the_patient(patient):
    bundle = bundle_of(patient)

    Bundle.model_validate(bundle)
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient"]
    resource = bundle["entry"][0]["resource"]
    assert resource["id"] == str(patient.public_id)
    assert resource["identifier"] == [
        {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{patient.public_id}"}
    ]
    assert resource["name"] == [
        {"text": patient.user.full_name},
        {"use": "usual", "given": [patient.preferred_name]},
    ]
    assert resource["birthDate"] == "1985-05-17"


def test_references_resolve_inside_the_bundle(patient, three, conversation):
    bundle = bundle_of(patient)

    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    found = list(references(bundle))
    assert found
    assert set(found) <= set(full_urls)
    patient_url = f"urn:uuid:{patient.public_id}"
    for response in resources(bundle, "QuestionnaireResponse"):
        assert response["subject"]["reference"] == patient_url
        assert response["author"]["reference"] == patient_url
        assert response["source"]["reference"] == patient_url
    for message in resources(bundle, "Communication"):
        assert message["subject"] == {"reference": patient_url, "type": "Patient"}
    assert any("inResponseTo" in m for m in resources(bundle, "Communication"))


def test_messages_are_communications_and_staff_notes_are_left_out(
    patient, clinician, three, conversation
):
    thread, _other = conversation
    bundle = bundle_of(patient)

    Bundle.model_validate(bundle)
    messages = resources(bundle, "Communication")
    for message in messages:
        assert StrictCommunication.model_validate(message).id == message["id"]
    assert NOTE not in json.dumps(bundle)
    assert [m["payload"] for m in messages] == [
        [{"contentString": text}] for text in ("Can I move it?", "Hello", "Yes, call us.", "Thanks")
    ]
    question, hello, reply, thanks = messages
    patient_ref = {"reference": f"urn:uuid:{patient.public_id}", "type": "Patient"}
    ids = dict(Message.objects.filter(is_staff_note=False).values_list("body", "pk"))
    assert question["id"] == str(message_public_id(thread.public_id, ids["Can I move it?"]))
    assert question["identifier"] == [
        {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{question['id']}"}
    ]
    assert question["status"] == "completed"
    assert question["topic"] == {"text": "About my dose"}
    assert question["sent"] == "2026-03-04T15:30:12.345678Z"
    assert (question["sender"], question["recipient"]) == (patient_ref, [{"display": "Care team"}])
    assert "inResponseTo" not in question and "inResponseTo" not in hello
    assert hello["topic"] == {"text": "Another thing"}
    assert (reply["sender"], reply["recipient"]) == (
        {"display": clinician.full_name},
        [patient_ref],
    )
    assert reply["inResponseTo"] == [
        {"reference": f"urn:uuid:{question['id']}", "type": "Communication"}
    ]
    assert thanks["inResponseTo"][0]["reference"] == f"urn:uuid:{reply['id']}"
    assert [m["priority"] for m in messages] == ["routine", "routine", "routine", "urgent"]


def test_a_staff_note_is_never_a_communication(patient, clinician, conversation):
    note = Message.objects.get(is_staff_note=True)

    with pytest.raises(ValueError, match="not a communication"):
        communication(note, message_id=uuid.uuid4(), patient_ref="urn:uuid:x")
    # Even handed one, the Bundle leaves it out.
    bundle = patient_bundle(
        patient=patient,
        assessments=[],
        pcl5_cutoff=PCL5_DEFAULT_CUTOFF,
        now=MOMENT,
        messages=Message.objects.select_related("thread", "author"),
    )
    assert len(resources(bundle, "Communication")) == 4
    assert NOTE not in json.dumps(bundle)


def test_phq9_response_and_total(patient, three):
    phq9 = three[0]
    bundle = bundle_of(patient)
    (response,) = [
        r for r in resources(bundle, "QuestionnaireResponse") if r["id"] == str(phq9.public_id)
    ]

    assert response["status"] == "completed"
    assert response["questionnaire"] == "http://loinc.org/q/44249-1"
    assert response["authored"] == "2026-03-02T15:30:12.345678Z"
    items = by_link(response)
    assert len(items) == 9 + 2  # the items, the difficulty and the total
    # Item 9 answered "Several days" (1).
    assert items["/44260-8"]["answer"] == [
        {"valueCoding": {"system": LOINC, "code": "LA6569-3", "display": "Several days"}}
    ]
    assert items["/44260-8"]["text"].startswith("Thoughts that you would be better off dead")
    assert items["/44250-9"]["answer"][0]["valueCoding"]["code"] == "LA6571-9"  # 3
    assert items["/44251-7"]["answer"][0]["valueCoding"]["code"] == "LA6568-5"  # 0
    assert items["/44255-8"]["answer"][0]["valueCoding"]["code"] == "LA6570-1"  # 2
    # Difficulty 2 is "Very difficult", LA6575-0 (the codes of LL359-1 are not in order).
    assert items["/69722-7"]["answer"] == [
        {"valueCoding": {"system": LOINC, "code": "LA6575-0", "display": "Very difficult"}}
    ]
    assert items["/44261-6"]["answer"] == [{"valueInteger": phq9.total}]

    observation = observation_for(bundle, phq9)
    assert observation["id"] == str(uuid.uuid5(phq9.public_id, "total"))
    assert observation["status"] == "final"
    assert observation["category"][0]["coding"][0]["code"] == "survey"
    assert observation["category"][0]["coding"][0]["system"] == (
        "http://terminology.hl7.org/CodeSystem/observation-category"
    )
    assert observation["code"]["coding"] == [{"system": LOINC, "code": "44261-6"}]
    assert phq9.total == 11
    assert observation["valueQuantity"] == {
        "value": 11,
        "unit": "{score}",
        "system": "http://unitsofmeasure.org",
        "code": "{score}",
    }
    assert observation["effectiveDateTime"] == response["authored"]
    assert observation["interpretation"] == [{"text": "Moderate"}]
    assert observation["referenceRange"][0]["low"]["value"] == 0
    assert observation["referenceRange"][0]["high"]["value"] == 4
    assert observation["referenceRange"][0]["text"] == "Minimal"


def test_gad7_total_and_no_difficulty_item_when_unanswered(patient, three):
    gad7 = three[1]
    bundle = bundle_of(patient)
    (response,) = [
        r for r in resources(bundle, "QuestionnaireResponse") if r["id"] == str(gad7.public_id)
    ]

    assert response["questionnaire"] == "http://loinc.org/q/69737-5"
    items = by_link(response)
    assert "/69722-7" not in items
    assert items["/69725-0"]["answer"][0]["valueCoding"]["code"] == "LA6569-3"
    assert items["/70274-6"]["answer"] == [{"valueInteger": 7}]
    observation = observation_for(bundle, gad7)
    assert observation["code"]["coding"][0]["code"] == "70274-6"
    assert observation["valueQuantity"]["value"] == gad7.total == 7
    assert observation["valueQuantity"]["unit"] == "{score}"
    assert observation["interpretation"] == [{"text": "Mild"}]


def test_pcl5_items_without_loinc_codes_carry_their_values(patient, three):
    pcl5 = three[2]
    bundle = bundle_of(patient)
    (response,) = [
        r for r in resources(bundle, "QuestionnaireResponse") if r["id"] == str(pcl5.public_id)
    ]

    assert response["questionnaire"] == "http://loinc.org/q/101697-1"
    items = by_link(response)
    assert len(items) == 20 + 1
    assert items["item-1"]["answer"] == [{"valueInteger": 1}]
    assert items["item-4"]["answer"] == [{"valueInteger": 4}]
    assert items["item-5"]["answer"] == [{"valueInteger": 0}]
    assert items["item-17"]["text"] == 'Being "superalert" or watchful or on guard?'
    assert items["/101698-9"]["answer"] == [{"valueInteger": 40}]
    observation = observation_for(bundle, pcl5)
    assert observation["code"]["coding"][0]["code"] == "101698-9"
    assert observation["valueQuantity"]["value"] == pcl5.total == 40
    assert observation["interpretation"] == [{"text": "Probable PTSD"}]
    assert observation["referenceRange"][0]["high"]["value"] == PCL5_DEFAULT_CUTOFF - 1
    assert observation["referenceRange"][0]["text"] == "Below the PTSD threshold"


def test_pcl5_reference_range_follows_the_cutoff_but_not_against_the_recorded_band(patient):
    pcl5 = submit(patient, "pcl5", dict.fromkeys(range(1, 21), 1) | {1: 4, 2: 4, 3: 4, 4: 4})
    assert (pcl5.total, pcl5.band) == (32, "below_cutoff")  # scored with the cut-off of 33

    same = observation_for(bundle_of(patient, cutoff=33), pcl5)
    assert same["referenceRange"][0]["high"]["value"] == 32
    higher = observation_for(bundle_of(patient, cutoff=40), pcl5)
    assert higher["referenceRange"][0]["high"]["value"] == 39
    # At a cut-off of 30, 32 would be out of range, yet it was recorded below the threshold.
    lower = observation_for(bundle_of(patient, cutoff=30), pcl5)
    assert "referenceRange" not in lower
    assert lower["interpretation"] == [{"text": "Below the PTSD threshold"}]


def test_superseded_assessments_are_left_out(patient):
    wrong = submit(patient, "gad7", dict.fromkeys(range(1, 8), 3), at=MOMENT - timedelta(hours=1))
    fixed = submit(patient, "gad7", dict.fromkeys(range(1, 8), 0), supersedes=wrong)
    bundle = bundle_of(patient)

    Bundle.model_validate(bundle)
    assert [r["id"] for r in resources(bundle, "QuestionnaireResponse")] == [str(fixed.public_id)]
    assert [o["valueQuantity"]["value"] for o in resources(bundle, "Observation")] == [0]
    assert str(wrong.public_id) not in json.dumps(bundle)


def test_the_same_records_give_the_same_bundle(patient, three):
    first = bundle_of(patient)
    again = patient_bundle(
        patient=patient,
        assessments=reversed(list(patient.assessments.all())),
        pcl5_cutoff=PCL5_DEFAULT_CUTOFF,
        now=MOMENT,
    )
    assert first == again
    # Oldest first.
    authored = [r["authored"] for r in resources(first, "QuestionnaireResponse")]
    assert authored == sorted(authored)


def test_a_naive_time_is_refused(patient):
    with pytest.raises(ValueError, match="time zone"):
        patient_bundle(
            patient=patient, assessments=[], pcl5_cutoff=33, now=datetime(2026, 3, 4, 15, 30)
        )


# The endpoint: /api/v1/patients/{id}/fhir/ for the patient's clinic staff only.


def fhir_url(patient):
    return f"/api/v1/patients/{patient.public_id}/fhir/"


def test_staff_get_the_bundle_and_it_parses_with_r4b_models(clinician_client, patient, three):
    response = clinician_client.get(fhir_url(patient))

    assert response.status_code == 200
    bundle = response.json()
    Bundle.model_validate(bundle)
    phq9, gad7, pcl5 = three
    totals = {
        o["code"]["coding"][0]["code"]: o["valueQuantity"]["value"]
        for o in resources(bundle, "Observation")
    }
    assert totals == {"44261-6": phq9.total, "70274-6": gad7.total, "101698-9": pcl5.total}
    assert {r["id"] for r in resources(bundle, "QuestionnaireResponse")} == {
        str(a.public_id) for a in three
    }
    [patient_resource] = resources(bundle, "Patient")
    assert patient_resource["id"] == str(patient.public_id)


def test_a_patient_of_another_clinic_is_404(clinician_client, foreign_patient):
    response = clinician_client.get(fhir_url(foreign_patient))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_patients_cannot_export_even_their_own_bundle(patient_client, patient):
    # Patients download their own data from their settings page; this is the staff export.
    assert patient_client.get(fhir_url(patient)).status_code == 404


def test_staff_get_the_messages_without_notes_and_nothing_is_marked_read(
    clinician_client, clinician, patient, conversation
):
    thread, _ = conversation
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()

    response = clinician_client.get(fhir_url(patient))

    bundle = response.json()
    Bundle.model_validate(bundle)
    assert len(resources(bundle, "Communication")) == 4
    assert NOTE not in response.content.decode()
    # An export is audited as one (not as an opening of each thread), and reads nothing.
    rows = AuditEvent.objects.filter(actor=clinician, id__gt=before).values_list("action", "what")
    assert list(rows) == [(AuditEvent.Action.EXPORTED, AuditEvent.What.FHIR)]
    assert MessageThread.objects.get(pk=thread.pk).staff_unread == 2


def test_the_endpoint_costs_the_same_queries_for_3_and_30_assessments(
    clinician_client, clinician, patient, other_patient
):
    for number in range(3):
        submit(patient, "gad7", dict.fromkeys(range(1, 8), 1), at=MOMENT + timedelta(days=number))
    for number in range(30):
        submit(
            other_patient, "gad7", dict.fromkeys(range(1, 8), 2), at=MOMENT + timedelta(days=number)
        )
    for who, threads in ((patient, 1), (other_patient, 10)):
        for number in range(threads):
            at = MOMENT + timedelta(hours=number)
            thread = message_thread_start(
                patient=who, subject="s", body="b", urgent=False, now=at
            ).message.thread
            message_post(thread=thread, by=clinician, body="r", now=at)
    counts = []
    for who in (patient, other_patient):
        with CaptureQueriesContext(connection) as queries:
            assert clinician_client.get(fhir_url(who)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# Treatment plan, body weight and sessions: CarePlan, Observation (vital signs), Appointment.

CARE_PLAN_STATUSES = {
    "draft",
    "active",
    "on-hold",
    "revoked",
    "completed",
    "entered-in-error",
    "unknown",
}
CARE_PLAN_INTENTS = {"proposal", "plan", "order", "option"}
ACTIVITY_STATUSES = {
    "not-started",
    "scheduled",
    "in-progress",
    "on-hold",
    "completed",
    "cancelled",
    "stopped",
    "unknown",
    "entered-in-error",
}
APPOINTMENT_STATUSES = {
    "proposed",
    "pending",
    "booked",
    "arrived",
    "fulfilled",
    "cancelled",
    "noshow",
    "entered-in-error",
    "checked-in",
    "waitlist",
}
PARTICIPATION_STATUSES = {"accepted", "declined", "tentative", "needs-action"}


class StrictCarePlan(CarePlan):
    @model_validator(mode="after")
    def _known_codes(self):
        if self.status not in CARE_PLAN_STATUSES:
            raise ValueError(f"CarePlan.status {self.status!r} is not an R4 status")
        if self.intent not in CARE_PLAN_INTENTS:
            raise ValueError(f"CarePlan.intent {self.intent!r} is not an R4 intent")
        for activity in self.activity or []:
            if activity.detail.status not in ACTIVITY_STATUSES:
                raise ValueError(f"activity status {activity.detail.status!r} is not R4")
        return self


class StrictAppointment(Appointment):
    @model_validator(mode="after")
    def _known_codes(self):
        if self.status not in APPOINTMENT_STATUSES:
            raise ValueError(f"Appointment.status {self.status!r} is not an R4 status")
        for participant in self.participant:
            if participant.status not in PARTICIPATION_STATUSES:
                raise ValueError(f"participant status {participant.status!r} is not R4")
        return self


STRICT.update({"CarePlan": StrictCarePlan, "Appointment": StrictAppointment})


def plan_version(patient, by, *, at, **changes):
    values = {
        "route": "iv",
        "induction_sessions": 6,
        "induction_weeks": 3,
        "target_dose_mg_per_kg": Decimal("0.50"),
        "maintenance": "every_n_weeks",
        "maintenance_every_weeks": 4,
        "questionnaires": ["phq9", "gad7"],
        "questionnaire_every_days": 14,
        "goals": "Walk the dog again",
        "prescriber": by,
        **changes,
    }
    first = not TreatmentPlanVersion.objects.filter(plan__patient=patient).exists()
    return treatment_plan_version_create(
        patient=patient,
        by=by,
        now=at,
        values=values,
        reason_code="" if first else "side_effects",
        reason="" if first else "Nausea after each session",
    )


@pytest.fixture
def treatment(patient, clinician):
    """Two plan versions, two weights (one typed in lb) and four sessions, one per status."""
    plan_version(patient, clinician, at=MOMENT - timedelta(days=30))
    plan_version(
        patient,
        clinician,
        at=MOMENT - timedelta(days=2),
        route="intranasal",
        target_dose_mg_per_kg=None,
        target_dose_mg=56,
        maintenance="as_needed",
        maintenance_every_weeks=None,
    )
    for kg, entered, unit, days in (("81.2", "81.2", "kg", 40), ("79.4", "175.0", "lb", 3)):
        BodyWeight.objects.create(
            patient=patient,
            weight_kg=Decimal(kg),
            entered_value=Decimal(entered),
            entered_unit=unit,
            measured_on=(MOMENT - timedelta(days=days)).date(),
            recorded_by=clinician,
            created_at=MOMENT,
        )
    for days, status in ((-20, "completed"), (-10, "no_show"), (5, "cancelled"), (7, "scheduled")):
        TreatmentSession.objects.create(
            patient=patient,
            scheduled_at=MOMENT + timedelta(days=days),
            route="iv",
            status=status,
        )


def treatment_bundle(patient, *, minutes=120):
    return patient_bundle(
        patient=patient,
        assessments=[],
        pcl5_cutoff=PCL5_DEFAULT_CUTOFF,
        now=MOMENT,
        plan_versions=patient_plan_versions(patient=patient),
        weights=BodyWeight.objects.filter(patient=patient),
        sessions=TreatmentSession.objects.filter(patient=patient),
        session_minutes=minutes,
    )


def test_plan_weights_and_sessions_validate_as_r4b_and_references_resolve(patient, treatment):
    bundle = treatment_bundle(patient)

    Bundle.model_validate(bundle)
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == [
        "Patient",
        "CarePlan",
        "CarePlan",
        "Observation",
        "Observation",
        "Appointment",
        "Appointment",
        "Appointment",
        "Appointment",
    ]
    for entry in bundle["entry"]:
        resource = entry["resource"]
        model = STRICT.get(resource["resourceType"]) or get_fhir_model_class(
            resource["resourceType"]
        )
        assert model.model_validate(resource).id == resource["id"]
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
    assert set(references(bundle)) <= {e["fullUrl"] for e in bundle["entry"]}
    assert json.loads(json.dumps(bundle)) == bundle
    # The strict models do refuse codes outside R4's value sets.
    plan = resources(bundle, "CarePlan")[0]
    with pytest.raises(ValidationError, match="not an R4 status"):
        StrictCarePlan.model_validate(plan | {"status": "superseded"})
    visit = resources(bundle, "Appointment")[0]
    with pytest.raises(ValidationError, match="not an R4 status"):
        StrictAppointment.model_validate(visit | {"status": "no_show"})


def test_each_plan_version_is_a_careplan_the_earlier_revoked_and_replaced(
    patient, clinician, treatment
):
    first, second = resources(treatment_bundle(patient), "CarePlan")

    assert (first["status"], second["status"]) == ("revoked", "active")
    assert {first["intent"], second["intent"]} == {"plan"}
    assert second["replaces"] == [{"reference": f"urn:uuid:{first['id']}", "type": "CarePlan"}]
    assert "replaces" not in first
    assert first["period"] == {"start": "2026-02-02T15:30:12.345678Z", "end": second["created"]}
    assert second["period"] == {"start": "2026-03-02T15:30:12.345678Z"}
    assert second["author"] == {"display": clinician.full_name}
    assert second["subject"]["reference"] == f"urn:uuid:{patient.public_id}"
    induction, maintenance, questionnaires = (a["detail"] for a in first["activity"])
    assert induction["scheduledTiming"]["repeat"] == {
        "count": 6,
        "boundsDuration": {"value": 3, "unit": "weeks", "system": UCUM, "code": "wk"},
    }
    assert "0.50 mg/kg" in induction["description"]
    assert maintenance["scheduledTiming"]["repeat"] == {
        "frequency": 1,
        "period": 4,
        "periodUnit": "wk",
    }
    assert questionnaires["kind"] == "Task" and "PHQ-9, GAD-7" in questionnaires["description"]
    assert {a["detail"]["status"] for a in first["activity"]} == {"stopped"}
    # "As needed by signal" has no timing; esketamine's dose is in mg.
    as_needed = second["activity"][1]["detail"]
    assert "scheduledTiming" not in as_needed and "as needed" in as_needed["description"]
    assert "56 mg" in second["activity"][0]["detail"]["description"]
    notes = [n["text"] for n in second["note"]]
    assert "Goals, in the patient's words: Walk the dog again" in notes
    assert "Why the plan changed: Side effects. Nausea after each session" in notes


def test_body_weight_is_a_vital_signs_observation_in_kg(patient, treatment):
    older, latest = resources(treatment_bundle(patient), "Observation")

    assert latest["code"]["coding"] == [
        {"system": LOINC, "code": "29463-7", "display": "Body weight"}
    ]
    assert latest["category"][0]["coding"][0]["code"] == "vital-signs"
    assert latest["valueQuantity"] == {"value": 79.4, "unit": "kg", "system": UCUM, "code": "kg"}
    assert latest["effectiveDateTime"] == "2026-03-01"
    assert latest["note"] == [{"text": "Entered as 175.0 lb"}]
    assert older["valueQuantity"]["value"] == 81.2 and "note" not in older


def test_sessions_are_appointments_with_the_clinics_chair_time(patient, treatment):
    visits = resources(treatment_bundle(patient, minutes=90), "Appointment")

    assert [v["status"] for v in visits] == ["fulfilled", "noshow", "cancelled", "booked"]
    booked = visits[-1]
    start = datetime.fromisoformat(booked["start"])
    assert datetime.fromisoformat(booked["end"]) - start == timedelta(minutes=90)
    assert booked["minutesDuration"] == 90
    assert booked["serviceType"] == [{"text": "IV infusion"}]
    assert booked["participant"] == [
        {
            "actor": {"reference": f"urn:uuid:{patient.public_id}", "type": "Patient"},
            "status": "accepted",
        }
    ]
    # Stable ids: the same records give the same resources.
    assert resources(treatment_bundle(patient, minutes=90), "Appointment") == visits


def test_the_endpoint_carries_the_plan_weights_and_sessions(clinician_client, patient, treatment):
    patient.clinic.session_minutes = 150
    patient.clinic.save()

    bundle = clinician_client.get(fhir_url(patient)).json()

    Bundle.model_validate(bundle)
    assert len(resources(bundle, "CarePlan")) == 2
    assert len(resources(bundle, "Appointment")) == 4
    assert {v["minutesDuration"] for v in resources(bundle, "Appointment")} == {150}
    assert {o["code"]["coding"][0]["code"] for o in resources(bundle, "Observation")} == {"29463-7"}
