"""A booked session whose day is over with no record is listed on the Sessions page as "needs
recording", oldest first, until it is recorded or marked cancelled / a no-show; today's stay
with the coming sessions (never in both lists)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from care.models import AuditEvent, TreatmentSession
from care.treatment.selectors import clinic_sessions_needing_record, clinic_upcoming_sessions

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # Wed 10:00 in New York (the clinic's zone)
TODAY_START = datetime(2026, 3, 4, 5, 0, tzinfo=UTC)  # midnight in New York


def booked(patient, when, status=TreatmentSession.Status.SCHEDULED):
    return TreatmentSession.objects.create(
        patient=patient, scheduled_at=when, route="iv", status=status
    )


@pytest.mark.django_db
def test_sessions_still_booked_after_their_day_need_recording_oldest_first(patient, clinic):
    assert clinic.tz == "America/New_York"
    yesterday_late = booked(patient, TODAY_START - timedelta(minutes=1))  # 23:59 yesterday
    last_week = booked(patient, NOW - timedelta(days=7))
    today_early = booked(patient, TODAY_START)  # 00:00 today: today's, not overdue
    later_today = booked(patient, NOW + timedelta(hours=3))
    for status in ("completed", "cancelled", "no_show"):
        booked(patient, NOW - timedelta(days=2), status=status)

    needing = list(clinic_sessions_needing_record(clinic=clinic, now=NOW))
    upcoming = list(clinic_upcoming_sessions(clinic=clinic, now=NOW))

    assert needing == [last_week, yesterday_late]
    assert upcoming == [today_early, later_today]


@pytest.mark.django_db
def test_another_clinics_unrecorded_sessions_are_not_listed(clinic, foreign_patient):
    booked(foreign_patient, NOW - timedelta(days=3))

    assert not clinic_sessions_needing_record(clinic=clinic, now=NOW).exists()


@pytest.mark.django_db
def test_the_sessions_page_shows_needs_recording_until_marked(clinician_client, patient):
    session = booked(patient, timezone.now() - timedelta(days=3))
    url = reverse("care:session-list")

    response = clinician_client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert list(response.context["needs_recording"]) == [session]
    assert "needs recording" in html
    assert reverse("care:session-record", args=[session.pk]) in html
    assert reverse("care:session-edit", args=[session.pk]) in html
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEWED, what=AuditEvent.What.SESSION
    ).exists()

    clinician_client.post(reverse("care:session-cancel", args=[session.pk]), {"status": "no_show"})

    response = clinician_client.get(url)
    assert list(response.context["needs_recording"]) == []
    assert "needs recording" not in response.content.decode()
