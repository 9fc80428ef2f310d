"""Treatment plans are versioned: every change is a new version with who, when and why (a
reason code and words after the first), kept forever; a version answering an open "booster may
be due" or "worsening" alert of the patient acknowledges it "plan adjusted"."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from care.models import Alert, AuditEvent, TreatmentPlanVersion
from care.treatment.selectors import patient_current_plan, patient_plan_versions
from care.treatment.services import treatment_plan_version_create

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def iv_values(prescriber, **overrides):
    values = {
        "route": "iv",
        "induction_sessions": 6,
        "induction_weeks": 3,
        "target_dose_mg_per_kg": Decimal("0.50"),
        "maintenance": "every_n_weeks",
        "maintenance_every_weeks": 4,
        "questionnaires": ["phq9", "gad7"],
        "questionnaire_every_days": 14,
        "goals": "Get back to work and sleep through the night.",
        "prescriber": prescriber,
    }
    return {**values, **overrides}


def esketamine_values(prescriber, **overrides):
    values = iv_values(
        prescriber,
        route="intranasal",
        induction_sessions=8,
        induction_weeks=4,
        target_dose_mg_per_kg=None,
        target_dose_mg=56,
        maintenance="as_needed",
        maintenance_every_weeks=None,
    )
    return {**values, **overrides}


def create(patient, by, values, *, now=NOW, reason_code="", reason="", answered_alert=None):
    return treatment_plan_version_create(
        patient=patient,
        by=by,
        now=now,
        values=values,
        reason_code=reason_code,
        reason=reason,
        answered_alert=answered_alert,
    )


def open_alert(patient, kind=Alert.Kind.BOOSTER_DUE):
    return Alert.objects.create(
        patient=patient,
        kind=kind,
        priority=Alert.Priority.ROUTINE,
        cause=f"{kind}:test",
        reason="Booster may be due",
        created_at=NOW - timedelta(hours=2),
    )


@pytest.mark.django_db
def test_every_change_is_a_new_version_and_all_are_kept(patient, clinician):
    first = create(patient, clinician, iv_values(clinician))
    second = create(
        patient,
        clinician,
        esketamine_values(clinician),
        now=NOW + timedelta(days=30),
        reason_code="side_effects",
        reason="  Too much dissociation on IV.  ",
    )

    assert (first.number, second.number) == (1, 2)
    assert first.reason_code == "first"
    assert second.reason == "Too much dissociation on IV."
    assert second.created_by == clinician and second.created_at == NOW + timedelta(days=30)
    assert patient_current_plan(patient=patient) == second
    assert list(patient_plan_versions(patient=patient)) == [second, first]
    first.refresh_from_db()
    assert first.route == "iv" and first.target_dose_mg_per_kg == Decimal("0.50")
    events = AuditEvent.objects.filter(what=AuditEvent.What.TREATMENT_PLAN, patient=patient)
    assert sorted(events.values_list("action", flat=True)) == ["changed", "created"]


@pytest.mark.django_db
def test_a_version_is_never_updated(patient, clinician):
    version = create(patient, clinician, iv_values(clinician))
    version.goals = "Changed afterwards"

    with pytest.raises(ValueError, match="never changed"):
        version.save()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reason_code", "reason", "field"),
    [
        ("", "Better", "reason_code"),
        ("first", "Better", "reason_code"),
        ("response", " ", "reason"),
    ],
)
def test_a_change_needs_a_reason_code_and_words(patient, clinician, reason_code, reason, field):
    create(patient, clinician, iv_values(clinician))

    with pytest.raises(ValidationError) as caught:
        create(patient, clinician, iv_values(clinician), reason_code=reason_code, reason=reason)

    assert field in caught.value.message_dict
    assert patient_plan_versions(patient=patient).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"target_dose_mg_per_kg": Decimal("0.05")}, "target_dose_mg_per_kg"),
        ({"target_dose_mg_per_kg": Decimal("1.10")}, "target_dose_mg_per_kg"),
        ({"target_dose_mg_per_kg": None}, "target_dose_mg_per_kg"),
        ({"target_dose_mg": 56}, "target_dose_mg"),
        ({"induction_sessions": 0}, "induction_sessions"),
        ({"induction_sessions": 13}, "induction_sessions"),
        ({"induction_weeks": 9}, "induction_weeks"),
        ({"maintenance_every_weeks": None}, "maintenance_every_weeks"),
        ({"maintenance": "as_needed"}, "maintenance_every_weeks"),
        ({"questionnaires": ["phq9", "bdi"]}, "questionnaires"),
    ],
)
def test_iv_plans_a_clinician_would_refuse_are_refused(patient, clinician, overrides, field):
    with pytest.raises(ValidationError) as caught:
        create(patient, clinician, iv_values(clinician, **overrides))

    assert field in caught.value.message_dict
    assert not TreatmentPlanVersion.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"target_dose_mg": 28}, "target_dose_mg"),
        ({"target_dose_mg": None}, "target_dose_mg"),
        ({"target_dose_mg_per_kg": Decimal("0.5")}, "target_dose_mg_per_kg"),
    ],
)
def test_esketamine_is_56_or_84_mg(patient, clinician, overrides, field):
    with pytest.raises(ValidationError) as caught:
        create(patient, clinician, esketamine_values(clinician, **overrides))

    assert field in caught.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize("dose", [56, 84])
def test_esketamine_doses_of_the_label_are_accepted(patient, clinician, dose):
    version = create(patient, clinician, esketamine_values(clinician, target_dose_mg=dose))

    assert version.target_dose_mg == dose


@pytest.mark.django_db
@pytest.mark.parametrize("dose", ["0.10", "1.00"])
def test_iv_dose_limits_are_inclusive(patient, clinician, dose):
    version = create(patient, clinician, iv_values(clinician, target_dose_mg_per_kg=Decimal(dose)))

    assert version.target_dose_mg_per_kg == Decimal(dose)


@pytest.mark.django_db
def test_the_prescriber_is_a_member_of_the_patients_clinic(patient, clinician, other_clinician):
    with pytest.raises(ValidationError) as caught:
        create(patient, clinician, iv_values(other_clinician))

    assert "prescriber" in caught.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [Alert.Kind.BOOSTER_DUE, Alert.Kind.WORSENING])
def test_a_version_answering_an_alert_acknowledges_it_plan_adjusted(patient, clinician, kind):
    create(patient, clinician, iv_values(clinician))
    alert = open_alert(patient, kind)

    version = create(
        patient,
        clinician,
        iv_values(clinician, maintenance_every_weeks=3),
        reason_code="booster_signal",
        reason="Mood falls in the fourth week.",
        answered_alert=alert,
    )

    alert.refresh_from_db()
    assert version.answered_alert == alert
    assert alert.acknowledged_at == NOW and alert.acknowledged_by == clinician
    assert alert.action == Alert.Action.PLAN_ADJUSTED
    assert AuditEvent.objects.filter(
        what=AuditEvent.What.ALERT, action="acknowledged", object_id=str(alert.pk)
    ).exists()


@pytest.mark.django_db
def test_an_acknowledged_another_patients_or_other_kind_of_alert_is_refused(
    patient, other_patient, clinician
):
    acknowledged = open_alert(patient)
    Alert.objects.filter(pk=acknowledged.pk).update(
        acknowledged_at=NOW - timedelta(hours=1), action="no_action"
    )
    acknowledged.refresh_from_db()
    refused = [acknowledged, open_alert(other_patient), open_alert(patient, Alert.Kind.SAFETY)]

    for alert in refused:
        with pytest.raises(ValidationError) as caught:
            create(patient, clinician, iv_values(clinician), answered_alert=alert)
        assert "answered_alert" in caught.value.message_dict

    assert not TreatmentPlanVersion.objects.exists()
    assert Alert.objects.filter(action=Alert.Action.PLAN_ADJUSTED).count() == 0


def plan_url(patient, alert=None):
    url = reverse("care:treatment-plan", args=[patient.public_id])
    return f"{url}?alert={alert.pk}" if alert else url


def plan_form(prescriber, **overrides):
    data = {
        "route": "iv",
        "induction_sessions": "6",
        "induction_weeks": "3",
        "target_dose_mg_per_kg": "0.5",
        "target_dose_mg": "",
        "maintenance": "every_n_weeks",
        "maintenance_every_weeks": "4",
        "questionnaires": ["phq9"],
        "questionnaire_every_days": "14",
        "goals": "Enjoy cooking again.",
        "prescriber": str(prescriber.pk),
    }
    return {**data, **overrides}


@pytest.mark.django_db
def test_the_plan_page_writes_the_first_plan_then_a_change(clinician_client, patient, clinician):
    page = clinician_client.get(plan_url(patient))
    assert page.status_code == 200
    assert "reason_code" not in page.context["form"].fields
    assert AuditEvent.objects.filter(
        action="viewed", what=AuditEvent.What.TREATMENT_PLAN, patient=patient
    ).exists()

    response = clinician_client.post(plan_url(patient), plan_form(clinician))
    assert response.status_code == 302

    refused = clinician_client.post(plan_url(patient), plan_form(clinician, goals="Other"))
    assert refused.status_code == 200
    assert "reason" in refused.context["form"].errors

    clinician_client.post(
        plan_url(patient),
        plan_form(
            clinician,
            maintenance="as_needed",
            maintenance_every_weeks="",
            reason_code="response",
            reason="In remission.",
        ),
    )
    versions = list(patient_plan_versions(patient=patient))
    assert [v.number for v in versions] == [2, 1]
    assert versions[0].maintenance == "as_needed" and versions[0].reason == "In remission."

    detail = clinician_client.get(reverse("care:patient-detail", args=[patient.public_id]))
    html = detail.content.decode()
    assert "Treatment plan" in html and "As needed by signal" in html
    assert "In remission." in html and "Adjust plan" in html


@pytest.mark.django_db
def test_the_plan_page_prefills_the_current_version(clinician_client, patient, clinician):
    create(patient, clinician, esketamine_values(clinician, target_dose_mg=84))

    form = clinician_client.get(plan_url(patient)).context["form"]

    assert form.initial["route"] == "intranasal" and form.initial["target_dose_mg"] == 84
    assert form.fields["reason_code"].required


@pytest.mark.django_db
def test_adjusting_the_plan_from_an_alert_acknowledges_it(clinician_client, patient, clinician):
    alert = open_alert(patient)
    detail = clinician_client.get(reverse("care:patient-detail", args=[patient.public_id]))
    assert plan_url(patient, alert) in detail.content.decode()
    inbox = clinician_client.get(reverse("care:alert-inbox"))
    assert plan_url(patient, alert).replace("&", "&amp;") in inbox.content.decode()

    form = plan_form(clinician, alert=str(alert.pk))
    response = clinician_client.post(plan_url(patient, alert), form)

    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.action == Alert.Action.PLAN_ADJUSTED and alert.acknowledged_by == clinician
    assert patient_current_plan(patient=patient).answered_alert == alert


@pytest.mark.django_db
def test_an_acknowledged_alert_is_refused_on_the_page(clinician_client, patient, clinician):
    alert = open_alert(patient)
    Alert.objects.filter(pk=alert.pk).update(acknowledged_at=NOW, action="no_action")

    response = clinician_client.post(plan_url(patient, alert), plan_form(clinician))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert patient_current_plan(patient=patient) is None


@pytest.mark.django_db
def test_another_patients_alert_or_clinic_is_404(
    client, clinician_client, patient, other_patient, clinician, other_clinician
):
    assert clinician_client.get(plan_url(patient, open_alert(other_patient))).status_code == 404
    client.force_login(other_clinician)

    assert client.get(plan_url(patient)).status_code == 404
    assert client.post(plan_url(patient), plan_form(other_clinician)).status_code == 404
    assert patient_current_plan(patient=patient) is None
