"""Phase: the reminder dispatcher's tick on one dispatch data set, against an SQL floor.

    DATABASE_URL=... REDIS_URL=... python -m benchmarks.dispatch OUT.json [--repeats 5]

The tick is the body of the `dispatch_reminders` beat task at DISPATCH_NOW (it does its
patient batches itself, from one read: the whole work a tick causes). The send messages
it publishes go to the real broker (REDIS_URL) and are purged after each run; the rows it
writes are deleted, so every run starts from the same state. The floor is one hand-written
SQL statement that selects the same due set: the patients whose check-in reminder is due
now, who have not checked in today and have no reminder for today yet.

The benchmark database runs without autovacuum and keeps the dead rows of every run's
deleted deliveries (each one read again by the tick's sweep and anti-joins, and by the
floor), so the tables the tick touches are vacuumed (VACUUM (ANALYZE)) first; the dead rows
found then and left at the start are recorded with the figures. WARMUP ticks and floors
run before the measured ones.
"""

import argparse
import statistics
import time
import tracemalloc
from unittest import mock

from benchmarks.common import WARMUP, django_setup, peak_rss_mb, vacuum, write_result

FLOOR_SQL = """
SELECT p.id
FROM care_patient p
JOIN care_user u ON u.id = p.user_id
JOIN notifications_reminderpreference r ON r.patient_id = p.id
CROSS JOIN LATERAL (SELECT (%(now)s::timestamptz AT TIME ZONE p.tz) AS wall) l
WHERE p.status = 'active' AND u.is_active AND r.email_enabled
  AND l.wall::time >= r.checkin_time
  AND l.wall < l.wall::date + r.checkin_time + interval '3 hours'
  AND NOT EXISTS (
    SELECT 1 FROM care_checkin c WHERE c.patient_id = p.id AND c.local_date = l.wall::date)
  AND NOT EXISTS (
    SELECT 1 FROM notifications_delivery d
    WHERE d.kind = 'checkin_due' AND d.subject_key = 'patient:' || p.id || ':' || l.wall::date)
"""

# The tables the tick writes (and the benchmark deletes from between runs).
TOUCHED = ["notifications_delivery", "notifications_heartbeat", "care_alert"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    django_setup()

    import time_machine
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from benchmarks.data import DISPATCH_NOW
    from care.models import Alert, Patient
    from notifications import tasks
    from notifications.models import Delivery
    from tracker.celery import app

    published = []

    def reset() -> None:
        Delivery.objects.all().delete()
        Alert.objects.filter(created_at__gte=DISPATCH_NOW).delete()
        app.control.purge()

    def tick() -> None:
        with time_machine.travel(DISPATCH_NOW, tick=True):
            tasks.dispatch_reminders.run()

    def floor() -> list:
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, {"now": DISPATCH_NOW})
            return cursor.fetchall()

    real_publish = app.amqp.send_task_message

    def counting_publish(*publish_args, **publish_kwargs):
        published.append(publish_args[1] if len(publish_args) > 1 else "?")
        return real_publish(*publish_args, **publish_kwargs)

    reset()
    ticks, floors, statements, messages = [], [], [], []
    with mock.patch.object(app.amqp, "send_task_message", counting_publish):
        for _ in range(WARMUP):
            floor()
            tick()
            reset()
        # After the warm-up, whose rows are deleted: the measured ticks start vacuumed.
        dead_rows = vacuum(TOUCHED)
        due = len(floor())
        for _ in range(args.repeats):
            started = time.perf_counter()
            floor()
            floors.append(time.perf_counter() - started)
            published.clear()
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                tick()
                ticks.append(time.perf_counter() - started)
            statements.append(len(captured))
            messages.append(len(published))
            created = Delivery.objects.filter(kind=Delivery.Kind.CHECKIN).count()
            if created != due:
                raise SystemExit(f"The tick made {created} check-in reminders; {due} are due")
            reset()
        # Python's own allocations during one more tick (tracemalloc slows it: not timed).
        tracemalloc.start()
        tick()
        traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        reset()
    write_result(
        args.out,
        {
            "patients": Patient.objects.count(),
            "due": due,
            "seconds": {"tick": statistics.median(ticks), "floor": statistics.median(floors)},
            "statements": max(statements),
            "messages": max(messages),
            "traced_peak_mb": traced_peak,
            "peak_rss_mb": peak_rss_mb(),
            "repeats": args.repeats,
            "dead_rows": dead_rows,
        },
    )


if __name__ == "__main__":
    main()
