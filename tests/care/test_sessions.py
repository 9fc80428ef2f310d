"""Treatment sessions: booking in the clinic's zone, recording with the BP rule, REMS list."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from care.models import Alert, TreatmentSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(patient):
    """A booked session that began an hour ago (one still ahead cannot be recorded)."""
    return TreatmentSession.objects.create(
        patient=patient, scheduled_at=timezone.now() - timedelta(hours=1), route="iv"
    )


def record_data(**overrides):
    data = {
        "route": "iv",
        "dose_mg_per_kg": "0.50",
        "monitoring_started_at": "2026-03-02T10:00",
        "monitoring_ended_at": "2026-03-02T11:30",
        "bp_pre_systolic": "128",
        "bp_pre_diastolic": "82",
        "hr_pre": "72",
        "bp_40_systolic": "146",
        "bp_40_diastolic": "92",
        "hr_40": "88",
        "bp_discharge_systolic": "130",
        "bp_discharge_diastolic": "84",
        "hr_discharge": "74",
        "dissociation": "mild",
        "sedation": "none",
        "adverse_events": "",
        "notes": "Tolerated well.",
    }
    data.update(overrides)
    return data


def record_url(session):
    return reverse("care:session-record", args=[session.pk])


def test_a_session_is_booked_in_the_clinics_time_zone(clinician_client, patient):
    response = clinician_client.post(
        reverse("care:session-new", args=[patient.public_id]),
        {"scheduled_at": "2026-07-01T10:00", "route": "intranasal"},
    )

    session = TreatmentSession.objects.get(patient=patient)
    assert response.status_code == 302
    assert session.scheduled_at == datetime(2026, 7, 1, 14, 0, tzinfo=UTC)  # 10:00 EDT
    assert (session.route, session.status) == ("intranasal", "scheduled")


def test_booking_with_a_bad_date_is_refused_clearly(clinician_client, patient):
    response = clinician_client.post(
        reverse("care:session-new", args=[patient.public_id]),
        {"scheduled_at": "tomorrow-ish", "route": "iv"},
    )

    assert response.status_code == 200
    assert "Enter a valid date/time." in response.context["form"].errors["scheduled_at"]
    assert not TreatmentSession.objects.exists()


def test_a_session_is_moved_cancelled_or_marked_no_show(clinician_client, session):
    clinician_client.post(
        reverse("care:session-edit", args=[session.pk]),
        {"scheduled_at": "2026-08-03T09:30", "route": "iv"},
    )
    session.refresh_from_db()
    assert session.scheduled_at == datetime(2026, 8, 3, 13, 30, tzinfo=UTC)

    clinician_client.post(reverse("care:session-cancel", args=[session.pk]), {"status": "no_show"})
    session.refresh_from_db()
    assert session.status == "no_show"

    clinician_client.post(
        reverse("care:session-cancel", args=[session.pk]), {"status": "completed"}
    )
    session.refresh_from_db()
    assert session.status == "no_show"


def test_a_session_is_recorded(clinician_client, clinician, session):
    response = clinician_client.post(record_url(session), record_data())

    session.refresh_from_db()
    assert response.status_code == 302
    assert session.status == "completed" and session.recorded_by == clinician
    assert (session.bp_pre_systolic, session.bp_40_systolic, session.hr_discharge) == (128, 146, 74)
    assert str(session.dose_mg_per_kg) == "0.50" and session.dissociation == "mild"
    assert session.monitoring_duration == timedelta(minutes=90)
    assert not Alert.objects.exists()


def test_high_pre_dose_blood_pressure_warns_and_needs_confirmation(clinician_client, session):
    response = clinician_client.post(
        record_url(session), record_data(bp_pre_systolic="152", bp_pre_diastolic="88")
    )

    session.refresh_from_db()
    assert response.status_code == 200
    assert "above the clinic&#x27;s hold threshold of 140/90" in response.content.decode()
    assert session.status == "scheduled" and not Alert.objects.exists()


def test_a_confirmed_high_blood_pressure_is_recorded_with_one_high_alert(clinician_client, session):
    data = record_data(bp_pre_systolic="138", bp_pre_diastolic="96", confirm_high_bp="on")

    clinician_client.post(record_url(session), data)
    clinician_client.post(record_url(session), data)  # corrected record: no second alert

    [alert] = Alert.objects.all()
    assert (alert.kind, alert.priority, alert.session) == ("high_bp", "high", session)
    assert "138/96" in alert.reason


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"route": "intranasal", "dose_mg": "50"}, "dose_mg", "28, 56 or 84 mg"),
        ({"route": "intranasal", "dose_mg": ""}, "dose_mg", "28, 56 or 84 mg"),
        ({"dose_mg_per_kg": ""}, "dose_mg_per_kg", "Enter the dose"),
        ({"bp_pre_systolic": ""}, "bp_pre_systolic", "before dosing"),
        ({"bp_40_diastolic": ""}, "bp_40_diastolic", "both numbers"),
        ({"bp_pre_diastolic": "130"}, "bp_pre_diastolic", "below the systolic"),
        ({"hr_pre": "400"}, "hr_pre", "less than or equal to 220"),
        ({"monitoring_ended_at": "2026-03-02T09:00"}, "monitoring_ended_at", "after it started"),
        ({"dissociation": "extreme"}, "dissociation", "valid choice"),
    ],
)
def test_bad_session_records_are_refused_clearly(
    clinician_client, session, overrides, field, message
):
    response = clinician_client.post(record_url(session), record_data(**overrides))

    session.refresh_from_db()
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert session.status == "scheduled"


def test_intranasal_monitoring_under_two_hours_is_flagged(clinician_client, session):
    response = clinician_client.post(
        record_url(session),
        record_data(route="intranasal", dose_mg="56", dose_mg_per_kg=""),
        follow=True,
    )

    session.refresh_from_db()
    assert session.is_monitoring_short
    assert "shorter than the 2 hours" in response.content.decode()


def test_the_rems_list_shows_unsubmitted_forms_and_overdue_ones(clinician_client, patient):
    now = timezone.now()
    old = TreatmentSession.objects.create(
        patient=patient,
        scheduled_at=now - timedelta(days=9),
        route="intranasal",
        status="completed",
        dose_mg=56,
    )
    TreatmentSession.objects.create(
        patient=patient,
        scheduled_at=now - timedelta(days=2),
        route="intranasal",
        status="completed",
        dose_mg=84,
    )
    TreatmentSession.objects.create(
        patient=patient,
        scheduled_at=now - timedelta(days=3),
        route="intranasal",
        status="completed",
        dose_mg=56,
        rems_submitted_on=now.date(),
    )

    response = clinician_client.get(reverse("care:session-list"))

    rows = response.context["rems"]
    assert [r["days"] for r in rows] == [9, 2]
    assert rows[0]["session"] == old
    assert "overdue" in response.content.decode()


def test_sessions_of_another_clinic_are_404(client, other_clinician, session):
    client.force_login(other_clinician)

    assert client.get(record_url(session)).status_code == 404
    assert client.post(record_url(session), record_data()).status_code == 404
    assert (
        client.post(
            reverse("care:session-cancel", args=[session.pk]), {"status": "cancelled"}
        ).status_code
        == 404
    )
    assert (
        client.get(reverse("care:session-new", args=[session.patient.public_id])).status_code == 404
    )
    session.refresh_from_db()
    assert session.status == "scheduled"


def test_patients_cannot_reach_session_pages(patient_client, session):
    for url in [
        record_url(session),
        reverse("care:session-list"),
        reverse("care:session-edit", args=[session.pk]),
    ]:
        assert patient_client.get(url).status_code == 404


def test_a_recorded_session_cannot_be_cancelled_or_moved(clinician_client, session):
    clinician_client.post(record_url(session), record_data())

    clinician_client.post(reverse("care:session-cancel", args=[session.pk]), {"status": "no_show"})
    clinician_client.post(
        reverse("care:session-edit", args=[session.pk]),
        {"scheduled_at": "2026-08-03T09:30", "route": "iv"},
    )

    session.refresh_from_db()
    assert session.status == "completed" and session.bp_pre_systolic == 128


def test_editing_a_record_after_its_bp_alert_was_acknowledged_raises_no_new_one(
    clinician_client, clinician, session
):
    data = record_data(bp_pre_systolic="150", bp_pre_diastolic="95", confirm_high_bp="on")
    clinician_client.post(record_url(session), data)
    alert = Alert.objects.get()
    alert.acknowledged_at, alert.acknowledged_by = timezone.now(), clinician
    alert.save()

    clinician_client.post(record_url(session), data | {"notes": "Added a note."})

    assert Alert.objects.count() == 1


@pytest.mark.parametrize(
    ("submitted", "message"),
    [("2026-03-01", "before the session"), ("2099-01-01", "cannot be in the future")],
)
def test_the_rems_submission_date_must_be_plausible(clinician_client, session, submitted, message):
    response = clinician_client.post(
        record_url(session),
        record_data(
            route="intranasal", dose_mg="56", dose_mg_per_kg="", rems_submitted_on=submitted
        ),
    )

    assert message in " ".join(response.context["form"].errors["rems_submitted_on"])
