"""Phase: the whole-clinic CSV exports of one data set, server time and rows per second.

    DATABASE_URL=... python -m benchmarks.exports OUT.json [--repeats 3]

The body of `GET /staff/export.csv?records=KIND` without the network: every piece that
`care.exports.export_csv` yields for the demo clinic is consumed (COPY on PostgreSQL; the
median of the repeats), and the file's trailer is checked with `csv_trailer_verify` once
per kind.
"""

import argparse
import statistics
import time

from .common import django_setup, peak_rss_mb, write_result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    django_setup()

    from care.exports import KINDS, csv_trailer_verify, export_csv
    from care.models import Patient, User

    from .data import STAFF_EMAIL

    clinic_id = User.objects.get(email=STAFF_EMAIL).staff_membership.clinic_id
    patients = Patient.objects.filter(clinic_id=clinic_id)
    result: dict = {}
    for kind in KINDS:
        body = b"".join(export_csv(kind, patients))
        rows = csv_trailer_verify(body)
        seconds = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            size = sum(len(piece) for piece in export_csv(kind, patients))
            seconds.append(time.perf_counter() - started)
        best = statistics.median(seconds)
        result[kind] = {
            "rows": rows,
            "bytes": size,
            "seconds": best,
            "rows_per_second": rows / best if best else 0.0,
        }
        print(f"{kind}: {rows:,} rows, {size / 1e6:.0f} MB in {best:.2f} s "
              f"({rows / best:,.0f} rows/s)", flush=True)  # fmt: skip
    result["peak_rss_mb"] = peak_rss_mb()
    write_result(args.out, result)


if __name__ == "__main__":
    main()
