"""New delivery rows: inserted once per due item (the unique key makes a second try a no-op)."""

from datetime import date, datetime
from functools import partial
from itertools import batched
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction

from notifications import sending
from notifications.models import Delivery
from notifications.sql import binding_cursor

# Rows per statement when looking up which are taken already.
INSERT_BATCH = 2000


class NewDelivery(NamedTuple):
    """A delivery row to insert (services.deliveries_insert)."""

    kind: str
    subject_key: str
    due_at: datetime
    to_email: str
    patient_id: int | None = None
    alert_id: int | None = None
    # What else it is about (Delivery's columns of the same names): the session, the staff
    # member it goes to, the day. The subject key names the same things, only to be unique.
    session_id: int | None = None
    recipient_id: int | None = None
    day: date | None = None
    # The message thread a message notice is about.
    thread_id: int | None = None
    # A reminder the rules skip is a row too (status skipped, with the reason), never sent.
    status: str = Delivery.Status.PENDING
    skip_reason: str = ""


def deliveries_insert(rows: list[NewDelivery], *, taken_known: bool = False) -> int:
    """Insert what is not there yet and enqueue it after commit; returns how many rows were
    inserted.

    A subject (a patient's day, a session's day, an alert's recipient, an episode) gets one
    delivery even if its due time moves (the patient changes the time, the session moves
    within the day): a row already made for it, unless skipped, stands (`taken_known`: the
    caller left those out a moment ago). A fixed number of statements for up to INSERT_BATCH rows;
    the sends go out in chunks of DELIVERY_SEND_CHUNK ids, one message each.

    Nearly always none of the rows is there yet (the callers left out the subjects taken),
    so they go in with plain INSERTs, a third cheaper than ones that first look for each
    row; if one is there after all (a tick alongside), the transaction is done again,
    leaving those alone.
    """
    if not rows:
        return 0
    try:
        return _insert_in_transaction(rows, taken_known, if_missing=False)
    except IntegrityError:
        return _insert_in_transaction(rows, taken_known, if_missing=True)


def _insert_in_transaction(rows: list[NewDelivery], taken_known: bool, if_missing: bool) -> int:
    with transaction.atomic():
        inserted = []
        for chunk in map(list, batched(rows, INSERT_BATCH)):
            if not taken_known:
                chunk = _not_taken(chunk)
            if chunk:
                inserted += _insert_new(chunk, if_missing=if_missing)
        for delivery_ids in map(list, batched(sorted(inserted), settings.DELIVERY_SEND_CHUNK)):
            transaction.on_commit(partial(sending.enqueue_deliveries, delivery_ids))
    return len(inserted)


def _not_taken(rows: list[NewDelivery]) -> list[NewDelivery]:
    """The rows whose subject is free: a reminder to send, unless one was made (a row
    skipped at send time, e.g. "the session moved", leaves the subject to a reminder at
    another time); a skip, unless any row was made (one record of a skip, not one a
    tick). A reminder due at the very time of a recorded skip meets the unique
    (kind, subject, due time) and is not made: a skip, once recorded, stands."""
    made: dict[tuple[str, str], bool] = {}
    for kind, key, status in Delivery.objects.filter(
        subject_key__any_of=list({r.subject_key for r in rows}),
        kind__in={r.kind for r in rows},
    ).values_list("kind", "subject_key", "status"):
        made[kind, key] = made.get((kind, key), False) or status != Delivery.Status.SKIPPED
    return [
        r
        for r in rows
        if (r.kind, r.subject_key) not in made
        or (r.status != Delivery.Status.SKIPPED and not made[r.kind, r.subject_key])
    ]


# One statement per kind in a batch on PostgreSQL: the values travel as a few arrays, in
# binary (%b), and the new ids come back. created_at is the column's default, the
# database's clock (never the inserting worker's: the sweeper reads it by that clock).
# The rows to send, all of one status (the last parameter) and without a skip reason: the
# arrays of the common case only.
INSERT_NEW = """
    INSERT INTO notifications_delivery
        (kind, subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id,
         day, thread_id, status, skip_reason, attempts, last_error)
    SELECT %b, subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id,
        day, thread_id, %b, '', 0, ''
    FROM unnest(
        %b::varchar[], %b::timestamptz[], %b::varchar[], %b::bigint[], %b::bigint[],
        %b::bigint[], %b::bigint[], %b::date[], %b::bigint[]
    ) AS new (
        subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id, day,
        thread_id
    )
"""


INSERT_ALL = INSERT_NEW + " RETURNING id"


# The same, leaving alone a row already there (the unique kind, subject and due time).
INSERT_MISSING = INSERT_NEW + " ON CONFLICT DO NOTHING RETURNING id"


# Skipped rows (never sent: no ids back), each with its reason: a statement more only in a
# batch that has skips (nearly always it has none).
INSERT_SKIPPED_NEW = """
    INSERT INTO notifications_delivery
        (kind, subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id,
         day, thread_id, status, skip_reason, attempts, last_error)
    SELECT %b, subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id,
        day, thread_id, %b, skip_reason, 0, ''
    FROM unnest(
        %b::varchar[], %b::timestamptz[], %b::varchar[], %b::bigint[], %b::bigint[],
        %b::bigint[], %b::bigint[], %b::date[], %b::bigint[], %b::varchar[]
    ) AS new (
        subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id, day,
        thread_id, skip_reason
    )
"""


INSERT_SKIPPED_MISSING = INSERT_SKIPPED_NEW + " ON CONFLICT DO NOTHING"


def _insert_new(rows: list[NewDelivery], *, if_missing: bool = True) -> list[int]:
    """Insert the rows (only those not there yet, by kind, subject and due time, if
    `if_missing`; else a row there already is an IntegrityError); the ids of the new rows to
    send (the skipped ones are inserted, not sent)."""
    inserted = []
    pending = Delivery.Status.PENDING
    with binding_cursor() as cursor:
        for kind, status in sorted({(r.kind, r.status) for r in rows}):
            of_kind = [r for r in rows if r.kind == kind and r.status == status]
            _, *columns, _, reasons = map(list, zip(*of_kind, strict=True))
            if status == pending:
                statement = INSERT_MISSING if if_missing else INSERT_ALL
                cursor.execute(statement, [str(kind), str(status), *columns])
                inserted += [delivery_id for (delivery_id,) in cursor.fetchall()]
            else:
                statement = INSERT_SKIPPED_MISSING if if_missing else INSERT_SKIPPED_NEW
                reasons = [str(reason) for reason in reasons]
                cursor.execute(statement, [str(kind), str(status), *columns, reasons])
    return inserted
