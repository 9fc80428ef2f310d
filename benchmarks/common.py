"""Helpers shared by the benchmark phases: timing, medians, result files."""

import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_setup() -> None:
    """Set up Django with the benchmark settings (the app's, plus the floors)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    import django

    django.setup()


# Runs before the measured ones, the same in every phase (docs/benchmarks.md).
WARMUP = 3


def vacuum(tables: list[str]) -> dict:
    """VACUUM (ANALYZE) the tables a phase writes, before it measures anything.

    The benchmark databases run without autovacuum and every phase deletes or undoes what
    it wrote, so dead rows pile up between runs and slow the reads that pass over them:
    each figure is taken on vacuumed tables and records the dead rows found then and left
    (PostgreSQL's statistics; Django's connection, outside a transaction)."""
    from django.db import connection

    def dead() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_user_tables"
                " WHERE relname = ANY(%s)",
                [tables],
            )
            return int(cursor.fetchone()[0])

    with connection.cursor() as cursor:
        # This connection's own deletes reach the statistics when it next goes idle: now,
        # not after the vacuum (where they would count as dead rows left).
        cursor.execute("SELECT pg_stat_force_next_flush()")
    found = dead()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
    return {"tables": tables, "vacuumed": found, "at_start": dead()}


# The tables a signed-in page's requests write: reads are audited, the sign-in is a session.
PAGE_WRITES = ["care_auditevent", "django_session"]


def signed_in_fetch(email: str) -> Callable:
    """GET through Django's test client (the full middleware stack, no network), signed in
    as the user `email`; a page that does not answer 200 stops the benchmark."""
    from django.test import Client

    from care.models import User

    client = Client()
    client.force_login(User.objects.get(email=email))

    def fetch(url: str):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        return response

    return fetch


def interleaved_medians(
    runs: dict[str, Callable[[], object]], *, repeats: int, warmup: int = WARMUP
) -> dict[str, float]:
    """Median seconds of each callable, run round-robin so drift hits all of them alike."""
    for _ in range(warmup):
        for run in runs.values():
            run()
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_result(path: str, result: dict) -> None:
    Path(path).write_text(json.dumps(result, indent=2, sort_keys=True, default=str))
