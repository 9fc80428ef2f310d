"""Whole-clinic exports as worker jobs: asked for on a page, written by a worker, downloaded once.

A whole clinic's records can take longer to write than a web request may last (1.5 million
check-ins take seconds today, minutes at ten times the clinic), so the file is written by a
Celery worker (`care.run_export`) into `EXPORT_DIR`, with its progress on the job's row, and
the person who asked downloads it when it is ready. The file is the one the direct export
writes, byte for byte, trailer included (`care.exports.tables`): the rows are written patient by
patient in batches (one snapshot per batch), so progress can be recorded between them.

Removal: after its one complete download, or `EXPORT_KEEP_HOURS` after it was written
(`export_jobs_sweep`, every minute), whichever comes first; every request, download and
removal is in the audit trail. A worker lost while writing (killed, its machine gone) stops
moving the job's heartbeat: the sweeper hands the job to another worker (at most
`MAX_ATTEMPTS` in all), and it re-publishes a job whose message the broker lost.
"""

import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from care.audit.services import audit_record
from care.common import taskqueue
from care.common.access import AuthenticatedHttpRequest
from care.exports.tables import export_lines, with_trailer
from care.models import (
    Assessment,
    AuditEvent,
    CheckIn,
    Clinic,
    ExportJob,
    Patient,
    TreatmentSession,
    User,
)

logger = logging.getLogger(__name__)

# Patients per COPY statement: progress is recorded between batches (about 80,000 check-ins
# each for a year of daily check-ins).
BATCH_PATIENTS = 250
# A running job whose heartbeat is older than this lost its worker.
LOST_AFTER = timedelta(minutes=5)
# A queued job no worker took within this is published again (the broker may have lost it).
REPUBLISH_AFTER = timedelta(minutes=2)
MAX_ATTEMPTS = 3
# Leftover files (a part file of a crashed worker) older than this are removed.
STRAY_AFTER = timedelta(hours=1)

# Keyed by str: `job.kind` reads back from the database as a plain string.
RECORDS: dict[str, type[CheckIn] | type[Assessment] | type[TreatmentSession]] = {
    ExportJob.Kind.CHECKINS: CheckIn,
    ExportJob.Kind.ASSESSMENTS: Assessment,
    ExportJob.Kind.SESSIONS: TreatmentSession,
}
# Each kind's records as the audit trail names them.
AUDIT_WHAT: dict[str, str] = {
    ExportJob.Kind.CHECKINS: AuditEvent.What.CHECKIN,
    ExportJob.Kind.ASSESSMENTS: AuditEvent.What.ASSESSMENT,
    ExportJob.Kind.SESSIONS: AuditEvent.What.SESSION,
}


def export_dir() -> Path:
    """The folder of export files (made on first use, readable by the app's user only)."""
    folder = Path(settings.EXPORT_DIR)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def export_path(job: ExportJob) -> Path:
    return export_dir() / job.file_name


def _part_path(job: ExportJob) -> Path:
    return export_dir() / f"{job.file_name}.part"


def _enqueue_export(job_id: int) -> None:
    try:
        taskqueue.enqueue("care.run_export", job_id)
    except BrokerError:
        # The job is saved as queued; the sweeper publishes it again once the broker is back.
        logger.warning("Broker unavailable; export job %s stays queued", job_id)


def export_job_request(
    *, clinic: Clinic, user: User, kind: str, now: datetime
) -> tuple[ExportJob, bool]:
    """A whole-clinic export of one record kind for `user`, and whether it is new.

    Asking again while the same person's export of that kind is unfinished returns that
    one: one click or ten make one file.
    """
    pending = ExportJob.objects.filter(requested_by=user, kind=kind, status__in=ExportJob.PENDING)
    existing = pending.first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            job = ExportJob.objects.create(
                public_id=uuid.uuid4(),
                clinic=clinic,
                requested_by=user,
                kind=kind,
                created_at=now,
            )
            audit_record(
                action=AuditEvent.Action.CREATED,
                what=AuditEvent.What.EXPORT_FILE,
                clinic_id=clinic.pk,
                object_id=job.public_id,
                now=now,
            )
            transaction.on_commit(lambda: _enqueue_export(job.pk))
    except IntegrityError:
        # Asked twice at the same moment: the other request made it.
        return pending.get(), False
    return job, True


def _batched_lines(job: ExportJob, progress: Callable[[int], None]) -> Iterator[bytes]:
    """The header, then the rows of the job's clinic, `BATCH_PATIENTS` patients a statement.

    In the order of the direct export (patient, then time): batches go up in patient id.
    `progress(rows)` is called after each batch, when no statement is running.
    """
    patients = Patient.objects.filter(clinic_id=job.clinic_id)
    ids = list(patients.order_by("pk").values_list("pk", flat=True))
    rows = 0
    starts = range(0, len(ids), BATCH_PATIENTS) if ids else [None]
    for number, start in enumerate(starts):
        if start is None:
            batch = patients  # none at all (an empty IN cannot be compiled for COPY)
        else:
            last = ids[min(start + BATCH_PATIENTS, len(ids)) - 1]
            batch = patients.filter(pk__gte=ids[start], pk__lte=last)
        lines = export_lines(job.kind, batch)
        header = next(lines)
        if number == 0:
            yield header
        for line in lines:
            rows += 1
            yield line
        progress(rows)


def export_job_run(
    *, job_id: int, clock: Callable[[], datetime] = timezone.now
) -> ExportJob | None:
    """Write the job's file (a worker's task). None if the job was not waiting for a worker.

    The file is written as `<id>.csv.part` (mode 0600) and renamed when whole, so a file
    named `<id>.csv` is always complete. A failure removes the part file and marks the job
    failed with a reason for staff; the time limit ends a run as a failure too.
    """
    now = clock()
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        rows_done=0,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    job = ExportJob.objects.get(pk=job_id)
    records = RECORDS[job.kind].objects.filter(patient__clinic_id=job.clinic_id)
    ExportJob.objects.filter(pk=job.pk).update(rows_total=records.count())
    part = _part_path(job)

    rows = 0

    def progress(rows_done: int) -> None:
        nonlocal rows
        rows = rows_done
        ExportJob.objects.filter(pk=job.pk).update(rows_done=rows_done, heartbeat_at=clock())

    try:
        size = 0
        descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            digest = hashlib.sha256()
            for piece in with_trailer(_batched_lines(job, progress)):
                out.write(piece)
                digest.update(piece)
                size += len(piece)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, export_path(job))
    except SoftTimeLimitExceeded:
        _failed(job, part, "It took longer than the time limit. Ask an administrator.", clock)
        return None
    except OSError as error:
        reason = (
            "The server ran out of disk space." if error.errno == 28 else "It could not be saved."
        )
        _failed(job, part, reason, clock)
        return None
    except Exception as error:
        _failed(job, part, "It stopped with an error. Start it again.", clock, error=error)
        return None
    finished = clock()
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.READY,
        rows_done=rows,
        row_count=rows,
        size_bytes=size,
        sha256=digest.hexdigest(),
        heartbeat_at=finished,
        finished_at=finished,
        expires_at=finished + timedelta(hours=settings.EXPORT_KEEP_HOURS),
    )
    job.refresh_from_db()
    return job


def _failed(
    job: ExportJob,
    part: Path,
    reason: str,
    clock: Callable[[], datetime],
    *,
    error: Exception | None = None,
) -> None:
    """Remove what was written and mark the job failed (the log names the error's class only:
    a database error's text may hold a row)."""
    part.unlink(missing_ok=True)
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.FAILED, error=reason, finished_at=clock()
    )
    logger.warning("Export job %s failed: %s", job.pk, type(error).__name__ if error else reason)


def export_download_started(*, job: ExportJob, request: HttpRequest) -> None:
    """Record that the job's file is being sent to the person who asked for it."""
    audit_record(
        request=request,
        action=AuditEvent.Action.EXPORTED,
        what=AUDIT_WHAT[job.kind],
        clinic_id=job.clinic_id,
        object_id=job.public_id,
    )


def _remove(
    job: ExportJob, *, status: str, now: datetime, request: AuthenticatedHttpRequest | None
) -> bool:
    """Delete the job's file and record it; False if another process did it first."""
    changed = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.READY).update(
        status=status, removed_at=now
    )
    export_path(job).unlink(missing_ok=True)
    if changed:
        audit_record(
            action=AuditEvent.Action.REMOVED,
            what=AuditEvent.What.EXPORT_FILE,
            clinic_id=job.clinic_id,
            object_id=job.public_id,
            actor=request.user if request is not None else None,
            request=request,
            now=now,
        )
    return bool(changed)


def export_download_finished(
    *, job: ExportJob, request: AuthenticatedHttpRequest, now: datetime
) -> None:
    """The whole file went out: remove it (a download cut short leaves it, to try again)."""
    _remove(job, status=ExportJob.Status.DOWNLOADED, now=now, request=request)


def export_jobs_sweep(*, now: datetime) -> dict[str, int]:
    """Remove expired files, hand lost jobs on, publish forgotten ones, delete stray files.

    Returns how many of each it did (for the log and tests).
    """
    done = {"expired": 0, "handed_on": 0, "failed": 0, "republished": 0, "stray": 0}
    expired = ExportJob.objects.filter(status=ExportJob.Status.READY, expires_at__lte=now)
    for job in expired:
        done["expired"] += _remove(job, status=ExportJob.Status.EXPIRED, now=now, request=None)
    lost = ExportJob.objects.filter(
        status=ExportJob.Status.RUNNING, heartbeat_at__lt=now - LOST_AFTER
    )
    for job in lost:
        _part_path(job).unlink(missing_ok=True)
        if job.attempts >= MAX_ATTEMPTS:
            reason = f"The workers writing it stopped {job.attempts} times. Ask an administrator."
            done["failed"] += ExportJob.objects.filter(
                pk=job.pk, status=ExportJob.Status.RUNNING, heartbeat_at=job.heartbeat_at
            ).update(status=ExportJob.Status.FAILED, error=reason, finished_at=now)
            continue
        handed = ExportJob.objects.filter(
            pk=job.pk, status=ExportJob.Status.RUNNING, heartbeat_at=job.heartbeat_at
        ).update(status=ExportJob.Status.QUEUED, created_at=now)
        if handed:
            done["handed_on"] += 1
            _enqueue_export(job.pk)
    forgotten = ExportJob.objects.filter(
        status=ExportJob.Status.QUEUED, created_at__lt=now - REPUBLISH_AFTER
    ).values_list("pk", flat=True)
    for job_id in forgotten:
        done["republished"] += 1
        _enqueue_export(job_id)
    done["stray"] = _remove_stray_files(now)
    return done


def _remove_stray_files(now: datetime) -> int:
    """Files in the export folder that no ready or running job owns, older than STRAY_AFTER."""
    owned = set()
    for public_id in ExportJob.objects.filter(
        status__in=(*ExportJob.PENDING, ExportJob.Status.READY)
    ).values_list("public_id", flat=True):
        owned.update({f"{public_id}.csv", f"{public_id}.csv.part"})
    removed = 0
    cutoff = (now - STRAY_AFTER).timestamp()
    for path in export_dir().iterdir():
        if path.name in owned or not path.is_file():
            continue
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
