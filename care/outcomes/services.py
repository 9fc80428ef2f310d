"""Writes of the outcomes room: storing each patient's outcome facts again once marked.

The triggers of migration 0024 mark a patient whenever their questionnaires, sessions or
time zone change (care/models/outcomes.py). `outcome_facts_refresh` claims marked patients
a batch at a time and stores their facts from all their rows, each batch in a transaction
of its own; the outcomes page works out the facts of patients still marked itself, so its
figures never wait for this.
"""

import logging

from django.db import connection, transaction

from care.domain.outcomes import BLOCK_DAYS, INSTRUMENT_CODES, LAST_WEEK, QUESTIONNAIRE_LEAD
from care.outcomes import sql as outcome_sql
from care.outcomes.selectors import POINT_WINDOWS

logger = logging.getLogger(__name__)

BATCH = 2000


def outcome_facts_refresh(*, batch: int = BATCH, max_batches: int | None = None) -> int:
    """Store the facts of marked patients again, `batch` at a time, until none is marked
    (or `max_batches` ran); returns how many patients were stored."""
    stored = batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic(), connection.cursor() as cursor:
            ids = outcome_sql.claim_stale(cursor, limit=batch)
            if ids:
                outcome_sql.store_facts(
                    cursor,
                    ids,
                    codes=INSTRUMENT_CODES,
                    points=POINT_WINDOWS,
                    weeks=LAST_WEEK + 1,
                    lead=QUESTIONNAIRE_LEAD,
                    block_days=BLOCK_DAYS,
                )
        stored += len(ids)
        batches += 1
        if len(ids) < batch:
            break
    if stored:
        logger.info("Outcome facts stored for %d patients", stored)
    return stored
