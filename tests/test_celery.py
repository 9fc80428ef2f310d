"""Celery wiring, and one real task through the real broker to a real worker process."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from notifications.models import Heartbeat
from tracker.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"


def test_every_beat_entry_names_a_registered_task(db):  # the worker start-up runs checks
    celery_app.loader.import_default_modules()

    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in celery_app.tasks


def test_autodiscovery_finds_the_app_tasks(db):
    celery_app.loader.import_default_modules()

    assert {"notifications.record_heartbeat", "care.send_invitation"} <= set(celery_app.tasks)


def test_celery_speaks_json_only_and_has_time_limits():
    conf = celery_app.conf

    assert conf.accept_content == ["json"]
    assert conf.task_serializer == conf.result_serializer == "json"
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    if settings.REDIS_URL:
        assert conf.task_time_limit < conf.broker_transport_options["visibility_timeout"]


def test_beat_schedule_runs_the_heartbeat_every_minute():
    schedule = settings.CELERY_BEAT_SCHEDULE["record-heartbeat"]["schedule"]

    assert schedule.minute == set(range(60))


def _database_url_for_subprocess() -> str:
    """The URL of the database this test uses (pytest-django's test database)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _require_broker() -> None:
    if IN_CI and not settings.REDIS_URL:
        pytest.fail("CI must run the real-worker test against Redis: set REDIS_URL")
    if not settings.REDIS_URL:
        return  # the embedded file-system broker needs no server
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"Redis at REDIS_URL is not reachable in CI: {exc}")
        pytest.skip(f"no Redis reachable at REDIS_URL ({type(exc).__name__})")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_sent_through_the_real_broker():
    _require_broker()
    # A queue of its own, so that no other worker on this machine takes the message.
    queue = f"test-{uuid.uuid4().hex[:12]}"
    name = f"it-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _database_url_for_subprocess()}
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "tracker", "worker",
            "--pool", "solo", "--queues", queue, "--hostname", f"{queue}@%h",
            "--without-mingle", "--without-gossip", "--loglevel", "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        celery_app.send_task("notifications.record_heartbeat", args=[name], queue=queue)
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and worker.poll() is None:
            if Heartbeat.objects.filter(name=name).exists():
                break
            time.sleep(0.25)
        assert worker.poll() is None, "the worker exited early"
        assert Heartbeat.objects.filter(name=name).exists(), "the worker did not run the task"
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            output, _ = worker.communicate()
    assert "succeeded" in output
