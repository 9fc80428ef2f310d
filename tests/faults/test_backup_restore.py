"""The restore drill: a base backup of a running cluster (pg_basebackup) while check-ins
arrive, its WAL archived (archive_command) to an encrypted archive of its own; the data
directory is then destroyed, the backup restored into a new cluster, WAL replayed to a point in
time (restore_command, recovery_target_time), and the app run on it.

PostgreSQL's own tools, on the PostgreSQL 18 that compose, CI and ./dev test run: compose's
backups are pgBackRest's (docs/delivery.md), which takes the same path (a base backup, archived
WAL, recovery to a target), but the machine's pgBackRest (Debian's 2.45) does not support 18.

Prints the recovery time (restore, WAL replay to the target, promotion) and the rows compared.
"""

import contextlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
import requests
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from care.models import AuditEvent, CheckIn
from care.records.services import checkin_submit
from notifications.models import Delivery
from tests.factories import PatientFactory
from tests.faults.harness import ROOT, Backup, Postgres, openssl_bin, wait_until
from tests.faults.helpers import dispatch, due_patient, message_id, status_of, wait_for_status

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]

VALUES = {
    "mood": 6,
    "anxiety": 3,
    "energy": 5,
    "sleep_hours": 7,
    "sleep_quality": 2,
    "side_effects": [],
    "has_self_harm_thoughts": False,
    "note": "",
}
AUDIT_FIELDS = ("id", "at", "actor_id", "action", "what", "patient_id", "object_id", "channel")


@contextlib.contextmanager
def orm_on(postgres: Postgres):
    """This process's ORM on another cluster (the same database name) for a while."""
    settings_dict = connections["default"].settings_dict
    port = settings_dict["PORT"]
    connections["default"].close()
    settings_dict["PORT"] = postgres.port
    try:
        yield
    finally:
        connections["default"].close()
        settings_dict["PORT"] = port


class CheckIns:
    """Check-ins of a few patients, each on a new local day, each committed on its own."""

    def __init__(self, patients):
        self.patients, self.now, self.made = patients, timezone.now(), 0

    def submit(self) -> int:
        patient = self.patients[self.made % len(self.patients)]
        day = self.made // len(self.patients)
        result = checkin_submit(
            patient=patient, values=VALUES, client_id=uuid.uuid4(), now=self.now - timedelta(day)
        )
        self.made += 1
        return result.checkin.id


def server_clock() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0].isoformat(sep=" ")


def in_recovery() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return cursor.fetchone()[0]


def switch_wal() -> str:
    """Close the current WAL segment (so that it is archived) and name it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_walfile_name(pg_switch_wal())")
        return cursor.fetchone()[0]


@pytest.fixture
def drill(fault_servers, stack):
    """Two clusters (the original and the restored one) and the original's backups."""
    if openssl_bin() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("The restore drill needs openssl (apt-get install openssl)")
        pytest.skip("the restore drill needs openssl (apt-get install openssl)")
    root = fault_servers.root / f"drill-{uuid.uuid4().hex[:8]}"
    root.mkdir(mode=0o755)
    original = Postgres(root, fault_servers.postgres.bin, name="original")
    restored = Postgres(root, fault_servers.postgres.bin, name="restored")
    try:
        yield original, restored, Backup(root, original)
    finally:
        stack.stop_all()  # its processes may be on the restored cluster
        for cluster in (restored, original):
            if cluster.data.exists():
                cluster.stop_if_running()
        shutil.rmtree(root, ignore_errors=True)


def test_a_point_in_time_restore_keeps_every_checkin_before_the_target_and_the_audit_trail(
    stack, drill, clinic, capsys
):
    original, restored, backups = drill
    # The stack's cluster (schema, the clinic) copied, archiving its WAL.
    original.init_from(stack.postgres)
    original.configure(
        wal_level="replica", archive_mode="on", archive_command=backups.archive_command
    )
    original.start()

    with orm_on(original):
        checkins = CheckIns([PatientFactory(clinic=clinic) for _ in range(3)])
        # Reminders in flight at the target: one goes out after it, one is still pending,
        # one was claimed by a worker when the disk was lost.
        sent_later, pending, claimed = dispatch(*[due_patient(clinic) for _ in range(3)])
        Delivery.objects.filter(id=claimed.id).update(
            status=Delivery.Status.SENDING, attempts=1, lease_until=timezone.now()
        )

        backup = backups.start_base_backup()
        during = []
        while backup.poll() is None:
            during.append(checkins.submit())
        assert backup.returncode == 0, backup.stdout.read()
        assert during, "no check-in arrived while the backup ran"
        # Encrypted at rest: the base backup and the archived WAL are OpenSSL-style ciphertext.
        assert backups.base.read_bytes()[:8] == b"Salted__"
        segments = sorted(backups.archive.iterdir())
        assert segments and all(f.read_bytes()[:8] == b"Salted__" for f in segments)
        # More for two seconds after the backup ended: these come back only from the archived
        # WAL, replayed over the base backup (a target must also come after a backup's end).
        backup_ended = time.monotonic()
        while time.monotonic() < backup_ended + 2:
            checkins.submit()

        kept = list(CheckIn.objects.order_by("id").values_list("id", "local_date", "version"))
        audit = list(AuditEvent.objects.order_by("id").values_list(*AUDIT_FIELDS))
        target = server_clock()  # everything above is committed before it
        late = [checkins.submit() for _ in range(5)]
        CheckIn.objects.filter(id=kept[0][0]).update(version=99)  # a change after the target
        Delivery.objects.filter(id=sent_later.id).update(
            status=Delivery.Status.SENT, sent_at=timezone.now()
        )
        # The segment holding all of the above closed, and in the archive (pgbackrest check).
        last = switch_wal()
        wait_until(lambda: backups.archived(last), timeout=60, what=f"WAL segment {last} archived")

    # The database disk is lost: the server dies and its data directory is gone.
    original.stop("immediate")
    shutil.rmtree(original.data)
    started = time.monotonic()
    backups.restore(into=restored, target=target)
    restored.start()
    with orm_on(restored):
        wait_until(lambda: not in_recovery(), timeout=60, what="the restored cluster's promotion")
        recovery_seconds = time.monotonic() - started
        # WAL came from the archive and recovery stopped at the target, not at its end.
        log = (restored.home / "log").read_text(errors="replace")
        assert "restored log file" in log and "recovery stopping before commit" in log, log

        restored_checkins = list(
            CheckIn.objects.order_by("id").values_list("id", "local_date", "version")
        )
        assert restored_checkins == kept
        assert not CheckIn.objects.filter(id__in=late).exists()
        assert list(AuditEvent.objects.order_by("id").values_list(*AUDIT_FIELDS)) == audit
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE care_auditevent SET path = path")  # still append-only

        # docs/delivery.md: before the workers start, what was in flight at the
        # target; the one known to have gone out since is set to skipped.
        in_flight = Delivery.objects.filter(
            status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]
        )
        in_flight_ids = set(in_flight.values_list("id", flat=True))
        assert in_flight_ids == {sent_later.id, pending.id, claimed.id}
        Delivery.objects.filter(id=sent_later.id).update(status=Delivery.Status.SKIPPED)

        # The app starts on the restored database, and the sweeper settles the rest.
        url = restored.database_url(connection.settings_dict["NAME"])
        migrations = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--check"],
            cwd=ROOT, env={**stack.env, "DATABASE_URL": url}, capture_output=True, text=True,
        )  # fmt: skip
        assert migrations.returncode == 0, migrations.stdout + migrations.stderr
        _, web = stack.web(DATABASE_URL=url)
        assert requests.get(f"{web}/health/", timeout=5).json()["database"] == "ok"
        stack.worker(DATABASE_URL=url)
        stack.beat(DATABASE_URL=url)
        for delivery in (pending, claimed):
            assert wait_for_status(delivery, "sent", timeout=60).attempts >= 1
        stack.sweeps(1)  # a sweep after both were sent: the skipped one stays unsent
        assert status_of(sent_later) == Delivery.Status.SKIPPED
        assert stack.sink.count(message_id(sent_later)) == 0
        assert [stack.sink.count(message_id(d)) for d in (pending, claimed)] == [1, 1]

    with capsys.disabled():
        print(
            f"\nrestore drill: recovery {recovery_seconds:.1f} s (restore, WAL replay to the"
            f" target, promotion); compared {len(kept)} check-ins ({len(during)} made during"
            f" the backup; {len(late)} after the target absent), {len(audit)} audit rows"
            f" (last id {audit[-1][0]}), 3 deliveries in flight"
        )
