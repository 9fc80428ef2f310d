"""The outcomes page's hand-written statements: the database reduces a cohort's
questionnaires, check-ins and sessions to counts before Python sees them.

Two statements return a few dozen rows whatever the cohort's size (plus the adherence rows
the page lists). They apply the per-patient part of the definitions in
`care.domain.outcomes` (its module docstring, in words), for each patient either from the
facts stored for them (`care.models.outcomes`: one small row per patient and
questionnaire, read while they stand for the period) or from their rows:

- `INSTRUMENT_SQL`: per patient and questionnaire (`FACTS`: one ordered pass over the
  scores, a window per patient and questionnaire): the first score (a baseline if taken at
  or before the first held session), the latest score inside each time point's window and
  of each week (the score whose next one falls later, or that has none: local days only
  grow), the week of the first responding score and of the last score; summed over the
  cohort into counts per questionnaire, time point and week. Response
  (`rules.is_response`): a baseline above 0 and twice the score at most the baseline (in
  integers, exactly "at least 50% below"); remission: below the questionnaire's
  `rules.REMISSION_BELOW`.
- `ADHERENCE_SQL`: per active patient, the check-ins done in the windows of
  `outcomes.adherence_windows`, the held sessions with one of the patient's questionnaires
  in the 48 hours before, and in maintenance the full 14-day blocks without a held session
  and those of them with a questionnaire; the drop rule; summed into totals, with the rows
  the page lists (the lowest check-in shares, ties by name, and every patient whose
  adherence dropped). From stored facts: the days as bit strings (`outcome_days` counts a
  range of them; a block holds a session if its first day is one with a session in the 14
  days ahead).

The questionnaire figures of the patients whose stored facts stand are read as sums kept
per group of patients the filters select (`care.models.outcomes.OutcomeFactsGroup`), a few
rows whatever the cohort's size: `INSTRUMENT_SQL` adds up the groups the filters choose,
takes back what they hold of marked patients and sums the other patients one by one.

`STORE_PATIENT_FACTS` and `STORE_INSTRUMENT_FACTS` store a patient's facts from all their
rows (the refresh, `care.outcomes.services`), and `GROUP_SUMS` moves them out of the sums
of the group they were stored in and into those of the group they are in now. Days are the
patient's local days (`AT TIME ZONE` the patient's zone). Of two scores at the same
instant, the one stored later counts as the later. The tests hold every figure equal to
the plain-Python definitions that read each row, from stored facts and from rows, case by
case and on generated cohorts (tests/care/test_outcome_definitions.py,
tests/care/test_outcome_facts.py). The cohort is the ORM's (`selectors.cohort_patients`),
written once into a temporary table both statements read.
"""

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import QuerySet

# The treated patients of `outcome_cohort` (those with a held session by the period's end).
TREATED = "SELECT id FROM outcome_cohort WHERE first_held_at IS NOT NULL"

COHORT_COLUMNS = (
    "id",
    "tz",
    "status",
    "treatment_phase",
    "enrolled_at",
    "questionnaires",
    "has_depression",
    "has_anxiety",
    "has_ptsd",
    "first_held_at",
    "display_name",
    "public_id",
    "stored",
    "group_id",
)

# Each treated patient's facts per questionnaire (`care.models.outcomes.InstrumentFacts`)
# from their scores before %(ends_at)s, for the patients of `treated` (id, tz,
# first_held_at, first_day): one ordered pass over the scores, a window per patient and
# questionnaire. Used by the page for the patients without stored facts, and to store them.
FACTS = """
scored AS MATERIALIZED (
    SELECT patient, code, before, day, total,
           first_value(total) OVER w AS baseline,
           first_value(before) OVER w AS has_baseline,
           lead(day) OVER w AS next_day
    FROM (
        SELECT a.patient_id AS patient, a.instrument AS code, a.completed_at AS at, a.id,
               a.total, a.completed_at <= t.first_held_at AS before,
               (a.completed_at AT TIME ZONE t.tz)::date - t.first_day AS day
        FROM care_assessment a
        JOIN treated t ON t.id = a.patient_id
        WHERE a.instrument = ANY(%(codes)s) AND a.total IS NOT NULL
          AND a.completed_at < %(ends_at)s::timestamptz
          AND NOT EXISTS (SELECT 1 FROM care_assessment c WHERE c.supersedes_id = a.id)
    ) scores
    WINDOW w AS (PARTITION BY patient, code ORDER BY at, id)
),
computed AS (
    SELECT patient AS patient_id, code, bool_and(has_baseline) AS has_baseline,
           min(baseline) AS baseline,
           min(day / 7) FILTER (
               WHERE has_baseline AND NOT before AND baseline > 0 AND 2 * total <= baseline
           ) AS responded,
           max(day / 7) FILTER (WHERE has_baseline AND NOT before) AS last_seen,
           {points},
           {weeks}
    FROM scored GROUP BY patient, code
)"""

# A time point's latest score: the score in its window whose next one (days only grow) falls
# after the window or does not exist; a week's likewise.
POINT_LATEST = """max(total) FILTER (
               WHERE has_baseline AND NOT before AND day BETWEEN {first} AND {last}
                 AND (next_day IS NULL OR next_day > {last})
           ) AS point_{n}"""
WEEK_LATEST = """max(total - baseline) FILTER (
               WHERE has_baseline AND NOT before AND day / 7 = {week}
                 AND (next_day IS NULL OR next_day / 7 > {week})
           ) AS week_{week}"""

# The figures of the cohort (`outcome_cohort`): its size, then each questionnaire's counts.
# Those of the patients whose stored facts stand and whose group's sums stand for the period
# (`groups`: the groups the filters select, nobody in them stored with anything after the
# period's end) are the groups' sums; what the groups hold of marked patients is taken back
# (their stored facts, counted -1); the other patients are summed from their stored facts
# or from facts worked out now. Rows of (kind, code, figures), to be added up by kind and
# code: 'cohort' (patients, treated, treated but not active), 'code' (`FIGURES`),
# 'responded' and 'censored' (week, patients).
INSTRUMENT_SQL = """
WITH cohort AS NOT MATERIALIZED (TABLE outcome_cohort),
groups AS MATERIALIZED (SELECT unnest(%(groups)s::bigint[]) AS id),
taken_back AS MATERIALIZED (
    SELECT p.patient_id, p.group_id FROM care_outcomefacts_stale s
    JOIN care_outcomefacts_patient p USING (patient_id)
    JOIN groups g ON g.id = p.group_id
),
treated AS MATERIALIZED (
    SELECT id, tz, first_held_at, (first_held_at AT TIME ZONE tz)::date AS first_day
    FROM cohort WHERE first_held_at IS NOT NULL AND NOT stored
),
{facts},
facts AS MATERIALIZED (
    SELECT 1 AS sign, {columns} FROM care_outcomefacts_instrument f
    JOIN cohort c ON c.id = f.patient_id
    WHERE c.stored AND f.code = ANY(%(codes)s)
      AND NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = c.group_id)
    UNION ALL
    SELECT 1, {columns} FROM computed
    UNION ALL
    SELECT -1, {columns} FROM taken_back t
    JOIN care_outcomefacts_instrument f USING (patient_id)
    WHERE f.code = ANY(%(codes)s)
),
remission AS (
    SELECT * FROM unnest(%(remission_codes)s::text[], %(remission_below)s::int[]) AS r(code, below)
)
SELECT 'cohort', '', ARRAY[count(*), count(first_held_at),
       count(*) FILTER (WHERE first_held_at IS NOT NULL AND status <> 'active')]
FROM cohort
UNION ALL
-- The patients of the groups that stand, all treated, and those of them not active.
SELECT 'covered', '', ARRAY[
           coalesce(sum(g.patients), 0)
               - (SELECT count(*) FROM taken_back),
           coalesce(sum(g.patients) FILTER (WHERE NOT g.active), 0)
               - (SELECT count(*) FROM taken_back t JOIN care_outcomefacts_group x
                  ON x.id = t.group_id WHERE NOT x.active)
       ]
FROM care_outcomefacts_group g WHERE g.id IN (SELECT id FROM groups)
UNION ALL
SELECT 'code', code, ARRAY[{figures}]
FROM facts f LEFT JOIN remission r USING (code) GROUP BY code
UNION ALL
SELECT 'code', s.code, s.figures FROM care_outcomefacts_sums s
JOIN groups g ON g.id = s.group_id WHERE s.code = ANY(%(codes)s)
UNION ALL
SELECT 'responded', code, ARRAY[responded, sum(sign)] FROM facts
WHERE responded IS NOT NULL GROUP BY code, responded
UNION ALL
SELECT 'censored', code, ARRAY[last_seen, sum(sign)] FROM facts
WHERE responded IS NULL AND last_seen IS NOT NULL GROUP BY code, last_seen
UNION ALL
SELECT w.kind, w.code, ARRAY[w.week, w.patients] FROM care_outcomefacts_weeks w
JOIN groups g ON g.id = w.group_id WHERE w.code = ANY(%(codes)s) AND w.patients <> 0
"""

# A questionnaire's figures summed over rows of facts, each counted `sign` times: with and
# without a baseline; per time point the scored, responders and remitters; per week the
# patients and their sum of score minus baseline.
FIGURES_HEAD = (
    "coalesce(sum(sign) FILTER (WHERE has_baseline), 0)",
    "coalesce(sum(sign) FILTER (WHERE NOT has_baseline), 0)",
)
POINT_FIGURES = (
    "coalesce(sum(sign) FILTER (WHERE point_{n} IS NOT NULL), 0)",
    "coalesce(sum(sign) FILTER (WHERE baseline > 0 AND 2 * point_{n} <= baseline), 0)",
    "coalesce(sum(sign) FILTER (WHERE point_{n} < below), 0)",
)
WEEK_FIGURES = (
    "coalesce(sum(sign) FILTER (WHERE week_{week} IS NOT NULL), 0)",
    "coalesce(sum(sign * week_{week}), 0)",
)

# The groups the filters can select (`OutcomeFactsGroup`) of the patients %(ids)s, made if
# new: clinic, primary clinician (0: none), phase, conditions, active or not, routes held.
GROUP_KEY = (
    "p.clinic_id, coalesce(p.primary_clinician_id, 0), p.treatment_phase, p.has_depression,"
    " p.has_anxiety, p.has_ptsd, p.status = 'active'"
)
ROUTES = "array_agg(DISTINCT route ORDER BY route)"
STORE_GROUPS = """
INSERT INTO care_outcomefacts_group (
    clinic_id, clinician_id, phase, has_depression, has_anxiety, has_ptsd, active, routes,
    patients, last_at, enrolled_at
)
SELECT DISTINCT {group_key}, r.routes, 0, '-infinity'::timestamptz, '-infinity'::timestamptz
FROM care_patient p
JOIN (
    SELECT patient_id, {routes} AS routes FROM care_treatmentsession
    WHERE status = 'completed' AND patient_id = ANY(%(ids)s) GROUP BY patient_id
) r ON r.patient_id = p.id
ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
ON CONFLICT DO NOTHING
"""

# The stored questionnaire facts of the patients %(ids)s added to their groups' sums, each
# counted %(sign)s times (-1: taken out), and their groups' latest enrolment and
# questionnaire or session moved on.
GROUP_SUMS = """
WITH chosen AS MATERIALIZED (
    SELECT * FROM care_outcomefacts_patient
    WHERE patient_id = ANY(%(ids)s) AND group_id IS NOT NULL
),
moved AS (
    UPDATE care_outcomefacts_group g
    SET patients = g.patients + %(sign)s::int * c.patients,
        last_at = CASE WHEN %(sign)s::int > 0 THEN greatest(g.last_at, c.last_at)
                  ELSE g.last_at END,
        enrolled_at = CASE WHEN %(sign)s::int > 0 THEN greatest(g.enrolled_at, c.enrolled_at)
                      ELSE g.enrolled_at END
    FROM (
        SELECT group_id, count(*) AS patients, max(last_at) AS last_at,
               max(enrolled_at) AS enrolled_at
        FROM chosen GROUP BY group_id
    ) c
    WHERE g.id = c.group_id
),
adherence AS (
    INSERT INTO care_outcomefacts_adherence (group_id, first, last, figures)
    SELECT group_id, adherence_first, adherence_last, ARRAY[{adherence_figures}]
    FROM chosen WHERE adherence_expected IS NOT NULL
    GROUP BY group_id, adherence_first, adherence_last ORDER BY 1, 2, 3
    ON CONFLICT (group_id, last, first) DO UPDATE
    SET figures = outcome_add(care_outcomefacts_adherence.figures, EXCLUDED.figures)
),
facts AS MATERIALIZED (
    SELECT %(sign)s::int AS sign, c.group_id, f.*
    FROM care_outcomefacts_instrument f JOIN chosen c USING (patient_id)
    WHERE f.code = ANY(%(codes)s)
),
remission AS (
    SELECT * FROM unnest(%(remission_codes)s::text[], %(remission_below)s::int[]) AS r(code, below)
),
sums AS (
    INSERT INTO care_outcomefacts_sums (group_id, code, figures)
    SELECT group_id, code, ARRAY[{figures}]
    FROM facts f LEFT JOIN remission r USING (code)
    GROUP BY group_id, code ORDER BY group_id, code
    ON CONFLICT (group_id, code) DO UPDATE
    SET figures = outcome_add(care_outcomefacts_sums.figures, EXCLUDED.figures)
)
INSERT INTO care_outcomefacts_weeks (group_id, code, kind, week, patients)
SELECT * FROM (
    SELECT group_id, code, 'responded', responded, sum(sign) FROM facts
    WHERE responded IS NOT NULL GROUP BY group_id, code, responded
    UNION ALL
    SELECT group_id, code, 'censored', last_seen, sum(sign) FROM facts
    WHERE responded IS NULL AND last_seen IS NOT NULL GROUP BY group_id, code, last_seen
) weeks ORDER BY 1, 2, 3, 4
ON CONFLICT (group_id, code, kind, week) DO UPDATE
SET patients = care_outcomefacts_weeks.patients + EXCLUDED.patients
"""

# Store the facts of the patients %(ids)s (their marks claimed): who has held a session and
# when, the days adherence counts as bit strings from the patient's earliest such day (one
# string per kind of day, `care.models.outcomes.PatientOutcomeFacts`), then each
# questionnaire's facts.
STORE_PATIENT_FACTS = """
INSERT INTO care_outcomefacts_patient (
    patient_id, group_id, enrolled_at, first_held_at, routes, last_at, origin, checkin_days,
    held_days, held_extra, prepared_days, prepared_extra, held_ahead, questionnaire_ahead
)
WITH patients AS MATERIALIZED (
    SELECT id, tz, {wanted} AS wanted FROM care_patient WHERE id = ANY(%(ids)s)
),
held AS MATERIALIZED (
    SELECT t.patient_id, t.scheduled_at AS at, t.route, d.day,
           row_number() OVER (PARTITION BY t.patient_id, d.day ORDER BY t.scheduled_at, t.id)
               AS nth,
           EXISTS (
               SELECT 1 FROM care_assessment q
               WHERE q.patient_id = t.patient_id AND q.supersedes_id IS NULL
                 AND q.instrument = ANY(p.wanted)
                 AND q.completed_at BETWEEN t.scheduled_at - %(lead)s AND t.scheduled_at
           ) AS prepared
    FROM care_treatmentsession t
    JOIN patients p ON p.id = t.patient_id
    CROSS JOIN LATERAL (SELECT (t.scheduled_at AT TIME ZONE p.tz)::date AS day) d
    WHERE t.status = 'completed'
),
prepared AS (
    SELECT patient_id, day,
           row_number() OVER (PARTITION BY patient_id, day ORDER BY at) AS nth
    FROM held WHERE prepared
),
days AS MATERIALIZED (
    SELECT i.patient_id, 'checkin' AS kind, i.local_date AS day
    FROM care_checkin i WHERE i.patient_id = ANY(%(ids)s)
    UNION ALL
    SELECT patient_id, 'held', day FROM held WHERE nth = 1
    UNION ALL
    SELECT patient_id, 'prepared', day FROM prepared WHERE nth = 1
    UNION ALL
    SELECT DISTINCT q.patient_id, 'questionnaire', (q.completed_at AT TIME ZONE p.tz)::date
    FROM care_assessment q JOIN patients p ON p.id = q.patient_id
    WHERE q.supersedes_id IS NULL AND q.instrument = ANY(p.wanted)
),
-- From 13 days before the earliest day, so that the days ahead of it fit too.
origins AS (
    SELECT patient_id, min(day) - (%(block_days)s - 1) AS origin FROM days GROUP BY patient_id
),
bits AS (
    SELECT patient_id, kind,
           string_agg(repeat('0', day - previous - 1) || '1', '' ORDER BY day)::varbit AS bits
    FROM (
        SELECT d.patient_id, d.kind, d.day,
               coalesce(lag(d.day) OVER (PARTITION BY d.patient_id, d.kind ORDER BY d.day),
                        o.origin - 1) AS previous
        FROM days d JOIN origins o USING (patient_id)
    ) gaps
    GROUP BY patient_id, kind
),
ahead AS (
    SELECT patient_id, kind, bit_or(bits << ahead) AS bits
    FROM bits, generate_series(0, %(block_days)s - 1) AS ahead
    WHERE kind IN ('held', 'questionnaire')
    GROUP BY patient_id, kind
),
strings AS (
    SELECT patient_id,
           (array_agg(bits) FILTER (WHERE kind = 'checkin'))[1] AS checkin_days,
           (array_agg(bits) FILTER (WHERE kind = 'held'))[1] AS held_days,
           (array_agg(bits) FILTER (WHERE kind = 'prepared'))[1] AS prepared_days,
           (array_agg(bits) FILTER (WHERE kind = 'held_ahead'))[1] AS held_ahead,
           (array_agg(bits) FILTER (WHERE kind = 'questionnaire_ahead'))[1]
               AS questionnaire_ahead
    FROM (
        SELECT patient_id, kind, bits FROM bits
        UNION ALL
        SELECT patient_id, kind || '_ahead', bits FROM ahead
    ) every
    GROUP BY patient_id
),
sessions AS (
    SELECT patient_id, min(at) AS first_held_at, max(at) AS last_held_at,
           {routes} AS routes,
           array_agg(day ORDER BY day) FILTER (WHERE nth > 1) AS held_extra
    FROM held GROUP BY patient_id
),
extra AS (
    SELECT patient_id, array_agg(day ORDER BY day) AS prepared_extra
    FROM prepared WHERE nth > 1 GROUP BY patient_id
)
SELECT s.patient_id, g.id, p.enrolled_at, s.first_held_at, s.routes,
       greatest(s.last_held_at, (
           SELECT max(a.completed_at) FROM care_assessment a WHERE a.patient_id = s.patient_id
       )),
       o.origin, b.checkin_days, b.held_days, s.held_extra, b.prepared_days, e.prepared_extra,
       b.held_ahead, b.questionnaire_ahead
FROM sessions s
JOIN origins o USING (patient_id)
JOIN strings b USING (patient_id)
LEFT JOIN extra e USING (patient_id)
JOIN care_patient p ON p.id = s.patient_id
-- The patient's group as STORE_GROUPS made it (none if the patient changed since: they are
-- marked again, and in no group's sums until stored again).
LEFT JOIN care_outcomefacts_group g
    ON (g.clinic_id, g.clinician_id, g.phase, g.has_depression, g.has_anxiety, g.has_ptsd,
        g.active, g.routes) = ({group_key}, s.routes)
"""
STORE_INSTRUMENT_FACTS = """
INSERT INTO care_outcomefacts_instrument (patient_id, code, {names})
WITH treated AS MATERIALIZED (
    SELECT p.id, p.tz, f.first_held_at, (f.first_held_at AT TIME ZONE p.tz)::date AS first_day
    FROM care_outcomefacts_patient f JOIN care_patient p ON p.id = f.patient_id
    WHERE f.patient_id = ANY(%(ids)s)
),
{facts}
SELECT patient_id, code, {names} FROM computed
"""


# The questionnaires a patient is asked for (`records.selectors.patient_instrument_codes`):
# those the care team chose, else those that fit the conditions.
WANTED = """
ARRAY(
    SELECT code FROM unnest(ARRAY['phq9', 'gad7', 'pcl5']) AS code
    WHERE CASE
        WHEN questionnaires IS NOT NULL
             AND questionnaires NOT IN ('[]', '{}', '""', '0', 'false', 'null')
        THEN questionnaires ? code
        ELSE (code = 'phq9' AND has_depression) OR (code = 'gad7' AND has_anxiety)
             OR (code = 'pcl5' AND has_ptsd)
    END
)
"""

# A stored list of extra days (a second held session the same day): those from the patient's
# first day counted to the last.
EXTRA_DAYS = """CASE WHEN {days} IS NULL THEN 0 ELSE (
               SELECT count(*) FROM unnest({days}) AS extra(day)
               WHERE extra.day BETWEEN {since} AND {last}
           ) END"""

# A patient's adherence counts from their stored days (`f`, bit strings from `f.origin`),
# for the windows {first} .. {last}, {recent_first} .. {last} and {earlier_first} ..
# {earlier_last} (SQL dates), enrolled on {enrolled_on}, in maintenance if {maintenance}:
# no row if enrolled after the last day. Maintenance blocks: the bits of the blocks' first
# days, of the days with a session and with a questionnaire in the 14 days from them.
FROM_DAYS = """
        SELECT e.expected, e.recent_expected, e.earlier_expected,
               least(outcome_days(f.checkin_days, f.origin, {first}, {last}), e.expected)
                   AS done,
               least(
                   outcome_days(f.checkin_days, f.origin, {recent_first}, {last}),
                   e.recent_expected
               ) AS recent_done,
               least(
                   outcome_days(f.checkin_days, f.origin, {earlier_first}, {earlier_last}),
                   e.earlier_expected
               ) AS earlier_done,
               outcome_days(f.held_days, f.origin, e.first, {last})
                   + {held_extra} + b.expected AS q_expected,
               outcome_days(f.prepared_days, f.origin, e.first, {last})
                   + {prepared_extra} + b.done AS q_done
        FROM (
            SELECT w.first, {last} - w.first + 1 AS expected,
                   greatest({last} - greatest({recent_first}, w.enrolled_on) + 1, 0)
                       AS recent_expected,
                   greatest(
                       {earlier_last} - greatest({earlier_first}, w.enrolled_on) + 1, 0
                   ) AS earlier_expected
            FROM (
                SELECT greatest({first}, {enrolled_on}) AS first, {enrolled_on} AS enrolled_on
            ) w
        ) e
        CROSS JOIN LATERAL (
            SELECT CASE WHEN {maintenance} THEN e.expected / %(block_days)s ELSE 0 END AS count
        ) blocks
        CROSS JOIN LATERAL (
            SELECT repeat('1' || repeat('0', %(block_days)s - 1), blocks.count)::varbit
                       AS firsts,
                   outcome_window(
                       f.held_ahead, f.origin, e.first, blocks.count * %(block_days)s
                   ) AS session,
                   outcome_window(
                       f.questionnaire_ahead, f.origin, e.first, blocks.count * %(block_days)s
                   ) AS questionnaire
        ) ahead
        CROSS JOIN LATERAL (
            SELECT blocks.count - bit_count(ahead.firsts & ahead.session) AS expected,
                   bit_count(ahead.firsts & ahead.questionnaire & ~ahead.session) AS done
        ) b
        WHERE e.first <= {last}
"""

# Whether adherence dropped (`care.domain.outcomes`), of the counts of `{a}`.
DROPPED = """({a}.earlier_expected > 0 AND {a}.recent_expected > 0
           AND (%(drop_from)s::int[])[2] * {a}.earlier_done
               >= (%(drop_from)s::int[])[1] * {a}.earlier_expected
           AND (%(drop_points)s::int[])[2]
               * ({a}.earlier_done * {a}.recent_expected - {a}.recent_done * {a}.earlier_expected)
               >= (%(drop_points)s::int[])[1] * {a}.earlier_expected * {a}.recent_expected)"""

# The stored adherence of patients summed, in the order of the page's totals: the patients
# counted, check-ins done and expected, questionnaires done and expected, the patients with
# an earlier share, those whose adherence dropped (each row counted {sign} times).
ADHERENCE_FIGURES = (
    "count(*)",
    "sum(adherence_done)",
    "sum(adherence_expected)",
    "sum(adherence_q_done)",
    "sum(adherence_q_expected)",
    "count(*) FILTER (WHERE adherence_earlier_expected > 0 AND adherence_recent_expected > 0)",
    "count(*) FILTER (WHERE adherence_dropped)",
)
ADHERENCE_TOTALS = (
    "patients",
    "done",
    "expected",
    "q_done",
    "q_expected",
    "with_earlier",
    "dropped",
)

# The stored adherence of the patients {which} worked out again for the windows of the
# default period of their group's clinic (`OutcomeFactsDay`; none without one).
STORE_ADHERENCE = """
UPDATE care_outcomefacts_patient f SET
    adherence_first = x.first, adherence_last = x.last, adherence_expected = x.expected,
    adherence_done = x.done, adherence_recent_expected = x.recent_expected,
    adherence_recent_done = x.recent_done, adherence_earlier_expected = x.earlier_expected,
    adherence_earlier_done = x.earlier_done, adherence_q_expected = x.q_expected,
    adherence_q_done = x.q_done, adherence_share = x.done::float8 / x.expected,
    adherence_dropped = {dropped}
FROM (
    SELECT f.patient_id, d.first, d.last, a.*
    FROM care_outcomefacts_patient f
    JOIN care_outcomefacts_group g ON g.id = f.group_id
    JOIN care_outcomefacts_day d ON d.clinic_id = g.clinic_id
    LEFT JOIN care_patient p ON p.id = f.patient_id
    LEFT JOIN LATERAL ({from_days}) a ON true
    WHERE {which}
) x
WHERE f.patient_id = x.patient_id
"""

ADHERENCE_SQL = """
WITH cohort AS NOT MATERIALIZED (TABLE outcome_cohort),
active AS MATERIALIZED (
    SELECT id, tz, display_name, public_id, stored,
           treatment_phase = 'maintenance' AS maintenance,
           (enrolled_at AT TIME ZONE tz)::date AS enrolled_on,
           greatest(%(first)s::date, (enrolled_at AT TIME ZONE tz)::date) AS first
    FROM cohort WHERE first_held_at IS NOT NULL AND status = 'active'
),
counted AS MATERIALIZED (
    SELECT a.*, %(last)s::date - a.first + 1 AS expected,
           greatest(%(last)s::date - greatest(%(recent_first)s::date, a.enrolled_on) + 1, 0)
               AS recent_expected,
           greatest(
               %(earlier_last)s::date - greatest(%(earlier_first)s::date, a.enrolled_on) + 1, 0
           ) AS earlier_expected
    FROM active a WHERE a.first <= %(last)s::date
),
live AS MATERIALIZED (
    SELECT c.*, {wanted} AS wanted FROM counted c JOIN cohort USING (id) WHERE NOT c.stored
),
checkins AS (
    SELECT i.patient_id AS id,
           count(*) FILTER (WHERE i.local_date >= %(first)s::date) AS period,
           count(*) FILTER (WHERE i.local_date >= %(recent_first)s::date) AS recent,
           count(*) FILTER (
               WHERE i.local_date BETWEEN %(earlier_first)s::date AND %(earlier_last)s::date
           ) AS earlier
    FROM care_checkin i
    WHERE i.patient_id IN (SELECT id FROM live)
      AND i.local_date BETWEEN least(%(first)s::date, %(earlier_first)s::date) AND %(last)s::date
    GROUP BY i.patient_id
),
sessions AS MATERIALIZED (
    SELECT c.id, c.wanted, t.scheduled_at AS at,
           ((t.scheduled_at AT TIME ZONE c.tz)::date - c.first) / %(block_days)s AS block
    FROM live c
    JOIN care_treatmentsession t ON t.patient_id = c.id
    WHERE t.status = 'completed'
      AND t.scheduled_at >= %(sessions_from)s AND t.scheduled_at < %(sessions_to)s
      AND (t.scheduled_at AT TIME ZONE c.tz)::date BETWEEN c.first AND %(last)s::date
),
before_sessions AS (
    SELECT s.id, count(*) AS expected,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM care_assessment q
               WHERE q.patient_id = s.id AND q.supersedes_id IS NULL
                 AND q.instrument = ANY(s.wanted)
                 AND q.completed_at BETWEEN s.at - %(lead)s AND s.at
                 AND q.completed_at < %(ends_at)s
           )) AS done
    FROM sessions s GROUP BY s.id
),
blocks AS MATERIALIZED (
    SELECT id, first, wanted, tz, expected / %(block_days)s AS blocks
    FROM live WHERE maintenance AND expected >= %(block_days)s
),
session_blocks AS MATERIALIZED (
    SELECT DISTINCT s.id, s.block FROM sessions s JOIN blocks b USING (id) WHERE s.block < b.blocks
),
questionnaire_blocks AS (
    SELECT DISTINCT b.id, ((q.completed_at AT TIME ZONE b.tz)::date - b.first) / %(block_days)s
        AS block
    FROM blocks b
    JOIN care_assessment q ON q.patient_id = b.id
    WHERE q.supersedes_id IS NULL AND q.instrument = ANY(b.wanted)
      AND q.completed_at >= %(sessions_from)s AND q.completed_at < %(ends_at)s
      AND (q.completed_at AT TIME ZONE b.tz)::date
          BETWEEN b.first AND b.first + b.blocks * %(block_days)s - 1
),
in_blocks AS (
    SELECT b.id, b.blocks - coalesce(s.blocks, 0) AS expected, coalesce(q.blocks, 0) AS done
    FROM blocks b
    LEFT JOIN (SELECT id, count(*) AS blocks FROM session_blocks GROUP BY id) s USING (id)
    LEFT JOIN (
        SELECT q.id, count(*) AS blocks
        FROM questionnaire_blocks q LEFT JOIN session_blocks s USING (id, block)
        WHERE s.id IS NULL GROUP BY q.id
    ) q USING (id)
),
-- The groups whose sums stand for the period (`cohort_groups`), of active patients, and
-- the patients of theirs the page may list: every one whose adherence dropped, and per
-- group those with the lowest check-in shares (ties included), all not marked.
covered_groups AS MATERIALIZED (
    SELECT id FROM care_outcomefacts_group WHERE id = ANY(%(groups)s) AND active
),
-- The cut: the %(rows)s-th lowest share of those groups' patients not marked (each group's
-- lowest from its index, without reading the patients' rows).
cut AS MATERIALIZED (
    SELECT CASE WHEN count(*) < %(rows)s THEN 'Infinity' ELSE max(share) END AS share
    FROM (
        SELECT l.share FROM covered_groups g
        CROSS JOIN LATERAL (
            SELECT x.adherence_share AS share FROM care_outcomefacts_patient x
            WHERE x.group_id = g.id AND x.adherence_last = %(last)s::date
              AND x.adherence_first = %(first)s::date AND x.adherence_share IS NOT NULL
              AND NOT EXISTS (
                  SELECT 1 FROM care_outcomefacts_stale s WHERE s.patient_id = x.patient_id
              )
            ORDER BY x.adherence_share LIMIT %(rows)s
        ) l
        ORDER BY l.share LIMIT %(rows)s
    ) lowest
),
covered AS MATERIALIZED (
    SELECT f.* FROM covered_groups g
    CROSS JOIN LATERAL (
        SELECT {covered_columns} FROM care_outcomefacts_patient f
        WHERE f.group_id = g.id AND f.adherence_last = %(last)s::date AND f.adherence_dropped
          AND f.adherence_first = %(first)s::date
        UNION
        SELECT {covered_columns} FROM care_outcomefacts_patient f
        WHERE f.group_id = g.id AND f.adherence_last = %(last)s::date
          AND f.adherence_first = %(first)s::date
          AND f.adherence_share <= (SELECT share FROM cut)
    ) f
    WHERE NOT EXISTS (SELECT 1 FROM care_outcomefacts_stale s WHERE s.patient_id = f.patient_id)
),
done AS MATERIALIZED (
    SELECT c.id, c.display_name, c.public_id, c.expected, c.recent_expected, c.earlier_expected,
           least(coalesce(k.period, 0), c.expected) AS checkins_done,
           least(coalesce(k.recent, 0), c.recent_expected) AS recent_done,
           least(coalesce(k.earlier, 0), c.earlier_expected) AS earlier_done,
           coalesce(s.expected, 0) + coalesce(b.expected, 0) AS q_expected,
           coalesce(s.done, 0) + coalesce(b.done, 0) AS q_done
    FROM live c
    LEFT JOIN checkins k USING (id)
    LEFT JOIN before_sessions s USING (id)
    LEFT JOIN in_blocks b USING (id)
    UNION ALL
    -- The patients whose stored facts stand: the same counts from their days' bit strings.
    SELECT c.id, c.display_name, c.public_id, a.expected, a.recent_expected,
           a.earlier_expected, a.done, a.recent_done, a.earlier_done, a.q_expected, a.q_done
    FROM counted c
    JOIN care_outcomefacts_patient f ON f.patient_id = c.id
    CROSS JOIN LATERAL ({from_days}) a
    WHERE c.stored
),
flagged AS MATERIALIZED (
    SELECT d.*, false AS covered, {dropped} AS dropped
    FROM done d
    UNION ALL
    -- The patients of the groups that stand (`covered`): their stored adherence.
    SELECT c.patient_id, n.name, n.public_id,
           c.adherence_expected, c.adherence_recent_expected, c.adherence_earlier_expected,
           c.adherence_done, c.adherence_recent_done, c.adherence_earlier_done,
           c.adherence_q_expected, c.adherence_q_done, true, c.adherence_dropped
    FROM covered c
    -- Looked up by key (OFFSET 0: not joined, which read every patient and account).
    CROSS JOIN LATERAL (
        SELECT coalesce(nullif(u.full_name, ''), p.preferred_name) AS name, p.public_id
        FROM care_patient p JOIN care_user u ON u.id = p.user_id
        WHERE p.id = c.patient_id OFFSET 0
    ) n
),
-- The lowest shares first: a top-N sort keeps only those rows, then they are numbered.
lowest AS (
    SELECT id, row_number() OVER (ORDER BY share, name COLLATE "C", id) AS rank
    FROM (
        SELECT id, checkins_done::float8 / expected AS share, display_name AS name
        FROM flagged
        ORDER BY share, display_name COLLATE "C", id
        LIMIT %(rows)s
    ) top
),
-- The sums of the groups that stand, less what they hold of marked patients.
covered_sums AS (
    SELECT {covered_sums}
    FROM care_outcomefacts_adherence a JOIN covered_groups g ON g.id = a.group_id
    WHERE a.first = %(first)s::date AND a.last = %(last)s::date
),
taken_back AS (
    SELECT {taken_back}
    FROM care_outcomefacts_stale s
    JOIN care_outcomefacts_patient f USING (patient_id)
    JOIN covered_groups g ON g.id = f.group_id
    WHERE f.adherence_first = %(first)s::date AND f.adherence_last = %(last)s::date
      AND f.adherence_expected IS NOT NULL
),
totals AS (
    SELECT count(*) AS patients, coalesce(sum(checkins_done), 0) AS done,
           coalesce(sum(expected), 0) AS expected, coalesce(sum(q_done), 0) AS q_done,
           coalesce(sum(q_expected), 0) AS q_expected,
           count(*) FILTER (WHERE earlier_expected > 0 AND recent_expected > 0) AS with_earlier,
           count(*) FILTER (WHERE dropped) AS dropped
    FROM flagged WHERE NOT covered
)
SELECT 0 AS listed, t.patients + c.patients - b.patients, t.done + c.done - b.done,
       t.expected + c.expected - b.expected, t.q_done + c.q_done - b.q_done,
       t.q_expected + c.q_expected - b.q_expected,
       t.with_earlier + c.with_earlier - b.with_earlier, t.dropped + c.dropped - b.dropped,
       0, 0, false, '', NULL::uuid, NULL::bigint
FROM totals t, covered_sums c, taken_back b
UNION ALL
SELECT 1, f.id, f.checkins_done, f.expected, f.q_done, f.q_expected, f.recent_done,
       f.recent_expected, f.earlier_done, f.earlier_expected, f.dropped, f.display_name,
       f.public_id, l.rank
FROM flagged f LEFT JOIN lowest l USING (id)
WHERE f.dropped OR l.rank IS NOT NULL
"""


def _named(sql: str, params: tuple) -> tuple[str, dict]:
    """Django's compiled SQL with its %s placeholders named c0, c1, ... (literal percent
    signs are already doubled in it)."""
    names = iter(range(len(params)))
    text = re.sub(r"(?<!%)%s", lambda _: f"%(c{next(names)})s", sql.replace("%%", "\0"))
    return text.replace("\0", "%%"), {f"c{i}": value for i, value in enumerate(params)}


@contextmanager
def snapshot() -> Iterator[tuple[CursorWrapper, bool]]:
    """A cursor in a transaction for the page's statements, and whether they read one
    snapshot: always unless it is inside another transaction that does not (read
    committed); `outcome_cohort` (`write_cohort`) is dropped at the end."""
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:
            # One snapshot for every statement: whether a patient's stored facts stand, and
            # which groups' sums stand, is decided when the table is written, and a refresh
            # or a mark committed after that must not be read.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            consistent = True
        else:
            cursor.execute("SHOW transaction_isolation")
            consistent = cursor.fetchone()[0] in ("repeatable read", "serializable")
        # No JIT: the planner's costs for these statements are far above what they do (a
        # subquery it prices per patient runs for a few), and compiling took longer than
        # running them (200 ms of the cohort's 310 at 50,000 patients).
        cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '32MB'")
        yield cursor, consistent
        # Inside an outer transaction (a test's, say) the commit is not this block's.
        cursor.execute("DROP TABLE IF EXISTS outcome_cohort")


def write_cohort(cursor: CursorWrapper, cohort: QuerySet) -> None:
    """The cohort (`COHORT_COLUMNS` of the patients of `cohort`) as the temporary table
    `outcome_cohort`, analysed, so that the planner knows how many patients each step keeps
    (over a common table expression it guesses, and loops over thousands of patients one
    by one)."""
    cohort_sql, cohort_params = cohort.order_by().values(*COHORT_COLUMNS).query.sql_with_params()
    text, named = _named(cohort_sql, cohort_params)
    cursor.execute(f"CREATE TEMPORARY TABLE outcome_cohort ON COMMIT DROP AS {text}", named)
    # A small sample is enough for the planner's estimates (the default took 80 ms).
    cursor.execute("SET LOCAL default_statistics_target = 10; ANALYZE outcome_cohort")


# The clinic's groups the filters select (`group_filters`), and whether each one's sums
# stand for the period: nobody in it stored with anything after the period's end, and the
# clinic's stored adherence is for the period's adherence windows.
COHORT_GROUPS = """
SELECT g.id, g.last_at < %(ends_at)s AND g.enrolled_at < %(ends_at)s AND d.clinic_id IS NOT NULL
FROM care_outcomefacts_group g
LEFT JOIN care_outcomefacts_day d ON d.clinic_id = g.clinic_id
    AND (d.first, d.last, d.recent_first, d.earlier_first, d.earlier_last)
        = (%(first)s::date, %(last)s::date, %(recent_first)s::date, %(earlier_first)s::date,
           %(earlier_last)s::date)
WHERE g.clinic_id = %(clinic)s
  {group_filters}
"""

# The patients not summed in a group whose sums stand (the others of `COHORT_GROUPS` as the
# parameter): those marked, and those stored in another group or none. Read apart, so that
# the cohort is written from these few by key (over a subquery the planner, guessing at a
# table of marks that changes by the minute, read every patient of the clinic).
NOT_IN_GROUPS = """
SELECT coalesce(array_agg(DISTINCT patient_id), '{}') FROM (
    SELECT patient_id FROM care_outcomefacts_stale
    UNION ALL
    SELECT patient_id FROM care_outcomefacts_patient WHERE group_id = ANY(%(others)s)
    UNION ALL
    SELECT patient_id FROM care_outcomefacts_patient WHERE group_id IS NULL
) outside
"""
# The patients of the parameter, an array.
LISTED = "SELECT unnest(%s::bigint[])"


def not_in_groups(cursor: CursorWrapper, others: list[int]) -> list[int]:
    """The ids of the patients of `NOT_IN_GROUPS`."""
    cursor.execute(NOT_IN_GROUPS, {"others": others})
    return cursor.fetchone()[0]


def cohort_groups(cursor: CursorWrapper, params: dict, *, filters: str) -> tuple[list, list]:
    """The ids of the groups of `COHORT_GROUPS` whose sums stand, and of the others."""
    cursor.execute(COHORT_GROUPS.format(group_filters=filters), params)
    rows = cursor.fetchall()
    return [key for key, stands in rows if stands], [key for key, stands in rows if not stands]


def _facts(points: Sequence[tuple[int, int]], weeks: int) -> tuple[str, str]:
    """`FACTS` for the time points given as (first day, last day) windows (point_1, ... in
    that order) and weeks 0 to `weeks` - 1, and the names of its fact columns."""
    numbered = list(enumerate(points, start=1))
    names = [
        "has_baseline",
        "baseline",
        "responded",
        "last_seen",
        *(f"point_{n}" for n, _ in numbered),
        *(f"week_{week}" for week in range(weeks)),
    ]
    facts = FACTS.format(
        points=",\n           ".join(
            POINT_LATEST.format(n=n, first=int(first), last=int(last))
            for n, (first, last) in numbered
        ),
        weeks=",\n           ".join(WEEK_LATEST.format(week=week) for week in range(weeks)),
    )
    return facts, ", ".join(names)


def _figures(points: int, weeks: int) -> str:
    """The `FIGURES_HEAD`, `POINT_FIGURES` and `WEEK_FIGURES` expressions, in that order."""
    return ",\n           ".join(
        [
            *FIGURES_HEAD,
            *(each.format(n=n) for n in range(1, points + 1) for each in POINT_FIGURES),
            *(each.format(week=week) for week in range(weeks) for each in WEEK_FIGURES),
        ]
    )


# The groups a condition selects, by its column; and those another filter selects (its
# value a parameter of the same name).
CONDITION_GROUPS = {
    "depression": "AND has_depression",
    "anxiety": "AND has_anxiety",
    "ptsd": "AND has_ptsd",
}
GROUP_FILTERS = {
    "clinician": "AND clinician_id = %(clinician)s",
    "phase": "AND phase = %(phase)s",
    "route": "AND routes @> ARRAY[%(route)s]::varchar[]",
}


def group_filters(*, condition: str, clinician: int | None, phase: str, route: str) -> str:
    """The filters of `COHORT_GROUPS` for the filters chosen ("" / None: any)."""
    chosen = []
    if condition:
        chosen.append(CONDITION_GROUPS[condition])
    for name, value in (("clinician", clinician), ("phase", phase), ("route", route)):
        if value:
            chosen.append(GROUP_FILTERS[name])
    return "\n      ".join(chosen)


def instrument_rows(
    cursor: CursorWrapper,
    params: dict,
    *,
    points: Sequence[tuple[int, int]],
    weeks: int,
) -> list[tuple]:
    """(kind, code, figures) rows of `INSTRUMENT_SQL` over `outcome_cohort` and the groups
    `params["groups"]`."""
    facts, names = _facts(points, weeks)
    statement = INSTRUMENT_SQL.format(
        facts=facts,
        columns=f"patient_id, code, {names}",
        figures=_figures(len(points), weeks),
    )
    cursor.execute(statement, params)
    return cursor.fetchall()


def claim_stale(cursor: CursorWrapper, *, limit: int) -> list[int]:
    """Remove up to `limit` patients' marks, lowest first, and return them; marks held by a
    transaction still writing are skipped (it commits with the mark in place). Call in the
    transaction that stores the patients' facts again (`store_facts`): its statements see
    every write committed before the claim."""
    cursor.execute(
        """
        DELETE FROM care_outcomefacts_stale WHERE patient_id IN (
            SELECT patient_id FROM care_outcomefacts_stale ORDER BY patient_id
            LIMIT %(limit)s FOR UPDATE SKIP LOCKED
        ) RETURNING patient_id
        """,
        {"limit": limit},
    )
    return [row[0] for row in cursor.fetchall()]


def mark_stale(cursor: CursorWrapper, ids: Sequence[int]) -> None:
    """Mark the patients `ids` (as the triggers do)."""
    cursor.execute(
        "INSERT INTO care_outcomefacts_stale (patient_id)"
        " SELECT unnest(%(ids)s::bigint[]) ON CONFLICT DO NOTHING",
        {"ids": list(ids)},
    )


@dataclass(frozen=True)
class AdherenceRules:
    """What the stored adherence is worked out with (`care.domain.outcomes`)."""

    lead: timedelta  # a questionnaire this long before a session prepares it
    block_days: int
    drop_from: Fraction
    drop_points: Fraction

    def params(self) -> dict:
        return {
            "lead": self.lead,
            "block_days": self.block_days,
            "drop_from": [self.drop_from.numerator, self.drop_from.denominator],
            "drop_points": [self.drop_points.numerator, self.drop_points.denominator],
        }


def store_facts(
    cursor: CursorWrapper,
    ids: Sequence[int],
    *,
    codes: Sequence[str],
    remission: Sequence[tuple[str, int]],
    points: Sequence[tuple[int, int]],
    weeks: int,
    rules: AdherenceRules,
) -> None:
    """Replace the stored facts of the patients `ids` with facts worked out from all their
    rows (`STORE_PATIENT_FACTS`, `STORE_INSTRUMENT_FACTS`, `STORE_ADHERENCE` for the
    adherence windows of their clinic's day), moving them from the sums of the group they
    were in to those of the group they are in now (`GROUP_SUMS`; `remission`: each
    questionnaire's remission threshold, as the page's). The days of their clinics, old and
    new, are held (shared) until the transaction ends: a clinic's day moves on with every
    patient of it worked out again (`move_day`), never beside this."""
    params: dict = {
        "ids": list(ids),
        "codes": list(codes),
        "remission_codes": [code for code, _ in remission],
        "remission_below": [below for _, below in remission],
        "ends_at": "infinity",
        "day_lock": DAY_LOCK,
        **rules.params(),
    }
    cursor.execute(HOLD_DAYS, params)
    sums = _group_sums(len(points), weeks)
    cursor.execute(sums, params | {"sign": -1})
    cursor.execute(
        "DELETE FROM care_outcomefacts_instrument WHERE patient_id = ANY(%(ids)s)", params
    )
    cursor.execute("DELETE FROM care_outcomefacts_patient WHERE patient_id = ANY(%(ids)s)", params)
    cursor.execute(STORE_GROUPS.format(group_key=GROUP_KEY, routes=ROUTES), params)
    cursor.execute(
        STORE_PATIENT_FACTS.format(wanted=WANTED.strip(), routes=ROUTES, group_key=GROUP_KEY),
        params,
    )
    facts, names = _facts(points, weeks)
    cursor.execute(STORE_INSTRUMENT_FACTS.format(facts=facts, names=names), params)
    cursor.execute(_store_adherence("f.patient_id = ANY(%(ids)s)"), params)
    cursor.execute(sums, params | {"sign": 1})


# A clinic's day is held by a lock of its own (an advisory lock: a clinic without a day yet
# is held too, and no user's write to the clinic waits for it): shared by each batch that
# stores its patients, for the clinics of the patients %(ids)s now and as stored, until the
# batch ends; alone by the move of its day (`move_day`).
DAY_LOCK = 240025  # the lock's first key; the clinic's id the second
HOLD_DAYS = """
SELECT pg_advisory_xact_lock_shared(%(day_lock)s, clinic_id::int) FROM (
    SELECT clinic_id FROM care_patient WHERE id = ANY(%(ids)s)
    UNION
    SELECT g.clinic_id FROM care_outcomefacts_patient f
    JOIN care_outcomefacts_group g ON g.id = f.group_id WHERE f.patient_id = ANY(%(ids)s)
    ORDER BY clinic_id
) clinics
"""


def _group_sums(points: int, weeks: int) -> str:
    return GROUP_SUMS.format(
        figures=_figures(points, weeks),
        adherence_figures=", ".join(
            f"%(sign)s::int * coalesce({expression}, 0)" for expression in ADHERENCE_FIGURES
        ),
    )


def _store_adherence(which: str) -> str:
    return STORE_ADHERENCE.format(
        which=which,
        from_days=_from_days(
            **DAY_WINDOWS,
            enrolled_on="(f.enrolled_at AT TIME ZONE coalesce(p.tz, 'UTC'))::date",
            maintenance="g.phase = 'maintenance'",
        ),
        dropped=DROPPED.format(a="x"),
    )


# A clinic's day moved on: its windows (made if new, else changed), then every patient stored
# in its groups worked out again and its groups' adherence sums made again from them.
MOVE_DAY = """
INSERT INTO care_outcomefacts_day AS d (
    clinic_id, first, last, recent_first, earlier_first, earlier_last
) VALUES (
    %(clinic)s, %(first)s, %(last)s, %(recent_first)s, %(earlier_first)s, %(earlier_last)s
)
ON CONFLICT (clinic_id) DO UPDATE SET
    first = EXCLUDED.first, last = EXCLUDED.last, recent_first = EXCLUDED.recent_first,
    earlier_first = EXCLUDED.earlier_first, earlier_last = EXCLUDED.earlier_last
"""
ADHERENCE_SUMS_GONE = """
DELETE FROM care_outcomefacts_adherence
WHERE group_id IN (SELECT id FROM care_outcomefacts_group WHERE clinic_id = %(clinic)s)
"""
ADHERENCE_SUMS_AGAIN = """
INSERT INTO care_outcomefacts_adherence (group_id, first, last, figures)
SELECT f.group_id, f.adherence_first, f.adherence_last, ARRAY[{adherence_figures}]
FROM care_outcomefacts_patient f
JOIN care_outcomefacts_group g ON g.id = f.group_id
WHERE g.clinic_id = %(clinic)s AND f.adherence_expected IS NOT NULL
GROUP BY f.group_id, f.adherence_first, f.adherence_last
"""


def days_stored(cursor: CursorWrapper) -> dict[int, tuple]:
    """Each clinic with stored facts, its time zone and its day's windows as stored (None
    for none yet)."""
    cursor.execute(
        """
        SELECT c.id, c.tz, d.first, d.last, d.recent_first, d.earlier_first, d.earlier_last
        FROM care_clinic c LEFT JOIN care_outcomefacts_day d ON d.clinic_id = c.id
        WHERE c.id IN (SELECT DISTINCT clinic_id FROM care_outcomefacts_group)
        ORDER BY c.id
        """
    )
    return {row[0]: (row[1], None if row[2] is None else row[2:]) for row in cursor.fetchall()}


def move_day(cursor: CursorWrapper, clinic: int, windows: dict, *, rules: AdherenceRules) -> bool:
    """Move the clinic's day to `windows` (first, last, recent_first, earlier_first,
    earlier_last) with all its patients' stored adherence (`MOVE_DAY`), the day held alone
    (`HOLD_DAYS`); False if it was there already (moved by another run meanwhile)."""
    params = windows | {"clinic": clinic, "day_lock": DAY_LOCK, **rules.params()}
    cursor.execute("SELECT pg_advisory_xact_lock(%(day_lock)s, %(clinic)s::int)", params)
    cursor.execute(
        "SELECT 1 FROM care_outcomefacts_day WHERE clinic_id = %(clinic)s"
        " AND (first, last, recent_first, earlier_first, earlier_last)"
        " = (%(first)s, %(last)s, %(recent_first)s, %(earlier_first)s, %(earlier_last)s)",
        params,
    )
    if cursor.fetchone():
        return False
    cursor.execute(MOVE_DAY, params)
    cursor.execute(_store_adherence("g.clinic_id = %(clinic)s"), params)
    cursor.execute(ADHERENCE_SUMS_GONE, params)
    cursor.execute(
        ADHERENCE_SUMS_AGAIN.format(adherence_figures=", ".join(ADHERENCE_FIGURES)), params
    )
    return True


def _from_days(**windows: str) -> str:
    """`FROM_DAYS` for the windows given as SQL dates."""
    return FROM_DAYS.format(
        **windows,
        held_extra=EXTRA_DAYS.format(days="f.held_extra", since="e.first", last=windows["last"]),
        prepared_extra=EXTRA_DAYS.format(
            days="f.prepared_extra", since="e.first", last=windows["last"]
        ),
    )


# The windows as the page's parameters, and as a clinic's `OutcomeFactsDay` (`d`).
PARAM_WINDOWS = {
    name: f"%({name})s::date"
    for name in ("first", "last", "recent_first", "earlier_first", "earlier_last")
}
DAY_WINDOWS = {
    name: f"d.{name}" for name in ("first", "last", "recent_first", "earlier_first", "earlier_last")
}


def adherence_rows(cursor: CursorWrapper, params: dict) -> list[tuple]:
    """The totals row (listed 0) and the listed patients' rows (listed 1) of
    `ADHERENCE_SQL` over `outcome_cohort` and the groups `params["groups"]`."""
    statement = ADHERENCE_SQL.format(
        wanted=WANTED.strip(),
        from_days=_from_days(
            **PARAM_WINDOWS, enrolled_on="c.enrolled_on", maintenance="c.maintenance"
        ),
        dropped=DROPPED.format(a="d"),
        covered_columns=", ".join(
            [
                "f.patient_id",
                *(
                    f"f.adherence_{name}"
                    for name in (
                        "expected",
                        "recent_expected",
                        "earlier_expected",
                        "done",
                        "recent_done",
                        "earlier_done",
                        "q_expected",
                        "q_done",
                        "dropped",
                    )
                ),
            ]
        ),
        covered_sums=", ".join(
            f"coalesce(sum(a.figures[{n}]), 0)::bigint AS {name}"
            for n, name in enumerate(ADHERENCE_TOTALS, start=1)
        ),
        taken_back=", ".join(
            f"coalesce({expression}, 0) AS {name}"
            for expression, name in zip(ADHERENCE_FIGURES, ADHERENCE_TOTALS, strict=True)
        ),
    )
    cursor.execute(statement, params)
    return cursor.fetchall()
