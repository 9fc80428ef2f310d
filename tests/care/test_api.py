"""The patient API: own data only, validation naming the field, safety block, idempotency."""

import uuid
import zoneinfo
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from care.accounts.tokens import api_token_issue
from care.api.serializers import CheckInOutput, checkin_data
from care.models import Alert, Assessment, CheckIn
from care.records.services import assessment_submit
from tests.factories import CheckInFactory, checkin_body

pytestmark = pytest.mark.django_db


def phq9_body(**items):
    answers = {str(n): 0 for n in range(1, 10)} | {k.removeprefix("i"): v for k, v in items.items()}
    return {"instrument": "phq9", "answers": answers}


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_a_patient_posts_a_checkin_and_lists_their_own(patient_client, patient, other_patient):
    CheckIn.objects.create(
        patient=other_patient,
        local_date="2026-01-01",
        mood=1,
        anxiety=1,
        energy=1,
        sleep_hours=1,
        sleep_quality=1,
        has_self_harm_thoughts=False,
        submitted_at="2026-01-01T10:00Z",
        updated_at="2026-01-01T10:00Z",
    )

    created = post(patient_client, "/api/v1/checkins/", checkin_body())
    listed = patient_client.get("/api/v1/checkins/")

    assert created.status_code == 201
    assert created.json()["checkin"]["mood"] == 5
    assert "safety" not in created.json()
    assert [row["mood"] for row in listed.json()["results"]] == [5]


def test_a_checkin_with_thoughts_of_self_harm_returns_crisis_resources_and_alerts(
    patient_client, patient
):
    response = post(patient_client, "/api/v1/checkins/", checkin_body(has_self_harm_thoughts=True))

    safety = response.json()["safety"]
    hrefs = {r["href"] for r in safety["resources"]}
    assert response.status_code == 201
    assert {"tel:988", "sms:988", "tel:911", "https://988lifeline.org/chat/"} <= hrefs
    assert any("741741" in h for h in hrefs)
    assert "not watched around the clock" in safety["message"]
    assert Alert.objects.get(patient=patient).priority == "urgent"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"mood": 11}, "mood"),
        ({"anxiety": "high"}, "anxiety"),
        ({"sleep_hours": "30"}, "sleep_hours"),
        ({"sleep_quality": 7}, "sleep_quality"),
        ({"side_effects": ["flying"]}, "side_effects"),
        ({"has_self_harm_thoughts": None}, "has_self_harm_thoughts"),
        ({"note": "x" * 2001}, "note"),
        ({"client_id": "not-a-uuid"}, "client_id"),
    ],
)
def test_bad_checkin_fields_get_a_400_naming_the_field(patient_client, overrides, field):
    response = post(patient_client, "/api/v1/checkins/", checkin_body(**overrides))

    assert response.status_code == 400
    assert any(key.split(".")[0] == field for key in response.json()["errors"])
    assert not CheckIn.objects.exists()


def test_a_retried_checkin_with_the_same_client_id_creates_nothing_twice(patient_client):
    body = checkin_body(client_id=str(uuid.uuid4()))

    first = post(patient_client, "/api/v1/checkins/", body)
    again = post(patient_client, "/api/v1/checkins/", body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["duplicate"] is True
    assert CheckIn.objects.get().version == 1


def test_an_assessment_is_scored_in_the_response(patient_client):
    response = post(patient_client, "/api/v1/assessments/", phq9_body(i1=3, i2=2, i3=2, i4=3))

    result = response.json()["assessment"]
    assert response.status_code == 201
    assert (result["total"], result["band"], result["band_label"]) == (10, "moderate", "Moderate")
    assert result["max_total"] == 27 and result["flags"] == []
    assert "safety" not in response.json()


def test_item_9_in_the_api_returns_crisis_resources_even_with_a_minimal_total(
    patient_client, patient
):
    response = post(patient_client, "/api/v1/assessments/", phq9_body(i9=1))

    body = response.json()
    assert body["assessment"]["band"] == "minimal"
    assert body["safety"]["alert_raised"] is True
    assert Alert.objects.get(patient=patient).kind == "safety"


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        (phq9_body(i9=4), ("answers", "item_9"), "Item 9"),
        (phq9_body(i2=-1), ("answers", "item_2"), "Item 2"),
        ({"instrument": "phq9", "answers": {"1": 0}}, ("answers", "item_5"), "please choose"),
        ({"instrument": "phq9", "answers": {"1": 0, "12": 1}}, ("answers", "item_12"), "no item"),
        ({"instrument": "madrs", "answers": {"1": 0}}, ("instrument",), "not a valid choice"),
        ({"instrument": "gad7"}, ("answers",), "required"),
        ({"instrument": "gad7", "answers": [1, 2]}, ("answers",), "dictionary"),
    ],
)
def test_bad_answers_get_a_400_naming_the_item(patient_client, body, path, message):
    response = post(patient_client, "/api/v1/assessments/", body)

    detail = response.json()["errors"][".".join(path)]
    assert response.status_code == 400
    assert message in str(detail)
    assert not Assessment.objects.exists()


def test_a_retried_assessment_is_stored_once(patient_client):
    body = phq9_body(i9=2) | {"client_id": str(uuid.uuid4())}

    first = post(patient_client, "/api/v1/assessments/", body)
    again = post(patient_client, "/api/v1/assessments/", body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["assessment"]["id"] == first.json()["assessment"]["id"]
    assert Assessment.objects.count() == 1 and Alert.objects.count() == 1


def test_results_are_reachable_only_by_their_patient(client, patient, other_patient, clinician):
    own = assessment_submit(
        patient=patient,
        instrument_code="gad7",
        answers={str(n): 2 for n in range(1, 8)},
        difficulty=None,
        client_id=None,
        entered_by=patient.user,
        now=timezone.now(),
    ).assessment
    url = f"/api/v1/assessments/{own.public_id}/"

    client.force_login(patient.user)
    assert client.get(url).json()["total"] == 14
    assert len(client.get("/api/v1/assessments/").json()["results"]) == 1
    client.force_login(other_patient.user)
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/assessments/").json()["results"] == []
    client.force_login(clinician)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/checkins/", "/api/v1/assessments/"])
def test_staff_of_any_clinic_get_404_on_patient_endpoints(client, clinician, other_clinician, url):
    for staff in (clinician, other_clinician):
        client.force_login(staff)
        assert client.get(url).status_code == 404
        assert post(client, url, checkin_body()).status_code == 404
    assert not CheckIn.objects.exists()


def test_instruments_are_served_as_data(patient_client):
    body = patient_client.get("/api/v1/instruments/").json()

    by_code = {i["code"]: i for i in body["results"]}
    assert set(by_code) == {"phq9", "gad7", "pcl5"}
    assert len(by_code["pcl5"]["items"]) == 20
    assert [o["loinc"] for o in by_code["phq9"]["difficulty"]["options"]][2:] == [
        "LA6575-0",
        "LA6574-3",
    ]
    assert [b["low"] for b in by_code["pcl5"]["bands"]] == [0, 33]
    assert patient_client.get("/api/v1/instruments/gad7/").json()["total_loinc"] == "70274-6"
    assert patient_client.get("/api/v1/instruments/madrs/").status_code == 404


def test_me_describes_the_signed_in_user(client, patient, clinician):
    client.force_login(patient.user)
    mine = client.get("/api/v1/me/").json()
    client.force_login(clinician)
    staff = client.get("/api/v1/me/").json()

    assert mine["role"] == "patient" and mine["questionnaires_due"] == ["phq9"]
    assert mine["checked_in_today"] is False
    assert staff["role"] == "clinician" and staff["clinic"] == "Clinic A"


def test_session_authenticated_posts_need_the_csrf_token(patient):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient.user)

    response = post(client, "/api/v1/checkins/", checkin_body())

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_api_submissions_leave_no_answers_or_notes_in_the_logs(patient_client, caplog):
    import logging

    with caplog.at_level(logging.DEBUG):
        post(
            patient_client,
            "/api/v1/checkins/",
            checkin_body(has_self_harm_thoughts=True, note="ZZCANARY-note"),
        )
        post(patient_client, "/api/v1/assessments/", phq9_body(i9=3))
        post(patient_client, "/api/v1/assessments/", phq9_body(i9=7))  # a 400 is logged too

    logged = caplog.text
    assert "Bad Request" in logged  # Django logs the 400, by path only
    for secret in ("ZZCANARY", "Nearly every day", "harming", "item_9", '"9"'):
        assert secret not in logged


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles"])
def test_the_submitted_checkin_is_shown_as_its_documented_serializer_shows_it(patient, zone):
    checkins = [
        CheckInFactory(patient=patient, local_date="2026-01-01"),
        CheckInFactory(
            patient=patient,
            local_date="2026-01-02",
            sleep_hours=Decimal("6.5"),
            side_effects=["nausea"],
            note="ok",
            version=3,
        ),
        CheckInFactory.build(patient=patient, sleep_hours=Decimal("7.0")),  # as just created
    ]
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        for checkin in checkins:
            assert checkin_data(checkin) == CheckInOutput(checkin).data


def test_a_checkin_submission_costs_a_fixed_number_of_statements(
    client, patient, django_assert_num_queries
):
    secret = api_token_issue(user=patient.user, name="phone", days=1, now=timezone.now()).secret
    headers = {"Authorization": f"Bearer {secret}"}

    # The token (with its user and profile) and its first use; a savepoint here (a
    # transaction in production) around: the patient's lock, today's check-in, the new
    # check-in and its audit event.
    with django_assert_num_queries(8):
        created = client.post(
            "/api/v1/checkins/", checkin_body(), content_type="application/json", headers=headers
        )
    # Later that day: no token write; the old answers kept as a revision, then the update.
    with django_assert_num_queries(8):
        changed = client.post(
            "/api/v1/checkins/",
            checkin_body(mood=2),
            content_type="application/json",
            headers=headers,
        )

    assert (created.status_code, changed.status_code) == (201, 200)
