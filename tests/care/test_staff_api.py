"""The staff API: caseload, trends, sessions, alerts and acknowledgement; clinic isolation."""

import json
from datetime import timedelta

import jsonschema
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from care.api.staff import TrendsOutput
from care.models import Alert, TreatmentSession
from tests.factories import AssessmentFactory, CheckInFactory, build_history

pytestmark = pytest.mark.django_db


def make_alert(patient, priority="urgent", kind="safety"):
    return Alert.objects.create(
        patient=patient,
        kind=kind,
        priority=priority,
        cause="c",
        reason="Thoughts of self-harm.",
        created_at=timezone.now(),
    )


def test_the_caseload_endpoint_lists_attention_first(
    clinician_client, patient, other_patient, foreign_patient
):
    make_alert(other_patient)

    body = clinician_client.get("/api/v1/patients/").json()

    ids = [r["id"] for r in body["results"]]
    assert ids[0] == str(other_patient.public_id)
    assert str(foreign_patient.public_id) not in ids
    assert body["results"][0]["open_alerts"] == [
        {"priority": "urgent", "kind": "Safety", "count": 1}
    ]
    assert body["count"] == 2


def test_the_caseload_endpoint_gives_the_change_since_the_previous_score(clinician_client, patient):
    now = timezone.now()
    for days_ago, total in [(30, 18), (10, 7), (0, 17)]:
        AssessmentFactory(patient=patient, total=total, completed_at=now - timedelta(days=days_ago))

    [row] = clinician_client.get("/api/v1/patients/").json()["results"]

    assert row["phq9"]["latest"] == 17
    assert (row["phq9"]["previous"], row["phq9"]["change_since_previous"]) == (7, 10)
    assert (row["phq9"]["baseline"], row["phq9"]["change"]) == (18, -1)


def test_the_trends_endpoint_gives_chart_series(clinician_client, patient):
    now = timezone.now()
    CheckInFactory(patient=patient, local_date=(now - timedelta(days=1)).date(), mood=6)
    patient.consultation_on = (now - timedelta(days=30)).date()
    patient.save()

    body = clinician_client.get(f"/api/v1/patients/{patient.public_id}/trends/?days=90").json()

    assert body["checkins"][0]["mood"] == 6
    assert set(body) == {
        "since",
        "until",
        "checkins",
        "questionnaires",
        "sessions",
        "safety_events",
    }


TRENDS_PATH = "/api/v1/patients/{public_id}/trends/"


def documented_body(path: str, method: str, code: str) -> jsonschema.Draft7Validator:
    """A validator for the OpenAPI schema of a response body, strict: no undocumented key."""
    schema = SchemaGenerator().get_schema(request=None, public=True)

    def strict(node):
        if isinstance(node, list):
            return [strict(n) for n in node]
        if not isinstance(node, dict):
            return node
        node = {k: strict(v) for k, v in node.items()}
        if "properties" in node:
            node.setdefault("additionalProperties", False)
        if node.pop("nullable", False):
            return {"anyOf": [node, {"type": "null"}]}
        return node

    body = schema["paths"][path][method]["responses"][code]["content"]["application/json"]
    return jsonschema.Draft7Validator(
        {**strict(body["schema"]), "components": strict(schema["components"])}
    )


def test_the_trends_body_is_exactly_what_its_documented_serializer_describes(
    clinician_client, patient
):
    # The body is built as plain dicts (no serializer per point); the schema comes from
    # TrendsOutput. Every field as documented, none missing, none extra; and the serializer
    # would render the same values.
    now = timezone.now()
    patient.consultation_on = (now - timedelta(days=100)).date()
    patient.save()
    build_history(patient, 90, end=now)
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=now - timedelta(days=2), route="im", dose_mg="35.50"
    )
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=now, route="intranasal", status="cancelled"
    )

    body = clinician_client.get(f"/api/v1/patients/{patient.public_id}/trends/?days=90").json()

    assert body["checkins"] and body["questionnaires"]["phq9"]["points"]
    assert {s["dose"] for s in body["sessions"]} == {"0.50 mg/kg", "35.5 mg", ""}
    documented_body(TRENDS_PATH, "get", "200").validate(body)
    assert json.loads(json.dumps(TrendsOutput(body).data)) == body


@pytest.mark.parametrize("days", ["0", "731", "many"])
def test_the_trends_endpoint_refuses_odd_ranges(clinician_client, patient, days):
    response = clinician_client.get(f"/api/v1/patients/{patient.public_id}/trends/?days={days}")

    assert response.status_code == 400 and "days" in response.json()["errors"]


def test_the_trends_endpoint_costs_the_same_queries_for_90_and_730_days(
    clinician_client, patient, other_patient
):
    now = timezone.now()
    for who, days in ((patient, 90), (other_patient, 730)):
        who.consultation_on = (now - timedelta(days=days + 10)).date()
        who.save()
        build_history(who, days, end=now)
    counts = []
    for who, days in ((patient, 90), (other_patient, 730)):
        with CaptureQueriesContext(connection) as queries:
            body = clinician_client.get(
                f"/api/v1/patients/{who.public_id}/trends/?days={days}"
            ).json()
        assert len(body["checkins"]) == days - 1  # today not checked in yet
        counts.append(len(queries.captured_queries))

    assert counts[0] == counts[1]


def test_sessions_are_listed_for_the_clinic_and_filtered(
    clinician_client, patient, foreign_patient
):
    now = timezone.now()
    mine = TreatmentSession.objects.create(patient=patient, scheduled_at=now, route="iv")
    TreatmentSession.objects.create(patient=foreign_patient, scheduled_at=now, route="iv")

    listed = clinician_client.get("/api/v1/sessions/").json()["results"]
    filtered = clinician_client.get(
        f"/api/v1/sessions/?patient={patient.public_id}&status=scheduled"
    )
    foreign = clinician_client.get(f"/api/v1/sessions/?patient={foreign_patient.public_id}")

    assert [s["id"] for s in listed] == [mine.pk]
    assert [s["id"] for s in filtered.json()["results"]] == [mine.pk]
    # Another clinic's patient as a filter: nothing of theirs, and no hint they exist.
    assert foreign.status_code == 200 and foreign.json()["results"] == []
    bad = clinician_client.get("/api/v1/sessions/?status=done")
    assert bad.status_code == 400 and "status" in bad.json()["errors"]


def test_alerts_are_listed_and_acknowledged_once(clinician_client, clinician, patient):
    alert = make_alert(patient)

    listed = clinician_client.get("/api/v1/alerts/").json()["results"]
    ack = clinician_client.post(
        f"/api/v1/alerts/{alert.pk}/acknowledge/",
        {"action": "called_patient", "note": "Safe; plan made"},
        content_type="application/json",
    )
    again = clinician_client.post(
        f"/api/v1/alerts/{alert.pk}/acknowledge/",
        {"action": "no_action"},
        content_type="application/json",
    )

    assert [a["id"] for a in listed] == [alert.pk]
    assert ack.status_code == 200 and ack.json()["acknowledged_by"] == str(clinician)
    assert again.status_code == 409
    assert clinician_client.get("/api/v1/alerts/").json()["results"] == []
    assert len(clinician_client.get("/api/v1/alerts/?state=all").json()["results"]) == 1


@pytest.mark.parametrize("body", [{"action": "shrug"}, {"action": "other"}, {}])
def test_acknowledging_through_the_api_needs_a_valid_action(clinician_client, patient, body):
    alert = make_alert(patient)

    response = clinician_client.post(
        f"/api/v1/alerts/{alert.pk}/acknowledge/", body, content_type="application/json"
    )

    alert.refresh_from_db()
    assert response.status_code == 400 and alert.is_open


@pytest.mark.parametrize("url", ["/api/v1/patients/", "/api/v1/sessions/", "/api/v1/alerts/"])
def test_patients_get_404_on_staff_endpoints(patient_client, url):
    assert patient_client.get(url).status_code == 404


def test_staff_of_another_clinic_get_404_for_our_patient_and_alert(
    client, other_clinician, patient
):
    alert = make_alert(patient)
    client.force_login(other_clinician)

    assert client.get(f"/api/v1/patients/{patient.public_id}/trends/").status_code == 404
    response = client.post(
        f"/api/v1/alerts/{alert.pk}/acknowledge/",
        {"action": "no_action"},
        content_type="application/json",
    )
    alert.refresh_from_db()
    assert response.status_code == 404 and alert.is_open
