"""CSV exports of a clinic's records: column definitions and streamed rows.

One table per record kind (check-ins, assessments, sessions), the same columns for one
patient or a whole clinic; a patient's own download adds their messages with the care
team (never a staff note), their weights, readiness answers, reflections and requests to
move a session (`OWN_RECORDS`), and, in the JSON, their treatment plan in their terms.
Times are UTC in ISO 8601; a check-in's `day` is the patient's local day. Cells that a
spreadsheet would run as a formula are prefixed with `'`.
The header rows are documented in docs/features.md ("CSV export").

Every file ends with a trailer line, `# rows=N sha256=HEX`: the number of data rows and the
SHA-256 of every byte before the trailer. A file cut short (a killed worker, a dropped
connection) has no trailer or one that does not match: `csv_trailer_verify` says which.
The rows come from `COPY ... TO STDOUT` (`care.exports.sql_copy`): the database writes them, with
the formatting of `cell` below done in SQL (tests/test_exports.py compares the bytes with
a row-by-row rendering through `cell` and the columns' definitions).
"""

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import F, Model, QuerySet

from care.domain.messages import message_public_id
from care.exports.sql_copy import FORMULA_STARTS, copy_rows
from care.messages.selectors import patient_messages
from care.models import (
    Assessment,
    BodyWeight,
    CheckIn,
    Message,
    Patient,
    SessionMoveRequest,
    SessionReadiness,
    SessionReflection,
    TreatmentSession,
)
from care.treatment.plan_terms import plan_terms
from care.treatment.selectors import patient_plan_versions

CHUNK = 500
# Rows are sent to the client in pieces of about this many bytes.
SEND_BYTES = 64 * 1024


def cell(value) -> str:
    """One value as CSV text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, (date, Decimal, int)):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _joined(values: Iterable) -> str:
    return ";".join(str(value) for value in values)


def _answers(answers: dict) -> str:
    return ";".join(f"{key}={answers[key]}" for key in sorted(answers, key=int))


# A column: its header and how a row's cell is read. A row is the model object with the
# export's annotations (`patient_public_id`, `supersedes_public_id`), so its getter takes Any.
Column = tuple[str, Callable[[Any], object]]

CHECKIN_COLUMNS: list[Column] = [
    ("patient_id", lambda c: c.patient_public_id),
    ("day", lambda c: c.local_date),
    ("mood", lambda c: c.mood),
    ("anxiety", lambda c: c.anxiety),
    ("energy", lambda c: c.energy),
    ("sleep_hours", lambda c: c.sleep_hours),
    ("sleep_quality", lambda c: c.sleep_quality),
    ("side_effects", lambda c: _joined(c.side_effects)),
    ("self_harm_thoughts", lambda c: c.has_self_harm_thoughts),
    ("note", lambda c: c.note),
    ("version", lambda c: c.version),
    ("submitted_at", lambda c: c.submitted_at),
    ("updated_at", lambda c: c.updated_at),
]

ASSESSMENT_COLUMNS: list[Column] = [
    ("patient_id", lambda a: a.patient_public_id),
    ("assessment_id", lambda a: a.public_id),
    ("instrument", lambda a: a.get_instrument_display()),
    ("completed_at", lambda a: a.completed_at),
    ("total", lambda a: a.total),
    ("band", lambda a: a.band),
    ("flags", lambda a: _joined(a.flags)),
    ("difficulty", lambda a: a.difficulty),
    ("answers", lambda a: _answers(a.answers)),
    ("supersedes_id", lambda a: a.supersedes_public_id),
]

SESSION_COLUMNS: list[Column] = [
    ("patient_id", lambda s: s.patient_public_id),
    ("session_id", lambda s: s.pk),
    ("scheduled_at", lambda s: s.scheduled_at),
    ("status", lambda s: s.status),
    ("route", lambda s: s.route),
    ("dose_mg", lambda s: s.dose_mg),
    ("dose_mg_per_kg", lambda s: s.dose_mg_per_kg),
    ("monitoring_started_at", lambda s: s.monitoring_started_at),
    ("monitoring_ended_at", lambda s: s.monitoring_ended_at),
    *[(name, (lambda s, name=name: getattr(s, name))) for name in TreatmentSession.VITAL_FIELDS],
    ("dissociation", lambda s: s.dissociation),
    ("sedation", lambda s: s.sedation),
    ("adverse_events", lambda s: s.adverse_events),
    ("notes", lambda s: s.notes),
    ("lot_number", lambda s: s.lot_number),
    ("rems_submitted_on", lambda s: s.rems_submitted_on),
    ("chair", lambda s: s.chair),
    ("override_reason", lambda s: s.override_reason),
]

KINDS = ("checkins", "assessments", "sessions")


def _sender(message: Message) -> str:
    return "patient" if message.from_patient else "care_team"


def _author(message: Message) -> str:
    """The care team member who wrote it (empty for the patient's own messages)."""
    if message.from_patient:
        return ""
    return (message.author.full_name if message.author else "") or "Care team"


# The patient's messages with their care team, in their own download only (never a staff
# note; the staff exports have no messages: staff read a thread on its page, where every
# opening is in the audit trail).
MESSAGE_COLUMNS: list[Column] = [
    ("patient_id", lambda m: m.thread.patient.public_id),
    ("thread_id", lambda m: m.thread.public_id),
    ("subject", lambda m: m.thread.subject),
    ("message_id", lambda m: message_public_id(m.thread.public_id, m.pk)),
    ("sent_at", lambda m: m.created_at),
    ("sender", _sender),
    ("author", _author),
    ("urgent", lambda m: m.is_urgent),
    ("body", lambda m: m.body),
]

# A patient's own records about their treatment, in their own download (JSON and CSV): the
# weights the care team measured, their readiness answers before a session, their
# reflections after one, and their requests to move one with the care team's answers.
WEIGHT_COLUMNS: list[Column] = [
    ("patient_id", lambda w: w.patient_public_id),
    ("weight_id", lambda w: w.pk),
    ("measured_on", lambda w: w.measured_on),
    ("weight_kg", lambda w: w.weight_kg),
    ("entered_value", lambda w: w.entered_value),
    ("entered_unit", lambda w: w.entered_unit),
    ("recorded_at", lambda w: w.created_at),
]

READINESS_COLUMNS: list[Column] = [
    ("patient_id", lambda r: r.patient_public_id),
    ("session_id", lambda r: r.session_id),
    ("answered_at", lambda r: r.answered_at),
    ("ready", lambda r: r.is_ready),
    ("ride_arranged", lambda r: r.ride_arranged),
    ("fasting_understood", lambda r: r.fasting_understood),
    ("feeling_well", lambda r: r.feeling_well),
    ("new_medicines", lambda r: r.new_medicines),
    ("new_medicines_details", lambda r: r.new_medicines_details),
    ("by_link", lambda r: r.by_link),
]

REFLECTION_COLUMNS: list[Column] = [
    ("patient_id", lambda r: r.patient_public_id),
    ("session_id", lambda r: r.session_id),
    ("written_at", lambda r: r.created_at),
    ("what_came_up", lambda r: r.what_came_up),
    ("feeling", lambda r: r.feeling),
    ("for_team", lambda r: r.for_team),
]

MOVE_REQUEST_COLUMNS: list[Column] = [
    ("patient_id", lambda m: m.patient_public_id),
    ("request_id", lambda m: m.pk),
    ("session_id", lambda m: m.session_id),
    ("asked_at", lambda m: m.created_at),
    ("preferred_times", lambda m: m.preferred_times),
    ("status", lambda m: m.status),
    ("answered_at", lambda m: m.decided_at),
    ("answer", lambda m: m.answer),
    ("moved_from", lambda m: m.moved_from),
    ("moved_to", lambda m: m.moved_to),
]


def _own_rows(kind: str, patient: Patient) -> QuerySet:
    """The patient's rows of one of their own treatment record kinds, oldest first."""
    if kind == "weights":
        return (
            BodyWeight.objects.filter(patient=patient)
            .annotate(patient_public_id=F("patient__public_id"))
            .order_by("measured_on", "created_at", "pk")
        )
    model, order = {
        "readiness": (SessionReadiness, "answered_at"),
        "reflections": (SessionReflection, "created_at"),
        "move_requests": (SessionMoveRequest, "created_at"),
    }[kind]
    return (
        model._default_manager.filter(session__patient=patient)
        .annotate(patient_public_id=F("session__patient__public_id"))
        .order_by(order, "pk")
    )


# The kinds only a patient's own download has, with their columns.
OWN_RECORDS: dict[str, list[Column]] = {
    "messages": MESSAGE_COLUMNS,
    "weights": WEIGHT_COLUMNS,
    "readiness": READINESS_COLUMNS,
    "reflections": REFLECTION_COLUMNS,
    "move_requests": MOVE_REQUEST_COLUMNS,
}

# What a patient downloads of their own: the staff's kinds and theirs.
PATIENT_KINDS = (*KINDS, *OWN_RECORDS)


# Per record kind: its model, its columns, its order after the patient.
RECORDS: dict[str, tuple[type[Model], list[Column], str]] = {
    "checkins": (CheckIn, CHECKIN_COLUMNS, "local_date"),
    "assessments": (Assessment, ASSESSMENT_COLUMNS, "completed_at"),
    "sessions": (TreatmentSession, SESSION_COLUMNS, "scheduled_at"),
}


def export_queryset(kind: str, patients: QuerySet[Patient]) -> tuple[list, QuerySet]:
    """Columns and rows of one record kind for `patients`, in a stable order.

    Related ids come in as annotations: no related model is built per row.
    """
    if kind not in RECORDS:
        raise ValueError(kind)
    model, columns, order = RECORDS[kind]
    rows = model._default_manager.filter(patient__in=patients).annotate(
        patient_public_id=F("patient__public_id")
    )
    if model is Assessment:
        rows = rows.annotate(supersedes_public_id=F("supersedes__public_id"))
    # The primary key breaks ties (two assessments at the same moment): a stable order.
    return columns, rows.order_by("patient_id", order, "pk")


def with_trailer(lines: Iterable[bytes]) -> Iterator[bytes]:
    """`lines` (the header, then one item per row) in pieces, then the trailer line."""
    digest = hashlib.sha256()
    count = -1  # the header is not a row
    piece: list[bytes] = []
    size = 0
    for line in lines:
        count += 1
        digest.update(line)
        piece.append(line)
        size += len(line)
        if size >= SEND_BYTES:
            yield b"".join(piece)
            piece, size = [], 0
    piece.append(f"# rows={max(count, 0)} sha256={digest.hexdigest()}\r\n".encode())
    yield b"".join(piece)


TRAILER = re.compile(rb"# rows=(\d+) sha256=([0-9a-f]{64})\r\n\Z")


def csv_trailer_verify(data: bytes) -> int:
    """The number of rows of a whole export file; ValueError if it was cut or altered."""
    start = data.rfind(b"# rows=")
    found = TRAILER.match(data, start) if start >= 0 else None
    if found is None:
        raise ValueError("The file has no trailer line: it was cut short.")
    body = data[:start]
    if hashlib.sha256(body).hexdigest() != found.group(2).decode():
        raise ValueError("The file's checksum does not match its trailer.")
    rows = sum(1 for _ in csv.reader(io.StringIO(body.decode(), newline=""))) - 1
    if rows != int(found.group(1)):
        raise ValueError("The file's row count does not match its trailer.")
    return rows


def export_lines(kind: str, patients: QuerySet[Patient]) -> Iterator[bytes]:
    """The header line, then one item per row of one record kind for `patients`.

    The database writes the rows (`COPY`). One statement: the rows are one snapshot of the
    database.
    """
    columns, _rows = export_queryset(kind, patients)
    return copy_rows(kind, columns, patients)


def export_csv(kind: str, patients: QuerySet[Patient]) -> Iterator[bytes]:
    """The whole CSV of one record kind for `patients`, trailer included, in pieces."""
    return with_trailer(export_lines(kind, patients))


def _own_records(kind: str, patient: Patient) -> Iterator:
    if kind == "messages":
        return _own_messages(patient)
    return _own_rows(kind, patient).iterator(chunk_size=CHUNK)


def own_csv(kind: str, patient: Patient) -> Iterator[bytes]:
    """One of the kinds only the patient's own download has (`OWN_RECORDS`), as CSV written
    row by row through `cell` (one patient's rows, not COPY), trailer included."""
    columns = OWN_RECORDS[kind]
    writer = csv.writer(_Line())

    def lines() -> Iterator[bytes]:
        yield writer.writerow([name for name, _ in columns]).encode()
        for row in _own_records(kind, patient):
            yield writer.writerow([cell(value(row)) for _, value in columns]).encode()

    return with_trailer(lines())


class _Line:
    """A csv writer's file that hands each row back as text."""

    def write(self, value: str) -> str:
        return value


def _own_messages(patient: Patient) -> Iterator[Message]:
    for message in patient_messages(patient=patient).iterator(chunk_size=CHUNK):
        message.thread.patient = patient  # the patient's id for each row, without a query
        yield message


def _plain(value):
    """A JSON-ready value (UUIDs, decimals and times as text; the rest as is)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def patient_data(patient: Patient, *, now: datetime) -> dict:
    """Everything a patient may download about themselves, as one JSON-ready document."""
    records = {}
    patients = Patient.objects.filter(pk=patient.pk)
    for kind in KINDS:
        columns, rows = export_queryset(kind, patients)
        records[kind] = [
            {name: _plain(value(row)) for name, value in columns if name != "patient_id"}
            for row in rows.iterator(chunk_size=CHUNK)
        ]
    for kind, columns in OWN_RECORDS.items():
        records[kind] = [
            {name: _plain(value(row)) for name, value in columns if name != "patient_id"}
            for row in _own_records(kind, patient)
        ]
    current = patient_plan_versions(patient=patient).first()
    return {
        "exported_at": _plain(now),
        "patient": {
            "patient_id": str(patient.public_id),
            "name": patient.user.full_name,
            "preferred_name": patient.preferred_name,
            "email": patient.user.email,
            "date_of_birth": _plain(patient.date_of_birth),
            "time_zone": patient.tz,
            "conditions": patient.conditions,
            "questionnaires": patient.questionnaires,
            "status": patient.status,
            "treatment_phase": patient.treatment_phase,
            "consultation_on": _plain(patient.consultation_on),
            "enrolled_at": _plain(patient.enrolled_at),
            "clinic": patient.clinic.name,
            # Phones in E.164; consent as true/false; empty strings for what is not given.
            "contact": {name: _plain(getattr(patient, name)) for name in Patient.CONTACT_FIELDS},
        },
        # The plan as it stands, in the patient's terms (no reasons, no dose); null if none.
        "treatment_plan": {name: _plain(value) for name, value in plan_terms(current).items()}
        if current
        else None,
        **records,
    }
