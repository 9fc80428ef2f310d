"""Patients submitting check-ins while clinicians load the caseload (run by loadtests/run).

Runs in .venv-locust only (gevent monkey-patches the process): never import it from the app
or its tests. Reads LOAD_OUT/credentials.json (written by prepare.py) and, when the test
stops, writes every request (requests.csv), every check-in outcome (checkins.csv) and the
measured duration (run.json) for verify.py.

- Patients (bearer tokens): open the app (GET me/) and submit today's check-in with a new
  client_id; some resend the same submission (a retry after a lost answer) or send it twice
  at once (a double tap), which must store it once. Patients are taken round-robin, so the
  first pass creates each patient's check-in for today (201) and later passes replace it (200).
  A submission still in flight when the users stop is resent with its client_id at the end,
  as the app would after a lost answer, so that every submission has a known outcome.
- Clinicians on the app (bearer tokens): the caseload API, first and later pages.
- Clinicians in a browser: sign in properly (password, then a TOTP code), then the caseload
  page, as a session.
"""

import csv
import itertools
import json
import os
import random
import time
import uuid
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import urlsplit

import gevent
import requests
from locust import HttpUser, between, events, task
from stats import totp_code

OUT = Path(os.environ["LOAD_OUT"])
CREDENTIALS = json.loads((OUT / "credentials.json").read_text())
CLINICIAN_USERS = int(os.environ.get("LOAD_CLINICIAN_USERS", "10"))
TIMEOUT = 60  # seconds; above gunicorn's 30 s worker timeout, so the server gives up first

SIDE_EFFECTS = ["dissociation", "sedation", "nausea", "headache", "dizziness"]
NEW = "POST /api/v1/checkins/"
RETRY = "POST /api/v1/checkins/ (retry)"
DOUBLE = "POST /api/v1/checkins/ (double tap)"
RESEND = "POST /api/v1/checkins/ (resent at stop)"

_return_ok_secure = DefaultCookiePolicy.return_ok_secure


def _return_ok_secure_on_loopback(self, cookie, request) -> bool:
    """Send Secure cookies to http://127.0.0.1 as browsers do (the app's cookies are Secure
    outside DEBUG). Patched on the class: requests copies cookies into jars of its own."""
    host = urlsplit(request.get_full_url()).hostname
    return host in ("127.0.0.1", "localhost", "::1") or _return_ok_secure(self, cookie, request)


DefaultCookiePolicy.return_ok_secure = _return_ok_secure_on_loopback

samples: list[tuple[str, float, int, bool]] = []
outcomes: list[tuple[str, int, bool]] = []
pending: dict[str, tuple[str, dict]] = {}  # client_id: (token, values), sent, no answer yet
started: list[float] = []
patient_tokens = itertools.cycle(CREDENTIALS["patients"])
clinician_tokens = itertools.cycle(c["token"] for c in CREDENTIALS["clinicians"])
browser_accounts = iter(CREDENTIALS["clinicians"])


@events.request.add_listener
def record_request(name, response_time, response=None, exception=None, **_):
    status = getattr(response, "status_code", 0) or 0
    samples.append((name, response_time, status, exception is not None))


@events.test_start.add_listener
def record_start(**_):
    started.append(time.monotonic())


@events.test_stop.add_listener
def write_results(environment, **_):
    seconds = time.monotonic() - started[0]
    resend_unanswered(environment.host)
    with (OUT / "requests.csv").open("w", newline="") as f:
        csv.writer(f).writerows((n, f"{ms:.3f}", s, int(e)) for n, ms, s, e in samples)
    with (OUT / "checkins.csv").open("w", newline="") as f:
        csv.writer(f).writerows((c, s, int(d)) for c, s, d in outcomes)
    run = {
        "seconds": seconds,
        "users": int(environment.parsed_options.num_users),
        "clinician_users": CLINICIAN_USERS,
    }
    (OUT / "run.json").write_text(json.dumps(run))


def resend_unanswered(host: str) -> None:
    """A submission cut off when the users stopped is sent again with its client_id, as the
    app does after a lost answer: the server says whether it had stored it (a duplicate)."""
    for client_id, (token, values) in sorted(pending.items()):
        begun = time.perf_counter()
        try:
            response = requests.post(
                f"{host}/api/v1/checkins/",
                json={**values, "client_id": client_id},
                headers=bearer(token),
                timeout=TIMEOUT,
            )
            status = response.status_code
            duplicate = status in (200, 201) and bool(response.json()["duplicate"])
        except (requests.RequestException, ValueError, KeyError):
            status, duplicate = 0, False
        elapsed = (time.perf_counter() - begun) * 1000
        samples.append((RESEND, elapsed, status, status not in (200, 201)))
        outcomes.append((client_id, status if status in (200, 201) else 0, duplicate))
    pending.clear()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def checkin_values() -> dict:
    return {
        "mood": random.randint(0, 10),
        "anxiety": random.randint(0, 10),
        "energy": random.randint(0, 10),
        "sleep_hours": str(random.randint(8, 20) / 2),
        "sleep_quality": random.randint(0, 4),
        "side_effects": random.sample(SIDE_EFFECTS, random.randint(0, 2)),
        # A few answers raise a safety alert in the same transaction, as in real use.
        "has_self_harm_thoughts": random.random() < 0.02,
        "note": random.choice(["", "", "Slept badly.", "Better day today."]),
    }


class Patient(HttpUser):
    wait_time = between(1, 3)

    @task(6)
    def check_in(self) -> None:
        token = next(patient_tokens)
        self.client.get(
            "/api/v1/me/", headers=bearer(token), name="GET /api/v1/me/", timeout=TIMEOUT
        )
        self.submit(token, str(uuid.uuid4()), checkin_values(), NEW)

    @task(1)
    def check_in_and_retry(self) -> None:
        token, client_id, values = next(patient_tokens), str(uuid.uuid4()), checkin_values()
        self.submit(token, client_id, values, NEW)
        self.submit(token, client_id, values, RETRY)

    @task(1)
    def double_tap(self) -> None:
        token, client_id, values = next(patient_tokens), str(uuid.uuid4()), checkin_values()
        gevent.joinall([gevent.spawn(self.submit, token, client_id, values, DOUBLE) for _ in "12"])

    def submit(self, token: str, client_id: str, values: dict, name: str) -> None:
        pending[client_id] = (token, values)
        with self.client.post(
            "/api/v1/checkins/",
            json={**values, "client_id": client_id},
            headers=bearer(token),
            name=name,
            timeout=TIMEOUT,
            catch_response=True,
        ) as response:
            status, duplicate = response.status_code, False
            if status in (200, 201):
                try:
                    duplicate = bool(response.json()["duplicate"])
                except (ValueError, KeyError, TypeError):
                    response.failure("a 2xx without the check-in body")
                    status = 0
            outcomes.append((client_id, status, duplicate))
            pending.pop(client_id, None)


class ClinicianApp(HttpUser):
    fixed_count = CLINICIAN_USERS - CLINICIAN_USERS // 2
    wait_time = between(2, 5)

    def on_start(self) -> None:
        self.client.headers.update(bearer(next(clinician_tokens)))
        self.pages = 1

    @task(2)
    def caseload(self) -> None:
        response = self.client.get(
            "/api/v1/patients/", name="GET /api/v1/patients/", timeout=TIMEOUT
        )
        if response.status_code == 200:
            self.pages = response.json()["pages"]

    @task(1)
    def caseload_later_page(self) -> None:
        page = random.randint(1, self.pages)
        self.client.get(
            f"/api/v1/patients/?page={page}", name="GET /api/v1/patients/?page=N", timeout=TIMEOUT
        )


class ClinicianBrowser(HttpUser):
    fixed_count = CLINICIAN_USERS // 2
    wait_time = between(2, 5)

    def on_start(self) -> None:
        account = next(browser_accounts)  # one account each: a TOTP code works once
        self.client.get("/accounts/login/", name="sign-in: GET /accounts/login/")
        self.client.post(
            "/accounts/login/",
            data={
                "login": account["email"],
                "password": account["password"],
                "csrfmiddlewaretoken": self.csrf_token(),
            },
            name="sign-in: POST /accounts/login/",
            timeout=TIMEOUT,
        )
        with self.client.post(
            "/accounts/2fa/authenticate/",
            data={
                "code": totp_code(account["totp_secret"], at=time.time()),
                "csrfmiddlewaretoken": self.csrf_token(),
            },
            name="sign-in: POST /accounts/2fa/authenticate/",
            timeout=TIMEOUT,
            catch_response=True,
        ) as response:
            if response.status_code == 200 and "/staff/patients/" not in response.url:
                response.failure(f"signed in to {response.url}, not the caseload")

    def csrf_token(self) -> str:
        return next(v for k, v in self.client.cookies.items() if k.endswith("csrftoken"))

    @task
    def caseload_page(self) -> None:
        with self.client.get(
            "/staff/patients/", name="GET /staff/patients/", timeout=TIMEOUT, catch_response=True
        ) as response:
            if response.status_code == 200 and "/staff/patients/" not in response.url:
                response.failure(f"redirected to {response.url}")
