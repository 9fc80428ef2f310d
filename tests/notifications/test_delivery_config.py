"""Configuration the delivery guarantee rests on (docs/delivery.md): time limits
below the claim and the broker's visibility timeout, ids-only task arguments, no ETA or
countdown for reminder timing."""

import inspect
import re
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
import time_machine
from celery.app.task import Task
from django.conf import settings

from care.common import taskqueue
from notifications.models import Delivery, ReminderPreference
from notifications.sending import LEASE, deliveries_sweep
from notifications.tasks import dispatch_reminders, send_deliveries, send_delivery
from tests.factories import PatientFactory
from tracker.celery import app as celery_app

# Loading the task modules as a worker does runs Django's checks, which read the database.
pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
# Tasks that may run twice for one message (acks_late), each harmless to repeat: a delivery
# is claimed by its row; a second invitation e-mail replaces the first one's link; an export
# job is claimed by its row (a second message for it finds it taken and does nothing).
IDEMPOTENT = {
    "notifications.send_delivery",
    "notifications.send_deliveries",
    "care.send_invitation",
    "care.run_export",
}


def _project_tasks() -> dict[str, Task]:
    celery_app.loader.import_default_modules()
    return {
        name: task
        for name, task in celery_app.tasks.items()
        if name.startswith(("care.", "notifications."))
    }


def test_every_task_ends_before_redis_would_give_its_message_to_another_worker():
    visibility = settings.BROKER_VISIBILITY_TIMEOUT
    if settings.REDIS_URL:
        assert celery_app.conf.broker_transport_options["visibility_timeout"] == visibility

    for name, task in _project_tasks().items():
        hard = task.time_limit or celery_app.conf.task_time_limit
        soft = task.soft_time_limit or celery_app.conf.task_soft_time_limit
        assert 0 < soft < hard < visibility, name
        if getattr(task, "autoretry_for", ()) and task.retry_backoff:
            # A retry's countdown waits unacknowledged in the worker: it must end sooner too.
            assert task.retry_backoff_max < visibility, name


def test_a_delivery_claim_outlives_the_longest_send():
    assert send_delivery.time_limit < LEASE.total_seconds()
    assert send_deliveries.time_limit < LEASE.total_seconds()  # a chunk: every send within it


def test_only_idempotent_tasks_acknowledge_late():
    late = {name for name, task in _project_tasks().items() if task.acks_late}

    assert late <= IDEMPOTENT
    assert send_delivery.acks_late and send_delivery.reject_on_worker_lost
    assert send_deliveries.acks_late and send_deliveries.reject_on_worker_lost


def test_task_arguments_are_ids_and_plain_values_only():
    for name, task in _project_tasks().items():
        for parameter in inspect.signature(task.run).parameters.values():
            assert parameter.annotation in (int, str, list[int]), (name, parameter)


@pytest.mark.real_enqueue  # the signature of the real publisher, not the tests' recorder
def test_no_eta_or_countdown_times_a_reminder():
    """Reminder times live in the database (Delivery.due_at, next_attempt_at); a message
    scheduled for later would wait unacknowledged and could outlast the visibility timeout.
    Everything is published through care.common.taskqueue.enqueue, which takes no timing."""
    pattern = re.compile(r"\b(eta|countdown)\s*=|\.retry\(|apply_async\(|\.delay\(")
    publisher = ROOT / "care" / "common" / "taskqueue.py"
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("care", "notifications", "tracker")
        for path in (ROOT / package).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line) and path != publisher
    ]
    assert offenders == []
    assert [
        line.strip() for line in publisher.read_text().splitlines() if "apply_async(" in line
    ] == ["task.apply_async(args=args, argsrepr=argsrepr)"]
    assert list(inspect.signature(taskqueue.enqueue).parameters) == ["name", "args", "argsrepr"]


@pytest.fixture
def published(monkeypatch) -> list:
    """The tasks published (name, args, kwargs, options), instead of going to a broker."""
    calls = []

    def publish(self, args=None, kwargs=None, **options):
        calls.append((self.name, args, kwargs, options))

    monkeypatch.setattr(Task, "apply_async", publish)
    return calls


@pytest.mark.real_enqueue
def test_the_dispatcher_publishes_ids_without_eta_or_countdown(
    clinic, published, django_capture_on_commit_callbacks
):
    patient = PatientFactory(clinic=clinic, tz="UTC")
    ReminderPreference.objects.create(patient=patient, checkin_time=time(9, 0))
    with (
        time_machine.travel(datetime(2026, 5, 4, 9, 1, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        dispatch_reminders()

    names = [name for name, *_ in published]
    assert names == ["notifications.send_delivery"]  # the tick does its batches itself
    for _, args, kwargs, options in published:
        assert _ids_and_plain_values(args) and not kwargs
        assert not {"eta", "countdown"} & set(options)
    assert list(published[0][1]) == [patient.deliveries.get().id]


@pytest.mark.real_enqueue
def test_the_dispatcher_publishes_the_sends_in_chunks_of_ids(
    clinic, published, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_SEND_CHUNK = 2
    for _ in range(3):
        patient = PatientFactory(clinic=clinic, tz="UTC")
        ReminderPreference.objects.create(patient=patient, checkin_time=time(9, 0))
    with (
        time_machine.travel(datetime(2026, 5, 4, 9, 1, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        dispatch_reminders()

    ids = sorted(Delivery.objects.values_list("id", flat=True))
    assert [(name, list(args)) for name, args, *_ in published] == [
        ("notifications.send_deliveries", [ids[:2]]),  # one message for two e-mails
        ("notifications.send_delivery", [ids[2]]),  # one alone keeps the single send
    ]
    for _, args, kwargs, options in published:
        assert _ids_and_plain_values(args) and not kwargs
        assert not {"eta", "countdown"} & set(options)


def _ids_and_plain_values(args) -> bool:
    """Ints, strings, or lists of ints (ids)."""
    return all(
        type(arg) in (int, str) or (type(arg) is list and all(type(i) is int for i in arg))
        for arg in args
    )


@pytest.mark.real_enqueue
def test_the_sweeper_publishes_the_stuck_sends_in_chunks_of_ids(clinic, published, settings):
    settings.DELIVERY_SEND_CHUNK = 2
    made = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    patient = PatientFactory(clinic=clinic, tz="UTC")
    for day in range(3):
        Delivery.objects.create(
            kind=Delivery.Kind.CHECKIN,
            subject_key=f"patient:{patient.pk}:2026-05-0{day + 1}",
            due_at=made,
            to_email=patient.user.email,
            patient=patient,
        )
    Delivery.objects.update(created_at=made)  # made a while ago, never sent
    assert deliveries_sweep() == 3

    ids = sorted(Delivery.objects.values_list("id", flat=True))
    assert [(name, list(args)) for name, args, *_ in published] == [
        ("notifications.send_deliveries", [ids[:2]]),
        ("notifications.send_delivery", [ids[2]]),
    ]
