"""Phase: the clinic outcomes page, its CSV and its API on one care data set, against the
floor page.

    DATABASE_URL=... python -m benchmarks.outcomes OUT.json [--repeats 7]

Signed in as the demo nurse (a clinician) through Django's test client (the full middleware
stack, no network), the default period (the last six months), every patient of the clinic:
`GET /staff/outcomes/`, `GET /staff/outcomes/export.csv` and `GET /api/v1/outcomes/`, each
the median of repeated runs, round-robin with the floor page (a signed-in page in the site's
layout with nothing of its own). Query counts come from one more run of each.

First every stored fact is removed, every patient marked and their outcome facts stored
again, timed (what the refresh task does after a bulk import or a migration; the page then
reads the stored facts, as it does once the every-minute task has run). That runs in a child
process, so that the peak resident memory of this one is what a web worker serving the page
holds."""

import argparse
import hashlib
import multiprocessing
import time

from benchmarks.common import (
    PAGE_WRITES,
    django_setup,
    interleaved_medians,
    peak_rss_mb,
    signed_in_fetch,
    vacuum,
    write_result,
)


def store_every_patients_facts(results) -> None:
    """Mark every patient and store their facts again (in a child process): seconds."""
    django_setup()
    from django.db import connection

    from care.outcomes.services import outcome_facts_refresh

    with connection.cursor() as cursor:
        # From nothing: every stored fact, group and day removed first.
        cursor.execute(
            "TRUNCATE care_outcomefacts_patient, care_outcomefacts_instrument,"
            " care_outcomefacts_group, care_outcomefacts_sums, care_outcomefacts_weeks,"
            " care_outcomefacts_adherence, care_outcomefacts_day"
        )
        cursor.execute(
            "INSERT INTO care_outcomefacts_stale (patient_id) SELECT id FROM care_patient"
            " ON CONFLICT DO NOTHING"
        )
    started = time.perf_counter()
    stored = outcome_facts_refresh()
    results.put((stored, time.perf_counter() - started))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    child = spawn.Process(target=store_every_patients_facts, args=(results,))
    child.start()
    child.join()
    if child.exitcode:
        raise SystemExit("storing the outcome facts failed (above)")
    facts_stored, facts_seconds = results.get(timeout=10)
    django_setup()

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from benchmarks.data import STAFF_EMAIL
    from care.models import Assessment, Patient

    dead_rows = vacuum(
        [
            *PAGE_WRITES,
            "care_outcomefacts_patient",
            "care_outcomefacts_instrument",
            "care_outcomefacts_group",
            "care_outcomefacts_sums",
            "care_outcomefacts_weeks",
            "care_outcomefacts_adherence",
            "care_outcomefacts_day",
        ]
    )
    fetch = signed_in_fetch(STAFF_EMAIL)
    urls = {
        "floor_page": reverse("bench-floor-page"),
        "outcomes": reverse("care:outcomes"),
        "outcomes_csv": reverse("care:outcomes-export"),
        "outcomes_api": reverse("api:outcomes"),
    }

    queries, digests = {}, {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as captured:
            response = fetch(url)
        queries[name] = len(captured)
        digests[name] = hashlib.sha256(response.content).hexdigest()[:16]
    seconds = interleaved_medians(
        {name: (lambda url=url: fetch(url)) for name, url in urls.items()},
        repeats=args.repeats,
    )
    write_result(
        args.out,
        {
            "patients": Patient.objects.count(),
            "questionnaires": Assessment.objects.count(),
            "seconds": seconds,
            "queries": queries,
            "sha256": digests,
            "repeats": args.repeats,
            "peak_rss_mb": peak_rss_mb(),
            "dead_rows": dead_rows,
            "facts_stored": facts_stored,
            "facts_seconds": facts_seconds,
        },
    )


if __name__ == "__main__":
    main()
