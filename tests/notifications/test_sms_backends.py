"""The text-message providers: files, the in-memory outbox, and Twilio through the official
client against a local stand-in of its Messages API; how each failure is classified, and
that no error's reason holds the number or the words."""

import logging
import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from notifications.sms import (
    FileBackend,
    LocmemBackend,
    OutgoingText,
    PermanentTextError,
    SentText,
    TextSendError,
    TransientTextError,
    TwilioBackend,
    backend_from_url,
    get_text_backend,
)
from tests.fake_twilio import serve_fake_twilio

ROOT = Path(__file__).resolve().parents[2]

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "f00dfeedf00dfeedf00dfeedf00dfeed"
SERVICE = "MG" + "fedcba9876543210" * 2
SENDER = "+15005550006"
NUMBER = "+447700900123"
BODY = "Care tracker: time for your check-in, Alex. How is your mood today?"
CALLBACK = "https://tracker.example.org/sms/status/41/"


# A local stand-in of Twilio's Messages API (tests/fake_twilio.py)


@pytest.fixture
def twilio_api():
    with serve_fake_twilio() as api:
        yield api


@pytest.fixture
def twilio(twilio_api):
    return TwilioBackend(SID, TOKEN, from_number=SENDER, api_base=twilio_api.base, timeout=5)


def a_text(**changes):
    return OutgoingText(**{"to": NUMBER, "body": BODY, "status_callback": CALLBACK, **changes})


def assert_private(exc: TextSendError):
    """Neither the number nor the words of the text, in any form the error is logged in; and
    the provider's exception (whose message quotes the number) is not chained to it."""
    for shown in (exc.reason, str(exc), repr(exc), *map(str, exc.args)):
        assert NUMBER not in shown and NUMBER[1:] not in shown
        assert BODY not in shown and "Alex" not in shown
        assert TOKEN not in shown
    assert exc.__cause__ is None
    assert exc.__suppress_context__
    assert len(exc.reason) <= 120


# Twilio: success


def test_a_text_goes_to_twilio_with_its_number_body_sender_and_callback(twilio, twilio_api):
    sent = twilio.send(a_text())

    assert re.fullmatch(r"SM[0-9a-f]{32}", sent.provider_id)
    assert sent == SentText(provider_id=sent.provider_id, status="queued")
    [request] = twilio_api.requests
    assert request["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request["content_type"] == "application/x-www-form-urlencoded"
    assert request["fields"] == {
        "To": NUMBER,
        "Body": BODY,
        "From": SENDER,
        "StatusCallback": CALLBACK,
    }
    assert (request["user"], request["password"]) == (SID, TOKEN)


def test_a_messaging_service_sends_without_a_from_number(twilio_api):
    backend = TwilioBackend(SID, TOKEN, messaging_service_sid=SERVICE, api_base=twilio_api.base)

    sent = backend.send(a_text(status_callback=None))

    assert sent.status == "accepted"
    [request] = twilio_api.requests
    assert request["fields"] == {"To": NUMBER, "Body": BODY, "MessagingServiceSid": SERVICE}
    assert request["user"] == SID


def test_a_unicode_body_arrives_whole(twilio, twilio_api):
    body = "Don\u2019t forget your check-in 🙂 — ça va ?"
    twilio.send(a_text(body=body))
    assert twilio_api.requests[0]["fields"]["Body"] == body


def test_the_twilio_url_with_a_local_api_sends_there(twilio_api):
    backend = backend_from_url(f"twilio://{SID}:{TOKEN}@?from=%2B15005550006&api={twilio_api.base}")

    backend.send(a_text())

    [request] = twilio_api.requests
    assert request["fields"]["From"] == "+15005550006"
    assert (request["user"], request["password"]) == (SID, TOKEN)


# Twilio: failures


@pytest.mark.parametrize(
    ("status", "code", "expected_code"),
    [(429, 20429, 20429), (500, 20500, 20500), (503, None, 503), (502, None, 502)],
)
def test_busy_or_failing_twilio_is_transient(twilio, twilio_api, status, code, expected_code):
    if code is None:
        twilio_api.answer(status, "<html><body>Service Unavailable</body></html>")
    else:
        twilio_api.error(status, code, f"Could not send to {NUMBER}: try again later")

    with pytest.raises(TransientTextError) as caught:
        twilio.send(a_text())

    error = caught.value
    assert not error.permanent
    assert error.code == expected_code
    assert error.reason.startswith("transient: twilio")
    assert f"HTTP {status}" in error.reason
    assert_private(error)


@pytest.mark.parametrize(
    ("code", "message", "reason"),
    [
        (
            21211,
            f"The 'To' number {NUMBER} is not a valid phone number.",
            "permanent: twilio 21211 invalid number",
        ),
        (
            21610,
            f"Attempt to send to unsubscribed recipient {NUMBER}",
            "permanent: twilio 21610 recipient unsubscribed (STOP)",
        ),
        (
            21614,
            f"'To' number {NUMBER} is not a valid mobile number",
            "permanent: twilio 21614 not a mobile number",
        ),
        (
            21612,
            f"The 'To' phone number: {NUMBER}, is not currently reachable using the 'From' "
            "phone number via SMS.",
            "permanent: twilio 21612 number cannot receive texts from this sender",
        ),
        (
            21408,
            f"Permission to send an SMS has not been enabled for the region indicated by "
            f"the 'To' number: {NUMBER}.",
            "permanent: twilio 21408 region not enabled for the account",
        ),
        (
            21217,
            f"Phone number {NUMBER} does not appear to be valid",
            "permanent: twilio 21217 invalid number",
        ),
        (21602, "Message body is required.", "permanent: twilio 21602 HTTP 400 refused"),
    ],
)
def test_a_number_that_cannot_receive_is_permanent(twilio, twilio_api, code, message, reason):
    twilio_api.error(400, code, message)

    with pytest.raises(PermanentTextError) as caught:
        twilio.send(a_text())

    error = caught.value
    assert error.permanent
    assert isinstance(error, TextSendError)
    assert error.code == code
    assert error.reason == reason
    assert_private(error)


def test_an_error_answer_in_the_problem_details_form_is_classified_too(twilio, twilio_api):
    # Twilio's newer APIs answer in RFC 9457's form; the client raises another exception.
    twilio_api.answer(
        400,
        {
            "type": "https://www.twilio.com/docs/errors/21211",
            "title": "Invalid 'To' Phone Number",
            "status": 400,
            "code": 21211,
            "detail": f"The 'To' number {NUMBER} is not a valid phone number.",
        },
    )

    with pytest.raises(PermanentTextError) as caught:
        twilio.send(a_text())

    assert caught.value.reason == "permanent: twilio 21211 invalid number"
    assert_private(caught.value)


def test_a_refusal_without_a_twilio_code_is_permanent(twilio, twilio_api):
    twilio_api.answer(400, "<html><body>Bad Request</body></html>")

    with pytest.raises(PermanentTextError) as caught:
        twilio.send(a_text())

    assert caught.value.reason == "permanent: twilio HTTP 400 refused"
    assert caught.value.code == 400
    assert_private(caught.value)


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [
        (401, 20003, "authentication failed"),
        (403, 20403, "access refused"),
        (404, 20404, "account not found"),
        (400, 21606, "the sender cannot send texts"),
        (400, 21212, "invalid sender number"),
    ],
)
def test_a_misconfigured_account_is_transient_with_a_clear_reason(
    twilio, twilio_api, status, code, words
):
    twilio_api.error(status, code, f"Authenticate (while sending to {NUMBER})")

    with pytest.raises(TransientTextError) as caught:
        twilio.send(a_text())

    error = caught.value
    assert not error.permanent
    assert error.code == code
    assert error.reason.startswith(f"configuration: twilio {code}")
    assert words in error.reason
    assert_private(error)


def test_a_closed_port_is_transient():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = TwilioBackend(SID, TOKEN, from_number=SENDER, api_base=f"http://127.0.0.1:{port}")

    with pytest.raises(TransientTextError) as caught:
        backend.send(a_text())

    error = caught.value
    assert error.reason == "transient: twilio ConnectionError"
    assert error.code is None and not error.permanent
    assert_private(error)


def test_a_slow_answer_times_out_as_transient(twilio_api):
    twilio_api.answer(201, None, delay=2)
    backend = TwilioBackend(SID, TOKEN, from_number=SENDER, api_base=twilio_api.base, timeout=0.3)

    started = time.monotonic()
    with pytest.raises(TransientTextError) as caught:
        backend.send(a_text())

    assert time.monotonic() - started < 1.5
    assert caught.value.reason == "transient: twilio ReadTimeout"
    assert_private(caught.value)


def test_nothing_logged_holds_the_number_or_the_words(twilio, twilio_api, caplog):
    with caplog.at_level(logging.DEBUG):
        twilio.send(a_text())
        twilio_api.error(400, 21211, f"The 'To' number {NUMBER} is not a valid phone number.")
        with pytest.raises(PermanentTextError):
            twilio.send(a_text())

    assert caplog.records  # twilio's client logs its requests
    for record in caplog.records:
        logged = record.getMessage()
        assert NUMBER not in logged and BODY not in logged and TOKEN not in logged


def test_the_backend_never_shows_its_token(twilio):
    assert TOKEN not in repr(twilio)
    assert SID in repr(twilio)


def test_a_twilio_backend_needs_credentials_and_a_sender():
    with pytest.raises(ImproperlyConfigured):
        TwilioBackend(SID, "", from_number=SENDER)
    with pytest.raises(ImproperlyConfigured):
        TwilioBackend(SID, TOKEN)


# The outgoing text


@pytest.mark.parametrize(
    "number", ["07700900123", "+0447700900123", "+44 7700 900123", "+44770090012345678", ""]
)
def test_a_text_needs_a_number_in_e164_and_never_repeats_it(number):
    with pytest.raises(ValueError) as caught:
        OutgoingText(to=number, body=BODY)
    if number:
        assert number not in str(caught.value)


def test_an_outgoing_text_is_frozen():
    text = a_text()
    with pytest.raises(AttributeError):
        text.body = "changed"


# The file backend


def test_the_file_backend_writes_each_text_to_a_file_and_reads_them_back(tmp_path):
    folder = tmp_path / "not" / "yet" / "there"
    backend = FileBackend(folder)
    before = datetime.now(UTC)

    first = backend.send(a_text())
    second = backend.send(a_text(to="+15005550001", body="Second\n\nwith a blank line \u2019🙂"))
    third = backend.send(a_text(status_callback=None, body="Third"))

    for sent in (first, second, third):
        assert re.fullmatch(r"file-[0-9a-f]{32}", sent.provider_id)
        assert sent.status == "sent"
    assert len(list(folder.glob("*.txt"))) == 3
    assert not list(folder.glob(".*"))  # no temporary file left
    texts = backend.list_texts()
    assert [t.provider_id for t in texts] == [
        third.provider_id,
        second.provider_id,
        first.provider_id,
    ]
    newest, middle, oldest = texts
    assert (oldest.to, oldest.body, oldest.status_callback) == (NUMBER, BODY, CALLBACK)
    assert (middle.to, middle.body) == ("+15005550001", "Second\n\nwith a blank line \u2019🙂")
    assert newest.status_callback is None
    for text in texts:
        assert before <= text.sent_at <= datetime.now(UTC)
        assert text.sent_at.tzinfo is not None
    assert backend.list_texts(limit=2) == texts[:2]


def test_a_text_file_is_readable_by_a_person(tmp_path):
    sent = FileBackend(tmp_path).send(a_text())

    [path] = tmp_path.glob("*.txt")
    assert sent.provider_id in path.name
    content = path.read_text(encoding="utf-8")
    assert f"To: {NUMBER}\n" in content
    assert f"Provider-Id: {sent.provider_id}\n" in content
    assert f"Status-Callback: {CALLBACK}\n" in content
    assert re.search(r"^Date: \d{4}-\d\d-\d\dT", content, re.M)
    assert content.endswith("\n\n" + BODY)


def test_the_file_backend_reads_nothing_from_a_missing_folder_and_skips_other_files(tmp_path):
    assert FileBackend(tmp_path / "missing").list_texts() == []
    (tmp_path / "notes.txt").write_text("not a text")
    (tmp_path / "half.txt").write_text("To: +15005550001\n\nno id or date")
    backend = FileBackend(tmp_path)
    sent = backend.send(a_text())
    assert [t.provider_id for t in backend.list_texts()] == [sent.provider_id]


def test_the_file_backend_defaults_to_var_sms():
    assert FileBackend().directory == Path(django_settings.BASE_DIR) / "var" / "sms"


# The in-memory backend


def test_tests_send_texts_to_the_in_memory_outbox(sms_outbox):
    assert django_settings.SMS_URL == "locmem://"
    assert sms_outbox == []
    backend = get_text_backend()
    assert isinstance(backend, LocmemBackend)

    sent = backend.send(a_text())
    LocmemBackend().send(a_text(body="Another"))

    assert [t.body for t in sms_outbox] == [BODY, "Another"]
    assert sms_outbox[0].provider_id == sent.provider_id
    assert sent.status == "sent"
    assert (sms_outbox[0].to, sms_outbox[0].status_callback) == (NUMBER, CALLBACK)
    assert datetime.now(UTC) - sms_outbox[0].sent_at < timedelta(minutes=1)


def test_the_outbox_is_emptied_between_tests(sms_outbox):
    assert sms_outbox == []
    get_text_backend().send(a_text())


# SMS_URL


def test_the_backend_is_made_once_per_url(settings, tmp_path):
    settings.SMS_URL = f"file://{tmp_path}"
    backend = get_text_backend()
    assert isinstance(backend, FileBackend) and backend.directory == tmp_path
    assert get_text_backend() is backend
    settings.SMS_URL = "locmem://"
    assert isinstance(get_text_backend(), LocmemBackend)


def test_file_urls(tmp_path):
    default = backend_from_url("file://")
    assert isinstance(default, FileBackend)
    assert default.directory == Path(django_settings.BASE_DIR) / "var" / "sms"
    elsewhere = backend_from_url(f"file://{tmp_path}/texts%20here")
    assert isinstance(elsewhere, FileBackend)
    assert elsewhere.directory == tmp_path / "texts here"


def test_the_locmem_url():
    assert isinstance(backend_from_url("locmem://"), LocmemBackend)


@pytest.mark.parametrize(
    ("query", "sender", "service"),
    [
        ("from=%2B15551234567", "+15551234567", None),
        ("from=+15551234567", "+15551234567", None),  # a plus left as it is stays a plus
        ("from=CareClinic", "CareClinic", None),  # an alphanumeric sender ID
        ("from=12345", "12345", None),  # a short code
        (f"messaging_service={SERVICE}", None, SERVICE),
        (f"from=%2B15551234567&messaging_service={SERVICE}", "+15551234567", SERVICE),
    ],
)
def test_twilio_urls(query, sender, service):
    backend = backend_from_url(f"twilio://{SID}:{TOKEN}@?{query}")

    assert isinstance(backend, TwilioBackend)
    assert backend.account_sid == SID
    assert (backend.from_number, backend.messaging_service_sid) == (sender, service)
    assert backend.api_base is None
    assert backend.timeout == 10


def test_a_twilio_url_with_a_local_api_and_a_timeout():
    backend = backend_from_url(
        f"twilio://{SID}:{TOKEN}@?from=%2B15551234567&api=http://127.0.0.1:8765&timeout=2.5"
    )
    assert isinstance(backend, TwilioBackend)
    assert (backend.api_base, backend.timeout) == ("http://127.0.0.1:8765", 2.5)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "must start with"),
        ("sms://anything", "must start with"),
        (f"http://{SID}:{TOKEN}@api.twilio.com", "must start with"),
        ("file://relative/folder", "file:///absolute/folder"),
        ("file:///tmp/x?mode=1", "file:///absolute/folder"),
        ("locmem://somewhere", "locmem:// alone"),
        (f"twilio://{SID}@?from=%2B15551234567", "auth token"),
        (f"twilio://:{TOKEN}@?from=%2B15551234567", "account SID"),
        (f"twilio://AC123:{TOKEN}@?from=%2B15551234567", "account SID"),
        (f"twilio://{SID}:{TOKEN}@", "a sender is needed"),
        (f"twilio://{SID}:{TOKEN}@?from=", "a sender is needed"),
        (f"twilio://{SID}:{TOKEN}@api.twilio.com?from=%2B15551234567", "between the @ and"),
        (f"twilio://{SID}:{TOKEN}@?from=%2B15551234567&token={TOKEN}", "unknown option"),
        (f"twilio://{SID}:{TOKEN}@?from=%2B15551234567&{TOKEN}", "unknown option"),
        (f"twilio://{SID}:{TOKEN}@?from=%2B1555&from=%2B1666", "given twice"),
        (f"twilio://{SID}:{TOKEN}@?from=15551234567890123", "from= must be"),
        (f"twilio://{SID}:{TOKEN}@?from=%2B0555", "from= must be"),
        (f"twilio://{SID}:{TOKEN}@?messaging_service=MGxyz", "messaging_service= must be"),
        (f"twilio://{SID}:{TOKEN}@?from=%2B15551234567&api=https://evil.example", "api= is for"),
        (f"twilio://{SID}:{TOKEN}@?from=%2B15551234567&api=ftp://127.0.0.1", "api= is for"),
        (f"twilio://{SID}:{TOKEN}@?from=%2B15551234567&timeout=0", "timeout="),
        (f"twilio://{SID}:{TOKEN}@?from=%2B15551234567&timeout=soon", "timeout="),
        (f"twilio://{SID}:{TOKEN}@?from=%2B15551234567&timeout=600", "timeout="),
        (f"twilio://{SID}:{TOKEN}@[::1?from=%2B15551234567", "not a valid URL"),
    ],
)
def test_bad_urls_are_refused_without_echoing_the_token(url, words):
    with pytest.raises(ImproperlyConfigured) as caught:
        backend_from_url(url)

    message = str(caught.value)
    assert words in message
    assert TOKEN not in message
    assert caught.value.__cause__ is None


def test_sms_url_defaults_to_files():
    environment = {k: v for k, v in os.environ.items() if k != "SMS_URL"}
    environment["DJANGO_DEBUG"] = "true"
    code = "from django.conf import settings; print(settings.SMS_URL)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "file://"


def test_sms_url_is_documented():
    assert "SMS_URL" in (ROOT / ".env.example").read_text()
    assert "`SMS_URL`" in (ROOT / "docs" / "configuration.md").read_text()
