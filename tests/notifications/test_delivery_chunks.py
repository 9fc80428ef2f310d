"""The dispatcher's sends go out a chunk of ids to a message; each row still on its own."""

import smtplib
import threading
from datetime import UTC, datetime, time, timedelta

import psycopg
import pytest
from django.core.mail.backends import locmem
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications import sending, sql
from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.sending import LEASE, deliveries_send, deliveries_sweep
from notifications.sql import deliveries_claim
from notifications.tasks import send_deliveries
from tests.db import other_connection
from tests.factories import CheckInFactory, PatientFactory
from tests.notifications.clock import deliveries_age
from tests.notifications.due import due_checkin_reminders
from tests.notifications.slow_marks import slow_sent_marks

pytestmark = pytest.mark.django_db

NINE = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def make_due(clinic) -> None:
    for n in range(3):
        patient = PatientFactory(clinic=clinic, tz="UTC", user__email=f"p{n}@example.org")
        ReminderPreference.objects.create(patient=patient, checkin_time=time(9))


@pytest.fixture
def due_ids(clinic) -> list[int]:
    make_due(clinic)
    checkin_reminders_dispatch(now=NINE)
    return list(Delivery.objects.order_by("id").values_list("id", flat=True))


def test_the_new_reminders_are_enqueued_as_one_chunk(
    clinic, enqueued, django_capture_on_commit_callbacks
):
    make_due(clinic)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        checkin_reminders_dispatch(now=NINE)

    assert len(callbacks) == 1  # one message for the three
    assert enqueued == list(Delivery.objects.order_by("id").values_list("id", flat=True))


def test_a_deferred_send_does_not_stop_the_rest_of_its_chunk(due_ids, mailoutbox, monkeypatch):
    send_messages = locmem.EmailBackend.send_messages

    def greylist_p1(self, messages):
        if any("p1@example.org" in message.to for message in messages):
            raise smtplib.SMTPResponseException(451, b"try later")
        return send_messages(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", greylist_p1)

    send_deliveries.run(due_ids)  # no retry of the chunk: nothing raised

    statuses = dict(Delivery.objects.values_list("to_email", "status"))
    assert statuses == {
        "p0@example.org": "sent",
        "p1@example.org": "pending",
        "p2@example.org": "sent",
    }
    assert sorted(m.to[0] for m in mailoutbox) == ["p0@example.org", "p2@example.org"]
    deferred = Delivery.objects.get(to_email="p1@example.org")
    assert deferred.last_error == "SMTP 451" and deferred.next_attempt_at is not None


def test_the_sweeper_sends_a_deferred_row_of_a_chunk_again_alone(due_ids, monkeypatch, enqueued):
    def greylist(self, messages):
        raise smtplib.SMTPResponseException(451, b"try later")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", greylist)
    outcome = deliveries_send(delivery_ids=due_ids[:1], now=NINE, budget=timedelta(seconds=30))
    Delivery.objects.update(created_at=NINE)
    deliveries_age(timedelta(minutes=6))  # past the deferral's backoff
    enqueued.clear()

    assert outcome == {"deferred": 1}
    assert deliveries_sweep() == 3  # the two unsent, and it
    assert sorted(enqueued) == due_ids  # one by one: `send_delivery`, with its retries


def test_a_chunk_sent_twice_sends_each_email_once(due_ids, mailoutbox):
    send_deliveries.run(due_ids)
    send_deliveries.run(due_ids)  # a redelivered message

    assert len(mailoutbox) == 3
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_what_a_chunk_does_not_reach_in_its_time_goes_on_in_a_new_one(
    due_ids, enqueued, mailoutbox
):
    enqueued.clear()

    outcome = deliveries_send(delivery_ids=due_ids, now=NINE, budget=timedelta(0))

    assert outcome == {"sent": 1, "handed on": 2}  # the first always goes
    assert enqueued == due_ids[1:]
    assert len(mailoutbox) == 1


def make_due_many(clinic, count: int) -> list[int]:
    return due_checkin_reminders(clinic, count, now=NINE, prefix="m")


@pytest.mark.parametrize("count", [3, 12])
def test_a_chunk_claims_its_rows_in_one_statement_and_reads_them_in_a_fixed_number(
    clinic, mailoutbox, count
):
    ids = make_due_many(clinic, count)

    with CaptureQueriesContext(connection) as queries:
        outcome = deliveries_send(delivery_ids=ids, now=NINE, budget=timedelta(seconds=30))

    assert outcome == {"sent": count} and len(mailoutbox) == count
    statements = [query["sql"] for query in queries.captured_queries]
    claims = [sql for sql in statements if "FOR UPDATE" in sql]
    marks = [sql for sql in statements if sql.startswith("UPDATE") and "'sent'" in sql]
    others = [sql for sql in statements if sql not in claims and sql not in marks]
    assert len(claims) == 1  # every row of the chunk claimed at once
    assert len(marks) == count  # each e-mail marked sent on its own, right after its send
    # Reading the rows, their patients and whether each is still needed: the same statements
    # whatever the chunk's size.
    assert len(others) == 2, others


def test_a_row_another_worker_holds_is_not_sent_by_a_chunk(due_ids, mailoutbox):
    held = due_ids[1]
    assert deliveries_claim([held], LEASE) == {held}  # another worker's claim

    outcome = deliveries_send(delivery_ids=due_ids, now=NINE, budget=timedelta(seconds=30))

    assert outcome == {"sent": 2, "not claimed": 1}
    assert sorted(m.to[0] for m in mailoutbox) == ["p0@example.org", "p2@example.org"]
    row = Delivery.objects.get(id=held)
    assert (row.status, row.attempts) == ("sending", 1)  # still the other worker's


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_one_chunk_at_once_send_each_email_once(clinic, mailoutbox):
    ids = make_due_many(clinic, 20)
    start = threading.Barrier(2)
    outcomes = []

    def worker() -> None:
        try:
            start.wait()
            outcomes.append(
                deliveries_send(delivery_ids=ids, now=NINE, budget=timedelta(seconds=30))
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(m.to[0] for m in mailoutbox) == sorted(f"m{n}@example.org" for n in range(20))
    assert sum(outcome["sent"] for outcome in outcomes) == 20
    assert sum(outcome["not claimed"] for outcome in outcomes) == 20
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_rows_a_chunk_does_not_reach_go_back_unclaimed(due_ids, enqueued, mailoutbox):
    enqueued.clear()

    deliveries_send(delivery_ids=due_ids, now=NINE, budget=timedelta(0))

    rows = Delivery.objects.order_by("id").values_list("status", "attempts", "lease_until")
    assert list(rows)[1:] == [("pending", 0, None), ("pending", 0, None)]


def test_an_error_mid_chunk_keeps_the_claim_in_hand_and_frees_the_rows_after_it(
    due_ids, mailoutbox, monkeypatch
):
    mark_sent = sending.delivery_mark_sent_start

    def time_limit_at_the_second(delivery_id, now):
        if delivery_id == due_ids[1]:
            raise RuntimeError("soft time limit")
        return mark_sent(delivery_id, now)

    monkeypatch.setattr(sending, "delivery_mark_sent_start", time_limit_at_the_second)

    with pytest.raises(RuntimeError):
        deliveries_send(delivery_ids=due_ids, now=NINE, budget=timedelta(seconds=30))

    rows = list(Delivery.objects.order_by("id").values_list("status", "attempts"))
    # Sent; sent but not recorded (the duplicate window: its claim expires); never tried.
    assert rows == [("sent", 1), ("sending", 1), ("pending", 0)]
    assert len(mailoutbox) == 2


def test_the_sweeper_sends_rows_whose_claim_expired_alone(due_ids, monkeypatch):
    """A chunk claims all its rows at once: if a row's try killed its worker, the rows
    claimed beside it must not go with it again."""
    deliveries_claim(due_ids, LEASE)
    deliveries_age(LEASE + timedelta(minutes=1))
    messages = []
    monkeypatch.setattr(
        "care.common.taskqueue.enqueue", lambda name, ids, **options: messages.append((name, ids))
    )

    assert deliveries_sweep() == 3

    assert messages == [("notifications.send_delivery", delivery_id) for delivery_id in due_ids]


def test_a_chunk_skips_a_reminder_whose_check_in_was_done_meanwhile(due_ids, mailoutbox):
    done = Delivery.objects.select_related("patient").get(id=due_ids[1])
    CheckInFactory(patient=done.patient, local_date=NINE.date())

    outcome = deliveries_send(delivery_ids=due_ids, now=NINE, budget=timedelta(seconds=30))

    assert outcome == {"sent": 2, "skipped": 1}
    done.refresh_from_db()
    assert (done.status, done.skip_reason) == ("skipped", "already_done")


@pytest.mark.django_db(transaction=True)
def test_each_e_mail_s_sent_mark_is_committed_before_the_next_e_mail_goes(clinic, monkeypatch):
    """The mark goes to the database without waiting for its answer (notifications.sql.
    MarkInFlight), and is read before the next e-mail goes: another connection sees every
    e-mail before it recorded sent, and committed, when the mailer is handed an e-mail
    (on SMTP, when its content goes: tests/notifications/test_delivery_connection.py)."""
    make_due(clinic)
    checkin_reminders_dispatch(now=NINE)
    ids = list(Delivery.objects.order_by("id").values_list("id", flat=True))
    seen = []
    send = locmem.EmailBackend.send_messages

    def looking(self, messages):
        with other_connection() as other:
            rows = other.execute(
                "SELECT status FROM notifications_delivery WHERE id = ANY(%s) ORDER BY id", [ids]
            )
            seen.append([status for (status,) in rows])
        return send(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", looking)
    # A slow disk: each mark takes 0.3 s to commit. Unless its answer is waited for, the next
    # e-mail goes before it is written.
    with slow_sent_marks():
        outcome = deliveries_send(delivery_ids=ids, now=NINE, budget=timedelta(seconds=30))

    assert outcome == {"sent": 3}

    assert seen == [
        ["sending", "sending", "sending"],
        ["sent", "sending", "sending"],
        ["sent", "sent", "sending"],
    ]
    assert list(Delivery.objects.order_by("id").values_list("status", flat=True)) == ["sent"] * 3


def test_a_mark_whose_answer_is_an_error_is_written_again(due_ids, mailoutbox, monkeypatch, caplog):
    finish = sql.MarkInFlight.finish
    answers = []

    def failing_second(self):
        answers.append(finish(self))
        return len(answers) != 2

    monkeypatch.setattr(sql.MarkInFlight, "finish", failing_second)
    written_again = []
    mark_sent = sending._mark_sent
    monkeypatch.setattr(
        sending,
        "_mark_sent",
        lambda delivery, now, **fields: (
            written_again.append(delivery.id),
            mark_sent(delivery, now, **fields),
        ),
    )

    outcome = deliveries_send(delivery_ids=due_ids, now=NINE, budget=timedelta(seconds=30))

    assert outcome == {"sent": 3} and len(mailoutbox) == 3
    assert answers == [True, True, True] and written_again == [due_ids[1]]
    assert f"Delivery {due_ids[1]} sent; its mark failed, written again" in caplog.text
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


class _Answerless:
    """A libpq connection whose answer never comes in: reading it fails (or is cut short)."""

    def __init__(self, error: BaseException):
        self.error = error

    def consume_input(self):
        raise self.error


class _TimeLimit(BaseException):
    pass


@pytest.mark.parametrize(
    ("error", "raised"),
    [(psycopg.OperationalError("server closed the connection"), None), (_TimeLimit(), _TimeLimit)],
)
@pytest.mark.django_db(transaction=True)
def test_a_mark_whose_answer_cannot_be_read_closes_the_connection(error, raised):
    """The connection may still hold the answer: it is closed (the next statement connects
    again), and a failure says the mark was not seen written; an interruption (a task's time
    limit) goes on up."""
    connection.ensure_connection()
    flight = sql.MarkInFlight(_Answerless(error))
    if raised is None:
        assert flight.finish() is False
    else:
        with pytest.raises(raised):
            flight.finish()
    assert connection.connection is None
    assert Delivery.objects.count() == 0  # connects again
