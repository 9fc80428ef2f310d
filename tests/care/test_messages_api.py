"""Messages in the API (/api/v1/messages/): both sides, the urgent path, the staff notes,
filters, access and audit."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator

from care.domain.crisis import crisis_block
from care.domain.messages import message_public_id
from care.messages.services import (
    message_post,
    message_thread_assign,
    message_thread_handle,
    message_thread_start,
)
from care.models import Alert, AuditEvent, Message, MessageThread
from tests.factories import PatientFactory, StaffFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 20, 15, tzinfo=UTC)
NOTE = "Staff-only: spoke to pharmacy about the refill"
API = "/api/v1/messages/"


def start(patient, *, subject="About my next session", body="Can I move it?", urgent=False, at=NOW):
    return message_thread_start(
        patient=patient, subject=subject, body=body, urgent=urgent, now=at
    ).message.thread


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def thread_url(thread, action=""):
    return f"{API}{thread.public_id}/{action + '/' if action else ''}"


def viewed_rows(actor):
    return list(
        AuditEvent.objects.filter(
            what=AuditEvent.What.MESSAGE_THREAD, action=AuditEvent.Action.VIEWED, actor=actor
        ).values_list("object_id", "channel", "patient_id")
    )


SCHEMA: dict = {}


def _strict(node):
    """An OpenAPI schema node as JSON Schema, strict: no undocumented key; `nullable`."""
    if isinstance(node, list):
        return [_strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _strict(v) for k, v in node.items()}
    if "properties" in node:
        node.setdefault("additionalProperties", False)
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def validate(body, component):
    """`body` against a component of the OpenAPI schema (the contract clients build on)."""
    if not SCHEMA:
        SCHEMA.update(_strict(SchemaGenerator().get_schema(request=None, public=True)))
    schema = {"$ref": f"#/components/schemas/{component}", "components": SCHEMA["components"]}
    jsonschema.Draft7Validator(schema).validate(body)


# The patient's side.


def test_a_patient_starts_a_thread_and_lists_their_own(patient_client, patient, other_patient):
    start(other_patient, subject="Not yours")
    response = post(
        patient_client,
        API,
        {"subject": "Dose question", "body": "Line one\nline two", "urgent": False},
    )

    assert response.status_code == 201
    body = response.json()
    validate(body, "MessagePosted")
    assert "safety" not in body
    thread = MessageThread.objects.get(public_id=body["thread"]["id"])
    assert thread.patient == patient and thread.staff_unread == 1
    assert body["thread"]["subject"] == "Dose question"
    assert body["message"]["body"] == "Line one\nline two"
    assert body["message"]["sender"] == "patient" and body["message"]["author"] is None
    assert not Alert.objects.exists()
    listed = patient_client.get(API).json()
    validate(listed["results"][0], "PatientThreadOutput")
    assert [t["id"] for t in listed["results"]] == [str(thread.public_id)]
    assert listed["count"] == 1


def test_an_urgent_message_raises_the_urgent_alert_and_carries_the_crisis_block(
    patient_client, patient
):
    response = post(patient_client, API, {"subject": "Help", "body": "Now", "urgent": True})

    assert response.status_code == 201
    assert response.json()["safety"] == crisis_block(alert_raised=True)
    [alert] = Alert.objects.filter(patient=patient)
    assert (alert.kind, alert.priority) == (Alert.Kind.MESSAGE_URGENT, Alert.Priority.URGENT)
    assert "Now" not in alert.reason
    thread = MessageThread.objects.get(patient=patient)
    reply = post(patient_client, thread_url(thread, "replies"), {"body": "Still", "urgent": True})
    assert reply.status_code == 201 and reply.json()["safety"]["alert_raised"] is True
    assert Alert.objects.filter(patient=patient).count() == 2


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"subject": "Hi", "body": "x"}, "urgent", "required"),
        ({"subject": "  ", "body": "x", "urgent": False}, "subject", "Give the message a subject."),
        ({"subject": "Hi", "body": "\u202e\n", "urgent": False}, "body", "Write a message."),
        ({"subject": "Hi", "body": "x" * 2001, "urgent": False}, "body", "at most 2000"),
        ({"subject": "x" * 121, "body": "x", "urgent": False}, "subject", "at most 120"),
        ({"subject": "Hi", "body": "a\x00b", "urgent": False}, "body", "Null characters"),
        ({"subject": "Hi", "body": ["x"], "urgent": False}, "body", "Not a valid string"),
        ({"subject": "Hi", "body": "x", "urgent": "maybe"}, "urgent", "boolean"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(patient_client, body, field, words):
    response = post(patient_client, API, body)

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid"
    assert words in " ".join(error["errors"][field])
    assert not MessageThread.objects.exists()


def test_a_patient_reads_their_thread_without_the_staff_notes(patient_client, patient, clinician):
    thread = start(patient)
    message_post(thread=thread, by=clinician, body=NOTE, staff_note=True, now=NOW)
    message_post(thread=thread, by=clinician, body="Yes, call us.", now=NOW + timedelta(hours=1))
    assert patient_client.get(API).json()["results"][0]["new_replies"] == 1

    response = patient_client.get(thread_url(thread))

    assert response.status_code == 200
    body = response.json()
    validate(body, "PatientThreadDetail")
    assert NOTE not in response.content.decode()
    assert [m["sender"] for m in body["messages"]] == ["patient", "care_team"]
    assert body["messages"][1]["author"] == clinician.full_name
    assert "is_staff_note" not in body["messages"][1]
    thread.refresh_from_db()
    assert thread.patient_unread == 0 and thread.staff_unread == 1
    assert viewed_rows(patient.user) == []  # a patient's reads of their own are not audited
    assert patient_client.get(API, {"unread": "true"}).json()["count"] == 0
    assert patient_client.get(API, {"unread": "false"}).json()["count"] == 1


def test_a_patient_reply_reopens_a_handled_thread(patient_client, patient, clinician):
    thread = start(patient)
    message_thread_handle(thread=thread, by=clinician, now=NOW)

    response = post(patient_client, thread_url(thread, "replies"), {"body": "One more thing"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"urgent": ["Say whether this is urgent."]}
    response = post(
        patient_client, thread_url(thread, "replies"), {"body": "One more thing", "urgent": False}
    )

    assert response.status_code == 201
    validate(response.json(), "PatientPosted")
    thread.refresh_from_db()
    assert thread.status == MessageThread.Status.OPEN and thread.staff_unread == 2


def test_a_patient_never_reaches_another_patients_thread(client, patient, other_patient):
    theirs = start(other_patient)
    client.force_login(patient.user)

    assert client.get(thread_url(theirs)).status_code == 404
    assert post(client, thread_url(theirs, "replies"), {"body": "x", "urgent": False}).json()[
        "code"
    ] == ("not_found")
    assert client.get(thread_url(theirs)).json()["code"] == "not_found"
    assert theirs.messages.count() == 1
    denied = AuditEvent.objects.filter(action="denied", what="message_thread", actor=patient.user)
    assert denied.count() == 3


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("notes", {"body": "x"}),
        ("assign", {"assigned_to": None}),
        ("status", {"status": "handled"}),
    ],
)
def test_patients_never_reach_the_staff_actions_of_their_own_thread(
    patient_client, patient, action, body
):
    thread = start(patient)

    response = post(patient_client, thread_url(thread, action), body)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    thread.refresh_from_db()
    assert thread.messages.count() == 1 and thread.status == MessageThread.Status.OPEN


# The care team's side.


def test_staff_read_a_thread_with_its_notes_and_every_opening_is_audited(
    clinician_client, clinician, patient
):
    thread = start(patient)
    message_post(thread=thread, by=clinician, body=NOTE, staff_note=True, now=NOW)

    bodies = [clinician_client.get(thread_url(thread)).json() for _ in range(2)]

    validate(bodies[0], "StaffThreadDetail")
    assert [m["is_staff_note"] for m in bodies[0]["messages"]] == [False, True]
    assert bodies[0]["messages"][1]["body"] == NOTE
    assert bodies[0]["patient"] == str(patient.public_id)
    assert viewed_rows(clinician) == [(str(thread.public_id), "api", patient.pk)] * 2
    thread.refresh_from_db()
    assert thread.staff_unread == 0 and thread.patient_unread == 0


def test_staff_reply_and_note_and_the_patient_sees_the_reply_only(
    clinician_client, clinician, patient, client
):
    thread = start(patient)

    reply = post(clinician_client, thread_url(thread, "replies"), {"body": "Call us tomorrow."})
    note = post(clinician_client, thread_url(thread, "notes"), {"body": NOTE})
    urgent = post(clinician_client, thread_url(thread, "replies"), {"body": "x", "urgent": True})

    assert reply.status_code == note.status_code == 201
    validate(reply.json(), "StaffPosted")
    assert reply.json()["thread"]["waiting_since"] is None
    assert note.json()["message"]["is_staff_note"] is True
    assert urgent.status_code == 400 and "urgent" in urgent.json()["errors"]
    thread.refresh_from_db()
    assert thread.patient_unread == 1
    assert list(thread.messages.values_list("is_staff_note", flat=True)) == [False, False, True]
    client.force_login(patient.user)
    seen = client.get(thread_url(thread))
    assert "Call us tomorrow." in seen.content.decode() and NOTE not in seen.content.decode()


def test_staff_assign_and_handle_and_reopen(clinician_client, clinician, clinic, patient):
    colleague = StaffFactory(clinic=clinic).user
    thread = start(patient)

    assigned = post(clinician_client, thread_url(thread, "assign"), {"assigned_to": colleague.pk})
    assert assigned.status_code == 200
    assert assigned.json()["assigned_to"] == {"id": colleague.pk, "name": str(colleague)}
    nobody = post(clinician_client, thread_url(thread, "assign"), {"assigned_to": None})
    assert nobody.json()["assigned_to"] is None
    handled = post(clinician_client, thread_url(thread, "status"), {"status": "handled"})
    assert handled.status_code == 200 and handled.json()["status"] == "handled"
    again = post(clinician_client, thread_url(thread, "status"), {"status": "handled"})
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    reopened = post(clinician_client, thread_url(thread, "status"), {"status": "open"})
    assert reopened.json()["status"] == "open" and reopened.json()["handled_at"] is None
    assert post(clinician_client, thread_url(thread, "status"), {"status": "open"}).status_code == (
        409
    )
    actions = AuditEvent.objects.filter(what="message_thread", actor=clinician)
    assert list(actions.values_list("action", flat=True).order_by("id")) == [
        "assigned",
        "assigned",
        "handled",
        "reopened",
    ]


@pytest.mark.parametrize("to", ["other_clinic", "patient", 0, "x", [1]])
def test_a_thread_is_assigned_only_to_the_clinics_care_team(
    clinician_client, patient, other_clinician, to
):
    thread = start(patient)
    people = {"other_clinic": other_clinician.pk, "patient": patient.user.pk}
    chosen = people[to] if isinstance(to, str) and to in people else to

    response = post(clinician_client, thread_url(thread, "assign"), {"assigned_to": chosen})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["assigned_to"]
    thread.refresh_from_db()
    assert thread.assigned_to is None


def test_the_staff_list_filters(clinician_client, clinician, clinic, patient, other_patient):
    fresh = start(patient, subject="fresh", at=NOW - timedelta(hours=1))
    start(other_patient, subject="urgent", urgent=True, at=NOW)
    answered = start(patient, subject="answered", at=NOW - timedelta(hours=5))
    message_post(thread=answered, by=clinician, body="ok", now=NOW - timedelta(hours=4))
    MessageThread.objects.filter(pk=answered.pk).update(staff_unread=0)
    done = start(other_patient, subject="done", at=NOW - timedelta(days=2))
    message_thread_handle(thread=done, by=clinician, now=NOW)
    message_thread_assign(thread=fresh, to=clinician, by=clinician, now=NOW)
    start(PatientFactory(), subject="another clinic's")

    def subjects(**query):
        response = clinician_client.get(API, query)
        assert response.status_code == 200
        for row in response.json()["results"]:
            validate(row, "StaffThreadOutput")
        return [row["subject"] for row in response.json()["results"]]

    assert subjects() == ["urgent", "fresh", "answered", "done"]  # latest activity first
    assert subjects(unread="true") == ["urgent", "done", "fresh"]  # urgent, then longest waiting
    assert subjects(unread="false") == ["answered"]
    assert subjects(waiting="true") == ["urgent", "fresh"]
    assert subjects(waiting="false") == ["answered", "done"]
    assert subjects(assigned="me") == ["fresh"]
    assert subjects(assigned="nobody") == ["urgent", "answered", "done"]
    assert subjects(patient=str(patient.public_id)) == ["fresh", "answered"]
    assert subjects(patient=str(uuid.uuid4())) == []
    assert subjects(status="handled") == ["done"]
    assert subjects(status="open", unread="true", assigned="me") == ["fresh"]
    lists_read = AuditEvent.objects.filter(
        actor=clinician, what="message_thread", action="viewed", patient=None, channel="api"
    )
    assert lists_read.count() == 11  # each call of the list above


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"unread": "sometimes"}, "unread"),
        ({"waiting": "2"}, "waiting"),
        ({"assigned": "you"}, "assigned"),
        ({"patient": "not-a-uuid"}, "patient"),
        ({"status": "closed"}, "status"),
        ({"page": "0"}, None),
    ],
)
def test_bad_filters_are_a_400_never_ignored(clinician_client, patient, query, field):
    start(patient)

    response = clinician_client.get(API, query)

    assert response.status_code == (400 if field else 404)
    if field:
        assert list(response.json()["errors"]) == [field]


def test_staff_of_another_clinic_get_404_and_a_denied_row(client, patient, other_clinician):
    thread = start(patient)
    client.force_login(other_clinician)

    answers = [client.get(thread_url(thread))]
    for action, body in [
        ("replies", {"body": "x"}),
        ("notes", {"body": "x"}),
        ("assign", {"assigned_to": other_clinician.pk}),
        ("status", {"status": "handled"}),
    ]:
        answers.append(post(client, thread_url(thread, action), body))

    assert [a.status_code for a in answers] == [404] * 5
    assert {a.json()["code"] for a in answers} == {"not_found"}
    assert client.get(API).json()["results"] == []
    thread.refresh_from_db()
    assert thread.messages.count() == 1 and thread.staff_unread == 1
    assert thread.status == MessageThread.Status.OPEN and thread.assigned_to is None
    denied = AuditEvent.objects.filter(actor=other_clinician, action="denied")
    assert denied.count() == 5
    assert set(denied.values_list("object_id", flat=True)) == {str(thread.public_id)}


def test_staff_cannot_start_a_thread(clinician_client):
    response = post(clinician_client, API, {"subject": "Hi", "body": "x", "urgent": False})

    assert response.status_code == 404
    assert not MessageThread.objects.exists()


def test_message_ids_are_stable_opaque_and_shared_with_fhir(clinician_client, patient):
    thread = start(patient)
    [message] = Message.objects.filter(thread=thread)

    body = clinician_client.get(thread_url(thread)).json()
    bundle = clinician_client.get(f"/api/v1/patients/{patient.public_id}/fhir/").json()

    expected = str(message_public_id(thread.public_id, message.pk))
    assert body["messages"][0]["id"] == expected
    communications = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Communication"
    ]
    assert [c["id"] for c in communications] == [expected]
    # Opaque: a UUID worked out from the thread, not the row's number (which a short
    # number's digits can match inside a UUID by chance).
    assert str(uuid.UUID(expected)) == expected
    assert expected not in {str(message.pk), str(thread.public_id)}


def test_the_list_and_a_thread_cost_the_same_statements_for_1_and_20(
    clinician_client, clinician, patient
):
    def cost(url) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert clinician_client.get(url).status_code == 200
        return len(queries)

    one = start(patient)
    small = (cost(API), cost(thread_url(one)))
    many = start(patient)
    for n in range(19):
        start(patient, at=NOW + timedelta(minutes=n))
        message_post(thread=many, by=clinician, body=f"r{n}", now=NOW + timedelta(minutes=n))
        message_post(thread=many, by=clinician, body=f"n{n}", staff_note=True, now=NOW)

    assert (cost(API), cost(thread_url(many))) == small
