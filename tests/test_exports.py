"""CSV export for staff: headers, values, scoping, formula escaping, streaming, bad input."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from care.exports import ASSESSMENT_COLUMNS, CHECKIN_COLUMNS, SESSION_COLUMNS, cell
from care.models import TreatmentSession
from care.services import assessment_submit
from tests.factories import CheckInFactory, PatientFactory

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)


def read(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


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
    url = reverse("care:clinic-export")
    assert header(clinician_client.get(url, {"records": "sessions"})) == [
        name for name, _ in SESSION_COLUMNS
    ]
    rows = read(clinician_client.get(url, {"records": "sessions"}))
    assert {row["patient_id"] for row in rows} == {
        str(patient.public_id),
        str(other_patient.public_id),
    }
    assert rows[0]["dose_mg"] == "35.0"
    assert rows[0]["bp_pre_systolic"] == "128"
    assert rows[0]["adverse_events"] == "'@nausea"
    assert rows[0]["scheduled_at"] == "2026-03-04T15:30:00Z"


@pytest.mark.parametrize("records", ["", "patients", "checkins;drop"])
def test_unknown_record_kind_is_a_clear_400(clinician_client, patient, records):
    for url in (
        reverse("care:clinic-export"),
        reverse("care:patient-export", args=[patient.public_id]),
    ):
        response = clinician_client.get(url, {"records": records})
        assert response.status_code == 400
        assert "checkins, assessments, sessions" in response.content.decode()


def test_other_clinics_patient_is_404_and_patients_cannot_export(
    clinician_client, foreign_patient, patient, client
):
    url = reverse("care:patient-export", args=[foreign_patient.public_id])
    assert clinician_client.get(url, {"records": "checkins"}).status_code == 404
    client.force_login(patient.user, backend="django.contrib.auth.backends.ModelBackend")
    own = reverse("care:patient-export", args=[patient.public_id])
    assert client.get(own, {"records": "checkins"}).status_code == 404
    assert client.get(reverse("care:clinic-export"), {"records": "checkins"}).status_code == 404


def test_clinic_export_query_count_does_not_grow_with_rows(clinician_client, clinic):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = clinician_client.get(reverse("care:clinic-export"), {"records": "checkins"})
            b"".join(response.streaming_content)
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
    ],
)
def test_readme_documents_each_header_row(kind, columns):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
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


def test_settings_page_links_the_downloads(patient_client):
    page = patient_client.get(reverse("notifications:settings")).content.decode()
    assert reverse("care:my-export-json") in page
    assert reverse("care:my-export-csv") + "?records=assessments" in page


def test_staff_have_no_own_data_download(clinician_client):
    assert clinician_client.get(reverse("care:my-export-json")).status_code == 404
