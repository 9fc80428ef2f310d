"""CSV export for staff: headers, values, scoping, formula escaping, streaming, bad input."""

import csv
import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from care.domain.messages import message_public_id
from care.exports.services import export_job_request, export_job_run
from care.exports.tables import (
    ASSESSMENT_COLUMNS,
    CHECKIN_COLUMNS,
    CHUNK,
    KINDS,
    MESSAGE_COLUMNS,
    MOVE_REQUEST_COLUMNS,
    READINESS_COLUMNS,
    REFLECTION_COLUMNS,
    SESSION_COLUMNS,
    WEIGHT_COLUMNS,
    cell,
    csv_trailer_verify,
    export_csv,
    export_queryset,
)
from care.messages.services import message_post, message_thread_start
from care.models import (
    AuditEvent,
    BodyWeight,
    ExportJob,
    Patient,
    SessionMoveRequest,
    SessionReadiness,
    SessionReflection,
    TreatmentSession,
)
from care.records.services import assessment_submit
from tests.factories import CheckInFactory, PatientFactory

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(columns: list, rows) -> Iterator[str]:
    """The reference the COPY-made file is compared with: the header line, then one line
    per row, each value through `cell` and Python's csv writer."""
    writer = csv.writer(_Echo())
    yield writer.writerow([name for name, _ in columns])
    for row in rows.iterator(chunk_size=CHUNK):
        yield writer.writerow([cell(value(row)) for _, value in columns])


def read(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    body = b"".join(response.streaming_content)
    csv_trailer_verify(body)
    rows = body[: body.rindex(b"# rows=")].decode()
    return list(csv.DictReader(io.StringIO(rows)))


def clinic_download(client, kind: str):
    """The whole-clinic export of `kind` as its asker gets it: asked for on the exports page,
    written by the worker's task, downloaded (the response, its file not yet read)."""
    asked = client.post(reverse("care:clinic-exports"), {"records": kind})
    assert asked.status_code == 302
    job = ExportJob.objects.latest("id")
    export_job_run(job_id=job.pk)
    return client.get(reverse("care:clinic-export-download", args=[job.public_id]))


def header(response) -> list[str]:
    body = b"".join(response.streaming_content).decode()
    return next(csv.reader(io.StringIO(body)))


def test_cell_formats_values_and_defuses_formulas():
    assert cell(None) == ""
    assert cell(True) == "yes"
    assert cell(False) == "no"
    assert cell(MOMENT) == "2026-03-04T15:30:00Z"
    assert cell(date(2026, 3, 4)) == "2026-03-04"
    assert cell(Decimal("7.5")) == "7.5"
    assert cell(-3) == "-3"
    assert cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    for start in "+-@":
        assert cell(start + "1") == "'" + start + "1"
    assert cell("felt fine") == "felt fine"


def test_patient_checkins_export(clinician_client, patient, other_patient):
    CheckInFactory(
        patient=patient,
        local_date=date(2026, 3, 4),
        mood=3,
        sleep_hours=Decimal("6.5"),
        side_effects=["nausea", "dizziness"],
        has_self_harm_thoughts=True,
        note="=cmd|' /C calc'!A0",
        submitted_at=MOMENT,
    )
    CheckInFactory(patient=other_patient, local_date=date(2026, 3, 4))
    url = reverse("care:patient-export", args=[patient.public_id])
    response = clinician_client.get(url, {"records": "checkins"})
    assert header(clinician_client.get(url, {"records": "checkins"})) == [
        name for name, _ in CHECKIN_COLUMNS
    ]
    rows = read(response)
    assert len(rows) == 1
    row = rows[0]
    assert row["patient_id"] == str(patient.public_id)
    assert row["day"] == "2026-03-04"
    assert row["mood"] == "3"
    assert row["sleep_hours"] == "6.5"
    assert row["side_effects"] == "nausea;dizziness"
    assert row["self_harm_thoughts"] == "yes"
    assert row["note"] == "'=cmd|' /C calc'!A0"
    assert row["submitted_at"] == "2026-03-04T15:30:00Z"
    assert str(patient.public_id) in response["Content-Disposition"]
    assert patient.preferred_name not in response["Content-Disposition"]


def test_patient_assessments_export_has_answers_and_scores(clinician_client, patient):
    first = assessment_submit(
        patient=patient,
        instrument_code="phq9",
        answers={str(n): 2 for n in range(1, 10)} | {"9": 0},
        difficulty=1,
        client_id=None,
        entered_by=patient.user,
        now=MOMENT,
    ).assessment
    url = reverse("care:patient-export", args=[patient.public_id])
    assert header(clinician_client.get(url, {"records": "assessments"})) == [
        name for name, _ in ASSESSMENT_COLUMNS
    ]
    (row,) = read(clinician_client.get(url, {"records": "assessments"}))
    assert row["assessment_id"] == str(first.public_id)
    assert row["instrument"] == "PHQ-9"
    assert row["total"] == "16" == str(first.total)
    assert row["band"] == first.band
    assert row["difficulty"] == "1"
    assert row["answers"] == "1=2;2=2;3=2;4=2;5=2;6=2;7=2;8=2;9=0"
    assert row["completed_at"] == "2026-03-04T15:30:00Z"
    assert row["supersedes_id"] == ""


def test_clinic_sessions_export_covers_own_clinic_only(
    clinician_client, patient, other_patient, foreign_patient
):
    for who in (patient, other_patient, foreign_patient):
        TreatmentSession.objects.create(
            patient=who,
            scheduled_at=MOMENT,
            route="iv",
            dose_mg=Decimal("35.0"),
            bp_pre_systolic=128,
            adverse_events="@nausea",
        )
    assert header(clinic_download(clinician_client, "sessions")) == [
        name for name, _ in SESSION_COLUMNS
    ]
    rows = read(clinic_download(clinician_client, "sessions"))
    assert {row["patient_id"] for row in rows} == {
        str(patient.public_id),
        str(other_patient.public_id),
    }
    assert rows[0]["dose_mg"] == "35.0"
    assert rows[0]["bp_pre_systolic"] == "128"
    assert rows[0]["adverse_events"] == "'@nausea"
    assert rows[0]["scheduled_at"] == "2026-03-04T15:30:00Z"


# Messages are in the patient's own download only: staff read threads on their page.
@pytest.mark.parametrize("records", ["", "patients", "checkins;drop", "messages"])
def test_unknown_record_kind_is_a_clear_400(clinician_client, patient, records):
    response = clinician_client.get(
        reverse("care:patient-export", args=[patient.public_id]), {"records": records}
    )
    assert response.status_code == 400
    assert "checkins, assessments, sessions" in response.content.decode()
    # Asked for on the exports page: the page says which kinds there are, nothing is queued.
    response = clinician_client.post(
        reverse("care:clinic-exports"), {"records": records}, follow=True
    )
    assert response.status_code == 200
    assert "Choose the records to export: checkins, assessments, sessions." in (
        response.content.decode()
    )
    assert not ExportJob.objects.exists()


def test_other_clinics_patient_is_404_and_patients_cannot_export(
    clinician_client, foreign_patient, patient, client
):
    url = reverse("care:patient-export", args=[foreign_patient.public_id])
    assert clinician_client.get(url, {"records": "checkins"}).status_code == 404
    client.force_login(patient.user, backend="django.contrib.auth.backends.ModelBackend")
    own = reverse("care:patient-export", args=[patient.public_id])
    assert client.get(own, {"records": "checkins"}).status_code == 404
    assert client.post(reverse("care:clinic-exports"), {"records": "checkins"}).status_code == 404
    assert not ExportJob.objects.exists()


def test_clinic_export_query_count_does_not_grow_with_rows(clinician, clinic):
    def count_queries() -> int:
        job, _new = export_job_request(clinic=clinic, user=clinician, kind="checkins", now=MOMENT)
        with CaptureQueriesContext(connection) as queries:
            export_job_run(job_id=job.pk)
        return len(queries)

    PatientFactory(clinic=clinic)
    small = count_queries()
    for _ in range(5):
        someone = PatientFactory(clinic=clinic)
        for day in (2, 3, 4):
            CheckInFactory(patient=someone, local_date=date(2026, 3, day))
    assert count_queries() == small


@pytest.mark.parametrize(
    ("kind", "columns"),
    [
        ("checkins", CHECKIN_COLUMNS),
        ("assessments", ASSESSMENT_COLUMNS),
        ("sessions", SESSION_COLUMNS),
        ("messages", MESSAGE_COLUMNS),
        ("weights", WEIGHT_COLUMNS),
        ("readiness", READINESS_COLUMNS),
        ("reflections", REFLECTION_COLUMNS),
        ("move_requests", MOVE_REQUEST_COLUMNS),
    ],
)
def test_the_docs_document_each_header_row(kind, columns):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "docs" / "features.md").read_text()
    assert f"`{kind}`: `{','.join(name for name, _ in columns)}`" in readme


def test_patient_downloads_all_own_data_as_json(patient_client, patient, other_patient):
    CheckInFactory(patient=patient, local_date=date(2026, 3, 4), mood=6, submitted_at=MOMENT)
    CheckInFactory(patient=other_patient, local_date=date(2026, 3, 4), mood=1)
    done = assessment_submit(
        patient=patient,
        instrument_code="gad7",
        answers={str(n): 1 for n in range(1, 8)},
        difficulty=None,
        client_id=None,
        entered_by=patient.user,
        now=MOMENT,
    ).assessment
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=MOMENT, route="intranasal", dose_mg=Decimal("56")
    )
    response = patient_client.get(reverse("care:my-export-json"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="my-care-record-')
    assert (
        response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    )
    data = response.json()
    assert data["patient"]["patient_id"] == str(patient.public_id)
    assert data["patient"]["email"] == patient.user.email
    assert [c["mood"] for c in data["checkins"]] == [6]
    assert data["checkins"][0]["day"] == "2026-03-04"
    assert data["checkins"][0]["self_harm_thoughts"] is False
    (assessment,) = data["assessments"]
    assert assessment["assessment_id"] == str(done.public_id)
    assert assessment["total"] == 7 == done.total
    assert assessment["completed_at"] == "2026-03-04T15:30:00Z"
    (session,) = data["sessions"]
    assert session["route"] == "intranasal" and session["dose_mg"] == "56.0"


def test_patient_downloads_own_csv_only(patient_client, patient, other_patient):
    CheckInFactory(patient=patient, local_date=date(2026, 3, 4))
    CheckInFactory(patient=other_patient, local_date=date(2026, 3, 4))
    rows = read(patient_client.get(reverse("care:my-export-csv"), {"records": "checkins"}))
    assert [row["patient_id"] for row in rows] == [str(patient.public_id)]
    response = patient_client.get(reverse("care:my-export-csv"), {"records": "nope"})
    assert response.status_code == 400
    assert "checkins, assessments, sessions, messages" in response.content.decode()


STAFF_NOTE = "Staff note ZQXW: pharmacy called back"


@pytest.fixture
def conversation(patient, other_patient, clinician):
    """The patient's thread with a reply, a staff note and an urgent answer; another
    patient's thread."""
    thread = message_thread_start(
        patient=patient,
        subject="=About my dose",
        body="Can I move it?\nThanks",
        urgent=False,
        now=MOMENT,
    ).message.thread
    message_post(thread=thread, by=clinician, body=STAFF_NOTE, staff_note=True, now=MOMENT)
    message_post(thread=thread, by=clinician, body="-Yes, call us.", now=MOMENT)
    message_post(thread=thread, by=patient.user, body="OK", urgent=True, now=MOMENT)
    message_thread_start(
        patient=other_patient, subject="Theirs", body="Not yours", urgent=False, now=MOMENT
    )
    return thread


def test_patient_downloads_own_messages_as_csv_without_staff_notes(
    patient_client, patient, clinician, conversation
):
    response = patient_client.get(reverse("care:my-export-csv"), {"records": "messages"})

    assert response["Content-Disposition"].startswith('attachment; filename="my-messages-')
    rows = read(response)
    assert [list(row) for row in rows[:1]] == [[name for name, _ in MESSAGE_COLUMNS]]
    assert [row["body"] for row in rows] == ["Can I move it?\nThanks", "'-Yes, call us.", "OK"]
    assert {row["patient_id"] for row in rows} == {str(patient.public_id)}
    assert {row["thread_id"] for row in rows} == {str(conversation.public_id)}
    assert {row["subject"] for row in rows} == {"'=About my dose"}
    assert [row["sender"] for row in rows] == ["patient", "care_team", "patient"]
    assert [row["author"] for row in rows] == ["", clinician.full_name, ""]
    assert [row["urgent"] for row in rows] == ["no", "no", "yes"]
    assert rows[0]["sent_at"] == "2026-03-04T15:30:00Z"
    ids = list(conversation.messages.filter(is_staff_note=False).values_list("pk", flat=True))
    assert [row["message_id"] for row in rows] == [
        str(message_public_id(conversation.public_id, pk)) for pk in ids
    ]
    assert STAFF_NOTE not in b"".join(response.streaming_content).decode()
    exported = AuditEvent.objects.get(actor=patient.user, action=AuditEvent.Action.EXPORTED)
    assert (exported.what, exported.patient_id) == (AuditEvent.What.MESSAGE_THREAD, patient.pk)


def test_patient_downloads_own_messages_in_the_json_without_staff_notes(
    patient_client, conversation
):
    response = patient_client.get(reverse("care:my-export-json"))

    assert STAFF_NOTE not in response.content.decode()
    messages = response.json()["messages"]
    assert [m["body"] for m in messages] == ["Can I move it?\nThanks", "-Yes, call us.", "OK"]
    assert messages[0] == {
        "thread_id": str(conversation.public_id),
        "subject": "=About my dose",
        "message_id": messages[0]["message_id"],
        "sent_at": "2026-03-04T15:30:00Z",
        "sender": "patient",
        "author": "",
        "urgent": False,
        "body": "Can I move it?\nThanks",
    }
    assert messages[2]["urgent"] is True


def test_the_messages_download_costs_the_same_statements_for_1_and_30(
    patient_client, patient, clinician
):
    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = patient_client.get(reverse("care:my-export-csv"), {"records": "messages"})
            b"".join(response.streaming_content)
        return len(queries)

    thread = message_thread_start(
        patient=patient, subject="s", body="b", urgent=False, now=MOMENT
    ).message.thread
    small = cost()
    for number in range(29):
        message_post(thread=thread, by=clinician, body=f"r{number}", now=MOMENT)
    assert cost() == small


def test_settings_page_links_the_downloads(patient_client):
    page = patient_client.get(reverse("notifications:settings")).content.decode()
    assert reverse("care:my-export-json") in page
    assert reverse("care:my-export-csv") + "?records=assessments" in page
    assert reverse("care:my-export-csv") + "?records=messages" in page
    for kind in ("weights", "readiness", "reflections", "move_requests"):
        assert reverse("care:my-export-csv") + f"?records={kind}" in page


def test_staff_have_no_own_data_download(clinician_client):
    assert clinician_client.get(reverse("care:my-export-json")).status_code == 404


def tricky_records(patient, other_patient):
    """Rows whose cells test the CSV's rules: formulas, quotes, newlines, blanks, fractions."""
    CheckInFactory(
        patient=patient,
        local_date=date(2026, 3, 4),
        sleep_hours=Decimal("7.0"),
        side_effects=["nausea", "headache"],
        has_self_harm_thoughts=True,
        note='-2 "quoted", with comma\nand a second line',
        submitted_at=datetime(2026, 3, 4, 15, 30, 0, 120, tzinfo=UTC),
    )
    CheckInFactory(patient=patient, local_date=date(2026, 3, 5), note="", side_effects=[])
    CheckInFactory(patient=other_patient, local_date=date(2026, 3, 4), note="\t=1+1")
    assessment_submit(
        patient=patient,
        instrument_code="phq9",
        answers={str(n): 1 for n in range(1, 10)},
        difficulty=None,
        client_id=None,
        entered_by=patient.user,
        now=MOMENT,
    )
    assessment_submit(
        patient=other_patient,
        instrument_code="gad7",
        answers={str(n): 3 for n in range(1, 8)},
        difficulty=2,
        client_id=None,
        entered_by=other_patient.user,
        now=MOMENT,
    )
    TreatmentSession.objects.create(
        patient=patient,
        scheduled_at=MOMENT,
        route="iv",
        dose_mg=Decimal("35.0"),
        dose_mg_per_kg=Decimal("0.50"),
        bp_pre_systolic=128,
        adverse_events='@nausea, "mild"',
        notes="+ fine",
        lot_number="",
    )
    TreatmentSession.objects.create(patient=other_patient, scheduled_at=MOMENT, route="intranasal")


@pytest.mark.parametrize("kind", KINDS)
def test_every_csv_ends_with_a_trailer_of_its_row_count_and_checksum(
    clinician_client, patient, other_patient, kind
):
    tricky_records(patient, other_patient)
    response = clinic_download(clinician_client, kind)
    body = b"".join(response.streaming_content)
    head, trailer = body[: body.rindex(b"# rows=")], body[body.rindex(b"# rows=") :]
    rows = list(csv.reader(io.StringIO(head.decode())))[1:]
    assert len(rows) >= 2
    expected = f"# rows={len(rows)} sha256={hashlib.sha256(head).hexdigest()}\r\n"
    assert trailer.decode() == expected
    assert csv_trailer_verify(body) == len(rows)


def test_a_download_cut_mid_stream_is_detectable(clinician_client, patient, other_patient):
    tricky_records(patient, other_patient)
    response = clinic_download(clinician_client, "checkins")
    body = b"".join(response.streaming_content)
    assert csv_trailer_verify(body) == 3
    lines = body.split(b"\r\n")
    cut_at_a_row = b"\r\n".join(lines[:2]) + b"\r\n"
    cut_mid_row = body[: len(body) // 2]
    row_dropped = b"\r\n".join(lines[:1] + lines[2:])
    trailer_only_cut = body[:-10]
    for broken in (cut_at_a_row, cut_mid_row, row_dropped, trailer_only_cut, b""):
        with pytest.raises(ValueError):
            csv_trailer_verify(broken)


@pytest.mark.parametrize("kind", KINDS)
def test_streamed_csv_matches_the_row_by_row_rendering_byte_for_byte(
    clinician_client, clinic, patient, other_patient, kind
):
    """The file comes from COPY; its rows must be those the Python writer makes."""
    tricky_records(patient, other_patient)
    columns, rows = export_queryset(kind, Patient.objects.filter(clinic=clinic))
    reference = "".join(csv_lines(columns, rows)).encode()
    response = clinic_download(clinician_client, kind)
    body = b"".join(response.streaming_content)
    assert body[: body.rindex(b"# rows=")] == reference


def test_a_download_abandoned_mid_stream_leaves_the_connection_usable(
    clinic, patient, other_patient, monkeypatch
):
    """A client that hangs up closes the stream mid-COPY; the next query must still work."""
    monkeypatch.setattr("care.exports.tables.SEND_BYTES", 1)
    tricky_records(patient, other_patient)
    stream = export_csv("checkins", Patient.objects.filter(clinic=clinic))
    assert next(stream).startswith(b"patient_id,day,")
    next(stream)
    stream.close()
    assert Patient.objects.filter(clinic=clinic).count() == 2
    assert csv_trailer_verify(b"".join(export_csv("checkins", Patient.objects.all()))) == 3


@pytest.fixture
def treatment(patient, other_patient, clinician):
    """The patient's plan (two versions), a weight typed in lb, a held session with readiness
    answers and a reflection, a booked one with a declined move request; another patient's
    weight and move request."""
    from care.treatment.services import treatment_plan_version_create

    values = {
        "route": "iv",
        "induction_sessions": 6,
        "induction_weeks": 3,
        "target_dose_mg_per_kg": Decimal("0.50"),
        "maintenance": "every_n_weeks",
        "maintenance_every_weeks": 4,
        "questionnaires": ["phq9"],
        "questionnaire_every_days": 14,
        "goals": "Sleep through the night",
        "prescriber": clinician,
    }
    treatment_plan_version_create(
        patient=patient, by=clinician, now=MOMENT, values=values, reason_code="", reason=""
    )
    treatment_plan_version_create(
        patient=patient,
        by=clinician,
        now=MOMENT,
        values={**values, "target_dose_mg_per_kg": Decimal("0.65")},
        reason_code="partial_response",
        reason="Reason words ZKQ",
    )
    for who, kg in ((patient, "74.8"), (other_patient, "60.0")):
        BodyWeight.objects.create(
            patient=who,
            weight_kg=Decimal(kg),
            entered_value=Decimal("165.0"),
            entered_unit="lb",
            measured_on=date(2026, 3, 1),
            recorded_by=clinician,
            created_at=MOMENT,
        )
    held = TreatmentSession.objects.create(
        patient=patient, scheduled_at=MOMENT, route="iv", status="completed", chair=2
    )
    SessionReadiness.objects.create(
        session=held,
        ride_arranged=True,
        fasting_understood=True,
        feeling_well=False,
        new_medicines=False,
        answered_at=MOMENT,
    )
    SessionReflection.objects.create(
        session=held, what_came_up="=Old memories", feeling="Calm", created_at=MOMENT
    )
    coming = TreatmentSession.objects.create(patient=patient, scheduled_at=MOMENT, route="iv")
    SessionMoveRequest.objects.create(
        session=coming,
        preferred_times="Mornings",
        created_at=MOMENT,
        status="declined",
        decided_at=MOMENT,
        answer="No chair free",
    )
    theirs = TreatmentSession.objects.create(patient=other_patient, scheduled_at=MOMENT, route="iv")
    SessionMoveRequest.objects.create(session=theirs, preferred_times="Theirs", created_at=MOMENT)
    return held, coming


def test_the_json_download_has_the_plan_in_plain_terms_and_the_treatment_records(
    patient_client, patient, treatment
):
    held, coming = treatment

    response = patient_client.get(reverse("care:my-export-json"))

    data = response.json()
    plan = data["treatment_plan"]
    assert plan["version"] == 2
    assert plan["induction"] == "6 sessions over 3 weeks"
    assert plan["questionnaires"] == ["phq9"]
    assert plan["goals"] == "Sleep through the night"
    text = response.content.decode()
    assert "Reason words ZKQ" not in text and "0.65" not in text and "partial" not in text
    assert data["weights"] == [
        {
            "weight_id": data["weights"][0]["weight_id"],
            "measured_on": "2026-03-01",
            "weight_kg": "74.8",
            "entered_value": "165.0",
            "entered_unit": "lb",
            "recorded_at": "2026-03-04T15:30:00Z",
        }
    ]
    (readiness,) = data["readiness"]
    assert (readiness["session_id"], readiness["ready"], readiness["feeling_well"]) == (
        held.pk,
        False,
        False,
    )
    (reflection,) = data["reflections"]
    assert reflection["what_came_up"] == "=Old memories" and reflection["session_id"] == held.pk
    (move,) = data["move_requests"]
    assert (move["session_id"], move["status"], move["answer"]) == (
        coming.pk,
        "declined",
        "No chair free",
    )
    sessions = {s["session_id"]: s for s in data["sessions"]}
    assert sessions[held.pk]["chair"] == 2


def test_a_patient_without_a_plan_downloads_a_null_plan(patient_client):
    assert patient_client.get(reverse("care:my-export-json")).json()["treatment_plan"] is None


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        ("weights", AuditEvent.What.WEIGHT),
        ("readiness", AuditEvent.What.READINESS),
        ("reflections", AuditEvent.What.REFLECTION),
        ("move_requests", AuditEvent.What.MOVE_REQUEST),
    ],
)
def test_the_treatment_records_download_as_own_csv_and_are_audited(
    patient_client, patient, treatment, kind, what
):
    response = patient_client.get(reverse("care:my-export-csv"), {"records": kind})

    assert response.status_code == 200
    rows = read(response)
    assert len(rows) == 1
    assert {row["patient_id"] for row in rows} == {str(patient.public_id)}
    exported = AuditEvent.objects.get(actor=patient.user, action=AuditEvent.Action.EXPORTED)
    assert exported.what == what
    if kind == "reflections":
        assert rows[0]["what_came_up"] == "'=Old memories"  # a formula start defused


@pytest.mark.parametrize("kind", ["weights", "readiness", "reflections", "move_requests"])
def test_staff_exports_have_no_patient_only_kinds(clinician_client, patient, kind):
    url = reverse("care:patient-export", kwargs={"public_id": patient.public_id})

    assert clinician_client.get(url, {"records": kind}).status_code == 400
