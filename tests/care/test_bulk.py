"""RowWriter: rows written in bulk (COPY) read back as the ORM's own rows."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from psycopg.adapt import Transformer

from care.models import Assessment, CheckIn, TreatmentSession
from devtools.bulk import PROBE, RowWriter, _Column

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
FIELDS = [
    "patient_id", "local_date", "mood", "anxiety", "energy", "sleep_hours", "sleep_quality",
    "side_effects", "has_self_harm_thoughts", "note", "submitted_at", "updated_at",
]  # fmt: skip


def checkin(day: int, **overrides) -> dict:
    at = datetime(2026, 3, 1, 19, 5, tzinfo=CHICAGO) + timedelta(days=day)
    return {
        "local_date": date(2026, 3, 1) + timedelta(days=day),
        "mood": day % 11,
        "anxiety": 3,
        "energy": 4,
        "sleep_hours": Decimal("7.5"),
        "sleep_quality": 2,
        "side_effects": ["nausea"] if day % 2 else [],
        "has_self_harm_thoughts": day == 3,
        "note": "",
        "submitted_at": at,
        "updated_at": at,
    } | overrides


def stored(patient) -> list[dict]:
    fields = [f.attname for f in CheckIn._meta.concrete_fields if f.attname not in ("id",)]
    rows = CheckIn.objects.filter(patient=patient).order_by("local_date").values(*fields)
    return [row | {"patient_id": None} for row in rows]


def test_row_writer_stores_what_the_orm_stores(patient, other_patient):
    rows = [checkin(day) for day in range(6)]
    rows[1]["note"] = "tab\there, new\nline, back\\slash, «unicode» \r end"
    rows[2]["submitted_at"] = rows[2]["updated_at"] = datetime(2026, 3, 3, 1, 0, tzinfo=CHICAGO)

    written = RowWriter(CheckIn, FIELDS).write(row | {"patient_id": patient.pk} for row in rows)
    CheckIn.objects.bulk_create(CheckIn(patient=other_patient, **row) for row in rows)

    assert written == 6
    assert stored(patient) == stored(other_patient)
    first = CheckIn.objects.get(patient=patient, local_date=date(2026, 3, 2))
    assert first.note == rows[1]["note"] and first.side_effects == ["nausea"]
    assert first.sleep_hours == Decimal("7.5") and first.version == 1 and first.client_id is None
    assert first.submitted_at == rows[1]["submitted_at"] and first.submitted_at.utcoffset() == (
        timedelta(0)
    )


def test_row_writer_gives_left_out_columns_their_defaults(patient, clinician):
    start = datetime(2026, 3, 2, 10, tzinfo=CHICAGO)
    writer = RowWriter(
        TreatmentSession, ["patient_id", "recorded_by_id", "scheduled_at", "route", "hr_pre"]
    )

    writer.write([
        {"patient_id": patient.pk, "recorded_by_id": clinician.pk, "scheduled_at": start,
         "route": "iv", "hr_pre": 70},
        {"patient_id": patient.pk, "scheduled_at": start + timedelta(days=2), "route": "iv"},
    ])  # fmt: skip

    first, second = TreatmentSession.objects.filter(patient=patient).order_by("scheduled_at")
    assert first.status == second.status == "scheduled"
    assert (first.hr_pre, second.hr_pre) == (70, None)
    assert (first.recorded_by, second.recorded_by) == (clinician, None)
    assert first.dissociation == second.notes == "" and first.dose_mg is None
    assert first.created_at is not None and abs(first.created_at - second.created_at) < (
        timedelta(seconds=5)
    )


def test_row_writer_gives_each_row_a_fresh_callable_default(patient):
    writer = RowWriter(Assessment, ["patient_id", "instrument", "answers", "completed_at"])
    at = datetime(2026, 3, 2, 18, tzinfo=CHICAGO)

    writer.write(
        {"patient_id": patient.pk, "instrument": "gad7", "answers": {"1": n}, "completed_at": at}
        for n in range(3)
    )

    assessments = Assessment.objects.filter(patient=patient)
    assert len({a.public_id for a in assessments}) == 3
    assert sorted(a.answers["1"] for a in assessments) == [0, 1, 2]
    assert all(a.flags == [] and a.band == "" and a.total is None for a in assessments)


def test_row_writer_keeps_apart_values_that_are_equal_but_stored_differently(
    patient, other_patient
):
    """Remembered conversions never mix up 1 / True / 1.0, 0.0 / -0.0, or the two 1:30s of
    the night the clocks go back."""
    effects = [[1], [True], [1.0], [0.0], [-0.0], [1], {"a": 1}, {"a": True}, [[1]], [[True]]]
    rows = [checkin(day, side_effects=value) for day, value in enumerate(effects)]
    for fold, row in zip((0, 1), rows[-2:], strict=True):
        row["submitted_at"] = datetime(2026, 11, 1, 1, 30, tzinfo=CHICAGO, fold=fold)

    RowWriter(CheckIn, FIELDS).write(row | {"patient_id": patient.pk} for row in rows)
    CheckIn.objects.bulk_create(CheckIn(patient=other_patient, **row) for row in rows)

    back = list(CheckIn.objects.filter(patient=patient).order_by("local_date"))
    assert [c.side_effects for c in back] == effects
    assert [repr(c.side_effects) for c in back] == [
        repr(c.side_effects) for c in other_patient.checkins.order_by("local_date")
    ]
    assert [type(c.side_effects[0]) for c in back[:3]] == [int, bool, float]
    assert back[-1].submitted_at - back[-2].submitted_at == timedelta(hours=1)


def test_row_writer_reports_a_broken_constraint_as_an_integrity_error(patient):
    writer = RowWriter(CheckIn, FIELDS)
    writer.write([checkin(0) | {"patient_id": patient.pk}])

    with pytest.raises(IntegrityError), transaction.atomic():
        writer.write([checkin(0) | {"patient_id": patient.pk}])

    assert CheckIn.objects.filter(patient=patient).count() == 1


def test_row_writer_refuses_fields_that_are_not_columns():
    with pytest.raises(ValueError, match="not a stored column"):
        RowWriter(CheckIn, ["patient_id", "revisions"])


def test_a_column_of_fresh_values_soon_stops_remembering():
    column = _Column(Assessment._meta.get_field("public_id"), connection)
    connection.ensure_connection()
    column.transformer = Transformer.from_context(connection.connection)
    ids = [uuid.uuid4() for _ in range(PROBE + 10)]

    converted = [column(value) for value in ids]

    assert not column.remembers and not column.memo
    assert [uuid.UUID(text.decode()) for text in converted] == ids  # COPY text of each


def test_a_column_of_repeated_values_converts_each_once(monkeypatch):
    column = _Column(CheckIn._meta.get_field("sleep_hours"), connection)
    calls = []
    monkeypatch.setattr(column, "convert", lambda value: calls.append(value) or str(value))
    values = [Decimal("7.5"), Decimal("7.50"), Decimal("7.5"), Decimal("8")] * 50

    converted = column.many(values[:100]) + column.many([*values[100:], Decimal("9")])

    assert converted == [str(v) for v in values] + ["9"]
    assert calls == [Decimal("7.5"), Decimal("7.50"), Decimal("8"), Decimal("9")]


def test_row_writer_sends_encoded_rows_later_from_a_thread(patient):
    writer = RowWriter(CheckIn, FIELDS)

    blocks = writer.encode(checkin(day) | {"patient_id": patient.pk} for day in range(3))
    assert not CheckIn.objects.filter(patient=patient).exists()
    with ThreadPoolExecutor(max_workers=1) as pool:
        written = pool.submit(writer.send, blocks).result()

    assert written == 3
    assert stored(patient)[2]["note"] == "" and CheckIn.objects.filter(patient=patient).count() == 3
