"""Phase: sending reminder e-mails in one process, against a bare smtplib loop (the floor).

    DATABASE_URL=... python -m benchmarks.sending OUT.json [--emails 2000] [--repeats 3]

Runs on a dispatch data set (benchmarks/data.py). A local SMTP sink runs in a process of its
own (benchmarks/smtp_sink.py) and EMAIL_URL points at it for this phase only. The phase
makes N pending check-in reminders (delivery rows of its own, for patients who have not
checked in on that day, as the dispatcher makes them at DISPATCH_NOW), then measures, in
rounds that alternate:

- **chunks**: `deliveries_send` (the body of the `send_deliveries` task) over the ids,
  DELIVERY_SEND_CHUNK (200) to a call as the dispatcher publishes them: each row claimed,
  read, checked, its e-mail built and sent, the row marked sent; one SMTP connection a chunk;
- **floor**: the same number of e-mails of the same size (a real reminder's bytes, each to
  its row's address) sent by `smtplib.SMTP.sendmail` in a loop over one connection a chunk
  to the same sink: what this process and this sink do with no database and no building;
- **a connection each**: `delivery_send` for ids of their own, a quarter as many, each alone
  (the `send_delivery` task, and every chunk before the connection was shared).

Each round goes block by block (a chunk, the floor on as many, then the ones alone), so that
the machine's drift hits the three alike. E-mails per second of each (the median round) and
the sender's CPU time per e-mail; the sink counts every e-mail and connection, checked. The
rows go back to pending between rounds and are deleted at the end; the delivery table is
vacuumed first (its dead rows found then are recorded).
"""

import argparse
import email.policy
import math
import os
import smtplib
import statistics
import subprocess
import sys
import time
from datetime import timedelta

from benchmarks.common import ROOT, WARMUP, django_setup, peak_rss_mb, vacuum, write_result

# Beside each chunk, a quarter as many e-mails are sent alone (a connection each: slower).
PER_EMAIL_SHARE = 4


class Sink:
    """The SMTP sink process (benchmarks/smtp_sink.py)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.smtp_sink"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self.process.stdout.readline())

    def stats(self) -> tuple[int, int, int]:
        """E-mails, bytes and connections so far."""
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        emails, size, connections = self.process.stdout.readline().split()
        return int(emails), int(size), int(connections)

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sink = Sink()
    try:
        # The mailer is the app's own, built from EMAIL_URL by the settings (the benchmark's
        # environment says dummymail:// for every other phase).
        os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{sink.port}"
        django_setup()
        result = measure(sink, emails=args.emails, repeats=args.repeats)
    finally:
        sink.stop()
    write_result(args.out, result)


def measure(sink: Sink, *, emails: int, repeats: int) -> dict:
    from django.conf import settings

    from benchmarks.data import DISPATCH_NOW
    from notifications.kinds import kind_of
    from notifications.models import Delivery
    from notifications.sending import deliveries_send, delivery_send
    from notifications.tasks import CHUNK_BUDGET

    assert settings.MAILERS["default"]["BACKEND"].endswith("smtp.EmailBackend")
    chunk = settings.DELIVERY_SEND_CHUNK
    alone = chunk // PER_EMAIL_SHARE  # sent alone beside each chunk
    blocks = math.ceil(emails / chunk)
    ids = make_reminders(emails + blocks * alone)
    try:
        chunked, single = ids[:emails], ids[emails:]
        sample = Delivery.objects.select_related("patient__user", "patient__clinic").get(id=ids[0])
        wire = kind_of(sample).build(sample).message(policy=email.policy.SMTP).as_bytes()
        sender = settings.DEFAULT_FROM_EMAIL
        address_of = dict(Delivery.objects.filter(id__in=ids).values_list("id", "to_email"))

        def chunks(batch: list[int]) -> None:
            outcome = deliveries_send(delivery_ids=batch, now=DISPATCH_NOW, budget=CHUNK_BUDGET)
            if outcome != {"sent": len(batch)}:
                raise SystemExit(f"A chunk did not send every e-mail: {dict(outcome)}")

        def per_email(batch: list[int]) -> None:
            for delivery_id in batch:
                status = delivery_send(delivery_id=delivery_id, now=DISPATCH_NOW)
                if status != Delivery.Status.SENT:
                    raise SystemExit(f"A delivery ended {status}, not sent")

        def floor(batch: list[int]) -> None:
            smtp = smtplib.SMTP("127.0.0.1", sink.port)
            for delivery_id in batch:
                smtp.sendmail(sender, [address_of[delivery_id]], wire)
            smtp.quit()

        def reset() -> None:
            Delivery.objects.filter(id__in=ids).update(
                status=Delivery.Status.PENDING,
                attempts=0,
                sent_at=None,
                lease_until=None,
                next_attempt_at=None,
            )

        ways = {"chunks": chunks, "per_email": per_email, "floor": floor}

        def one_round() -> dict[str, list[float]]:
            """Seconds, CPU seconds, e-mails and connections of each way: a chunk, the same
            ids by the floor, then a quarter as many alone, block after block, so that the
            machine's drift hits all three alike."""
            totals = {name: [0.0, 0.0, 0, 0] for name in ways}
            for block in range(blocks):
                batch = chunked[block * chunk : (block + 1) * chunk]
                batches = {
                    "chunks": batch,
                    "floor": batch,
                    "per_email": single[block * alone : (block + 1) * alone],
                }
                for name, run in ways.items():
                    before = sink.stats()
                    cpu, started = time.process_time(), time.perf_counter()
                    run(batches[name])
                    seconds = time.perf_counter() - started
                    cpu = time.process_time() - cpu
                    after = sink.stats()
                    received = after[0] - before[0]
                    if received != len(batches[name]):
                        raise SystemExit(f"{name}: the sink got {received} of {len(batches[name])}")
                    total = totals[name]
                    total[0] += seconds
                    total[1] += cpu
                    total[2] += received
                    total[3] += after[2] - before[2]
            reset()
            return totals

        # Warm-up: each way on a few rows, WARMUP times.
        for _ in range(WARMUP):
            for name, run in ways.items():
                run((single if name == "per_email" else chunked)[:20])
            reset()
        # After the warm-up and its resets: the measured rounds start vacuumed.
        dead_rows = vacuum(["notifications_delivery"])
        rounds = [one_round() for _ in range(repeats)]
        per_second = {
            name: statistics.median(r[name][2] / r[name][0] for r in rounds) for name in ways
        }
        cpu_ms = {
            name: statistics.median(1000 * r[name][1] / r[name][2] for r in rounds) for name in ways
        }
        print(
            f"chunks {per_second['chunks']:,.0f}/s, a connection each "
            f"{per_second['per_email']:,.0f}/s, floor {per_second['floor']:,.0f}/s",
            flush=True,
        )
        return {
            "emails": len(chunked),
            "per_email_emails": rounds[0]["per_email"][2],
            "email_bytes": len(wire),
            "chunk": chunk,
            "per_second": per_second,
            "cpu_ms_per_email": cpu_ms,
            "samples": {name: [r[name][2] / r[name][0] for r in rounds] for name in ways},
            "connections": {name: rounds[0][name][3] for name in ways},
            "repeats": repeats,
            "dead_rows": dead_rows,
            "peak_rss_mb": peak_rss_mb(),
        }
    finally:
        Delivery.objects.filter(id__in=ids).delete()


def make_reminders(count: int) -> list[int]:
    """`count` pending check-in reminders at DISPATCH_NOW for patients who have not checked
    in that day (the dispatcher's rows: kind, subject key, due time, day, address)."""
    from benchmarks.data import DISPATCH_NOW
    from care.domain.clock import local_date
    from care.models import Patient
    from notifications.models import Delivery

    # Every zone of the data set is on the same local day at DISPATCH_NOW (the evening).
    day = local_date(DISPATCH_NOW, "America/New_York")
    patients = list(
        Patient.objects.exclude(checkins__local_date=day)
        .select_related("user")
        .order_by("id")[:count]
    )
    if len(patients) < count:
        raise SystemExit(f"{len(patients)} patients have not checked in that day; {count} asked")
    Delivery.objects.filter(kind=Delivery.Kind.CHECKIN, day=day).delete()  # a run cut short
    due = DISPATCH_NOW - timedelta(minutes=30)
    rows = Delivery.objects.bulk_create(
        Delivery(
            kind=Delivery.Kind.CHECKIN,
            subject_key=f"patient:{patient.pk}:{day}",
            due_at=due,
            patient=patient,
            day=day,
            to_email=patient.user.email,
        )
        for patient in patients
    )
    return [row.pk for row in rows]


if __name__ == "__main__":
    main()
