"""A local stand-in of Twilio's Messages API on loopback, for the tests that send texts through
the real `twilio` client (notifications/sms/backends.py, SMS_URL's `api=`): the provider layer's
tests, the end-to-end text tests and the fault suite's text tests.

`serve_fake_twilio()` starts one in a thread of the test process and yields its `FakeTwilio`:
`base` is its address, `sms_url(...)` an SMS_URL that sends there. It answers
POST /2010-04-01/Accounts/{sid}/Messages.json as Twilio does (201 and the new message), or with
the answers queued by `answer` / `error`, and can be switched while it runs (`mode`):

- "accept": each request is answered at once;
- "hang": a request arrives in full and is never accepted: no message is made, and when the
  mode changes the connection is closed without an answer (the provider never took the text);
- "hold": the message is made and recorded as accepted, and the answer waits until the mode
  changes (a sender that dies meanwhile leaves a text the provider will deliver; the duplicate
  window of docs/delivery.md).

`requests` holds every request received (path, form fields, basic-auth user and password),
`accepted` every message made (its sid and fields), oldest first.

With `callbacks` on (`serve_fake_twilio(callbacks=True)`), it also reports each message it
makes as Twilio does: once the message is made (before any held answer goes), a thread of
its own POSTs each of `callback_statuses` ("queued" unless changed) to the message's
StatusCallback address, a form with MessageSid, MessageStatus, AccountSid, To and From,
signed as Twilio signs (X-Twilio-Signature: twilio's RequestValidator with the auth token
the request authenticated with, over the callback address and the form). `status_callbacks`
records each report made: the sid, the status, the address and the HTTP status answered
(None when nothing answered: the address unreachable).
"""

import base64
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote

import requests
from twilio.request_validator import RequestValidator

MODES = ("accept", "hang", "hold")


class FakeTwilio:
    def __init__(self, *, callbacks: bool = False):
        self.requests: list[dict] = []
        self.accepted: list[dict] = []
        self.answers: list[tuple] = []  # (status, body, delay seconds); empty: 201, a new message
        self.mode = "accept"
        self.base = ""
        self.callbacks = callbacks
        self.callback_statuses: tuple[str, ...] = ("queued",)
        self.status_callbacks: list[dict] = []
        self._reporters: list[threading.Thread] = []

    def sms_url(self, *, account_sid: str, auth_token: str, sender: str, timeout: float = 5):
        """An SMS_URL for the real TwilioBackend, sending here."""
        return (
            f"twilio://{account_sid}:{auth_token}@?from={quote(sender, safe='')}"
            f"&api={self.base}&timeout={timeout:g}"
        )

    def answer(self, status, body, *, delay=0.0):
        """The answer to the next request not yet answered: `body` a dict (JSON), a string
        (HTML), or None for a new message."""
        self.answers.append((status, body, delay))

    def error(self, status, code, message):
        """An error answer in Twilio's JSON form."""
        self.answer(
            status,
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
        )

    def accepted_with(self, words: str) -> list[dict]:
        """The messages accepted whose body holds `words` (e.g. a delivery's link code)."""
        return [m for m in self.accepted if words in (m["body"] or "")]

    def report(self, message: dict, *, callback: str, auth_token: str) -> None:
        """Make the message's status callbacks in a thread of their own, as Twilio does
        within seconds of taking it, whatever becomes of the answer to its sender."""
        thread = threading.Thread(
            target=self._report, args=(message, callback, auth_token), daemon=True
        )
        self._reporters.append(thread)
        thread.start()

    def _report(self, message: dict, callback: str, auth_token: str) -> None:
        for status in self.callback_statuses:
            params = {
                "MessageSid": message["sid"],
                "MessageStatus": status,
                "AccountSid": message["account_sid"],
                "To": message["to"],
                "From": message["from"],
            }
            signature = RequestValidator(auth_token).compute_signature(callback, params)
            try:
                response = requests.post(
                    callback,
                    data=params,
                    headers={"X-Twilio-Signature": signature},
                    timeout=10,
                    allow_redirects=False,
                )
                code = response.status_code
            except requests.RequestException:
                code = None
            self.status_callbacks.append(
                {"sid": message["sid"], "status": status, "url": callback, "code": code}
            )

    def wait_for_reports(self, timeout: float = 15) -> None:
        for thread in list(self._reporters):
            thread.join(timeout=timeout)

    def wait_while(self, mode: str) -> None:
        while self.mode == mode:
            time.sleep(0.05)

    def create(self, path: str, fields: dict) -> dict:
        """A new message as Twilio's API returns it, recorded as accepted."""
        account_sid = path.split("/")[3] if path.count("/") >= 4 else ""
        message = {
            "sid": "SM" + uuid.uuid4().hex,
            "account_sid": account_sid,
            "to": fields.get("To"),
            "from": fields.get("From"),
            "messaging_service_sid": fields.get("MessagingServiceSid"),
            "body": fields.get("Body"),
            "status": "queued" if "From" in fields else "accepted",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": "Mon, 07 Dec 2026 12:00:00 +0000",
            "date_updated": "Mon, 07 Dec 2026 12:00:00 +0000",
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/SM.json",
        }
        self.accepted.append(
            {
                "sid": message["sid"],
                "to": fields.get("To"),
                "from": fields.get("From"),
                "body": fields.get("Body"),
                "status_callback": fields.get("StatusCallback"),
                "at": time.monotonic(),
            }
        )
        return message


def _handler_for(api: FakeTwilio):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
            fields = {name: values[0] for name, values in form.items()}
            user = password = None
            scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
            if scheme == "Basic":
                user, _, password = base64.b64decode(encoded).decode().partition(":")
            api.requests.append(
                {
                    "path": self.path,
                    "fields": fields,
                    "user": user,
                    "password": password,
                    "content_type": self.headers.get("Content-Type"),
                    "at": time.monotonic(),
                }
            )
            if api.mode == "hang":
                api.wait_while("hang")
                self.close_connection = True
                return  # closed without an answer: no message was made
            status, body, delay = api.answers.pop(0) if api.answers else (201, None, 0)
            if delay:
                time.sleep(delay)
            if body is None:
                body = api.create(self.path, fields)
                callback = fields.get("StatusCallback")
                if api.callbacks and callback:
                    api.report(body, callback=callback, auth_token=password or "")
            if api.mode == "hold":
                api.wait_while("hold")
            payload = (json.dumps(body) if isinstance(body, dict) else body).encode()
            try:
                self.send_response(status)
                content_type = "application/json" if isinstance(body, dict) else "text/html"
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up (a timeout) or is gone (killed)

        def log_message(self, format, *args):
            pass

    return Handler


@contextlib.contextmanager
def serve_fake_twilio(*, callbacks: bool = False) -> Iterator[FakeTwilio]:
    """A FakeTwilio on a spare loopback port, stopped (any held request let go, any status
    callback under way ended) at the end. `callbacks`: make status callbacks (see above)."""
    api = FakeTwilio(callbacks=callbacks)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(api))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    api.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        api.mode = "accept"
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        api.wait_for_reports(timeout=5)
