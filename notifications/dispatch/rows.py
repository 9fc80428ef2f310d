"""New delivery rows: inserted once per due item (the unique key makes a second try a no-op)."""

from datetime import date, datetime, time
from functools import partial
from itertools import batched
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery

from notifications import sending
from notifications.models import Delivery, ReminderPreference, TextNumberBlock
from notifications.preferences import NO_CONSENT, NO_MOBILE, TEXTS_OK
from notifications.schedule import text_send_at
from notifications.sms.backends import texts_enabled
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
    # E-mail (to `to_email`) or text (to `to_phone`); a text due outside its hours waits
    # for them (`next_attempt_at`: the sender does not claim it before; the sweeper sends it).
    channel: str = "email"
    to_phone: str = ""
    next_attempt_at: datetime | None = None
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
            chunk = _with_texts(chunk)
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


TEXT_KINDS = frozenset(Delivery.TEXT_KINDS)
# Skips of the e-mail that say nothing of a text of the same reminder.
EMAIL_ONLY_SKIPS = frozenset({Delivery.SkipReason.UNSUBSCRIBED, Delivery.SkipReason.EMAIL_OFF})
STATE_SKIPS = {
    NO_MOBILE: Delivery.SkipReason.NO_TEXT_CONSENT,
    NO_CONSENT: Delivery.SkipReason.NO_TEXT_CONSENT,
    TextNumberBlock.Reason.STOP: Delivery.SkipReason.TEXT_STOPPED,
    TextNumberBlock.Reason.FAILED: Delivery.SkipReason.TEXT_STOPPED,
}


class TextFacts(NamedTuple):
    """What deciding a patient's texts needs (one read for a batch of rows)."""

    email_enabled: bool
    text_kinds: list[str]
    tz: str
    quiet_start: time
    quiet_end: time
    phone: str
    state: str  # notifications.preferences.text_number_state


def _text_facts(patient_ids: set[int]) -> dict[int, TextFacts]:
    """Of these patients, those who take some reminders by text or none by e-mail."""
    blocked = TextNumberBlock.objects.filter(number=OuterRef("patient__phone_mobile"))
    found = (
        ReminderPreference.objects.filter(patient_id__any_of=list(patient_ids))
        .filter(Q(email_enabled=False) | ~Q(text_kinds=[]))
        .annotate(block=Subquery(blocked.values("reason")[:1]))
        .values_list(
            "patient_id",
            "email_enabled",
            "text_kinds",
            "patient__tz",
            "quiet_start",
            "quiet_end",
            "patient__phone_mobile",
            "patient__may_text",
            "block",
        )
    )
    facts = {}
    for pk, email, kinds, tz, start, end, phone, may_text, block in found:
        phone = str(phone or "")
        state = NO_MOBILE if not phone else NO_CONSENT if not may_text else block or TEXTS_OK
        facts[pk] = TextFacts(email, list(kinds), tz, start, end, phone, state)
    return facts


def _with_texts(rows: list[NewDelivery]) -> list[NewDelivery]:
    """The rows with, beside each patient reminder of a kind the patient takes by text, its
    text (a row of its own, channel "text"); the e-mail of a patient who takes none is
    recorded skipped, "e-mails off". One read, only when some row is a patient's reminder."""
    ids = {r.patient_id for r in rows if r.kind in TEXT_KINDS and r.recipient_id is None}
    ids.discard(None)
    facts = _text_facts(ids) if ids else {}  # type: ignore[arg-type]  # None discarded
    if not facts:
        return rows
    texts = texts_enabled()  # without, the e-mail settings alone count
    out = []
    for row in rows:
        patient = facts.get(row.patient_id) if row.kind in TEXT_KINDS else None  # type: ignore[arg-type]
        if patient is None or row.recipient_id is not None:
            out.append(row)
            continue
        if patient.email_enabled or row.status == Delivery.Status.SKIPPED:
            out.append(row)
        else:
            out.append(row._replace(status=Delivery.Status.SKIPPED, skip_reason="email_off"))
        if texts and row.kind in patient.text_kinds:
            out.append(_text_row(row, patient))
    return out


def _text_row(row: NewDelivery, patient: TextFacts) -> NewDelivery:
    """The text of a reminder: skipped as its e-mail is (unless for e-mail reasons), or
    when the number cannot take texts, or when no moment in the text hours is left for it;
    else due when its e-mail is, or waiting for the text hours (`next_attempt_at`)."""
    text = row._replace(channel="text", to_email="", to_phone=patient.phone)
    if row.status == Delivery.Status.SKIPPED and row.skip_reason not in EMAIL_ONLY_SKIPS:
        return text
    skipped = partial(text._replace, status=Delivery.Status.SKIPPED)
    if patient.state != TEXTS_OK:
        return skipped(skip_reason=str(STATE_SKIPS[patient.state]))
    at = text_send_at(
        kind=row.kind,
        due=row.due_at,
        tz=patient.tz,
        quiet_start=patient.quiet_start,
        quiet_end=patient.quiet_end,
    )
    if at is None:
        return skipped(skip_reason=str(Delivery.SkipReason.TEXT_HOURS))
    return text._replace(
        status=Delivery.Status.PENDING,
        skip_reason="",
        next_attempt_at=None if at == row.due_at else at,
    )


# One statement per kind in a batch on PostgreSQL: the values travel as a few arrays, in
# binary (%b), and the new ids come back. created_at is the column's default, the
# database's clock (never the inserting worker's: the sweeper reads it by that clock).
# The rows to send, all of one status (the last parameter) and without a skip reason: the
# arrays of the common case only.
INSERT_NEW = """
    INSERT INTO notifications_delivery
        (kind, subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id,
         day, thread_id, channel, to_phone, next_attempt_at, status, skip_reason, attempts,
         last_error)
    SELECT %b, subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id,
        day, thread_id, channel, to_phone, next_attempt_at, %b, '', 0, ''
    FROM unnest(
        %b::varchar[], %b::timestamptz[], %b::varchar[], %b::bigint[], %b::bigint[],
        %b::bigint[], %b::bigint[], %b::date[], %b::bigint[], %b::varchar[], %b::varchar[],
        %b::timestamptz[]
    ) AS new (
        subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id, day,
        thread_id, channel, to_phone, next_attempt_at
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
         day, thread_id, channel, to_phone, next_attempt_at, status, skip_reason, attempts,
         last_error)
    SELECT %b, subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id,
        day, thread_id, channel, to_phone, next_attempt_at, %b, skip_reason, 0, ''
    FROM unnest(
        %b::varchar[], %b::timestamptz[], %b::varchar[], %b::bigint[], %b::bigint[],
        %b::bigint[], %b::bigint[], %b::date[], %b::bigint[], %b::varchar[], %b::varchar[],
        %b::timestamptz[], %b::varchar[]
    ) AS new (
        subject_key, due_at, to_email, patient_id, alert_id, session_id, recipient_id, day,
        thread_id, channel, to_phone, next_attempt_at, skip_reason
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
