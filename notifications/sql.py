"""Hand-written SQL of the dispatcher, where it pays over the ORM (selectors and services
call it; PostgreSQL is the only database, so each query exists once).

Table and column names are the models' (migrations would break these statements loudly, and
the dispatcher's tests run them on PostgreSQL); values always travel as parameters.
"""

import itertools
import select
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from django.db import Error as DjangoDatabaseError
from django.db import connection, transaction
from psycopg import pq

from care.domain.clock import local_day_start
from care.domain.trends import REPEAT_AFTER_DAYS
from notifications.schedule import ChosenTimeWindow


@contextmanager
def binding_cursor():
    """A cursor that sends the parameters apart from the statement, those marked %b in
    binary: an array of thousands of values costs a fraction of the time that quoting it
    into the SQL text (Django's way) takes. Logged like any other when queries are."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    connection.validate_thread_sharing()
    # (The stubs know neither psycopg's cursor constructor nor that Django's wrappers take
    # any DB-API cursor, as Django's own create_cursor() hands them.)
    with connection.wrap_database_errors:
        cursor = ServerBindingCursor(connection.connection)  # type: ignore[call-arg]  # psycopg's Cursor(connection)
    wrapped = (
        connection.make_debug_cursor(cursor)  # type: ignore[arg-type]  # a DB-API cursor, as Django's own
        if connection.queries_logged
        else connection.make_cursor(cursor)  # type: ignore[arg-type]  # a DB-API cursor, as Django's own
    )
    with wrapped:
        yield wrapped


# The distinct zones of the patients, one index lookup each (index patient_tz): from the
# first zone, the next one after it, and so on.
PATIENT_ZONES = """
WITH RECURSIVE zone (tz) AS (
    (SELECT tz FROM care_patient ORDER BY tz LIMIT 1)
    UNION ALL
    SELECT (SELECT p.tz FROM care_patient p WHERE p.tz > zone.tz ORDER BY p.tz LIMIT 1)
    FROM zone WHERE zone.tz IS NOT NULL
)
SELECT tz FROM zone WHERE tz IS NOT NULL
"""


def patient_zones() -> list[str]:
    """The time zones patients live in."""
    with connection.cursor() as cursor:
        cursor.execute(PATIENT_ZONES)
        return [tz for (tz,) in cursor.fetchall()]


# The questionnaires of the maintenance schedule and the condition that makes each wanted
# (care.records.selectors.patient_instrument_codes: a list the team chose, else by condition), in
# the order of the recent_from columns of the statements below (a test checks they agree).
INSTRUMENT_FLAGS = {"phq9": "has_depression", "gad7": "has_anxiety", "pcl5": "has_ptsd"}

# Who may have the daily check-in reminder due, with what the rules need (Candidate's
# fields, in order): of the patients of the zones with a window (`zone`, one row per zone,
# from arrays) who take reminder e-mails or texts and are not paused on their local day (and, if
# given, are among the patients listed), those whose chosen time is in the window, or, after
# a stall, earlier that day back to the last tick (`look_back`: a reminder too late, recorded
# as skipped), or whose session may move it there;
# not checked in that day, no reminder for that day yet (a skipped one counts: a skip is
# recorded once). Plain joins and anti-joins, which PostgreSQL can share among
# its workers. The check-in is looked up by patient and day, the days (one or two, whatever
# the zones) given as constants too, so that only that day's rows are read; the third
# latest sent reminder (the cap) and the day's latest session come with each row.
CHECKIN_CANDIDATES = """
WITH zone AS (
    SELECT * FROM unnest(
        %b::varchar[], %b::date[], %b::varchar[], %b::time[], %b::time[], %b::time[],
        %b::timestamptz[], %b::timestamptz[],
        %b::timestamptz[], %b::timestamptz[], %b::timestamptz[]
    ) AS z (
        tz, today, day_key, earliest, latest, look_back, day_starts_at, day_ends_at,
        phq9_recent, gad7_recent, pcl5_recent
    )
)
SELECT
    p.id, p.tz, p.enrolled_at, u.email, p.treatment_phase, r.checkin_time, r.quiet_start,
    r.quiet_end, r.paused_until, r.unsubscribed::text, p.questionnaires::text,
    p.has_depression, p.has_anxiety, p.has_ptsd,
    t.due_at AS third_sent_at, s.session_at, true AS checkin_open, false AS questionnaire_open
FROM care_patient p
JOIN zone z ON z.tz = p.tz
JOIN notifications_reminderpreference r ON r.patient_id = p.id
JOIN care_user u ON u.id = p.user_id AND u.is_active
LEFT JOIN LATERAL (
    SELECT DISTINCT d.due_at FROM notifications_delivery d
    WHERE d.patient_id = p.id AND d.kind = 'checkin_due' AND d.status = 'sent'
    ORDER BY d.due_at DESC OFFSET 2 LIMIT 1
) t ON true
LEFT JOIN LATERAL (
    SELECT max(s.scheduled_at) AS session_at FROM care_treatmentsession s
    WHERE s.patient_id = p.id AND s.status IN ('scheduled', 'completed')
        AND s.scheduled_at >= z.day_starts_at AND s.scheduled_at < z.day_ends_at
) s ON true
WHERE p.status = 'active' AND (r.email_enabled OR r.text_kinds <> '[]'::jsonb)
    AND (r.paused_until IS NULL OR r.paused_until < z.today)
    AND (%b::bigint[] IS NULL OR p.id = ANY(%b::bigint[]))
    AND (r.checkin_time BETWEEN z.look_back AND z.latest OR p.id IN (
        SELECT m.patient_id FROM care_treatmentsession m
        WHERE m.status IN ('scheduled', 'completed') AND m.scheduled_at BETWEEN %b AND %b
    ))
    AND NOT EXISTS (
        SELECT 1 FROM care_checkin k
        WHERE k.patient_id = p.id AND k.local_date = z.today AND k.local_date = ANY(%b::date[])
    )
    AND NOT EXISTS (
        SELECT 1 FROM notifications_delivery d
        WHERE d.kind = 'checkin_due' AND d.subject_key = 'patient:' || p.id || z.day_key
    )
"""

# Who may have a maintenance questionnaire reminder due, from the same patients: in
# maintenance, chosen time in the window, and a questionnaire they may be asked for without
# a completion recent enough (care.domain.trends.questionnaires_due decides). One row per such
# questionnaire, each an anti-join, which PostgreSQL can share among its workers; the
# address is looked up for the rows found only (none if the account is not active).
MAINTENANCE_CANDIDATES = """
WITH zone AS (
    SELECT * FROM unnest(
        %b::varchar[], %b::date[], %b::varchar[], %b::time[], %b::time[], %b::time[],
        %b::timestamptz[], %b::timestamptz[],
        %b::timestamptz[], %b::timestamptz[], %b::timestamptz[]
    ) AS z (
        tz, today, day_key, earliest, latest, look_back, day_starts_at, day_ends_at,
        phq9_recent, gad7_recent, pcl5_recent
    )
)
SELECT
    p.id, p.tz, p.enrolled_at,
    (SELECT u.email FROM care_user u WHERE u.id = p.user_id AND u.is_active) AS email,
    p.treatment_phase, r.checkin_time, r.quiet_start,
    r.quiet_end, r.paused_until, r.unsubscribed::text, p.questionnaires::text,
    p.has_depression, p.has_anxiety, p.has_ptsd,
    NULL::timestamptz AS third_sent_at, NULL::timestamptz AS session_at,
    false AS checkin_open, true AS questionnaire_open
FROM care_patient p
JOIN zone z ON z.tz = p.tz
JOIN notifications_reminderpreference r ON r.patient_id = p.id
CROSS JOIN LATERAL (VALUES
    ('phq9', p.has_depression, z.phq9_recent),
    ('gad7', p.has_anxiety, z.gad7_recent),
    ('pcl5', p.has_ptsd, z.pcl5_recent)
) AS i (code, by_condition, recent_from)
WHERE p.status = 'active' AND (r.email_enabled OR r.text_kinds <> '[]'::jsonb)
    AND (r.paused_until IS NULL OR r.paused_until < z.today)
    AND (%b::bigint[] IS NULL OR p.id = ANY(%b::bigint[]))
    AND p.treatment_phase = 'maintenance' AND r.checkin_time BETWEEN z.earliest AND z.latest
    AND (i.by_condition OR p.questionnaires <> '[]')
    AND NOT EXISTS (
        SELECT 1 FROM care_assessment a
        WHERE a.patient_id = p.id AND a.instrument = i.code AND a.completed_at >= i.recent_from
    )
"""


# Both kinds' candidates, written once into a temporary table (CREATE TABLE AS may use
# PostgreSQL's parallel workers, which a cursor's query never does), dropped when its
# transaction commits: a patient may come twice, once for each kind, and once per kind (one
# row per questionnaire maybe due is one too many: DISTINCT ON; and only with an address,
# asked after the questionnaires: OFFSET 0 keeps the planner from asking it of every
# patient in maintenance first).
CANDIDATES_INTO = """
CREATE TEMPORARY TABLE {table} ON COMMIT DROP AS
SELECT * FROM ({checkin}) AS c
UNION ALL
SELECT * FROM (
    SELECT DISTINCT ON (m.id) * FROM ({maintenance} OFFSET 0) AS m WHERE m.email IS NOT NULL
) AS m
"""

CANDIDATES_READ = "SELECT * FROM {table} ORDER BY id, questionnaire_open"

# Up to this many batches are read at once (20,000 candidates: about 20 MB here); more
# through a cursor WITH HOLD over the table, kept (read-only, in the server) when the
# transaction commits, before the table is dropped. (The cursor copies the rows once more:
# about 30 ms at 10,000 candidates, nothing beside the memory it saves at 100,000.)
READ_AT_ONCE = 10

CANDIDATES_CURSOR = "DECLARE {name} NO SCROLL CURSOR WITH HOLD FOR " + CANDIDATES_READ

# The temporary tables and cursors of the ticks of this process (one connection may serve
# several ticks, one after the other; a name is never used twice).
_serial = itertools.count()


def candidate_batches(
    windows: dict[str, ChosenTimeWindow],
    *,
    sessions_from: datetime,
    sessions_until: datetime,
    patient_ids: list[int] | None,
    size: int,
) -> Iterator[list[tuple]]:
    """The rows of CHECKIN_CANDIDATES and MAINTENANCE_CANDIDATES for these windows
    (selectors.reminder_candidate_batches), by patient, `size` rows at a time: the database
    holds them all, this process one batch. A patient may come twice, once for each kind.

    The rows are written into a temporary table; up to READ_AT_ONCE batches of them are read
    at once, more through a cursor WITH HOLD, which outlives its transaction (the caller's
    batches commit between two reads) and is closed at the end (or goes with the
    connection).
    """
    zones: list[tuple] = [
        (
            tz,
            window.today,
            f":{window.today}",
            window.earliest,
            window.latest,
            window.look_back,
            local_day_start(window.today, tz),
            local_day_start(window.today + timedelta(days=1), tz),
            *(_recent_from(window.today, code, tz) for code in INSTRUMENT_FLAGS),
        )
        for tz, window in windows.items()
    ]
    columns = [list(column) for column in zip(*zones, strict=True)]
    days = sorted({window.today for window in windows.values()})
    serial = next(_serial)  # (the names are this module's own: nothing of a user's)
    table, name = f"tick_candidate_{serial}", f"tick_candidates_{serial}"
    statement = CANDIDATES_INTO.format(
        table=table, checkin=CHECKIN_CANDIDATES, maintenance=MAINTENANCE_CANDIDATES
    )
    params = [*columns, patient_ids, patient_ids, sessions_from, sessions_until, days]
    params += [*columns, patient_ids, patient_ids]
    with binding_cursor() as cursor:
        with transaction.atomic():
            # The candidates' lookups make the estimated cost high while the statement runs
            # in milliseconds: compiling it (JIT) would take seconds, every tick.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(statement, params)
            count = cursor.rowcount
            at_once = count <= size * READ_AT_ONCE
            if at_once:
                cursor.execute(CANDIDATES_READ.format(table=table))
                rows = cursor.fetchall()
            else:
                cursor.execute(CANDIDATES_CURSOR.format(name=name, table=table))
        if at_once:
            for start in range(0, len(rows), size):
                yield rows[start : start + size]
            return
        try:
            for _ in range(0, count, size):
                cursor.execute(f"FETCH {size} FROM {name}")
                yield cursor.fetchall()
        finally:
            _close(cursor, name)


def _close(cursor, name: str) -> None:
    """Close the cursor, unless the transaction or connection it belongs to is gone already
    (it went with it)."""
    try:
        with transaction.atomic():
            cursor.execute(f"CLOSE {name}")
    except DjangoDatabaseError:  # DatabaseError, InterfaceError
        pass


def _recent_from(today: date, code: str, tz: str) -> datetime:
    """The start of the first local day on which a completion still counts as recent."""
    return local_day_start(today - timedelta(days=REPEAT_AFTER_DAYS[code] - 1), tz)


# The claim of a chunk's rows (notifications.sending): each row pending and due (no backoff
# left), or `sending` with an expired claim, becomes `sending` with attempts + 1 and a claim
# until the database's now + the lease. The rows are locked in id order, so that two workers
# claiming overlapping chunks wait for each other rather than deadlock; a row a concurrent
# claim took meanwhile is checked again after the wait (and not taken).
CLAIM = """
WITH due AS (
    SELECT id FROM notifications_delivery
    WHERE id = ANY(%s::bigint[])
      AND ((status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= now()))
           OR (status = 'sending' AND lease_until < now()))
    ORDER BY id
    FOR UPDATE
)
UPDATE notifications_delivery AS d
SET status = 'sending', attempts = d.attempts + 1,
    lease_until = now() + %s * interval '1 second'
FROM due WHERE d.id = due.id
RETURNING d.id
"""


def deliveries_claim(ids: list[int], lease: timedelta) -> set[int]:
    """Claim the rows of `ids` that are free to send, in one statement; the ids claimed."""
    if not ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(CLAIM, [ids, lease.total_seconds()])
        return {row[0] for row in cursor.fetchall()}


# Undo the claim of rows a chunk did not reach: pending again, the attempt not counted.
RELEASE = """
UPDATE notifications_delivery
SET status = 'pending', attempts = attempts - 1, lease_until = NULL
WHERE id = ANY(%s::bigint[]) AND status = 'sending'
"""


def deliveries_release(ids: list[int]) -> int:
    """Give back the claims of rows claimed and never tried; how many were given back."""
    if not ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(RELEASE, [ids])
        return cursor.rowcount


def delivery_mark_sent(delivery_id: int, sent_at: datetime) -> None:
    """Record a sent e-mail (`sent`, its claim ended): notifications.sending's most frequent
    statement, written here to spare the ORM's building of it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notifications_delivery SET status = 'sent', lease_until = NULL, sent_at = %s"
            " WHERE id = %s",
            [sent_at, delivery_id],
        )


MARK_SENT = (
    b"UPDATE notifications_delivery SET status = 'sent', lease_until = NULL, sent_at = $1"
    b" WHERE id = $2"
)
_TIMESTAMPTZ, _INT8 = 1184, 20  # the parameters' types (PostgreSQL's type oids)


class MarkInFlight:
    """A `sent` mark (delivery_mark_sent's statement) sent to the database on the worker's
    connection without waiting for its answer: the server runs and commits it as soon as it
    arrives (its own transaction, as every statement outside one), and `finish` reads the
    answer later. Meanwhile nothing else may use the connection: notifications.sending
    finishes it before the next e-mail's send and before any other statement."""

    def __init__(self, pgconn: pq.abc.PGconn, logged: dict | None = None) -> None:
        self._pgconn = pgconn
        self._logged = logged  # its entry in the connection's query log, if one is kept
        self._sent = time.monotonic()

    def finish(self) -> bool:
        """Wait for the answer: True if the row was written; False if the mark failed (its
        connection then closed: it may hold an answer never read), for the caller to write
        it again the ordinary way. Interrupted (a task's time limit): closed, and raised."""
        pgconn = self._pgconn
        try:
            while True:
                pgconn.consume_input()
                if not pgconn.is_busy():
                    break
                select.select([pgconn.socket], [], [])
            written = True
            while (result := pgconn.get_result()) is not None:
                written = written and result.status == pq.ExecStatus.COMMAND_OK
        except BaseException as exc:
            connection.close()
            if not isinstance(exc, Exception):
                raise
            return False
        if self._logged is not None:  # from its send to its answer
            self._logged["time"] = f"{time.monotonic() - self._sent:.3f}"
        if not written:
            connection.close()
        return written


def delivery_mark_sent_start(delivery_id: int, sent_at: datetime) -> MarkInFlight | None:
    """Send delivery_mark_sent's statement and return without its answer (MarkInFlight);
    None where it cannot go this way (a transaction Django opened and psycopg has not begun
    yet, whose BEGIN only psycopg sends), for the caller to mark it the ordinary way."""
    connection.ensure_connection()
    raw = connection.connection
    pgconn = raw.pgconn
    status = pgconn.transaction_status
    if not (
        (raw.autocommit and status == pq.TransactionStatus.IDLE)
        or (not raw.autocommit and status == pq.TransactionStatus.INTRANS)
    ):
        return None
    try:
        pgconn.send_query_params(
            MARK_SENT,
            [sent_at.isoformat().encode(), str(delivery_id).encode()],
            param_types=[_TIMESTAMPTZ, _INT8],
        )
        while pgconn.flush():  # psycopg's connections are non-blocking: send all of it now
            select.select([], [pgconn.socket], [])
    except BaseException as exc:
        connection.close()  # part of the statement may have gone
        if not isinstance(exc, Exception):
            raise
        return None
    logged = None
    if connection.queries_logged:  # counted and shown as Django's own statements are
        logged = {
            "sql": MARK_SENT.decode()
            .replace("$1", f"'{sent_at.isoformat()}'::timestamptz")
            .replace("$2", str(delivery_id)),
            "time": "0.000",  # until its answer is read
        }
        connection.queries_log.append(logged)
    return MarkInFlight(pgconn, logged)
