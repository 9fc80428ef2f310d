"""A body nested deeper than the API's limit is a 400 `parse_error`, never a 500.

Python's json recurses once per level: at a depth of 100,000 it raised RecursionError, which
answered 500. The parser counts the nesting before json reads the body. Every operation of
the OpenAPI schema that takes a body is sent one, as an actor allowed to use it, so a new
endpoint is covered as soon as it exists.
"""

import io
import json

import pytest
from rest_framework.exceptions import ParseError

from care.api.parsers import MAX_DEPTH, StrictJSONParser
from tests.test_access_matrix import API_METHODS, OURS, POLICY, url_for

pytestmark = pytest.mark.django_db

DEEP = 100_000
WRITES = {"post", "put", "patch"}


def nested(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


def body_operations() -> list[tuple[str, object, str]]:
    cases = []
    for name, pattern in OURS:
        if not name.startswith("api:"):
            continue
        route = "/api/v1/" + str(pattern.pattern).replace("<", "{").replace(">", "}")
        for prefix in ("{uuid:", "{int:", "{slug:"):
            route = route.replace(prefix, "{")
        cases += [(name, pattern, m) for m in sorted(API_METHODS.get(route, set()) & WRITES)]
    return cases


BODY_OPERATIONS = body_operations()


def actor_for(rule: str) -> str:
    return {"signed_in": "patient", "patients": "patient", "own": "patient"}.get(rule, "admin")


def test_the_schema_lists_the_operations_that_take_a_body():
    names = {(name, method) for name, _, method in BODY_OPERATIONS}

    assert ("api:checkin-list", "post") in names
    assert ("api:assessment-list", "post") in names
    assert ("api:reminder-preferences", "put") in names


@pytest.mark.parametrize(
    ("name", "pattern", "method"),
    BODY_OPERATIONS,
    ids=[f"{m}-{n}" for n, _, m in BODY_OPERATIONS],
)
def test_a_body_nested_100000_deep_is_a_parse_error_on_every_json_endpoint(
    client, world, name, pattern, method
):
    users, kwargs, per_name = world
    client.force_login(users[actor_for(POLICY[name])])
    url = url_for(name, pattern, kwargs, per_name)

    response = getattr(client, method)(url, nested(DEEP), content_type="application/json")

    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] == "parse_error"
    assert body["status"] == 400
    assert f"deeper than {MAX_DEPTH}" in body["detail"]


def parse(text: str):
    return StrictJSONParser().parse(io.BytesIO(text.encode()), "application/json", {})


def test_nesting_up_to_the_limit_is_read():
    assert parse(nested(MAX_DEPTH)) is not None
    assert parse('{"a": ' * MAX_DEPTH + "1" + "}" * MAX_DEPTH) is not None


@pytest.mark.parametrize(
    "text", [nested(MAX_DEPTH + 1), '{"a": ' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1)]
)
def test_nesting_one_level_past_the_limit_is_refused(text):
    with pytest.raises(ParseError, match=f"deeper than {MAX_DEPTH}"):
        parse(text)


def test_brackets_inside_strings_are_not_nesting():
    value = {"note": "[{" * 1000 + "\\", "other": '\\"[[', "deep": nested(MAX_DEPTH)}

    assert parse(json.dumps(value)) == value
