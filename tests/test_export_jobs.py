"""Whole-clinic exports as worker jobs: asked for, written, downloaded once, removed on expiry.

The file a job writes must be the direct export's bytes (patients in batches, in the same
order), kept only for its asker, removed after one complete download or at expiry (a cut
download leaves it), every step audited; lost workers and lost messages are caught up.
"""

import hashlib
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from django.urls import reverse

from care.exports import services as export_service
from care.exports.services import (
    LOST_AFTER,
    MAX_ATTEMPTS,
    export_job_request,
    export_job_run,
    export_jobs_sweep,
    export_path,
)
from care.exports.tables import csv_trailer_verify, export_csv
from care.models import AuditEvent, ExportJob, Patient
from tests.factories import PatientFactory, StaffFactory
from tests.test_exports import tricky_records

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)


@pytest.fixture
def ask(django_capture_on_commit_callbacks):
    """Ask for an export on the page as `client`'s user; the new job (its id published)."""

    def asking(client, kind="checkins"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("care:clinic-exports"), {"records": kind})
        assert response.status_code == 302
        return ExportJob.objects.latest("id")

    return asking


def hang_up(response) -> None:
    """Close a streamed response before its end, as the server does when the client goes
    (without the test client's closing of the test's database connection)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connection, "close_if_unusable_or_obsolete", lambda: None)
        response.close()


def download_url(job):
    return reverse("care:clinic-export-download", args=[job.public_id])


def audit(action, what=AuditEvent.What.EXPORT_FILE):
    return list(AuditEvent.objects.filter(action=action, what=what).order_by("id"))


@pytest.mark.parametrize("kind", ["checkins", "assessments", "sessions"])
def test_the_jobs_file_is_the_direct_exports_bytes_written_in_batches(
    clinician_client, clinic, patient, other_patient, enqueued, monkeypatch, kind, ask
):
    """One patient a batch: three statements, one header, the rows in the same order."""
    monkeypatch.setattr(export_service, "BATCH_PATIENTS", 1)
    tricky_records(patient, other_patient)
    PatientFactory(clinic=clinic)  # a patient without records between the others
    expected = b"".join(export_csv(kind, Patient.objects.filter(clinic=clinic)))
    job = ask(clinician_client, kind)
    assert enqueued == [job.pk]  # the worker gets the job's id, nothing else
    assert job.status == ExportJob.Status.QUEUED

    export_job_run(job_id=job.pk)

    job.refresh_from_db()
    path = export_path(job)
    assert path.read_bytes() == expected
    assert job.status == ExportJob.Status.READY
    assert job.row_count == job.rows_done == job.rows_total == csv_trailer_verify(expected)
    assert job.size_bytes == len(expected)
    assert job.sha256 == hashlib.sha256(expected).hexdigest()
    assert job.attempts == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not (path.parent / f"{job.file_name}.part").exists()


def test_a_clinic_without_records_gets_a_header_and_a_zero_trailer(clinician_client, clinic, ask):
    job = ask(clinician_client)
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    data = export_path(job).read_bytes()
    assert data.startswith(b"patient_id,day,")
    assert csv_trailer_verify(data) == 0 == job.row_count


def test_asking_twice_while_unfinished_makes_one_job(clinician_client, enqueued, ask):
    first = ask(clinician_client)
    again = ask(clinician_client)
    assert again == first and enqueued == [first.pk]
    assert ExportJob.objects.count() == 1
    export_job_run(job_id=first.pk)
    # Once finished, asking again makes a new file.
    assert ask(clinician_client) != first


def test_a_second_run_of_the_same_job_does_nothing(clinician_client, patient, other_patient, ask):
    """A redelivered message (acks_late) finds the job taken and writes nothing."""
    tricky_records(patient, other_patient)
    job = ask(clinician_client)
    assert export_job_run(job_id=job.pk) is not None
    assert export_job_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.attempts == 1 and job.status == ExportJob.Status.READY


def test_a_complete_download_removes_the_file_and_is_audited(
    clinician_client, clinician, patient, other_patient, ask
):
    tricky_records(patient, other_patient)
    job = ask(clinician_client)
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    path = export_path(job)

    response = clinician_client.get(download_url(job))

    assert response.status_code == 200
    assert response["Content-Length"] == str(job.size_bytes)
    assert "no-store" in response["Cache-Control"]
    assert 'attachment; filename="clinic-checkins-' in response["Content-Disposition"]
    assert path.exists()  # not before the last byte went out
    body = b"".join(response.streaming_content)
    assert csv_trailer_verify(body) == 3
    assert not path.exists()
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DOWNLOADED and job.removed_at is not None
    (exported,) = audit(AuditEvent.Action.EXPORTED, AuditEvent.What.CHECKIN)
    assert exported.actor == clinician and exported.object_id == str(job.public_id)
    assert exported.patient is None and exported.clinic_id == job.clinic_id
    (removed,) = audit(AuditEvent.Action.REMOVED)
    assert removed.actor == clinician and removed.object_id == str(job.public_id)
    (asked,) = audit(AuditEvent.Action.CREATED)
    assert asked.actor == clinician and asked.object_id == str(job.public_id)

    again = clinician_client.get(download_url(job))
    assert again.status_code == 410
    assert "It was downloaded on" in again.content.decode()


def test_a_download_cut_short_leaves_the_file_to_try_again(
    clinician_client, patient, other_patient, monkeypatch, ask
):
    monkeypatch.setattr("care.exports.views.FILE_PIECE", 16)
    tricky_records(patient, other_patient)
    job = ask(clinician_client)
    export_job_run(job_id=job.pk)
    response = clinician_client.get(download_url(job))
    pieces = iter(response.streaming_content)
    assert next(pieces).startswith(b"patient_id")
    hang_up(response)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.READY and export_path(job).exists()
    assert not audit(AuditEvent.Action.REMOVED)
    whole = b"".join(clinician_client.get(download_url(job)).streaming_content)
    assert csv_trailer_verify(whole) == 3


def test_an_export_file_is_gone_after_expiry(
    clinician_client, patient, other_patient, settings, ask
):
    settings.EXPORT_KEEP_HOURS = 2
    tricky_records(patient, other_patient)
    job = ask(clinician_client)
    export_job_run(job_id=job.pk, clock=lambda: MOMENT)
    job.refresh_from_db()
    path = export_path(job)
    assert job.expires_at == MOMENT + timedelta(hours=2)

    assert export_jobs_sweep(now=MOMENT + timedelta(hours=2) - timedelta(seconds=1))["expired"] == 0
    assert path.exists()
    assert export_jobs_sweep(now=MOMENT + timedelta(hours=2))["expired"] == 1

    assert not path.exists()
    assert list(path.parent.iterdir()) == []
    job.refresh_from_db()
    assert job.status == ExportJob.Status.EXPIRED
    assert job.removed_at == MOMENT + timedelta(hours=2)
    (removed,) = audit(AuditEvent.Action.REMOVED)
    assert removed.actor is None and removed.actor_role == AuditEvent.Role.SYSTEM
    assert removed.channel == AuditEvent.Channel.SYSTEM
    assert removed.clinic_id == job.clinic_id
    response = clinician_client.get(download_url(job))
    assert response.status_code == 410
    assert "when its time was up" in response.content.decode()
    # A later sweep finds nothing more to do.
    assert export_jobs_sweep(now=MOMENT + timedelta(hours=3))["expired"] == 0


def test_only_the_asker_downloads_and_sees_their_exports(
    clinician_client, client, clinic, clinician, foreign_patient, patient, ask
):
    job = ask(clinician_client)
    export_job_run(job_id=job.pk)
    colleague = StaffFactory(clinic=clinic)
    client.force_login(colleague.user, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(download_url(job)).status_code == 404
    assert str(job.public_id) not in client.get(reverse("care:clinic-exports")).content.decode()
    assert client.get(reverse("care:clinic-exports-status")).json() == {"exports": []}
    client.force_login(patient.user, backend="django.contrib.auth.backends.ModelBackend")
    for url in (
        download_url(job),
        reverse("care:clinic-exports"),
        reverse("care:clinic-exports-status"),
    ):
        assert client.get(url).status_code == 404
    assert export_path(job).exists()


def test_the_page_shows_progress_and_the_status_holds_no_records(
    clinician_client, clinician, patient, other_patient, ask
):
    tricky_records(patient, other_patient)
    job = ask(clinician_client)
    page = clinician_client.get(reverse("care:clinic-exports")).content.decode()
    assert "Waiting for a worker" in page and "data-exports-status" in page
    assert '<meta http-equiv="refresh"' in page  # inside <noscript>
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.RUNNING, rows_total=3, rows_done=2, heartbeat_at=MOMENT
    )
    status = clinician_client.get(reverse("care:clinic-exports-status")).json()
    assert status == {
        "exports": [
            {
                "id": str(job.public_id),
                "status": "running",
                "rows_done": 2,
                "rows_total": 3,
                "percent": 66,
            }
        ]
    }
    assert "66% written" in clinician_client.get(reverse("care:clinic-exports")).content.decode()
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.QUEUED)
    export_job_run(job_id=job.pk)
    page = clinician_client.get(reverse("care:clinic-exports")).content.decode()
    assert "Download" in page and "data-exports-status" not in page
    assert clinician_client.get(reverse("care:clinic-exports-status")).json() == {"exports": []}


def test_a_failing_export_leaves_no_file_and_says_so(
    clinician_client, patient, other_patient, monkeypatch, caplog, ask
):
    tricky_records(patient, other_patient)
    written = []

    def broken(kind, patients):
        yield b"patient_id,day\r\n"
        written.append(True)
        raise RuntimeError("note text 'felt awful' from a row")

    monkeypatch.setattr(export_service, "export_lines", broken)
    job = ask(clinician_client)
    assert export_job_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert written and job.status == ExportJob.Status.FAILED
    assert job.error == "It stopped with an error. Start it again."
    assert list(export_path(job).parent.iterdir()) == []
    assert "felt awful" not in caplog.text and "RuntimeError" in caplog.text
    page = clinician_client.get(reverse("care:clinic-exports")).content.decode()
    assert "Failed" in page and "Start it again." in page
    assert clinician_client.get(download_url(job)).status_code == 410


def test_the_time_limit_ends_a_run_as_a_failure(clinician_client, monkeypatch, ask):
    def too_slow(kind, patients):
        raise SoftTimeLimitExceeded()
        yield b""

    monkeypatch.setattr(export_service, "export_lines", too_slow)
    job = ask(clinician_client)
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and "time limit" in job.error


def test_a_lost_worker_s_job_is_handed_on_then_given_up(clinician_client, enqueued, ask):
    job = ask(clinician_client)
    enqueued.clear()
    part = export_path(job).parent / f"{job.file_name}.part"
    for attempt in range(1, MAX_ATTEMPTS + 1):
        # A worker takes it, writes part of it, and is killed: the heartbeat stops.
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.RUNNING, attempts=attempt, heartbeat_at=MOMENT
        )
        part.write_bytes(b"patient_id,day\r\n")
        assert export_jobs_sweep(now=MOMENT + LOST_AFTER)["handed_on"] == 0  # not yet
        done = export_jobs_sweep(now=MOMENT + LOST_AFTER + timedelta(seconds=1))
        assert not part.exists()
        job.refresh_from_db()
        if attempt < MAX_ATTEMPTS:
            assert done["handed_on"] == 1 and job.status == ExportJob.Status.QUEUED
            assert enqueued[-1] == job.pk
        else:
            assert done["failed"] == 1 and job.status == ExportJob.Status.FAILED
            assert "stopped 3 times" in job.error


def test_a_job_the_broker_lost_is_published_again(clinician_client, enqueued, ask):
    job = ask(clinician_client)
    enqueued.clear()
    asked = job.created_at
    assert export_jobs_sweep(now=asked + timedelta(minutes=1))["republished"] == 0
    assert export_jobs_sweep(now=asked + timedelta(minutes=3))["republished"] == 1
    assert enqueued == [job.pk]


def test_stray_files_are_removed_but_not_those_of_live_jobs(clinician_client, settings, ask):
    job = ask(clinician_client)
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    folder = export_path(job).parent
    stray = folder / "0b9d1a36-0000-4000-8000-000000000000.csv.part"
    stray.write_bytes(b"left by a crashed worker")
    an_hour_ago = (datetime.now(tz=UTC) - timedelta(hours=2)).timestamp()
    for path in (stray, export_path(job)):
        os.utime(path, (an_hour_ago, an_hour_ago))
    assert export_jobs_sweep(now=datetime.now(tz=UTC))["stray"] == 1
    assert not stray.exists() and export_path(job).exists()


def test_the_caseload_starts_an_export_in_one_click(clinician_client, patient):
    page = clinician_client.get(reverse("care:patient-list")).content.decode()
    assert f'action="{reverse("care:clinic-exports")}"' in page
    assert 'name="records" value="checkins"' in page
    response = clinician_client.post(
        reverse("care:clinic-exports"), {"records": "sessions"}, follow=True
    )
    assert "The treatment sessions export is being prepared." in response.content.decode()
    assert ExportJob.objects.get().kind == "sessions"


def test_export_request_is_one_job_per_person_and_kind_even_when_asked_at_once(
    clinician, clinic, enqueued
):
    first, new = export_job_request(clinic=clinic, user=clinician, kind="checkins", now=MOMENT)
    assert new
    # A second request that missed the first (the lookup raced it) meets the constraint.
    original = ExportJob.objects.filter

    class Blind:
        def __init__(self, pending):
            self.pending = pending

        def first(self):
            return None

        def get(self):
            return self.pending.get()

    def filter_blind(*args, **kwargs):
        found = original(*args, **kwargs)
        return Blind(found) if "status__in" in kwargs else found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ExportJob.objects, "filter", filter_blind)
        again, new = export_job_request(clinic=clinic, user=clinician, kind="checkins", now=MOMENT)
    assert (again, new) == (first, False)
    assert ExportJob.objects.count() == 1
