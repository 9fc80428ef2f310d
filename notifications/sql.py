"""Hand-written SQL of the dispatcher on PostgreSQL, where it pays (selectors and services
hold the portable versions, used elsewhere, e.g. SQLite in the embedded set-up).

Table and column names are the models' (migrations would break these statements loudly, and
the dispatcher's tests run them on PostgreSQL); values always travel as parameters.
"""

from contextlib import contextmanager
from datetime import date, datetime, timedelta

from django.db import connection

from care.clock import local_day_start
from care.trends import REPEAT_AFTER_DAYS

from .schedule import ChosenTimeWindow


@contextmanager
def binding_cursor():
    """A cursor that sends the parameters apart from the statement, those marked %b in
    binary: an array of thousands of values costs a fraction of the time that quoting it
    into the SQL text (Django's way) takes. Logged like any other when queries are."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        cursor = ServerBindingCursor(connection.connection)
    wrapped = (
        connection.make_debug_cursor(cursor)
        if connection.queries_logged
        else connection.make_cursor(cursor)
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
# (care.selectors.patient_instrument_codes: a list the team chose, else by condition).
INSTRUMENT_FLAGS = {"phq9": "has_depression", "gad7": "has_anxiety", "pcl5": "has_ptsd"}

_MAYBE_DUE = " OR ".join(  # constants only
    f"((p.{flag} OR p.questionnaires <> '[]') AND NOT EXISTS ("  # noqa: S608
    f"SELECT 1 FROM care_assessment a WHERE a.patient_id = r.patient_id"
    f" AND a.instrument = '{code}' AND a.completed_at >= z.{code}_recent OFFSET 0))"
    for code, flag in INSTRUMENT_FLAGS.items()
)

# Patients who may have a daily check-in reminder or a maintenance questionnaire reminder
# due, with what the rules need (selectors.Candidate's fields, in order), in one pass over
# the patients of the zones with a window (`zone`: one row per zone, from arrays).
#
# The inner query works out both flags once for each patient whose chosen time is in the
# window (or whose session may move the reminder there): a lookup of that day's check-in
# (index checkin_one_per_day) and, only if none, of that day's reminder; the
# questionnaires' lookups only for patients in maintenance. The lookups go by the
# preference's key, so that they are made once the chosen time matched, not for every
# patient. Each is one lookup per patient: OFFSET 0 keeps PostgreSQL from reading instead
# every check-in, reminder or questionnaire there is into a hash table (which its estimates
# favour while those tables are small); the inner query's OFFSET 0 keeps it from working
# the flags out again for the rows kept. The user's address is looked up for the rows kept
# only: none if the account is not active.
CANDIDATES = f"""
WITH zone AS (
    SELECT * FROM unnest(
        %b::varchar[], %b::date[], %b::varchar[], %b::time[], %b::time[],
        %b::timestamptz[], %b::timestamptz[],
        {", ".join("%b::timestamptz[]" for _ in INSTRUMENT_FLAGS)}
    ) AS z (
        tz, today, day_key, earliest, latest, day_starts_at, day_ends_at,
        {", ".join(f"{code}_recent" for code in INSTRUMENT_FLAGS)}
    )
)
SELECT c.id, c.tz, c.enrolled_at, (
        SELECT u.email FROM care_user u WHERE u.id = c.user_id AND u.is_active
    ) AS email, c.treatment_phase, c.checkin_time,
    c.quiet_start, c.quiet_end, c.paused_until, c.unsubscribed_json, c.questionnaires_json,
    c.has_depression, c.has_anxiety, c.has_ptsd,
    CASE WHEN c.checkin_open THEN (
        SELECT d.due_at FROM notifications_delivery d
        WHERE d.patient_id = c.id AND d.kind = 'checkin_due' AND d.status = 'sent'
        ORDER BY d.due_at DESC OFFSET 2 LIMIT 1
    ) END AS third_sent_at,
    CASE WHEN c.checkin_open THEN (
        SELECT max(s.scheduled_at) FROM care_treatmentsession s
        WHERE s.patient_id = c.id AND s.status IN ('scheduled', 'completed')
            AND s.scheduled_at >= c.day_starts_at AND s.scheduled_at < c.day_ends_at
    ) END AS session_at,
    c.checkin_open, c.questionnaire_open
FROM (
    SELECT p.id, p.user_id, p.tz, p.enrolled_at, p.treatment_phase, r.checkin_time,
        r.quiet_start, r.quiet_end, r.paused_until, r.unsubscribed::text AS unsubscribed_json,
        p.questionnaires::text AS questionnaires_json, p.has_depression, p.has_anxiety,
        p.has_ptsd, z.day_starts_at, z.day_ends_at,
        NOT EXISTS (
            SELECT 1 FROM care_checkin k
            WHERE k.patient_id = r.patient_id AND k.local_date = z.today OFFSET 0
        ) AND NOT EXISTS (
            SELECT 1 FROM notifications_delivery d
            WHERE d.kind = 'checkin_due' AND d.subject_key = 'patient:' || r.patient_id || z.day_key
                AND d.status <> 'skipped' OFFSET 0
        ) AS checkin_open,
        r.checkin_time BETWEEN z.earliest AND z.latest AND p.treatment_phase = 'maintenance'
            AND ({_MAYBE_DUE}) AS questionnaire_open
    FROM care_patient p
    JOIN zone z ON z.tz = p.tz
    JOIN notifications_reminderpreference r ON r.patient_id = p.id
    WHERE p.status = 'active' AND r.email_enabled
        AND (r.paused_until IS NULL OR r.paused_until < z.today)
        AND (r.checkin_time BETWEEN z.earliest AND z.latest OR p.id IN (
            SELECT s.patient_id FROM care_treatmentsession s
            WHERE s.status IN ('scheduled', 'completed') AND s.scheduled_at BETWEEN %b AND %b
        ))
        AND (%b::bigint[] IS NULL OR p.id = ANY(%b::bigint[]))
    OFFSET 0
) c
WHERE c.checkin_open OR c.questionnaire_open
"""  # noqa: S608  # nosec B608: the only formatting is of the constants above


def candidate_rows(
    windows: dict[str, ChosenTimeWindow],
    *,
    sessions_from: datetime,
    sessions_until: datetime,
    patient_ids: list[int] | None,
) -> list[tuple]:
    """The rows of CANDIDATES for these windows (selectors.reminder_candidates)."""
    zones: list[tuple] = [
        (
            tz,
            window.today,
            f":{window.today}",
            window.earliest,
            window.latest,
            local_day_start(window.today, tz),
            local_day_start(window.today + timedelta(days=1), tz),
            *(_recent_from(window.today, code, tz) for code in INSTRUMENT_FLAGS),
        )
        for tz, window in windows.items()
    ]
    columns = [list(column) for column in zip(*zones, strict=True)]
    with binding_cursor() as cursor:
        cursor.execute(
            CANDIDATES, [*columns, sessions_from, sessions_until, patient_ids, patient_ids]
        )
        return cursor.fetchall()


def _recent_from(today: date, code: str, tz: str) -> datetime:
    """The start of the first local day on which a completion still counts as recent."""
    return local_day_start(today - timedelta(days=REPEAT_AFTER_DAYS[code] - 1), tz)
