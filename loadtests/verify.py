"""Print the load test's table and check its check-ins against the database.

    .venv/bin/python loadtests/verify.py OUT_DIR

Reads what the locust file wrote in OUT_DIR (requests.csv, checkins.csv, run.json) and the
row counts taken before the run (credentials.json), counts the check-ins in the database,
and exits 1 on any failed request, any 5xx, or any check-in lost or stored twice.
"""

import csv
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loadtests.stats import checkin_tally, format_table, summarize  # noqa: E402


def main() -> int:
    out = Path(sys.argv[1])
    run = json.loads((out / "run.json").read_text())
    before = json.loads((out / "credentials.json").read_text())["before"]
    with (out / "requests.csv").open(newline="") as f:
        samples = [(r[0], float(r[1]), int(r[2]), r[3] == "1") for r in csv.reader(f)]
    with (out / "checkins.csv").open(newline="") as f:
        outcomes = [(r[0], int(r[1]), r[2] == "1") for r in csv.reader(f)]

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()
    from care.models import CheckIn, CheckInRevision

    sent = {client_id for client_id, _, _ in outcomes}
    stored = set()
    for model in (CheckIn, CheckInRevision):
        for chunk in _chunks(sorted(sent), 5000):
            stored.update(
                str(i)
                for i in model.objects.filter(client_id__in=chunk).values_list(
                    "client_id", flat=True
                )
            )
    tally = checkin_tally(
        outcomes,
        stored_ids=stored,
        rows_created=CheckIn.objects.count() - before["checkins"],
        revisions_created=CheckInRevision.objects.count() - before["revisions"],
    )
    rows = summarize(samples, seconds=run["seconds"])
    print()
    print(format_table(rows))
    print()
    print(
        f"{run['users']} users ({run['clinician_users']} clinicians) for {run['seconds']:.0f} s. "
        f"Check-ins: {tally.created} created (201), {tally.updated} replaced today's (200), "
        f"{tally.duplicates} retries answered as duplicates (200), {tally.recovered} recovered "
        f"by a resend, {tally.unanswered} without an answer; {len(stored)} client_ids found "
        "in the database."
    )
    failures = list(tally.problems)
    total = rows[-1] if rows else None
    if total is None:
        failures.append("no request was made")
    else:
        if total.server_errors:
            failures.append(f"{total.server_errors} responses were 5xx")
        if total.errors:
            failures.append(f"{total.errors} requests failed (see locust.log)")
    for failure in failures:
        print(f"FAIL: {failure}")
    if not failures:
        print("OK: no 5xx, no failed request, every confirmed check-in stored exactly once.")
    return 1 if failures else 0


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


if __name__ == "__main__":
    sys.exit(main())
