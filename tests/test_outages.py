"""A database (or Redis) outage is answered as an outage: 503 with Retry-After, the API's error
body (`code: unavailable`) or a friendly page, and one log line per outage, not a traceback
per request. The fault suite stops a real PostgreSQL under a running web process
(tests/faults/test_outage_faults.py); here the failures are raised where they would surface.
"""

import logging

import pytest
import redis
from django.db import InterfaceError, OperationalError
from django.test import Client, RequestFactory

from care.accounts.tokens import api_token_issue
from care.common import outages
from care.models import CheckIn
from tests.factories import checkin_body

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"status", "code", "detail", "errors"}


@pytest.fixture(autouse=True)
def _no_outage_before():
    outages.reset()
    yield
    outages.reset()


def lost_connection(sqlstate: str | None = "08006") -> OperationalError:
    """The error Django raises when PostgreSQL's connection fails (SQLSTATE 08006)."""
    error = OperationalError("connection failed")
    error.__cause__ = type("PsycopgError", (Exception,), {"sqlstate": sqlstate})()
    return error


def fail_with(exc):
    def fail(*args, **kwargs):
        raise exc

    return fail


def assert_api_unavailable(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == str(outages.RETRY_AFTER_SECONDS)
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["status"] == 503 and body["code"] == "unavailable" and body["errors"] == {}
    assert f"{outages.RETRY_AFTER_SECONDS} seconds" in body["detail"]


def assert_page_unavailable(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == str(outages.RETRY_AFTER_SECONDS)
    html = response.content.decode()
    assert "Briefly unavailable" in html
    assert 'href="tel:988"' in html  # the crisis line stays in reach


def test_an_api_write_during_a_database_outage_is_a_503_with_retry_after(
    patient_client, monkeypatch
):
    monkeypatch.setattr("care.api.views.checkin_submit", fail_with(lost_connection()))

    response = patient_client.post("/api/v1/checkins/", checkin_body(), "application/json")

    assert_api_unavailable(response)
    assert CheckIn.objects.count() == 0


def test_a_token_that_cannot_be_checked_during_an_outage_is_a_503(client, patient, monkeypatch):
    from django.utils import timezone

    secret = api_token_issue(user=patient.user, name="phone", days=1, now=timezone.now()).secret
    monkeypatch.setattr(
        "care.api.authentication.api_token_authenticate",
        fail_with(InterfaceError("connection already closed")),
    )

    response = client.post(
        "/api/v1/checkins/",
        checkin_body(),
        "application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )

    assert_api_unavailable(response)


def test_an_api_request_while_redis_is_down_where_it_is_needed_is_a_503(
    patient_client, monkeypatch
):
    monkeypatch.setattr(
        "care.api.views.checkin_submit", fail_with(redis.exceptions.ConnectionError("refused"))
    )

    response = patient_client.post("/api/v1/checkins/", checkin_body(), "application/json")

    assert_api_unavailable(response)


def test_a_page_during_a_database_outage_is_the_friendly_503_page(patient_client, monkeypatch):
    monkeypatch.setattr("care.accounts.views.patient_for_user", fail_with(lost_connection()))

    assert_page_unavailable(patient_client.get("/"))


def test_an_outage_met_before_the_view_is_a_503_too(patient, monkeypatch):
    """The session is read by middleware, before any view: Django's 500 handler answers."""
    client = Client(raise_request_exception=False)
    client.force_login(patient.user)
    monkeypatch.setattr(
        "django.contrib.sessions.backends.db.SessionStore.load",
        fail_with(lost_connection()),
    )

    assert_page_unavailable(client.get("/"))
    assert_api_unavailable(client.get("/api/v1/me/"))


@pytest.mark.parametrize(
    "error",
    [lost_connection("40P01"), OperationalError("no such table")],
    ids=["deadlock", "no-sqlstate-on-a-working-connection"],
)
def test_other_database_errors_are_still_a_500(patient, monkeypatch, error):
    """A deadlock or a missing table is no outage: it is a server error, logged in full."""
    client = Client(raise_request_exception=False)
    client.force_login(patient.user)
    monkeypatch.setattr("care.accounts.views.patient_for_user", fail_with(error))

    assert client.get("/").status_code == 500


def test_an_outage_is_logged_once_until_a_request_succeeds(patient_client, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    error = lost_connection()
    error.args = ("secret row",)
    monkeypatch.setattr("care.accounts.views.patient_for_user", fail_with(error))

    for _ in range(5):
        assert patient_client.get("/").status_code == 503
    lines = [r for r in caplog.records if r.levelno >= logging.INFO]

    assert [r.getMessage() for r in lines] == [
        "Outage: the database is unreachable (OperationalError); requests are answered 503 "
        "until it is back."
    ]
    assert lines[0].exc_info is None  # no traceback
    assert "secret row" not in caplog.text  # the error's text may hold data

    caplog.clear()
    monkeypatch.undo()
    assert patient_client.get("/api/v1/me/").status_code == 200
    assert patient_client.get("/api/v1/me/").status_code == 200
    [over] = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert over.startswith("Outage over: the database answers again after ")
    assert over.endswith("; 5 requests were answered 503.")


def test_a_redis_outage_is_over_when_the_cache_answers_again(patient_client, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(
        "care.api.views.checkin_submit", fail_with(redis.exceptions.TimeoutError("slow"))
    )
    for _ in range(2):
        patient_client.post("/api/v1/checkins/", checkin_body(), "application/json")
    monkeypatch.undo()

    assert patient_client.get("/api/v1/me/").status_code == 200  # the cache answers a probe

    assert [r.getMessage()[:48] for r in caplog.records if r.name == "care.common.outages"] == [
        "Outage: Redis is unreachable (TimeoutError); req",
        "Outage over: Redis answers again after 0 s; 2 re",
    ]


def test_the_outage_page_needs_no_database_and_no_session(django_assert_num_queries):
    request = RequestFactory().get("/me/checkin/")  # no user, no session attached

    with django_assert_num_queries(0):
        response = outages.outage_page(request)

    assert_page_unavailable(response)
