"""The OpenAPI contract: it validates, every API endpoint is documented, the docs are served.

"Documented" means: the operation is in the schema, has a description, names its request
body (for POST / PUT / PATCH), a typed success body (not a free-form object), and the one
error body for its 4xx answers; and generating it raised no warning. A new endpoint that
misses any of these fails `test_every_api_endpoint_is_documented`;
`test_an_undocumented_endpoint_is_caught` shows it with a deliberately bare view.
"""

import pytest
from django.core.management import call_command
from django.urls import path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator
from rest_framework.response import Response
from rest_framework.views import APIView

BODY_METHODS = {"POST", "PUT", "PATCH"}
ERROR_REF = "#/components/schemas/Error"
SCHEMA_ROUTE = "/api/schema/"


def documentation_problems(urlconf=None) -> list[str]:
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    problems = [f"schema warning: {w}" for w in GENERATOR_STATS._warn_cache]
    problems += [f"schema error: {e}" for e in GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    endpoints = EndpointEnumerator(urlconf=urlconf).get_api_endpoints()
    assert endpoints, "no API endpoints discovered"
    for route, _regex, method, _view in endpoints:
        if route == SCHEMA_ROUTE:
            continue  # the schema itself (SERVE_INCLUDE_SCHEMA is off)
        where = f"{method} {route}"
        operation = schema["paths"].get(route, {}).get(method.lower())
        if operation is None:
            problems.append(f"{where}: not in the schema")
            continue
        if not (operation.get("description") or operation.get("summary")):
            problems.append(f"{where}: no description")
        if method in BODY_METHODS and "requestBody" not in operation:
            problems.append(f"{where}: no request body")
        responses = operation["responses"]
        successes = {code: r for code, r in responses.items() if code.startswith("2")}
        if not successes:
            problems.append(f"{where}: no success response")
        for code, response in successes.items():
            if code == "204":
                continue
            body = response.get("content", {}).get("application/json", {}).get("schema", {})
            if not body or body.get("description") == "Unspecified response body":
                problems.append(f"{where}: {code} body not described")
        errors = {code: r for code, r in responses.items() if code.startswith("4")}
        if not errors:
            problems.append(f"{where}: no error responses")
        for code, response in errors.items():
            body = response.get("content", {}).get("application/json", {}).get("schema", {})
            if body.get("$ref") != ERROR_REF:
                problems.append(f"{where}: {code} is not the error body")
    return problems


def test_the_schema_validates_without_warnings(tmp_path):
    # The same as `manage.py spectacular --validate --fail-on-warn`.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yaml")

    assert (tmp_path / "s.yaml").read_text().startswith("openapi: 3")


def test_every_api_endpoint_is_documented():
    assert documentation_problems() == []


class BareApi(APIView):
    def get(self, request):
        return Response({"anything": 1})


urlpatterns = [path("api/v1/bare/", BareApi.as_view())]


def test_an_undocumented_endpoint_is_caught():
    problems = documentation_problems(urlconf=__name__)

    assert any("GET /api/v1/bare/" in p and "no description" in p for p in problems)
    assert any("GET /api/v1/bare/" in p and "body not described" in p for p in problems)
    assert any(p.startswith("schema error") and "unable to guess serializer" in p for p in problems)


@pytest.mark.django_db
def test_the_schema_is_served_as_json_to_anyone(client):
    response = client.get("/api/schema/?format=json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/patients/{public_id}/fhir/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.django_db
def test_the_docs_page_uses_vendored_files_only(client):
    response = client.get("/api/docs/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "/static/js/api-docs.js" in html
    assert 'data-schema-url="/api/schema/?format=json"' in html
    assert "http://" not in html and "https://" not in html  # no CDN
    assert "<script>" not in html  # no inline script (CSP)


def _properties(schema: dict, name: str) -> set[str]:
    return set(schema["components"]["schemas"][name]["properties"])


def test_the_message_operations_give_each_side_its_own_shape():
    """The patient's shapes of a thread and a message have no field of the care team's
    handling, and no staff-note flag; the urgent question must be answered to start one."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]

    assert {"get", "post"} <= set(paths["/api/v1/messages/"])
    for action in ("replies", "notes", "assign", "status"):
        assert set(paths[f"/api/v1/messages/{{public_id}}/{action}/"]) == {"post"}
    listed = schema["components"]["schemas"]["MessageThread"]["oneOf"]
    assert [ref["$ref"].rsplit("/", 1)[1] for ref in listed] == [
        "PatientThreadOutput",
        "StaffThreadOutput",
    ]
    staff_only = {"status", "assigned_to", "unread", "waiting_since", "patient", "handled_at"}
    assert not staff_only & _properties(schema, "PatientThreadOutput")
    assert staff_only <= _properties(schema, "StaffThreadOutput")
    assert "is_staff_note" not in _properties(schema, "PatientMessageOutput")
    assert "is_staff_note" in _properties(schema, "StaffMessageOutput")
    start = schema["components"]["schemas"]["ThreadStartInputRequest"]
    assert set(start["required"]) == {"subject", "body", "urgent"}
    created = paths["/api/v1/messages/"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"]["$ref"].endswith("/PatientPosted")
    assert "safety" in _properties(schema, "PatientPosted")
    assert "409" in paths["/api/v1/messages/{public_id}/status/"]["post"]["responses"]
