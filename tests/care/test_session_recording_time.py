"""A session is recorded as held only from its start on, with no monitoring time in the future:
a session two days ahead must stay booked (on the schedule, the patient's home, the REMS list)."""

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from care.domain.session_rules import session_record_problems
from care.models import TreatmentSession
from care.treatment.services import SessionNotRecordable, session_record

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York


def problems(*, now, started=START, ended=None, scheduled=START):
    return session_record_problems(
        scheduled_at=scheduled,
        monitoring_started_at=started,
        monitoring_ended_at=ended,
        now=now,
        tz="America/New_York",
    )


def test_session_record_problems_are_none_from_the_start_time_on():
    assert problems(now=START) == {}
    assert problems(now=START + timedelta(hours=3), ended=START + timedelta(hours=2)) == {}


def test_session_record_problems_name_a_session_not_yet_started_in_the_clinics_zone():
    found = problems(now=START - timedelta(days=2), started=None)

    assert found == {
        "scheduled_at": "This session starts on Mon, Mar 2, 10:00; it can be recorded from then on."
    }


def test_session_record_problems_refuse_monitoring_times_after_now():
    now = START + timedelta(minutes=30)

    found = problems(now=now, started=now + timedelta(minutes=1), ended=now + timedelta(hours=2))

    assert set(found) == {"monitoring_started_at", "monitoring_ended_at"}
    assert "in the future" in found["monitoring_started_at"]
    assert "in the future" in found["monitoring_ended_at"]


# The record form and the service


def record_data(**overrides):
    data = {
        "route": "iv",
        "dose_mg_per_kg": "0.50",
        "monitoring_started_at": "2026-03-02T10:00",
        "bp_pre_systolic": "128",
        "bp_pre_diastolic": "82",
        "dissociation": "mild",
        "sedation": "none",
    }
    return data | overrides


def booked(patient, at):
    return TreatmentSession.objects.create(patient=patient, scheduled_at=at, route="iv")


@pytest.mark.django_db
def test_a_session_two_days_ahead_cannot_be_recorded_from_the_form(clinician_client, patient):
    session = booked(patient, timezone.now() + timedelta(days=2))

    response = clinician_client.post(
        reverse("care:session-record", args=[session.pk]), record_data()
    )

    session.refresh_from_db()
    assert response.status_code == 200
    assert "it can be recorded from then on" in " ".join(
        response.context["form"].non_field_errors()
    )
    assert session.status == "scheduled" and session.bp_pre_systolic is None


@pytest.mark.django_db
def test_monitoring_times_in_the_future_are_refused_by_the_form(clinician_client, patient):
    session = booked(patient, timezone.now() - timedelta(hours=1))
    zone = zoneinfo.ZoneInfo(patient.clinic.tz)
    later = timezone.localtime(timezone.now() + timedelta(hours=2), zone)
    data = record_data(monitoring_ended_at=later.strftime("%Y-%m-%dT%H:%M"))

    response = clinician_client.post(reverse("care:session-record", args=[session.pk]), data)

    session.refresh_from_db()
    assert response.status_code == 200
    assert "in the future" in " ".join(response.context["form"].errors["monitoring_ended_at"])
    assert session.status == "scheduled"


@pytest.mark.django_db
def test_the_record_page_of_a_session_not_yet_started_offers_no_save(clinician_client, patient):
    session = booked(patient, timezone.now() + timedelta(days=2))

    page = clinician_client.get(reverse("care:session-record", args=[session.pk]))

    assert page.status_code == 200
    assert "it can be recorded from then on" in page.content.decode()
    assert "Save record" not in page.content.decode()


@pytest.mark.django_db
def test_record_is_offered_only_for_sessions_that_have_started(clinician_client, patient):
    ahead = booked(patient, timezone.now() + timedelta(days=2))
    begun = booked(patient, timezone.now() - timedelta(minutes=10))
    pages = [
        clinician_client.get(reverse("care:patient-detail", args=[patient.public_id])),
        clinician_client.get(reverse("care:session-list")),
    ]

    for page in pages:
        html = page.content.decode()
        assert reverse("care:session-record", args=[begun.pk]) in html
        assert reverse("care:session-record", args=[ahead.pk]) not in html
        assert reverse("care:session-edit", args=[ahead.pk]) in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("starts_in", "monitoring", "field"),
    [
        (timedelta(days=2), {}, "scheduled_at"),
        (
            -timedelta(hours=1),
            {"monitoring_started_at": timedelta(minutes=5)},
            "monitoring_started_at",
        ),
        (-timedelta(hours=1), {"monitoring_ended_at": timedelta(hours=1)}, "monitoring_ended_at"),
    ],
)
def test_the_session_service_refuses_to_complete_a_session_early(
    patient, clinician, starts_in, monitoring, field
):
    now = timezone.now()
    session = booked(patient, now + starts_in)
    values = {"route": "iv", "monitoring_started_at": session.scheduled_at}
    values |= {name: now + delta for name, delta in monitoring.items()}

    with pytest.raises(SessionNotRecordable) as refused:
        session_record(session=session, values=values, by=clinician, now=now)

    session.refresh_from_db()
    assert field in refused.value.errors
    assert session.status == "scheduled" and session.monitoring_started_at is None
