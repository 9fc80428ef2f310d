"""An experiment, not a figure of `./dev bench`: how low could the caseload page go if its
rows cost no reads at all?

    DATABASE_URL=... python -m benchmarks.caseload_bound [--repeats 40]

Signed in as the demo nurse (as `benchmarks.web`), it times the caseload page as it is, the
floor page, and the caseload page with `caseload_rows` replaced by rows made without a
query (fixed moods, scores and badges): and the page's patients read in the same order
but with nothing for their rows: the best a per-patient summary kept in step on write
could do for the rows' reads. What is left is the page's own machinery: counting and
ordering the patients, the audit row, the filter form and rendering 50 rows.
"""

import argparse
import statistics
import time

from benchmarks.common import django_setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    django_setup()

    from django.test import Client
    from django.urls import reverse

    from benchmarks.data import STAFF_EMAIL
    from care.caseload import selectors as caseload
    from care.models import Patient, User

    client = Client()
    client.force_login(User.objects.get(email=STAFF_EMAIL))
    page, floor = reverse("care:patient-list"), reverse("bench-floor-page")

    def median_ms(url: str) -> float:
        client.get(url)
        times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            client.get(url)
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1000

    def free_rows(*, patients, now):
        summary = caseload.ScoreSummary(latest=9, baseline=18, change=-9, response=True)
        return [
            caseload.CaseloadRow(
                patient=p,
                last_checkin_on=p.last_checkin_on,
                days_since_checkin=1,
                mood_avg=5.5,
                mood_direction="up",
                scores={"phq9": summary, "gad7": caseload.ScoreSummary(latest=4)},
                alerts=[],
                next_session_at=p.next_session_at,
            )
            for p in patients
        ]

    class PlainSequence(caseload.CaseloadSequence):
        """The same order and the same patients, read with nothing for their rows."""

        def __getitem__(self, index):
            first = self.attention()
            chosen = first[index.start : index.stop]
            rest = list(
                self.patients.exclude(pk__in=first)
                .order_by("user__full_name", "user_id")
                .values_list("pk", flat=True)[: index.stop - index.start - len(chosen)]
            )
            found = Patient.objects.select_related("user", "primary_clinician").in_bulk(
                [*chosen, *rest]
            )
            page = [found[pk] for pk in [*chosen, *rest]]
            for patient in page:
                patient.last_checkin_on = patient.next_session_at = None
            return page

    as_is, empty = median_ms(page), median_ms(floor)
    real = caseload.caseload_rows, caseload.CaseloadSequence
    # caseload_page looks both up in its module.
    caseload.caseload_rows, caseload.CaseloadSequence = free_rows, PlainSequence
    try:
        without_reads = median_ms(page)
    finally:
        caseload.caseload_rows, caseload.CaseloadSequence = real
    for label, ms in (
        ("floor page", empty),
        ("caseload page", as_is),
        ("caseload page, rows without reads", without_reads),
    ):
        print(f"{label:34s} {ms:6.1f} ms  {ms / empty:5.2f} x floor")


if __name__ == "__main__":
    main()
