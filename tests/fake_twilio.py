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

MODES = ("accept", "hang", "hold")


class FakeTwilio:
    def __init__(self):
        self.requests: list[dict] = []
        self.accepted: list[dict] = []
        self.answers: list[tuple] = []  # (status, body, delay seconds); empty: 201, a new message
        self.mode = "accept"
        self.base = ""

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
def serve_fake_twilio() -> Iterator[FakeTwilio]:
    """A FakeTwilio on a spare loopback port, stopped (any held request let go) at the end."""
    api = FakeTwilio()
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
