"""Sending deliveries: publish the sends to the broker, send one (claimed by a conditional
update, sent outside any transaction, marked sent), send a chunk within a time budget, and
sweep up rows whose message was lost or whose claim expired.

The rows themselves are made by notifications.dispatch (the dispatcher), in the same
transaction as what caused them; the sends are published after commit (docs/delivery.md).
"""

import logging
import smtplib
from collections import Counter
from contextlib import suppress
from datetime import datetime, timedelta
from itertools import batched
from time import monotonic, sleep

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Q
from django.db.models.functions import Now
from kombu.exceptions import OperationalError as BrokerError

from care.alerts.services import alert_raise
from care.common import taskqueue
from care.domain.rules import AlertDraft
from care.models import Alert
from notifications.kinds import build_text, kind_of, text_moment, text_no_longer_needed
from notifications.mailer import ChunkMailer
from notifications.models import Delivery, TextNumberBlock
from notifications.sms import (
    OutgoingText,
    PermanentTextError,
    TextSendError,
    encoding_and_segments,
    get_text_backend,
)
from notifications.sql import (
    MarkInFlight,
    deliveries_claim,
    deliveries_release,
    delivery_mark_sent,
    delivery_mark_sent_start,
)
from notifications.textnumbers import (
    NUMBER_DEAD_CODES,
    text_number_block,
    text_status_callback,
)

logger = logging.getLogger(__name__)


# A claim is held this long; a pending row waits as long for its broker message before the
# sweeper sends another (5 minutes unless DELIVERY_LEASE_SECONDS says otherwise).
LEASE = timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)


# The wait after a first deferral (a minute unless DELIVERY_RETRY_SECONDS says otherwise).
RETRY = timedelta(seconds=settings.DELIVERY_RETRY_SECONDS)


MAX_ATTEMPTS = 6
# What `delivery_send` returns for a try the mail server deferred (the row stays pending).
DEFERRED = "deferred"
# ... and for a text whose time falls outside the text hours (pending, waiting for them).
TEXT_WAITS = "waits for text hours"


def _enqueue(delivery_id: int) -> None:
    try:
        taskqueue.enqueue("notifications.send_delivery", delivery_id)
    except BrokerError:
        # The row stays pending; the sweeper on the next tick sends it.
        logger.warning("Broker unavailable; delivery %s left for the sweeper", delivery_id)


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    """One message for a chunk of deliveries (one alone goes as `send_delivery`)."""
    if len(delivery_ids) == 1:
        _enqueue(delivery_ids[0])
        return
    try:
        # A short argsrepr (what monitoring shows) spares Celery a repr of every id.
        taskqueue.enqueue(
            "notifications.send_deliveries", delivery_ids, argsrepr=f"[{len(delivery_ids)} ids]"
        )
    except BrokerError:
        logger.warning("Broker unavailable; %s deliveries left for the sweeper", len(delivery_ids))


def _db_now(plus: timedelta = timedelta(0)) -> ExpressionWrapper:
    """The database's clock (plus a span), evaluated in the statement that uses it.

    Everything that decides who owns a row (the claim, its lease, the backoff, the sweeper's
    cut-offs, the row's created_at) is the database's time, never a worker's: with one
    worker's clock 10 minutes ahead, it took the others' live claims as expired and sent
    their e-mails again.
    """
    return ExpressionWrapper(Now() + plus, output_field=DateTimeField())


def _due_for_attempt() -> Q:
    """Pending rows not held back by a deferral's backoff."""
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=_db_now())


def deliveries_sweep(*, older_than: timedelta = LEASE) -> int:
    """Enqueue again rows left pending (a lost broker message, a deferral whose wait is
    over) or whose claim expired, oldest first (by the database's clock)."""
    stuck = (
        Delivery.objects.filter(
            Q(status=Delivery.Status.PENDING, created_at__lt=_db_now(-older_than))
            & _due_for_attempt()
            | Q(status=Delivery.Status.SENDING, lease_until__lt=_db_now())
        )
        .order_by("id")
        .values_list("id", "status")
    )
    rows = list(stuck[:1000])
    ids = [delivery_id for delivery_id, _ in rows]
    # In chunks, like the new rows (one message alone goes as send_delivery); but a row whose
    # claim expired goes alone: the try that held it may have killed its worker (a chunk
    # claims all its rows at once), and must not take the rows sent beside it down again.
    pending = [delivery_id for delivery_id, status in rows if status == Delivery.Status.PENDING]
    for chunk in batched(pending, settings.DELIVERY_SEND_CHUNK):
        enqueue_deliveries(list(chunk))
    for delivery_id, status in rows:
        if status != Delivery.Status.PENDING:
            _enqueue(delivery_id)
    return len(ids)


def delivery_send(*, delivery_id: int, now: datetime, mailer: ChunkMailer | None = None) -> str:
    """Claim, build, send and mark one delivery; returns its resulting status.

    When the mail server defers, the row goes back to pending with its backoff
    (`next_attempt_at`) and "deferred" is returned: the sweeper sends it again once that time
    has come. That is the one retry mechanism (the task does not retry itself).

    An e-mail goes over `mailer`, the connection of the chunk it belongs to
    (`deliveries_send`); without one, over a connection of its own, closed before returning.
    """
    if mailer is None:
        own = ChunkMailer()
        try:
            return delivery_send(delivery_id=delivery_id, now=now, mailer=own)
        finally:
            own.close()
    claimed = _claim([delivery_id])
    if not claimed:
        return "not claimed"  # sent already, or another worker holds it
    return _deliver(claimed[0], now, mailer)


def _claim(delivery_ids: list[int]) -> list[Delivery]:
    """Claim the rows of `delivery_ids` free to send (notifications.sql.deliveries_claim: one
    statement) and read them with what building their messages needs (one more), in the
    order of the ids."""
    claimed = deliveries_claim(delivery_ids, LEASE)
    if not claimed:
        return []
    rows = Delivery.objects.select_related("patient__user", "patient__clinic").in_bulk(claimed)
    return [rows[delivery_id] for delivery_id in dict.fromkeys(delivery_ids) if delivery_id in rows]


def _deliver(
    delivery: Delivery,
    now: datetime,
    mailer: ChunkMailer,
    reason: str | None = None,
    marks: "_SentMarks | None" = None,
) -> str:
    """Check, build, send and mark one claimed delivery; its resulting status. `reason`: its
    "still needed?" answer when the chunk asked for all its rows at once (None: ask now).
    `marks`: the chunk's, which writes an e-mail's `sent` mark without waiting for the answer
    until just before the next send (_SentMarks); without, it is written and waited for."""
    if delivery.attempts > MAX_ATTEMPTS:
        # Every try ended without an outcome (the worker died, a time limit struck): a
        # message that kills its worker must not come back for ever.
        return _fail(delivery, f"gave up after {MAX_ATTEMPTS} attempts", now)
    if delivery.channel == Delivery.Channel.TEXT:
        return _send_text(delivery, now)
    try:
        if reason is None:
            reason = _no_longer_needed(delivery, now)
        if reason:
            _mark(delivery, Delivery.Status.SKIPPED, skip_reason=reason)
            return Delivery.Status.SKIPPED
        message = _build(delivery)
    except Exception as exc:
        # Data the e-mail needs is gone or broken: fail visibly rather than loop.
        logger.exception("Delivery %s could not be prepared", delivery.id)
        return _fail(delivery, f"could not prepare: {type(exc).__name__}", now)
    try:
        # The previous e-mail's mark is committed before this e-mail goes: on an SMTP
        # session once the server has answered this one's MAIL, RCPT and DATA (their round
        # trips overlap the commit), just before its content.
        mailer.send(message, before_content=None if marks is None else marks.settle)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            return _defer(delivery, f"recipient deferred {codes[0]}", now)
        return _fail(delivery, "recipient refused", now)
    except smtplib.SMTPSenderRefused as exc:
        if 400 <= exc.smtp_code < 500:
            return _defer(delivery, f"sender deferred {exc.smtp_code}", now)
        return _fail(delivery, "sender refused", now)
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            return _fail(delivery, f"permanent SMTP {exc.smtp_code}", now)
        return _defer(delivery, f"SMTP {exc.smtp_code}", now)
    except (smtplib.SMTPException, OSError) as exc:
        return _defer(delivery, type(exc).__name__, now)
    if marks is not None:
        marks.start(delivery, now)
    else:
        _mark_sent(delivery, now)
    return Delivery.Status.SENT


class _SentMarks:
    """A chunk's `sent` marks, each sent to the database right after its e-mail's send and
    its answer read only just before the next e-mail goes (`settle`: on an SMTP session
    after the server answered the next one's MAIL, RCPT and DATA, before its content), or
    before any other statement on the connection (`before_query`, installed as the
    connection's execute wrapper for the chunk), so that the database commits it (about a
    millisecond of waiting for the disk) while the next e-mail is checked, built and begun.
    The order of things is as before: an e-mail is marked sent, and the mark committed,
    before the next one goes. A mark that failed is written again the ordinary way, riding
    out an outage (_mark_sent)."""

    def __init__(self) -> None:
        self._pending: tuple[Delivery, datetime, MarkInFlight] | None = None

    def start(self, delivery: Delivery, now: datetime) -> None:
        self.settle()
        flight = delivery_mark_sent_start(delivery.id, now)
        if flight is None:
            _mark_sent(delivery, now)
        else:
            self._pending = (delivery, now, flight)

    def settle(self) -> None:
        """Read the answer of the mark in flight, if any; write it again if it failed."""
        if self._pending is None:
            return
        delivery, now, flight = self._pending
        self._pending = None
        if not flight.finish():
            logger.warning("Delivery %s sent; its mark failed, written again", delivery.id)
            _mark_sent(delivery, now)

    def before_query(self, execute, sql, params, many, context):
        self.settle()
        return execute(sql, params, many, context)


def _send_text(delivery: Delivery, now: datetime) -> str:
    """`delivery_send` for a text: still needed? (notifications.kinds.text_no_longer_needed),
    its words (notifications.texts), the provider (notifications.sms, SMS_URL). A transient
    error defers it with the e-mails' backoff; a permanent one fails it, raises the
    delivery-failure alert and stops texts to that number (TextNumberBlock) until the
    patient's number changes."""
    try:
        reason = text_no_longer_needed(delivery, now)
        if reason:
            _mark(delivery, Delivery.Status.SKIPPED, skip_reason=reason)
            return Delivery.Status.SKIPPED
        body = build_text(delivery)
        at = text_moment(delivery, now)
    except Exception as exc:
        logger.exception("Delivery %s could not be prepared", delivery.id)
        return _fail(delivery, f"could not prepare: {type(exc).__name__}", now)
    if at is not None and at > now:
        # Outside the text hours (a retry, a send late or early): wait for them, without
        # using up a try; the sweeper sends it then.
        _mark(
            delivery,
            Delivery.Status.PENDING,
            next_attempt_at=at,
            attempts=F("attempts") - 1,
        )
        return TEXT_WAITS
    text = OutgoingText(
        to=delivery.to_phone, body=body, status_callback=text_status_callback(delivery.id)
    )
    try:
        sent = get_text_backend().send(text)
    except PermanentTextError as exc:
        if exc.code in NUMBER_DEAD_CODES:  # the number itself: no more texts to it
            text_number_block(
                number=delivery.to_phone,
                reason=TextNumberBlock.Reason.FAILED,
                error_code=exc.code,
                now=now,
            )
        return _fail(delivery, exc.reason, now)
    except TextSendError as exc:
        with transaction.atomic():
            # The provider may have taken the text and its status report reached us while
            # the answer was lost (a timeout, a reset, a 5xx after the create): the report
            # recorded the row sent (notifications.textreplies.text_status_receive, which
            # locks the row too). Deferring it now would send it again.
            status = (
                Delivery.objects.select_for_update()
                .values_list("status", flat=True)
                .get(id=delivery.id)
            )
            if status != Delivery.Status.SENDING:
                logger.info("Delivery %s recorded by the provider's report meanwhile", delivery.id)
                return status
            return _defer(delivery, exc.reason, now)
    encoding, segments = encoding_and_segments(body)
    # Only over its own claim: the provider's report may have recorded the text meanwhile
    # (sent, or failed with its alert), which this answer must not undo.
    _mark_sent(
        delivery,
        now,
        only_sending=True,
        provider_id=sent.provider_id[:64],
        provider_status=sent.status[:20],
        encoding=encoding,
        segments=segments,
    )
    Delivery.objects.filter(id=delivery.id, provider_id=sent.provider_id[:64]).update(
        encoding=encoding, segments=segments
    )
    return Delivery.Status.SENT


def deliveries_send(*, delivery_ids: list[int], now: datetime, budget: timedelta) -> Counter:
    """Send a chunk of deliveries one by one, as `delivery_send` does; counts the outcomes.

    The chunk's rows free to send are claimed at its start in one statement and read in one
    more (`_claim`); whether each e-mail is still needed is asked of the chunk's rows of a kind
    at once where the kind can (notifications.kinds.no_longer_needed_many). Each row is then
    checked, built, sent and marked sent on its own, right after its send.

    A deferral leaves its row pending with its backoff (the sweeper sends it again, alone)
    and the others still go. Rows not reached within `budget` are released (pending again,
    the attempt not counted) and go on in a new message, so each send starts early enough to
    end within the task's time limits, below the lease. Any other error stops the chunk: the
    rows not reached are released, for the sweeper (if the database lets them be; otherwise
    they wait for their claims to expire, as after a worker's death).

    The chunk's e-mails share one mail connection (notifications.mailer), opened at the first
    e-mail sent and closed at the end; a send that fails drops it, and the next e-mail
    connects again.
    """
    started = monotonic()
    outcomes: Counter[str] = Counter()
    deliveries = _claim(delivery_ids)
    if len(deliveries) < len(set(delivery_ids)):
        # Sent already, or another worker holds them.
        outcomes["not claimed"] = len(set(delivery_ids)) - len(deliveries)
    reasons = _no_longer_needed_many(deliveries, now)
    mailer = ChunkMailer()
    marks = _SentMarks()
    reached = 0
    try:
        with connection.execute_wrapper(marks.before_query):
            for index, delivery in enumerate(deliveries):
                elapsed = timedelta(seconds=monotonic() - started)
                if index and elapsed > budget:  # the first always goes: a chunk makes progress
                    rest = [row.id for row in deliveries[index:]]
                    deliveries_release(rest)
                    reached = len(deliveries)
                    enqueue_deliveries(rest)
                    outcomes["handed on"] = len(rest)
                    break
                reached = index + 1
                status = _deliver(delivery, now + elapsed, mailer, reasons.get(delivery.id), marks)
                outcomes[status] += 1
            else:
                reached = len(deliveries)
            marks.settle()
    except BaseException:
        # The row being sent keeps its claim (it may have gone); the ones after it are free.
        # The last mark in flight is read first (or its connection closed).
        with suppress(Exception):
            marks.settle()
        with suppress(Exception):
            deliveries_release([row.id for row in deliveries[reached:]])
        raise
    finally:
        mailer.close()
    return outcomes


def _no_longer_needed_many(deliveries: list[Delivery], now: datetime) -> dict[int, str]:
    """The "still needed?" answers of a chunk's e-mails whose kind answers for many rows at
    once (notifications.kinds); the others are asked one by one when sent."""
    by_kind: dict[str, list[Delivery]] = {}
    for delivery in deliveries:
        if delivery.channel == Delivery.Channel.EMAIL and delivery.attempts <= MAX_ATTEMPTS:
            by_kind.setdefault(delivery.kind, []).append(delivery)
    reasons: dict[int, str] = {}
    for rows in by_kind.values():
        many = kind_of(rows[0]).no_longer_needed_many
        if many is not None:
            with suppress(Exception):  # asked again one by one, failing visibly there
                reasons.update(many(rows, now))
    return reasons


def _no_longer_needed(delivery: Delivery, now: datetime) -> str:
    """Why the delivery is no longer needed (a Delivery.SkipReason), or "" if it is: its
    kind's entry decides (notifications.kinds)."""
    return kind_of(delivery).no_longer_needed(delivery, now)


def _build(delivery: Delivery) -> EmailMultiAlternatives:
    return kind_of(delivery).build(delivery)


def _mark(delivery: Delivery, status: str, *, only_sending: bool = False, **fields) -> None:
    if status == Delivery.Status.SENT and not only_sending and fields.keys() == {"sent_at"}:
        delivery_mark_sent(delivery.id, fields["sent_at"])  # an e-mail sent: the same, cheaper
        return
    rows = Delivery.objects.filter(id=delivery.id)
    if only_sending:
        rows = rows.filter(status=Delivery.Status.SENDING)
    rows.update(status=status, lease_until=None, **fields)


# Waits between tries to record a send while the database is away (a restart, a failover):
# 15 s in all, within the send's soft time limit.
MARK_SENT_PAUSES = (0.5, 1, 2, 4, 8)


def _mark_sent(delivery: Delivery, now: datetime, *, only_sending: bool = False, **fields) -> None:
    """Record the send, riding out a short database outage: the mail server (or the text
    provider) has the message, and a row left `sending` would be sent again once its claim
    expires."""
    for pause in MARK_SENT_PAUSES:
        try:
            _mark(delivery, Delivery.Status.SENT, only_sending=only_sending, sent_at=now, **fields)
            return
        except (OperationalError, InterfaceError):
            logger.warning("Delivery %s sent; database unavailable to record it", delivery.id)
            connection.close()  # the next try connects again
            sleep(pause)
    _mark(delivery, Delivery.Status.SENT, only_sending=only_sending, sent_at=now, **fields)


def _defer(delivery: Delivery, error: str, now: datetime) -> str:
    if delivery.attempts >= MAX_ATTEMPTS:
        return _fail(delivery, f"gave up after {delivery.attempts} attempts: {error}", now)
    # Exponential backoff (1, 2, 4, 8, 16 minutes), which the sweeper also respects.
    wait = RETRY * min(2 ** (delivery.attempts - 1), 30)
    _mark(delivery, Delivery.Status.PENDING, last_error=error[:300], next_attempt_at=_db_now(wait))
    # The error names a class or an SMTP code, never the message or the address.
    logger.warning("Delivery %s deferred (attempt %s): %s", delivery.id, delivery.attempts, error)
    return DEFERRED


def _failure_words(delivery: Delivery, error: str) -> str:
    kind = delivery.get_kind_display().lower()
    if delivery.channel == Delivery.Channel.TEXT:
        return f"A {kind} text could not be delivered ({error}); check the patient's mobile number."
    return f"A {kind} e-mail could not be delivered ({error}); check the patient's e-mail address."


def _fail(delivery: Delivery, error: str, now: datetime) -> str:
    _mark(delivery, Delivery.Status.FAILED, last_error=error[:300])
    if delivery.patient is not None and not kind_of(delivery).to_staff:
        draft = AlertDraft(
            Alert.Kind.DELIVERY_FAILURE,
            Alert.Priority.ROUTINE,
            f"delivery:{delivery.id}",
            _failure_words(delivery, error),
        )
        alert_raise(patient=delivery.patient, draft=draft, now=now)
    logger.warning("Delivery %s failed: %s", delivery.id, error)
    return Delivery.Status.FAILED
