"""Writes of the outcomes room: storing each patient's outcome facts again once marked.

The triggers of migrations 0024 and 0025 mark a patient whenever their questionnaires,
sessions, check-ins, time zone, conditions, chosen questionnaires, clinic, primary
clinician, phase, status or enrolment change, and when they are deleted
(care/models/outcomes.py). `outcome_facts_refresh` first moves on the clinics whose day has
ended (`move_days`: every stored patient's adherence worked out for the new default period),
then claims marked patients a batch at a time and stores their facts from all their rows,
moving them between the sums of their groups, each batch in a transaction of its own; the
outcomes page works out the facts of patients still marked itself, so its figures never
wait for this.

A write for a patient whose mark a batch has claimed waits for that batch's commit (the mark
is its row), so batches are small. The refresh never makes a user's write fail: it waits at
most `LOCK_TIMEOUT` for a lock (less than PostgreSQL's deadlock check, so a deadlock with a
write, such as a patient's deletion, ends the batch, not the write), and a batch that fails
leaves its patients marked for the next run. A patient whose facts cannot be stored (one
failing batch is tried again patient by patient) is logged by id and stays marked; the
others are stored.
"""

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import DatabaseError, connection, transaction
from django.db.utils import OperationalError
from django.utils import timezone

from care.domain.outcomes import (
    BLOCK_DAYS,
    DROP_FROM_AT_LEAST,
    DROP_POINTS,
    INSTRUMENT_CODES,
    LAST_WEEK,
    QUESTIONNAIRE_LEAD,
    Period,
    adherence_windows,
    default_period,
)
from care.domain.rules import REMISSION_BELOW
from care.outcomes import sql as outcome_sql
from care.outcomes.selectors import POINT_WINDOWS, window_params

logger = logging.getLogger(__name__)

BATCH = 500
LOCK_TIMEOUT = "500ms"


ADHERENCE_RULES = outcome_sql.AdherenceRules(
    lead=QUESTIONNAIRE_LEAD,
    block_days=BLOCK_DAYS,
    drop_from=DROP_FROM_AT_LEAST,
    drop_points=DROP_POINTS,
)


def _store(cursor, ids: list[int]) -> None:
    outcome_sql.store_facts(
        cursor,
        ids,
        codes=INSTRUMENT_CODES,
        remission=list(REMISSION_BELOW.items()),
        points=POINT_WINDOWS,
        weeks=LAST_WEEK + 1,
        rules=ADHERENCE_RULES,
    )


def day_windows(now: datetime, tz: str) -> dict:
    """The adherence windows of the default period at `now` in the zone `tz`."""
    today = now.astimezone(ZoneInfo(tz)).date()
    start, end = default_period(today)
    windows = adherence_windows(Period(start, end, tz), today=today)
    assert windows is not None  # the default period ends today: its windows end yesterday
    return window_params(windows)


def move_days(now: datetime) -> int:
    """Move each clinic whose day has ended on to the windows of today's default period,
    all its stored patients' adherence with it, a clinic per transaction; returns how many
    clinics moved."""
    with connection.cursor() as cursor:
        clinics = outcome_sql.days_stored(cursor)
    moved = 0
    for clinic, (tz, stored) in clinics.items():
        windows = day_windows(now, tz)
        if stored == tuple(windows.values()):
            continue
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                moved += outcome_sql.move_day(cursor, clinic, windows, rules=ADHERENCE_RULES)
        except OperationalError:
            logger.warning("Outcome facts: clinic %d's day waited too long for a lock", clinic)
    return moved


def _store_one_by_one(cursor, ids: list[int]) -> int:
    """Each patient in a savepoint of its own; those that fail are marked again."""
    stored = 0
    for patient_id in ids:
        try:
            with transaction.atomic():
                _store(cursor, [patient_id])
            stored += 1
        except DatabaseError as error:
            # The error's class only: a database message may quote a row's values (scores).
            logger.error(
                "Outcome facts of patient %d could not be stored (%s)",
                patient_id,
                type(error).__name__,
            )
            outcome_sql.mark_stale(cursor, [patient_id])
    return stored


def outcome_facts_refresh(
    *, now: datetime | None = None, batch: int = BATCH, max_batches: int | None = None
) -> int:
    """Move the clinics whose day has ended on (`move_days`), then store the facts of
    marked patients again, `batch` at a time, until none is marked (or `max_batches` ran,
    or a batch could not take its locks), then give a clinic stored for the first time its
    day; returns how many patients were stored."""
    now = now or timezone.now()
    move_days(now)
    stored = batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                ids = outcome_sql.claim_stale(cursor, limit=batch)
                try:
                    with transaction.atomic():
                        _store(cursor, ids)
                    done = len(ids)
                except OperationalError:
                    raise  # a lock not taken in time: the whole batch waits for the next run
                except DatabaseError:
                    done = _store_one_by_one(cursor, ids)
        except OperationalError:
            logger.warning("Outcome facts: a batch waited too long for a lock; left marked")
            break
        stored += done
        if len(ids) < batch:
            break
    if stored:
        move_days(now)
        logger.info("Outcome facts stored for %d patients", stored)
    return stored
