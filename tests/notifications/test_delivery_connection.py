"""A chunk's e-mails share one SMTP connection (notifications.mailer.ChunkMailer), counted at
a real SMTP server on loopback (aiosmtpd); a connection that fails mid-chunk costs the one
e-mail it was carrying (deferred as it always was) and the next e-mail connects again; the
texts of a chunk share one provider client."""

import asyncio
import socket
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta

import pytest
from aiosmtpd.controller import Controller

from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.sending import deliveries_send, delivery_send
from notifications.sms import backends as sms_backends
from tests.db import other_connection
from tests.factories import CheckInFactory, PatientFactory
from tests.fake_twilio import serve_fake_twilio
from tests.notifications.due import due_checkin_reminders
from tests.notifications.slow_marks import slow_sent_marks

pytestmark = pytest.mark.django_db

NINE = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
BUDGET = timedelta(seconds=30)
FAILING = "p2@example.org"


class CountingSink:
    """Counts connections (each says EHLO once), QUITs and the e-mails accepted per address;
    `fail` makes the server fail at the RCPT of FAILING: "drop" closes the connection without
    an answer, "421" answers that the service is closing and closes it, "hang" answers only
    after the client's timeout (1 s) is over, "550" refuses the recipient."""

    def __init__(self):
        self.connections = 0
        self.quits = 0
        self.accepted: Counter[str] = Counter()
        self.fail = ""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == FAILING and self.fail == "drop":
            server.transport.close()
        elif address == FAILING and self.fail == "421":
            server.transport.write(b"421 4.3.2 Service shutting down\r\n")
            server.transport.close()
        elif address == FAILING and self.fail == "hang":
            await asyncio.sleep(2)
        elif address == FAILING and self.fail == "550":
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for address in envelope.rcpt_tos:
            self.accepted[address] += 1
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        self.quits += 1
        return "221 Bye"


@pytest.fixture
def sink(settings):
    with serving(CountingSink(), settings) as handler:
        yield handler


@contextmanager
def serving(handler, settings):
    """`handler` as an SMTP server on loopback, the default mailer pointed at it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "care.common.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 1},
        }
    }
    try:
        yield handler
    finally:
        controller.stop()


def due_reminders(clinic, count: int) -> list[int]:
    return due_checkin_reminders(clinic, count, now=NINE, prefix="p")


def statuses() -> dict[str, str]:
    return dict(Delivery.objects.values_list("to_email", "status"))


def test_a_chunk_sends_its_emails_over_one_connection(clinic, sink):
    ids = due_reminders(clinic, 6)

    outcome = deliveries_send(delivery_ids=ids, now=NINE, budget=BUDGET)

    assert outcome == {"sent": 6}
    assert sink.connections == 1 and sink.quits == 1  # closed at the end of the chunk
    assert sink.accepted == {f"p{n}@example.org": 1 for n in range(6)}
    assert set(statuses().values()) == {"sent"}


def test_a_delivery_sent_alone_has_a_connection_of_its_own(clinic, sink):
    ids = due_reminders(clinic, 2)

    assert [delivery_send(delivery_id=i, now=NINE) for i in ids] == ["sent", "sent"]

    assert sink.connections == 2 and sink.quits == 2


def test_a_chunk_with_nothing_to_send_opens_no_connection(clinic, sink):
    ids = due_reminders(clinic, 2)
    for delivery in Delivery.objects.all():  # both checked in since: skipped at send time
        CheckInFactory(patient=delivery.patient, local_date=delivery.day)

    assert deliveries_send(delivery_ids=ids, now=NINE, budget=BUDGET) == {"skipped": 2}
    assert sink.connections == 0


@pytest.mark.parametrize(
    ("fail", "error"),
    [
        ("drop", "SMTPServerDisconnected"),  # the server went away mid-session
        ("421", "recipient deferred 421"),  # it said it was closing, then closed
        ("hang", "SMTPServerDisconnected"),  # no answer within the timeout
    ],
)
def test_a_connection_lost_mid_chunk_costs_only_the_email_it_carried(clinic, sink, fail, error):
    ids = due_reminders(clinic, 5)
    sink.fail = fail

    outcome = deliveries_send(delivery_ids=ids, now=NINE, budget=BUDGET)

    assert outcome == {"sent": 4, "deferred": 1}
    # Every other e-mail went exactly once; the failed one did not go.
    assert sink.accepted == {f"p{n}@example.org": 1 for n in (0, 1, 3, 4)}
    # The e-mails after it went over a new connection.
    assert sink.connections == 2
    # The failed one is deferred as a send on a connection of its own always was: pending,
    # its error's class or code, its backoff, one attempt used.
    failed = Delivery.objects.get(to_email=FAILING)
    assert (failed.status, failed.last_error, failed.attempts) == ("pending", error, 1)
    assert failed.next_attempt_at is not None
    assert statuses() == {f"p{n}@example.org": "pending" if n == 2 else "sent" for n in range(5)}


def test_a_deferred_email_of_a_chunk_goes_once_when_tried_again(clinic, sink):
    ids = due_reminders(clinic, 3)
    sink.fail = "drop"
    deliveries_send(delivery_ids=ids, now=NINE, budget=BUDGET)
    sink.fail = ""
    Delivery.objects.filter(to_email=FAILING).update(next_attempt_at=None)  # its wait is over

    # The sweeper's new message names it; a redelivered chunk names them all.
    outcome = deliveries_send(delivery_ids=ids, now=NINE, budget=BUDGET)

    assert outcome == {"sent": 1, "not claimed": 2}
    assert sink.accepted == {f"p{n}@example.org": 1 for n in range(3)}
    assert set(statuses().values()) == {"sent"}


def test_a_refused_recipient_fails_alone_and_the_chunk_goes_on(clinic, sink):
    ids = due_reminders(clinic, 4)
    sink.fail = "550"

    assert deliveries_send(delivery_ids=ids, now=NINE, budget=BUDGET) == {"sent": 3, "failed": 1}
    assert sink.accepted == {f"p{n}@example.org": 1 for n in (0, 1, 3)}
    assert Delivery.objects.get(to_email=FAILING).last_error == "recipient refused"


def test_the_texts_of_a_chunk_share_one_provider_client(clinic, settings, monkeypatch):
    made = []

    class CountingClient(sms_backends.Client):
        def __init__(self, *args, **kwargs):
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(sms_backends, "Client", CountingClient)
    for n in range(3):
        patient = PatientFactory(
            clinic=clinic, tz="UTC", phone_mobile=f"+1212555018{n}", may_text=True
        )
        ReminderPreference.objects.create(
            patient=patient, checkin_time=time(9), text_kinds=["checkin_due"], email_enabled=False
        )
    with serve_fake_twilio() as api:
        # A new address: a backend (and a Twilio client) of its own.
        settings.SMS_URL = api.sms_url(
            account_sid="AC" + "5ca1ab1e" * 4, auth_token="t" * 32, sender="+15005550006"
        )
        checkin_reminders_dispatch(now=NINE)
        ids = list(Delivery.objects.filter(channel="text").values_list("id", flat=True))

        outcome = deliveries_send(delivery_ids=ids, now=NINE, budget=BUDGET)

        assert outcome == {"sent": 3}
        assert len(api.accepted) == 3
    assert len(made) == 1


class LookingSink(CountingSink):
    """Records, at each command of an exchange, the statuses another connection to the
    database sees then: at MAIL, and when an e-mail's content has arrived (DATA done)."""

    def __init__(self, ids):
        super().__init__()
        self.ids = ids
        self.seen: list[tuple[str, list[str]]] = []

    def look(self, when: str) -> None:
        with other_connection() as other:
            rows = other.execute(
                "SELECT status FROM notifications_delivery WHERE id = ANY(%s) ORDER BY id",
                [self.ids],
            )
            self.seen.append((when, [status for (status,) in rows]))

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.look("mail")
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.look("content")
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.django_db(transaction=True)
def test_an_email_goes_once_the_previous_mark_is_committed_its_commands_before(clinic, settings):
    """On an SMTP session the previous e-mail's `sent` mark is awaited after the server
    answered the next one's MAIL, RCPT and DATA, and before its content goes (care.common.
    smtp.Session): with each mark taking 0.3 s to commit, the next e-mail's MAIL arrives
    while the mark is still being written, and its content only once it is committed."""
    ids = due_reminders(clinic, 3)
    with slow_sent_marks(), serving(LookingSink(ids), settings) as sink:
        outcome = deliveries_send(delivery_ids=ids, now=NINE, budget=BUDGET)

    assert outcome == {"sent": 3}
    assert sink.seen == [
        ("mail", ["sending", "sending", "sending"]),
        ("content", ["sending", "sending", "sending"]),
        ("mail", ["sending", "sending", "sending"]),  # the first mark still being written
        ("content", ["sent", "sending", "sending"]),
        ("mail", ["sent", "sending", "sending"]),
        ("content", ["sent", "sent", "sending"]),
    ]
    assert set(statuses().values()) == {"sent"}
