"""End to end: a due reminder goes through the real broker to a real worker process and a
real SMTP server on loopback, once, and its row ends `sent`."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import time as clock_time

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.tasks import send_delivery
from tests.factories import PatientFactory
from tests.test_celery import ROOT, _database_url_for_subprocess, _require_broker

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.messages.append(envelope.content.decode("utf8", errors="replace"))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_reminder_reaches_a_real_smtp_server_once(clinic, enqueued):
    _require_broker()
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    queue = f"e2e-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_subprocess(),
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "SITE_URL": "http://tracker.test",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tracker",
            "worker",
            "--pool",
            "solo",
            "--queues",
            queue,
            "--hostname",
            f"{queue}@%h",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        patient = PatientFactory(clinic=clinic, tz="UTC", preferred_name="Robin")
        now = timezone.now()
        ReminderPreference.objects.create(
            patient=patient,
            checkin_time=clock_time(now.hour, now.minute),
            quiet_start=clock_time(0),
            quiet_end=clock_time(0),
        )
        checkin_reminders_dispatch(now=now)
        [delivery_id] = enqueued  # what the dispatcher enqueued after its commit
        # The same id twice, as a redelivered message would be: one e-mail.
        send_delivery.apply_async(args=[delivery_id], queue=queue)
        send_delivery.apply_async(args=[delivery_id], queue=queue)
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and worker.poll() is None:
            if Delivery.objects.filter(id=delivery_id, status="sent").exists() and sink.messages:
                break
            time.sleep(0.25)
        time.sleep(2)  # let the second message be handled too
        delivery = Delivery.objects.get(id=delivery_id)
        assert worker.poll() is None, "the worker exited early"
        assert delivery.status == "sent" and delivery.attempts == 1
        assert len(sink.messages) == 1
        assert "Subject: You have a check-in waiting" in sink.messages[0]
        assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in sink.messages[0]
    finally:
        controller.stop()
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.communicate()
