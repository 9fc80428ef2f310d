"""The front door: slow clients against gunicorn's 3 sync workers (as the Dockerfile runs it),
bare and behind nginx made from docker/proxy/nginx.conf.template; and what nginx passes on."""

import http.server
import socket
import threading
import time

import pytest
import requests

from tests.faults.harness import wait_until
from tests.faults.proxy import Nginx, SlowHeaderClients

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]

ATTACKERS = 8  # more than gunicorn's 3 workers (the incident took 6)


def health_seconds(url: str) -> float | None:
    """How long GET /health/ took to answer 200, or None when not within a second."""
    started = time.monotonic()
    try:
        response = requests.get(f"{url}/health/", timeout=1)
    except requests.RequestException:
        return None
    elapsed = time.monotonic() - started
    return elapsed if response.status_code == 200 and elapsed < 1 else None


def answering_quickly(url: str) -> None:
    """Wait until /health/ answers within a second five times in a row (every worker has
    loaded the app, which its first request does)."""
    wait_until(
        lambda: all(health_seconds(url) is not None for _ in range(5)),
        timeout=60,
        what="gunicorn's workers to answer /health/ within a second",
    )


@pytest.fixture
def nginx_in_front():
    started = []

    def start(upstream: str) -> Nginx:
        started.append(Nginx(upstream))  # stopped (its directory removed) even if it fails
        return started[-1].start()

    yield start
    for nginx in started:
        nginx.stop()


def test_slow_header_clients_leave_health_answering_within_a_second_through_the_proxy(
    stack, nginx_in_front
):
    _web, url = stack.web(workers=3)
    answering_quickly(url)

    # Bare gunicorn: each sync worker waits on a slow client's headers; /health/ gets no answer.
    with SlowHeaderClients(int(url.rsplit(":", 1)[1]), ATTACKERS):
        time.sleep(2)
        assert health_seconds(url) is None
    answering_quickly(url)  # the workers are let go when the clients leave

    nginx = nginx_in_front(url.removeprefix("http://"))
    answers = []
    # Longer than client_header_timeout (10 s): nginx cuts the clients, and they come back.
    with SlowHeaderClients(nginx.port, ATTACKERS) as clients:
        deadline = time.monotonic() + 14
        while time.monotonic() < deadline:
            answers.append(health_seconds(nginx.url))
            time.sleep(0.25)
        assert clients.opened >= ATTACKERS

    assert None not in answers, answers
    assert len(answers) >= 20
    assert clients.cut >= ATTACKERS  # each cut by the header timeout (and then reopened)


class Upstream(http.server.ThreadingHTTPServer):
    """An app stand-in that records each request it receives: when its headers arrived (a
    sync worker is taken from then on), headers, body."""

    def __init__(self):
        self.arrivals: list[float] = []
        self.requests: list[dict] = []
        super().__init__(("127.0.0.1", 0), _Recorder)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class _Recorder(http.server.BaseHTTPRequestHandler):
    def _record(self):
        self.server.arrivals.append(time.monotonic())
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.requests.append({"headers": self.headers, "body": body})
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = _record

    def log_message(self, *args):
        pass


@pytest.fixture
def upstream():
    server = Upstream()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_proxy_overwrites_forwarded_headers_a_client_sends(upstream, nginx_in_front):
    """X-Forwarded-For is the address nginx took the connection from, whatever the client
    claimed: so the app's NUM_PROXIES=1 reads the real client, not a forged entry."""
    nginx = nginx_in_front(upstream.address)
    forged = {
        "X-Forwarded-For": "203.0.113.9, 198.51.100.7",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example",
        "X-Real-IP": "203.0.113.9",
    }

    response = requests.get(f"{nginx.url}/api/v1/me/", headers=forged, timeout=5)

    assert response.status_code == 200
    [seen] = upstream.requests
    headers = seen["headers"]
    assert headers.get_all("X-Forwarded-For") == ["127.0.0.1"]
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["Host"] == f"127.0.0.1:{nginx.port}"
    assert headers["X-Forwarded-Host"] is None and headers["X-Real-IP"] is None


def test_the_proxy_hands_on_a_request_only_once_its_whole_body_arrived(upstream, nginx_in_front):
    nginx = nginx_in_front(upstream.address)
    body = b"a=" + b"x" * 100_000  # above client_body_buffer_size: a temporary file
    with socket.create_connection(("127.0.0.1", nginx.port), timeout=10) as sock:
        sock.sendall(
            b"POST /checkins/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:1000]
        )
        time.sleep(1.5)
        assert upstream.arrivals == []  # unbuffered, a gunicorn worker would be waiting now
        last_part_at = time.monotonic()
        sock.sendall(body[1000:])
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")

    [arrived] = upstream.arrivals
    assert arrived >= last_part_at and upstream.requests[0]["body"] == body


def test_the_proxy_refuses_a_body_over_one_megabyte_without_passing_it_on(upstream, nginx_in_front):
    nginx = nginx_in_front(upstream.address)

    response = requests.post(
        f"{nginx.url}/api/v1/checkins/", data=b"x" * (1024 * 1024 + 1), timeout=10
    )

    assert response.status_code == 413
    assert upstream.requests == []
