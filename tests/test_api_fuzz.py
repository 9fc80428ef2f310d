"""Schemathesis over every operation of the OpenAPI schema, as a patient and as a clinician.

Generated requests (valid and invalid) go to the real WSGI application in-process; each
response must not be a 5xx, must use a documented status code and content type, and must
match the documented body. The number of examples per operation is bounded (FUZZ_EXAMPLES,
default 15) and the run is derandomised, so CI is repeatable; raise it locally to dig deeper:
`FUZZ_EXAMPLES=200 ./dev test tests/test_api_fuzz.py`.
"""

import os
from datetime import timedelta
from decimal import Decimal

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from care.accounts.tokens import api_token_issue
from care.messages.services import message_post, message_thread_start
from care.models import (
    Alert,
    BodyWeight,
    SessionMoveRequest,
    SessionReadiness,
    SessionReflection,
    TreatmentSession,
)
from care.records.services import assessment_submit
from care.treatment.services import treatment_plan_version_create
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _in_process(settings):
    # No rate limits while fuzzing (they are tested on their own).
    rates = dict.fromkeys(("anon", "user", "token_issue"), "1000000/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    # The real WSGI handler closes the database connection at the end of each request,
    # which would end the test's transaction; Django's test client does the same as this.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# A staff note on the patient's thread: no answer to the patient may ever carry it.
STAFF_NOTE = "Fuzz staff note KQJW"


@pytest.fixture
def records(patient, clinician):
    """A patient with a result (item 9 answered, so an open safety alert), a message thread
    with a reply and a staff note, and a fellow patient: lists are not empty, and path ids
    can point at real records."""
    assessment = assessment_submit(
        patient=patient,
        instrument_code="phq9",
        answers={str(n): 1 for n in range(1, 10)},  # item 9 too: a safety alert
        difficulty=1,
        client_id=None,
        entered_by=patient.user,
        now=timezone.now(),
    ).assessment
    PatientFactory(clinic=patient.clinic)
    now = timezone.now()
    thread = message_thread_start(
        patient=patient, subject="A question", body="Hello", urgent=False, now=now
    ).message.thread
    message_post(thread=thread, by=clinician, body="Call us", now=now)
    message_post(thread=thread, by=clinician, body=STAFF_NOTE, staff_note=True, now=now)
    # A plan, a weight and a session with readiness answers, a reflection and a move request:
    # their endpoints answer with real rows, not only empty lists.
    treatment_plan_version_create(
        patient=patient,
        by=clinician,
        now=now,
        values={
            "route": "iv",
            "induction_sessions": 6,
            "induction_weeks": 3,
            "target_dose_mg_per_kg": Decimal("0.5"),
            "maintenance": "every_n_weeks",
            "maintenance_every_weeks": 4,
            "questionnaires": ["phq9"],
            "questionnaire_every_days": 14,
            "prescriber": clinician,
        },
        reason_code="",
        reason="",
    )
    BodyWeight.objects.create(
        patient=patient,
        weight_kg=Decimal("72.5"),
        entered_value=Decimal("72.5"),
        measured_on=now.date(),
        recorded_by=clinician,
        created_at=now,
    )
    session = TreatmentSession.objects.create(
        patient=patient, scheduled_at=now + timedelta(days=1), route="iv", chair=1
    )
    SessionReadiness.objects.create(
        session=session,
        ride_arranged=True,
        fasting_understood=True,
        feeling_well=True,
        new_medicines=False,
        answered_at=now,
    )
    SessionReflection.objects.create(session=session, feeling="Calm", created_at=now)
    SessionMoveRequest.objects.create(session=session, preferred_times="Mornings", created_at=now)
    # A session with nothing answered yet, in its readiness window: the patient's writes
    # about a session (me/sessions/{session_id}/...) can succeed, not only be refused.
    open_session = TreatmentSession.objects.create(
        patient=patient, scheduled_at=now + timedelta(days=1, hours=1), route="iv", chair=2
    )
    return {
        "patient": {"public_id": str(assessment.public_id), "session_id": open_session.pk},
        "clinician": {
            "public_id": str(patient.public_id),
            "alert_id": Alert.objects.get(patient=patient).pk,
        },
        "thread": {"public_id": str(thread.public_id)},
    }


def aim(case, ids: dict, thread: dict) -> None:
    """Point the path at the actor's real records (random ids only ever find a 404); a
    message path at the patient's thread, which both of them reach."""
    if case.path.startswith("/api/v1/messages/"):
        ids = thread
    for name in list(case.path_parameters or {}):
        if name in ids:
            case.path_parameters[name] = ids[name]


def bearer_for(user) -> dict:
    token = api_token_issue(user=user, name="fuzz", days=1, now=timezone.now())
    return {"Authorization": f"Bearer {token.secret}"}


# The schema view is public and needs no database: load it once, at collection.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@FUZZ
def test_as_a_patient_no_operation_answers_5xx_or_off_schema(case, records, patient):
    aim(case, records["patient"], records["thread"])
    response = case.call(headers=bearer_for(patient.user))
    case.validate_response(response, checks=CHECKS)
    assert STAFF_NOTE not in response.text


@schema.parametrize()
@FUZZ
def test_as_a_clinician_no_operation_answers_5xx_or_off_schema(case, records, clinician):
    aim(case, records["clinician"], records["thread"])
    response = case.call(headers=bearer_for(clinician))
    case.validate_response(response, checks=CHECKS)
