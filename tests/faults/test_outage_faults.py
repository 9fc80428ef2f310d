"""PostgreSQL stops under a running web process: every API write is answered 503 with
Retry-After and the API's error body, nothing is half-written, the outage is one log line,
and once PostgreSQL is back the client's retry succeeds without restarting the web process."""

import time
import uuid

import pytest
import requests
from django.utils import timezone

from care.accounts.tokens import api_token_issue
from care.common.outages import RETRY_AFTER_SECONDS
from care.models import AuditEvent, CheckIn
from tests.factories import PatientFactory, checkin_body

pytestmark = [pytest.mark.faults, pytest.mark.timeout(90)]

SENT_DURING_OUTAGE = 20


def test_api_writes_during_a_postgres_outage_get_503_and_succeed_when_it_is_back(stack, clinic):
    patient = PatientFactory(clinic=clinic, tz="UTC")
    secret = api_token_issue(user=patient.user, name="phone", days=1, now=timezone.now()).secret
    web, url = stack.web()
    events_before = AuditEvent.objects.count()

    def post(client_id: str) -> requests.Response:
        return requests.post(
            f"{url}/api/v1/checkins/",
            json=checkin_body(client_id=client_id),
            headers={"Authorization": f"Bearer {secret}"},
            timeout=10,
        )

    stack.postgres.stop()
    client_ids = [str(uuid.uuid4()) for _ in range(SENT_DURING_OUTAGE)]
    answers = [post(client_id) for client_id in client_ids]

    for response in answers:
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        body = response.json()
        assert body["code"] == "unavailable" and body["status"] == 503
    logged = web.output()
    assert logged.count("Outage: the database is unreachable") == 1, logged
    assert "Traceback" not in logged and "Internal Server Error" not in logged

    stack.restart_postgres()
    assert CheckIn.objects.filter(patient=patient).count() == 0  # nothing half-written
    assert AuditEvent.objects.count() == events_before
    retried = post(client_ids[-1])  # the client's retry, same client_id; same web process

    assert retried.status_code == 201, retried.text
    assert CheckIn.objects.filter(patient=patient).count() == 1
    time.sleep(0.5)
    assert web.output().count("Outage over: the database answers again") == 1
    assert "Traceback" not in web.output()
