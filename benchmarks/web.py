"""Phase: pages and API reads of one data set, in process, against their floors.

    DATABASE_URL=... python -m benchmarks.web OUT.json [--repeats 15]

Signed in as the demo nurse through Django's test client (the full middleware stack, no
network): the caseload page (first page, default sort), a patient's page, the trends
endpoint for 90 and 730 days, a trivial signed-in page and a trivial API answer. Each is
the median of repeated runs, round-robin; query counts come from one more run of each.
"""

import argparse

from benchmarks.common import (
    PAGE_WRITES,
    django_setup,
    interleaved_medians,
    peak_rss_mb,
    signed_in_fetch,
    vacuum,
    write_result,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    django_setup()

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from benchmarks.data import LONG_HISTORY_EMAIL, STAFF_EMAIL
    from care.models import CheckIn, Patient

    dead_rows = vacuum(PAGE_WRITES)
    fetch = signed_in_fetch(STAFF_EMAIL)
    named = Patient.objects.get(user__email="alex@demo.example")
    long_history = Patient.objects.get(user__email=LONG_HISTORY_EMAIL)
    trends = reverse("api:patient-trends", args=[long_history.public_id])
    urls = {
        "floor_page": reverse("bench-floor-page"),
        "caseload": reverse("care:patient-list"),
        "patient_page": reverse("care:patient-detail", args=[named.public_id]),
        "floor_api": reverse("bench-floor-api"),
        "trends_90": f"{trends}?days=90",
        "trends_730": f"{trends}?days=730",
    }

    queries, sizes = {}, {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as captured:
            response = fetch(url)
        queries[name] = len(captured)
        sizes[name] = len(response.content)
    seconds = interleaved_medians(
        {name: (lambda url=url: fetch(url)) for name, url in urls.items()},
        repeats=args.repeats,
    )
    days = CheckIn.objects.filter(patient=long_history).count()
    write_result(
        args.out,
        {
            "patients": Patient.objects.count(),
            "checkins": CheckIn.objects.count(),
            "trend_patient_checkins": days,
            "seconds": seconds,
            "queries": queries,
            "bytes": sizes,
            "repeats": args.repeats,
            "peak_rss_mb": peak_rss_mb(),
            "dead_rows": dead_rows,
        },
    )


if __name__ == "__main__":
    main()
