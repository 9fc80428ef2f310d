"""Phase: check-in submissions per second through gunicorn, against a floor POST.

    DATABASE_URL=... python -m benchmarks.throughput OUT.json [--seconds 4] [--rounds 3]

Run against a throw-away copy of the large care data set. Issues a bearer token to
patients, starts gunicorn (4 sync workers, DEBUG off) on loopback with the benchmark
settings, and drives it from threads in this process: rounds of the floor (a trivial
authenticated POST that inserts one row) and of `POST /api/v1/checkins/` (each patient
submits today's check-in once), alternating. Figures are the medians over rounds of
requests per second; any answer other than 201 fails the phase, and the check-ins stored
must equal the 201s.
"""

import argparse
import http.client
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

from benchmarks.common import ROOT, django_setup, vacuum, write_result

BODY = json.dumps(
    {
        "mood": 6,
        "anxiety": 4,
        "energy": 5,
        "sleep_hours": "7.0",
        "sleep_quality": 2,
        "side_effects": [],
        "has_self_harm_thoughts": False,
        "note": "",
    }
).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def drive(port: int, path: str, next_token, *, seconds: float, threads: int) -> dict:
    """POST `path` from `threads` threads for `seconds`; `next_token()` gives each request's
    bearer token (None: no more)."""
    codes: dict[int, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        while time.monotonic() < stop_at:
            token = next_token()
            if token is None:
                return
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request(
                "POST",
                path,
                body=BODY,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            status = conn.getresponse().status
            conn.close()
            with lock:
                codes[status] = codes.get(status, 0) + 1

    started = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - started
    return {"codes": codes, "seconds": elapsed, "per_second": sum(codes.values()) / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=5000)
    args = parser.parse_args()
    django_setup()

    from django.db import connection
    from django.utils import timezone

    from care.accounts.tokens import api_token_issue
    from care.models import CheckIn, Patient

    # The tables the check-ins and their tokens write (a copy of the care set, vacuumed).
    dead_rows = vacuum(["care_checkin", "care_apitoken", "care_auditevent", "care_alert"])
    now = timezone.now()
    checkins_before = CheckIn.objects.count()
    patients = Patient.objects.filter(status="active", user__is_active=True).select_related("user")
    secrets = [
        api_token_issue(user=p.user, name="benchmark", days=1, now=now).secret
        for p in patients.order_by("pk")[: args.tokens]
    ]
    connection.close()

    port = free_port()
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "benchmarks.settings"}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "tracker.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit("gunicorn exited") from None
                time.sleep(0.5)
        # Each check-in round gets its own share of the tokens (a patient checks in once):
        # a shared pool let a fast first round use them all and the next one measure nothing.
        round_tokens: list[queue.Queue] = [queue.Queue() for _ in range(args.rounds)]
        for i, secret in enumerate(secrets):
            round_tokens[i % args.rounds].put(secret)

        def floor_token() -> str:
            return secrets[0]

        def checkin_token(tokens: queue.Queue) -> str | None:
            try:
                return tokens.get_nowait()
            except queue.Empty:
                return None

        # Warm every worker (imports, connections) before measuring.
        drive(port, "/bench/api/", floor_token, seconds=2, threads=args.threads)
        rounds = {"floor": [], "checkin": []}
        for tokens in round_tokens:
            rounds["floor"].append(
                drive(port, "/bench/api/", floor_token, seconds=args.seconds, threads=args.threads)
            )
            rounds["checkin"].append(
                drive(
                    port,
                    "/api/v1/checkins/",
                    lambda tokens=tokens: checkin_token(tokens),
                    seconds=args.seconds,
                    threads=args.threads,
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    bad = [r["codes"] for kind in rounds.values() for r in kind if set(r["codes"]) != {201}]
    if bad:
        raise SystemExit(f"Answers other than 201: {bad}")
    submitted = sum(r["codes"][201] for r in rounds["checkin"])
    stored = CheckIn.objects.count() - checkins_before
    if stored != submitted:
        raise SystemExit(f"{submitted} check-ins accepted, {stored} stored")
    if any(tokens.empty() for tokens in round_tokens):
        print(
            "  warning: a check-in round used all its tokens before its time was up (its rate"
            " is over a shorter run); more patients or --tokens, or fewer --seconds",
            file=sys.stderr,
        )
    write_result(
        args.out,
        {
            "per_second": {
                kind: statistics.median(r["per_second"] for r in results)
                for kind, results in rounds.items()
            },
            "checkins_stored": stored,
            "rounds": rounds,
            "workers": args.workers,
            "threads": args.threads,
            "dead_rows": dead_rows,
        },
    )


if __name__ == "__main__":
    main()
