"""The CSV exports' rows from PostgreSQL's `COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)`.

The SELECT writes each cell as `care.exports.tables.cell` does (UTC times with `Z`, yes/no, lists
joined with `;`, `'` before a text starting with = + - @ tab or CR), so the file is the
one Python's csv writer makes of those cells (the tests' reference), only written by the
database: 1.5 million rows in seconds. Empty text becomes NULL because COPY quotes an
empty string (`""`) and the csv writer does not; COPY ends lines with LF, the csv writer
with CRLF, so each row's LF is
replaced (COPY sends one message per row, so embedded newlines are untouched).
"""

from collections.abc import Iterator

from django.db import connection
from django.db.models import QuerySet

from care.models import Assessment, Patient, TreatmentSession

# A cell starting with one of these would run as a formula in a spreadsheet: written with `'`
# before it (here in SQL, and in `care.exports.tables.cell`).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(expr: str) -> str:
    """A text cell: formula starts defused, empty as NULL."""
    starts = ", ".join(f"chr({ord(char)})" for char in FORMULA_STARTS)
    return (
        f"NULLIF(CASE WHEN left({expr}, 1) IN ({starts}) THEN chr(39) || {expr} "
        f"ELSE {expr} END, '')"
    )


def _time(expr: str) -> str:
    """As `datetime.isoformat()` in UTC: microseconds only when there are some; `Z`.

    (Measured against one `to_char` with `.US` stripped, and a text cast padded: this is
    the fastest of the three where most times are whole seconds.)
    """
    utc = f"({expr} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        f"|| CASE WHEN date_trunc('second', {expr}) <> {expr} "
        f"THEN to_char({utc}, '.US') ELSE '' END || 'Z'"
    )


def _day(expr: str) -> str:
    return f"to_char({expr}, 'YYYY-MM-DD')"


def _yes_no(expr: str) -> str:
    return f"CASE WHEN {expr} THEN 'yes' WHEN NOT {expr} THEN 'no' END"


def _joined(expr: str) -> str:
    """The JSON list `expr` joined with `;` in its order, as a text cell.

    Most lists are empty and skip the subquery; the formula escape looks at the first item
    (where the joined text starts), so the subquery runs once.
    """
    starts = ", ".join(f"chr({ord(char)})" for char in FORMULA_STARTS)
    return (
        f"NULLIF(CASE WHEN {expr} = '[]'::jsonb THEN '' "  # noqa: S608  # nosec B608
        f"ELSE CASE WHEN left({expr} ->> 0, 1) IN ({starts}) THEN chr(39) ELSE '' END "
        "|| (SELECT string_agg(item, ';' ORDER BY n) "
        f"FROM jsonb_array_elements_text({expr}) WITH ORDINALITY AS i(item, n)) END, '')"
    )


def _answers(expr: str, alias: str) -> str:
    """A join naming `alias.v`: the answers object `expr` as `item=value;...` in item order."""
    return (
        "CROSS JOIN LATERAL (SELECT string_agg(key || '=' || value, ';' ORDER BY key::int) "  # noqa: S608  # nosec B608
        f"AS v FROM jsonb_each_text({expr})) {alias}"
    )


def _instrument(expr: str) -> str:
    whens = " ".join(
        f"WHEN '{value}' THEN '{label}'" for value, label in Assessment.Instrument.choices
    )
    return _text(f"(CASE {expr} {whens} ELSE {expr} END)")


# Per record kind: its table, its cells as SQL (in the order of the columns), its order
# after the patient (ties broken by the primary key where the order is not unique), and the
# LATERAL joins its cells name.
SELECTS = {
    "checkins": (
        "care_checkin",
        {
            "patient_id": "p.public_id::text",
            "day": _day("r.local_date"),
            "mood": "r.mood",
            "anxiety": "r.anxiety",
            "energy": "r.energy",
            "sleep_hours": "r.sleep_hours",
            "sleep_quality": "r.sleep_quality",
            "side_effects": _joined("r.side_effects"),
            "self_harm_thoughts": _yes_no("r.has_self_harm_thoughts"),
            "note": _text("r.note"),
            "version": "r.version",
            "submitted_at": _time("r.submitted_at"),
            "updated_at": _time("r.updated_at"),
        },
        "r.local_date",
        [],
    ),
    "assessments": (
        "care_assessment",
        {
            "patient_id": "p.public_id::text",
            "assessment_id": "r.public_id::text",
            "instrument": _instrument("r.instrument"),
            "completed_at": _time("r.completed_at"),
            "total": "r.total",
            "band": _text("r.band"),
            "flags": _joined("r.flags"),
            "difficulty": "r.difficulty",
            "answers": _text("answers.v"),
            "supersedes_id": "(SELECT s.public_id::text FROM care_assessment s "
            "WHERE s.id = r.supersedes_id)",
        },
        "r.completed_at, r.id",
        [_answers("r.answers", "answers")],
    ),
    "sessions": (
        "care_treatmentsession",
        {
            "patient_id": "p.public_id::text",
            "session_id": "r.id",
            "scheduled_at": _time("r.scheduled_at"),
            "status": _text("r.status"),
            "route": _text("r.route"),
            "dose_mg": "r.dose_mg",
            "dose_mg_per_kg": "r.dose_mg_per_kg",
            "monitoring_started_at": _time("r.monitoring_started_at"),
            "monitoring_ended_at": _time("r.monitoring_ended_at"),
            **{name: f"r.{name}" for name in TreatmentSession.VITAL_FIELDS},
            "dissociation": _text("r.dissociation"),
            "sedation": _text("r.sedation"),
            "adverse_events": _text("r.adverse_events"),
            "notes": _text("r.notes"),
            "lot_number": _text("r.lot_number"),
            "rems_submitted_on": _day("r.rems_submitted_on"),
            "chair": "r.chair",
            "override_reason": _text("r.override_reason"),
        },
        "r.scheduled_at, r.id",
        [],
    ),
}


def copy_statement(kind: str, columns: list, patients: QuerySet[Patient]) -> tuple[str, tuple]:
    """The COPY statement of one record kind for `patients`, and its parameters."""
    table, cells, order, laterals = SELECTS[kind]
    if [name for name, _ in columns] != list(cells):
        raise ValueError(f"The {kind} COPY cells are not the export's columns.")
    chosen, params = patients.order_by().values("pk").query.sql_with_params()
    select = ", ".join(cells.values())
    # Only this module's constants and Django's compiled subquery go into the text; the
    # subquery's values are bound by psycopg (COPY takes no server-side parameters).
    statement = (  # nosec B608
        f"COPY (SELECT {select} FROM {table} r JOIN care_patient p ON p.id = r.patient_id "  # noqa: S608  # nosec B608
        f"{' '.join(laterals)} WHERE r.patient_id IN ({chosen}) ORDER BY r.patient_id, {order}) "
        "TO STDOUT WITH (FORMAT csv)"
    )
    return statement, params


def copy_rows(kind: str, columns: list, patients: QuerySet[Patient]) -> Iterator[bytes]:
    """The header line, then each row as COPY writes it (CRLF-ended), one item per line."""
    statement, params = copy_statement(kind, columns, patients)
    yield (",".join(name for name, _ in columns) + "\r\n").encode()
    with connection.cursor() as cursor:
        # The SELECT is cheap per row but costed high (the LATERAL functions): JIT would
        # spend a second or more compiling it for nothing.
        cursor.execute("SET jit = off")
        try:
            with cursor.cursor.copy(statement, params) as copy:
                for data in copy:
                    yield bytes(data[:-1]) + b"\r\n"
        finally:
            cursor.execute("RESET jit")
