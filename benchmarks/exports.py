"""Phase: the whole-clinic CSV exports of one data set, server time and rows per second.

    DATABASE_URL=... python -m benchmarks.exports OUT.json [--repeats 3]

Every piece that `care.exports.tables.export_csv` yields for the demo clinic is consumed (COPY on
PostgreSQL; the median of the repeats), and the file's trailer is checked with
`csv_trailer_verify` once per kind. Then the check-ins as the exports worker writes them
(`care.exports.services.export_job_run`: patients in batches, progress recorded between
them, the file written to disk and synced), its file checked the same way and removed.
"""

import argparse
import statistics
import time

from benchmarks.common import WARMUP, django_setup, peak_rss_mb, vacuum, write_result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    django_setup()

    from benchmarks.data import STAFF_EMAIL
    from care.exports.tables import KINDS, csv_trailer_verify, export_csv
    from care.models import Patient, User

    dead_rows = vacuum(["care_exportjob", "care_auditevent"])
    clinic_id = User.objects.get(email=STAFF_EMAIL).staff_membership.clinic_id
    patients = Patient.objects.filter(clinic_id=clinic_id)
    result: dict = {}
    for kind in KINDS:
        body = b"".join(export_csv(kind, patients))
        rows = csv_trailer_verify(body)
        del body
        for _ in range(WARMUP - 1):  # the checked one was the first
            sum(len(piece) for piece in export_csv(kind, patients))
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
    result["checkins_job"] = job_figures(clinic_id, args.repeats)
    result["peak_rss_mb"] = peak_rss_mb()
    result["dead_rows"] = dead_rows
    write_result(args.out, result)


def job_figures(clinic_id: int, repeats: int) -> dict:
    """The check-ins export as a worker's job: median seconds from start to a synced file."""
    import tempfile

    from django.conf import settings
    from django.utils import timezone

    from care.exports.services import export_job_request, export_job_run, export_path
    from care.exports.tables import csv_trailer_verify
    from care.models import ExportJob, User

    user = User.objects.filter(staff_membership__clinic_id=clinic_id).order_by("pk").first()
    seconds, rows, size = [], 0, 0
    with tempfile.TemporaryDirectory() as folder:
        settings.EXPORT_DIR = folder
        for repeat in range(repeats):
            job, _new = export_job_request(
                clinic=user.staff_membership.clinic, user=user, kind="checkins", now=timezone.now()
            )
            started = time.perf_counter()
            export_job_run(job_id=job.pk)
            seconds.append(time.perf_counter() - started)
            job = ExportJob.objects.get(pk=job.pk)
            path = export_path(job)
            if repeat == 0:
                rows = csv_trailer_verify(path.read_bytes())
                assert rows == job.row_count, "the job's count is not the file's"
            size = path.stat().st_size
            path.unlink()
            ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.DOWNLOADED)
    best = statistics.median(seconds)
    print(f"checkins as a job: {rows:,} rows, {size / 1e6:.0f} MB in {best:.2f} s "
          f"({rows / best:,.0f} rows/s)", flush=True)  # fmt: skip
    return {"rows": rows, "bytes": size, "seconds": best, "rows_per_second": rows / best}


if __name__ == "__main__":
    main()
