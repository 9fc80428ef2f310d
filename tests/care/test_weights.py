"""Body weight and the planned dose (issue 21, item 2): recording a weight in kg or lb, the
patient page's weight card, the session form's proposal, its warnings and the confirmation a
dose beyond the clinic's margin asks for; the clinic settings of treatment and preparation."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from care.models import AuditEvent, BodyWeight, TreatmentSession
from care.treatment.selectors import latest_weight, patient_weights
from care.treatment.services import treatment_plan_version_create, weight_record
from tests.care.test_sessions import record_data, record_url
from tests.care.test_treatment_plans import esketamine_values, iv_values

pytestmark = pytest.mark.django_db

D = Decimal
# 03:00 UTC on Dec 7 is 22:00 on Dec 6 in New York, the clinic's zone (tests/factories.py).
NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
CLINIC_TODAY = date(2026, 12, 6)


def record(patient, by, value, unit="kg", measured_on=CLINIC_TODAY, now=NOW):
    return weight_record(
        patient=patient, value=D(value), unit=unit, measured_on=measured_on, by=by, now=now
    )


def weight_url(patient):
    return reverse("care:patient-weight", args=[patient.public_id])


def detail_url(patient):
    return reverse("care:patient-detail", args=[patient.public_id])


# The service


def test_a_weight_in_kg_is_kept_with_who_when_and_an_audit_row(patient, clinician):
    weight = record(patient, clinician, "82.04")

    assert (weight.weight_kg, weight.entered_value, weight.entered_unit) == (
        D("82.0"),
        D("82.0"),
        "kg",
    )
    assert (weight.recorded_by, weight.created_at, weight.measured_on) == (
        clinician,
        NOW,
        CLINIC_TODAY,
    )
    event = AuditEvent.objects.get(what=AuditEvent.What.WEIGHT)
    assert (event.action, event.object_id, event.patient_id, event.actor_id) == (
        AuditEvent.Action.CREATED,
        str(weight.pk),
        patient.pk,
        clinician.pk,
    )


def test_a_weight_in_pounds_is_kept_in_kg_with_what_was_typed(patient, clinician):
    weight = record(patient, clinician, "180", unit="lb")

    weight.refresh_from_db()
    assert (weight.weight_kg, weight.entered_value, weight.entered_unit) == (
        D("81.6"),
        D("180.0"),
        "lb",
    )


@pytest.mark.parametrize(
    ("value", "unit", "kept"),
    [
        ("20.0", "kg", True),
        ("350.0", "kg", True),
        ("19.9", "kg", False),
        ("350.1", "kg", False),
        ("44", "lb", True),  # 19.958 kg -> 20.0
        ("43.8", "lb", False),  # 19.9 kg
        ("771.7", "lb", True),  # 350.04 kg -> 350.0
        ("771.8", "lb", False),  # 350.1 kg
        ("0", "kg", False),
        ("-70", "kg", False),
        ("82", "kg ", False),
    ],
)
def test_weights_outside_20_to_350_kg_once_converted_are_refused(
    patient, clinician, value, unit, kept
):
    if kept:
        record(patient, clinician, value, unit=unit)
    else:
        with pytest.raises(ValidationError) as refused:
            record(patient, clinician, value, unit=unit)
        assert set(refused.value.message_dict) <= {"value", "unit"}
    assert BodyWeight.objects.filter(patient=patient).count() == (1 if kept else 0)


def test_a_date_after_the_clinics_today_is_refused(patient, clinician):
    # Dec 7 is already today in UTC, not yet at the clinic
    with pytest.raises(ValidationError) as refused:
        record(patient, clinician, "80", measured_on=date(2026, 12, 7))

    assert "future" in refused.value.message_dict["measured_on"][0]
    assert not BodyWeight.objects.exists()
    assert not AuditEvent.objects.filter(what=AuditEvent.What.WEIGHT).exists()


def test_the_latest_weight_is_the_latest_measured_not_the_latest_typed(patient, clinician):
    record(patient, clinician, "80", measured_on=date(2026, 12, 1))
    record(patient, clinician, "70", measured_on=date(2026, 11, 1), now=NOW + timedelta(hours=1))

    latest = latest_weight(patient=patient)
    assert latest is not None and latest.weight_kg == D("80.0")
    earlier = latest_weight(patient=patient, on=date(2026, 11, 30))
    assert earlier is not None and earlier.weight_kg == D("70.0")
    assert latest_weight(patient=patient, on=date(2026, 10, 31)) is None
    assert [w.weight_kg for w in patient_weights(patient=patient)] == [D("80.0"), D("70.0")]


# The pages


def test_the_weight_form_defaults_to_the_clinics_today_and_records(clinician_client, patient):
    page = clinician_client.get(weight_url(patient)).content.decode()
    today = patient.clinic.local_date(timezone.now()).isoformat()
    assert f'value="{today}"' in page

    response = clinician_client.post(
        weight_url(patient), {"value": "180", "unit": "lb", "measured_on": today}
    )

    assert response.status_code == 302
    assert patient.weights.get().weight_kg == D("81.6")
    detail = clinician_client.get(detail_url(patient)).content.decode()
    assert "81.6 kg" in detail and "(entered as 180.0 lb)" in detail


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"value": "eighty"}, "value", "Enter a number"),
        ({"value": "10"}, "value", "between 20 and 350 kg (44 to 771 lb)"),
        ({"value": "900", "unit": "lb"}, "value", "between 20 and 350 kg"),
        ({"value": "80.25"}, "value", "1 decimal place"),
        ({"unit": "stone"}, "unit", "valid choice"),
        ({"measured_on": "2999-01-01"}, "measured_on", "future"),
        ({"measured_on": "yesterday"}, "measured_on", "valid date"),
    ],
)
def test_a_bad_weight_is_refused_with_a_message(clinician_client, patient, data, field, message):
    body = {"value": "80", "unit": "kg", "measured_on": "2026-01-05"} | data

    response = clinician_client.post(weight_url(patient), body)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not patient.weights.exists()


def test_weights_of_another_clinics_patient_are_404(client, other_clinician, patient, clinician):
    record(patient, clinician, "80", now=timezone.now(), measured_on=date(2026, 1, 5))
    client.force_login(other_clinician)

    assert client.get(weight_url(patient)).status_code == 404
    body = {"value": "90", "unit": "kg", "measured_on": "2026-01-05"}
    assert client.post(weight_url(patient), body).status_code == 404
    assert patient.weights.count() == 1


def test_the_patient_page_says_when_the_weight_is_older_than_the_clinics_limit(
    clinician_client, patient, clinician
):
    clinic = patient.clinic
    clinic.weight_max_age_days = 30
    clinic.save()
    today = clinic.local_date(timezone.now())
    record(patient, clinician, "80", measured_on=today - timedelta(days=30), now=timezone.now())

    page = clinician_client.get(detail_url(patient)).content.decode()
    assert "80.0 kg" in page and "Older than 30 days" not in page

    record(patient, clinician, "79", measured_on=today - timedelta(days=31), now=timezone.now())
    BodyWeight.objects.filter(weight_kg=D("80.0")).delete()
    page = clinician_client.get(detail_url(patient)).content.decode()
    assert "79.0 kg" in page and "Older than 30 days" in page


# The session form


@pytest.fixture
def session(patient):
    """A booked IV session that began an hour ago."""
    return TreatmentSession.objects.create(
        patient=patient, scheduled_at=timezone.now() - timedelta(hours=1), route="iv"
    )


def session_day(session):
    return session.patient.clinic.local_date(session.scheduled_at)


def plan(patient, clinician, values):
    return treatment_plan_version_create(
        patient=patient,
        by=clinician,
        now=timezone.now(),
        values=values,
        reason_code="",
        reason="",
    )


@pytest.fixture
def planned(session, clinician):
    """The session's patient has an IV plan of 0.50 mg/kg and weighed 82 kg a week ago."""
    plan(session.patient, clinician, iv_values(clinician))
    record(
        session.patient,
        clinician,
        "82",
        measured_on=session_day(session) - timedelta(days=7),
        now=timezone.now(),
    )
    return session


def test_the_form_proposes_the_plans_dose_from_the_latest_weight(clinician_client, planned):
    response = clinician_client.get(record_url(planned))

    weighed = (session_day(planned) - timedelta(days=7)).isoformat()
    page = response.content.decode()
    assert f"Plan: 0.50 mg/kg x 82.0 kg (weighed {weighed}) = 41.0 mg" in page
    form = response.context["form"]
    assert (form["dose_mg"].value(), form["dose_mg_per_kg"].value()) == (D("41.0"), D("0.50"))
    assert form.dose_check.warnings == ()


def test_a_dose_already_recorded_is_not_replaced_by_the_proposal(clinician_client, planned):
    TreatmentSession.objects.filter(pk=planned.pk).update(dose_mg=D("40.0"))

    form = clinician_client.get(record_url(planned)).context["form"]

    assert (form["dose_mg"].value(), form["dose_mg_per_kg"].value()) == (D("40.0"), None)


def test_esketamine_proposes_the_plans_fixed_dose(clinician_client, session, clinician):
    plan(session.patient, clinician, esketamine_values(clinician, target_dose_mg=84))
    TreatmentSession.objects.filter(pk=session.pk).update(route="intranasal")

    response = clinician_client.get(record_url(session))

    assert "Plan: 84 mg intranasal esketamine." in response.content.decode()
    assert response.context["form"]["dose_mg"].value() == D("84")
    assert response.context["form"].dose_check.warnings == ()  # no weight needed


def test_no_plan_and_no_weight_are_warned_without_blocking(clinician_client, session, clinician):
    page = clinician_client.get(record_url(session)).content.decode()
    assert "No treatment plan: there is no planned dose to compare with." in page

    plan(session.patient, clinician, iv_values(clinician))
    response = clinician_client.get(record_url(session))
    assert "No weight recorded" in response.content.decode()
    assert response.context["form"]["dose_mg_per_kg"].value() == D("0.50")

    response = clinician_client.post(record_url(session), record_data(dose_mg_per_kg="0.50"))
    assert response.status_code == 302


def test_a_stale_weight_is_warned_without_blocking(clinician_client, planned):
    clinic = planned.patient.clinic
    clinic.weight_max_age_days = 6  # the weight is 7 days old
    clinic.save()

    response = clinician_client.get(record_url(planned))
    assert "is older than 6 days: weigh the patient again" in response.content.decode()

    response = clinician_client.post(record_url(planned), record_data(dose_mg="41.0"))
    assert response.status_code == 302


def test_a_dose_beyond_the_margin_asks_for_a_confirmation(clinician_client, planned):
    data = record_data(dose_mg="46.0", dose_mg_per_kg="0.56")  # 12.2% above 41.0 mg

    response = clinician_client.post(record_url(planned), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "The dose recorded, 46.0 mg, departs from the plan&#x27;s 41.0 mg by 12.2% "
        "(more than the clinic&#x27;s 10%)." in page
    )
    assert "I confirm this dose" in page
    assert response.context["form"].errors == {"confirm_dose": ["Confirm the dose, or correct it."]}
    planned.refresh_from_db()
    assert planned.status == "scheduled" and planned.dose_mg is None

    response = clinician_client.post(record_url(planned), data | {"confirm_dose": "on"})

    assert response.status_code == 302
    planned.refresh_from_db()
    assert (planned.status, planned.dose_mg) == ("completed", D("46.0"))


def test_a_dose_at_the_margin_needs_no_confirmation(clinician_client, planned):
    response = clinician_client.post(record_url(planned), record_data(dose_mg="45.1"))  # 10.0%

    assert response.status_code == 302


def test_the_margin_is_the_clinics(clinician_client, planned):
    clinic = planned.patient.clinic
    clinic.dose_margin_percent = 5
    clinic.save()

    response = clinician_client.post(record_url(planned), record_data(dose_mg="43.1"))  # 5.1%

    assert "confirm_dose" in response.context["form"].errors


def test_both_confirmations_are_asked_together(clinician_client, planned):
    data = record_data(dose_mg="60.0", bp_pre_systolic="150", bp_pre_diastolic="95")

    response = clinician_client.post(record_url(planned), data)

    assert set(response.context["form"].errors) == {"confirm_dose", "confirm_high_bp"}
    data |= {"confirm_dose": "on", "confirm_high_bp": "on"}
    assert clinician_client.post(record_url(planned), data).status_code == 302


# Clinic settings


def test_the_clinic_settings_save_treatment_and_preparation(client, clinic_admin, clinic):
    client.force_login(clinic_admin)
    page = client.get("/staff/clinic/").content.decode()
    assert "<legend>Treatment</legend>" in page
    assert "<legend>Preparation for sessions</legend>" in page
    assert "No food for 6 hours" in page  # the default text, to edit
    data = {
        "name": clinic.name,
        "email_sender_name": "Care Team",
        "tz": "America/New_York",
        "on_call_email": "",
        "default_checkin_time": "19:00",
        "alert_response_minutes": "30",
        "missed_checkin_days": "3",
        "message_response_hours": "8",
        "bp_hold_systolic": "140",
        "bp_hold_diastolic": "90",
        "country": "US",
        "treatment_chairs": "4",
        "session_minutes": "150",
        "weight_max_age_days": "60",
        "dose_margin_percent": "15",
        "prep_fasting": "Nothing to eat for 4 hours.",
        "prep_medicines": "Bring your medicines.",
        "prep_ride": "Someone drives you home.",
        "prep_bring": "",
    }

    response = client.post("/staff/clinic/", data)

    assert response.status_code == 302
    clinic.refresh_from_db()
    assert (
        clinic.treatment_chairs,
        clinic.session_minutes,
        clinic.weight_max_age_days,
        clinic.dose_margin_percent,
    ) == (4, 150, 60, 15)
    assert (clinic.prep_fasting, clinic.prep_medicines, clinic.prep_ride, clinic.prep_bring) == (
        "Nothing to eat for 4 hours.",
        "Bring your medicines.",
        "Someone drives you home.",
        "",
    )

    bad = data | {"treatment_chairs": "0", "dose_margin_percent": "51", "prep_ride": "x" * 1001}
    response = client.post("/staff/clinic/", bad)
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {
        "treatment_chairs",
        "dose_margin_percent",
        "prep_ride",
    }
    clinic.refresh_from_db()
    assert clinic.treatment_chairs == 4
