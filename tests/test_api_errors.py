"""One error body for every 4xx answer of the API: {status, code, detail, errors}."""

import copy
import uuid

import pytest
from django.conf import settings as django_settings
from django.test import Client

from care.models import CheckIn
from tests.factories import checkin_body

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"status", "code", "detail", "errors"}


def post_json(client, url, body):
    return client.post(url, body, content_type="application/json")


def error_of(response, status: int) -> dict:
    """The response's error body, checked for its shape: JSON, exactly the four keys."""
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], dict)
    return body


# 400


def test_a_400_for_an_invalid_value_names_the_field(patient_client):
    response = post_json(patient_client, "/api/v1/checkins/", checkin_body(mood=11))

    body = error_of(response, 400)
    assert body["code"] == "invalid"
    assert body["detail"] == "Some values are not valid; see errors."
    assert list(body["errors"]) == ["mood"]
    assert all(isinstance(m, str) for m in body["errors"]["mood"])


def test_a_400_for_a_missing_field_names_the_field(patient_client):
    body = checkin_body()
    del body["energy"]

    response = post_json(patient_client, "/api/v1/checkins/", body)

    assert error_of(response, 400)["errors"] == {"energy": ["This field is required."]}


def test_a_400_for_a_nested_field_joins_the_path_with_dots(patient_client):
    answers = {str(n): 0 for n in range(1, 10)} | {"9": 4}

    response = post_json(
        patient_client, "/api/v1/assessments/", {"instrument": "phq9", "answers": answers}
    )

    assert "answers.item_9" in error_of(response, 400)["errors"]


def test_a_400_for_a_bad_query_parameter_names_the_parameter(patient_client):
    response = patient_client.get("/api/v1/checkins/?since=yesterday-ish")

    body = error_of(response, 400)
    assert body["code"] == "invalid"
    assert "since" in body["errors"]


def test_a_400_for_a_malformed_json_body_is_a_parse_error(patient_client):
    response = patient_client.post(
        "/api/v1/checkins/", '{"mood": 5,', content_type="application/json"
    )

    body = error_of(response, 400)
    assert body["code"] == "parse_error"
    assert body["errors"] == {}
    assert not CheckIn.objects.exists()


# 401 and 403


def test_a_401_without_credentials(client):
    response = client.get("/api/v1/me/")

    body = error_of(response, 401)
    assert body["code"] == "not_authenticated"
    assert body["errors"] == {}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_401_for_an_unknown_token(client):
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer ktk_no-such-token")

    assert error_of(response, 401)["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_403_for_a_session_post_without_the_csrf_token(patient):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient.user)

    response = post_json(client, "/api/v1/checkins/", checkin_body())

    body = error_of(response, 403)
    assert body["code"] == "permission_denied"
    assert "CSRF" in body["detail"]


# 404


def test_a_404_for_a_record_that_is_not_yours(patient_client):
    response = patient_client.get(f"/api/v1/assessments/{uuid.uuid4()}/")

    body = error_of(response, 404)
    assert body["code"] == "not_found"
    assert body["errors"] == {}


def test_a_404_for_another_clinics_patient(clinician_client, foreign_patient):
    response = clinician_client.get(f"/api/v1/patients/{foreign_patient.public_id}/trends/")

    assert error_of(response, 404)["code"] == "not_found"


@pytest.mark.parametrize(
    "url", ["/api/v1/nope/", "/api/v1/checkins/extra/", "/api/v2/me/", "/api/nope"]
)
def test_a_404_for_an_unknown_api_path_is_json(patient_client, url):
    response = patient_client.get(url)

    body = error_of(response, 404)
    assert body["code"] == "not_found"
    assert body["errors"] == {}


def test_a_404_for_an_unknown_api_path_is_json_for_anonymous_callers_too(client):
    response = client.get("/api/v1/nope/")

    assert error_of(response, 404)["code"] == "not_found"


def test_a_404_for_an_unknown_api_path_is_json_for_any_method(patient_client):
    response = patient_client.delete("/api/v1/nope/")

    assert error_of(response, 404)["code"] == "not_found"


def test_a_404_outside_the_api_is_still_the_html_page(clinician_client):
    response = clinician_client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"<html" in response.content.lower()


# 405, 406, 415


def test_a_405_for_a_method_the_endpoint_does_not_have(patient_client):
    response = patient_client.delete("/api/v1/me/")

    body = error_of(response, 405)
    assert body["code"] == "method_not_allowed"
    assert "DELETE" in body["detail"]
    assert "GET" in response["Allow"]


def test_a_406_when_the_client_accepts_only_html(patient_client):
    # Only a JSON renderer is configured: DRF refuses the negotiation, and writes the error
    # itself with the first renderer (JSON), whatever the client asked for.
    response = patient_client.get("/api/v1/me/", HTTP_ACCEPT="text/html")

    assert error_of(response, 406)["code"] == "not_acceptable"


@pytest.mark.parametrize("accept", ["application/json", "*/*", "text/html, application/json"])
def test_an_accept_header_allowing_json_is_served(patient_client, accept):
    response = patient_client.get("/api/v1/me/", HTTP_ACCEPT=accept)

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("mood=5&anxiety=4", "application/x-www-form-urlencoded"),
        ("mood: 5", "text/plain"),
    ],
)
def test_a_415_for_a_body_that_is_not_json(patient_client, data, content_type):
    response = patient_client.post("/api/v1/checkins/", data, content_type=content_type)

    body = error_of(response, 415)
    assert body["code"] == "unsupported_media_type"
    assert not CheckIn.objects.exists()


def test_a_415_for_a_multipart_form(patient_client):
    response = patient_client.post("/api/v1/checkins/", {"mood": "5"})

    assert error_of(response, 415)["code"] == "unsupported_media_type"


# 409


def test_a_409_for_a_client_id_reused_with_different_answers(patient_client):
    client_id = str(uuid.uuid4())
    post_json(patient_client, "/api/v1/checkins/", checkin_body(client_id=client_id))

    response = post_json(
        patient_client, "/api/v1/checkins/", checkin_body(client_id=client_id, mood=2)
    )

    body = error_of(response, 409)
    assert body["code"] == "conflict"
    assert list(body["errors"]) == ["client_id"]
    assert CheckIn.objects.get().mood == 5


def test_a_409_for_an_assessment_client_id_reused_with_different_answers(patient_client):
    client_id = str(uuid.uuid4())
    answers = {str(n): 0 for n in range(1, 10)}
    body = {"instrument": "phq9", "answers": answers, "client_id": client_id}
    post_json(patient_client, "/api/v1/assessments/", body)

    changed = body | {"answers": answers | {"1": 2}}
    response = post_json(patient_client, "/api/v1/assessments/", changed)

    error = error_of(response, 409)
    assert error["code"] == "conflict"
    assert list(error["errors"]) == ["client_id"]


# 429


def test_a_429_has_the_error_body_and_a_retry_after(settings, patient_client):
    rest = copy.deepcopy(django_settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = rest["DEFAULT_THROTTLE_RATES"] | {"user": "2/min"}
    settings.REST_FRAMEWORK = rest
    for _ in range(2):
        assert patient_client.get("/api/v1/me/").status_code == 200

    response = patient_client.get("/api/v1/me/")

    body = error_of(response, 429)
    assert body["code"] == "throttled"
    assert body["errors"] == {}
    assert body["detail"].startswith("Too many requests")
    assert 0 < int(response["Retry-After"]) <= 60


# Answers Django gives before or after an API view: still the API's body.


def test_an_oversized_body_is_refused_with_the_error_body(patient_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = checkin_body(note="x" * 20_000)

    response = post_json(patient_client, "/api/v1/checkins/", body)

    assert response.status_code in {400, 413}
    error_of(response, response.status_code)
    assert not CheckIn.objects.exists()


def test_a_crash_under_the_api_is_a_json_500_without_details(patient, monkeypatch):
    client = Client(raise_request_exception=False)
    client.force_login(patient.user)

    def crash(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("care.api.views.patient_checkin_on", crash)
    response = client.get("/api/v1/me/")

    body = error_of(response, 500)
    assert body["code"] == "server_error"
    assert "secret" not in response.content.decode()
