"""/health/: database and broker status as 200 / 503, without leaking details."""

import pytest
from django.db.utils import OperationalError

from notifications.models import Heartbeat
from tracker import views as tracker_views
from tracker.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_health_is_200_when_database_and_broker_answer(client):
    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"
    assert response.json()["broker"] == "ok"
    assert "no-store" in response["Cache-Control"]


def test_health_is_503_when_the_broker_is_unreachable(client, monkeypatch):
    # Port 9 (discard) on loopback refuses connections.
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "broker": "unavailable",
        "scheduler": "unknown",
    }
    assert b"Error" not in response.content and b"127.0.0.1" not in response.content


def test_health_is_503_when_the_database_fails(client, monkeypatch):
    class BrokenConnection:
        def cursor(self):
            raise OperationalError("connection refused to db.internal:5432 password=hunter2")

    monkeypatch.setattr(tracker_views, "connection", BrokenConnection())

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    assert b"hunter2" not in response.content and b"5432" not in response.content


def test_health_reports_the_scheduler_from_the_beat_heartbeat(client):
    from django.utils import timezone

    Heartbeat.objects.create(name="beat", beat_at=timezone.now())
    assert client.get("/health/").json()["scheduler"] == "ok"

    Heartbeat.objects.filter(name="beat").update(
        beat_at=timezone.now() - tracker_views.HEARTBEAT_STALE_AFTER
    )
    assert client.get("/health/").json()["scheduler"] == "stale"
