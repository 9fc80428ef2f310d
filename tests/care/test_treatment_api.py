"""The API of treatment plans, weights, move requests and the patient's sessions: both sides,
the page's checks on a new plan version, audit rows, clinic isolation, documented shapes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from care.models import (
    Alert,
    AuditEvent,
    BodyWeight,
    SessionMoveRequest,
    SessionReadiness,
    SessionReflection,
    TreatmentPlanVersion,
    TreatmentSession,
)
from care.treatment.services import treatment_plan_version_create
from tests.care.test_staff_api import documented_body
from tests.care.test_treatment_plans import esketamine_values, iv_values
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

PLAN_PATH = "/api/v1/patients/{public_id}/plan/"
WEIGHTS_PATH = "/api/v1/patients/{public_id}/weights/"
MOVES_PATH = "/api/v1/patients/{public_id}/move-requests/"


def plan_url(patient):
    return PLAN_PATH.format(public_id=patient.public_id)


def body_of(values: dict) -> dict:
    """Plan values as a client sends them: the prescriber by user id, decimals as text."""
    body = {**values, "prescriber": values["prescriber"].pk}
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in body.items()}


def make_plan(patient, by, *, versions=1):
    now = timezone.now() - timedelta(days=versions)
    version = treatment_plan_version_create(
        patient=patient, by=by, now=now, values=iv_values(by), reason_code="", reason=""
    )
    for number in range(2, versions + 1):
        version = treatment_plan_version_create(
            patient=patient,
            by=by,
            now=now + timedelta(hours=number),
            values=iv_values(by, target_dose_mg_per_kg=Decimal("0.60")),
            reason_code="partial_response",
            reason=f"Change {number}: only a partial response so far",
        )
    return version


def audit_rows(user, what):
    rows = AuditEvent.objects.filter(actor=user, what=what).order_by("id")
    return list(rows.values_list("action", flat=True))


def booked(patient, *, days=0, status="scheduled", route="iv", **extra):
    return TreatmentSession.objects.create(
        patient=patient,
        scheduled_at=timezone.now() + timedelta(days=days),
        route=route,
        status=status,
        **extra,
    )


# The care team: the plan


def test_staff_read_the_plan_with_every_version_and_it_is_audited(
    clinician_client, clinician, patient
):
    make_plan(patient, clinician, versions=3)

    response = clinician_client.get(plan_url(patient))

    assert response.status_code == 200
    body = response.json()
    documented_body(PLAN_PATH, "get", "200").validate(body)
    assert [v["version"] for v in body["versions"]] == [3, 2, 1]
    assert body["current"] == body["versions"][0]
    assert body["current"]["reason_code"] == "partial_response"
    assert body["current"]["reason"] == "Change 3: only a partial response so far"
    assert body["current"]["target_dose_mg_per_kg"] == "0.60"
    assert body["current"]["created_by"]["id"] == clinician.pk
    assert body["versions"][-1]["reason_code"] == "first"
    assert audit_rows(clinician, AuditEvent.What.TREATMENT_PLAN)[-1] == AuditEvent.Action.VIEWED


def test_a_patient_without_a_plan_has_none_current(clinician_client, patient):
    body = clinician_client.get(plan_url(patient)).json()

    assert body == {"patient": str(patient.public_id), "current": None, "versions": []}


def test_staff_add_the_first_version_without_a_reason(clinician_client, clinician, patient):
    response = clinician_client.post(
        plan_url(patient), body_of(esketamine_values(clinician)), content_type="application/json"
    )

    assert response.status_code == 201, response.json()
    documented_body(PLAN_PATH, "post", "201").validate(response.json())
    version = TreatmentPlanVersion.objects.get(plan__patient=patient)
    assert (version.route, version.target_dose_mg, version.reason_code) == (
        "intranasal",
        56,
        "first",
    )
    assert version.created_by == clinician
    assert response.json()["current"]["version"] == 1


def test_a_change_needs_a_reason_code_and_words_as_on_the_page(
    clinician_client, clinician, patient
):
    make_plan(patient, clinician)

    response = clinician_client.post(
        plan_url(patient), body_of(iv_values(clinician)), content_type="application/json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"reason_code", "reason"}
    assert TreatmentPlanVersion.objects.filter(plan__patient=patient).count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"target_dose_mg_per_kg": "0.5", "target_dose_mg": None}, "target_dose_mg"),
        ({"target_dose_mg_per_kg": "5.0"}, "target_dose_mg_per_kg"),
        (
            {"maintenance": "every_n_weeks", "maintenance_every_weeks": None},
            "maintenance_every_weeks",
        ),
        ({"induction_sessions": 13}, "induction_sessions"),
        ({"questionnaires": ["bdi"]}, "questionnaires"),
        ({"goals": "x" * 2001}, "goals"),
    ],
)
def test_values_a_clinician_would_refuse_are_a_400_naming_the_field(
    clinician_client, clinician, patient, changes, field
):
    values = {**body_of(esketamine_values(clinician)), **changes}

    response = clinician_client.post(plan_url(patient), values, content_type="application/json")

    assert response.status_code == 400
    # A list's item is named by its place: `questionnaires.0`.
    assert [name for name in response.json()["errors"] if name.split(".")[0] == field]
    assert not TreatmentPlanVersion.objects.exists()


def test_the_prescriber_must_be_of_the_clinic(
    clinician_client, clinician, patient, other_clinician
):
    values = body_of(iv_values(clinician))
    values["prescriber"] = other_clinician.pk

    response = clinician_client.post(plan_url(patient), values, content_type="application/json")

    assert response.status_code == 400
    assert "prescriber" in response.json()["errors"]


def test_a_version_answering_a_booster_alert_acknowledges_it(clinician_client, clinician, patient):
    make_plan(patient, clinician)
    alert = Alert.objects.create(
        patient=patient,
        kind=Alert.Kind.BOOSTER_DUE,
        priority="routine",
        cause="booster",
        reason="Booster may be due",
        created_at=timezone.now(),
    )
    values = {
        **body_of(iv_values(clinician)),
        "reason_code": "booster_signal",
        "reason": "Scores rising again",
        "answered_alert": alert.pk,
    }

    response = clinician_client.post(plan_url(patient), values, content_type="application/json")

    assert response.status_code == 201
    assert response.json()["current"]["answered_alert"] == alert.pk
    alert.refresh_from_db()
    assert alert.action == Alert.Action.PLAN_ADJUSTED
    assert alert.acknowledged_by == clinician


def test_an_alert_of_another_patient_or_kind_is_a_400_and_nothing_is_written(
    clinician_client, clinician, patient, other_patient
):
    make_plan(patient, clinician)
    theirs = Alert.objects.create(
        patient=other_patient,
        kind=Alert.Kind.BOOSTER_DUE,
        priority="routine",
        cause="b",
        reason="r",
        created_at=timezone.now(),
    )
    safety = Alert.objects.create(
        patient=patient,
        kind="safety",
        priority="urgent",
        cause="s",
        reason="r",
        created_at=timezone.now(),
    )
    for alert in (theirs, safety):
        values = {
            **body_of(iv_values(clinician)),
            "reason_code": "other",
            "reason": "Why not",
            "answered_alert": alert.pk,
        }
        response = clinician_client.post(plan_url(patient), values, content_type="application/json")
        assert response.status_code == 400
        assert "answered_alert" in response.json()["errors"]
    assert TreatmentPlanVersion.objects.filter(plan__patient=patient).count() == 1
    assert not Alert.objects.filter(acknowledged_at__isnull=False).exists()


def test_another_clinics_patient_is_404_to_read_and_to_write(
    clinician_client, clinician, foreign_patient, other_clinician
):
    make_plan(foreign_patient, other_clinician)

    assert clinician_client.get(plan_url(foreign_patient)).status_code == 404
    response = clinician_client.post(
        plan_url(foreign_patient),
        {**body_of(iv_values(clinician)), "reason_code": "other", "reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert TreatmentPlanVersion.objects.filter(plan__patient=foreign_patient).count() == 1
    assert audit_rows(clinician, AuditEvent.What.PATIENT) == [AuditEvent.Action.DENIED] * 2


def test_a_patient_cannot_use_the_staff_plan_endpoint(patient_client, patient, clinician):
    make_plan(patient, clinician)

    assert patient_client.get(plan_url(patient)).status_code == 404
    response = patient_client.post(
        plan_url(patient), body_of(iv_values(clinician)), content_type="application/json"
    )
    assert response.status_code == 404


# The care team: weights, move requests, sessions


def weigh(patient, by, kg, *, days_ago, unit="kg", entered=None):
    return BodyWeight.objects.create(
        patient=patient,
        weight_kg=Decimal(kg),
        entered_value=Decimal(entered or kg),
        entered_unit=unit,
        measured_on=timezone.localdate() - timedelta(days=days_ago),
        recorded_by=by,
        created_at=timezone.now(),
    )


def test_staff_read_weights_latest_first_in_kg_and_as_entered(
    clinician_client, clinician, patient, other_patient
):
    weigh(patient, clinician, "80.0", days_ago=100)
    weigh(patient, clinician, "74.8", days_ago=3, unit="lb", entered="165.0")
    weigh(other_patient, clinician, "60.0", days_ago=1)

    response = clinician_client.get(WEIGHTS_PATH.format(public_id=patient.public_id))

    body = response.json()
    documented_body(WEIGHTS_PATH, "get", "200").validate(body)
    assert [(w["weight_kg"], w["entered_value"], w["entered_unit"]) for w in body["results"]] == [
        ("74.8", "165.0", "lb"),
        ("80.0", "80.0", "kg"),
    ]
    assert body["count"] == 2 and body["pages"] == 1
    assert audit_rows(clinician, AuditEvent.What.WEIGHT) == [AuditEvent.Action.VIEWED]


def test_weights_of_another_clinic_are_404(clinician_client, foreign_patient):
    response = clinician_client.get(WEIGHTS_PATH.format(public_id=foreign_patient.public_id))

    assert response.status_code == 404


def test_staff_read_move_requests_with_answers(clinician_client, clinician, patient):
    session = booked(patient, days=3)
    SessionMoveRequest.objects.create(
        session=session,
        preferred_times="Any morning",
        created_at=timezone.now() - timedelta(days=1),
        status="declined",
        decided_at=timezone.now(),
        decided_by=clinician,
        answer="No chair free that week; call us.",
    )
    SessionMoveRequest.objects.create(
        session=session, preferred_times="Friday", created_at=timezone.now()
    )
    url = MOVES_PATH.format(public_id=patient.public_id)

    body = clinician_client.get(url).json()

    documented_body(MOVES_PATH, "get", "200").validate(body)
    assert [r["status"] for r in body["results"]] == ["pending", "declined"]
    declined = body["results"][1]
    assert declined["answer"] == "No chair free that week; call us."
    assert declined["answered_by"]["id"] == clinician.pk
    assert declined["session"] == session.pk
    assert [
        r["status"] for r in clinician_client.get(f"{url}?status=pending").json()["results"]
    ] == ["pending"]
    assert clinician_client.get(f"{url}?status=maybe").status_code == 400
    assert AuditEvent.Action.VIEWED in audit_rows(clinician, AuditEvent.What.MOVE_REQUEST)


def test_sessions_carry_chair_override_readiness_and_reflection(clinician_client, patient):
    held = booked(patient, days=-2, status="completed", chair=2)
    SessionReadiness.objects.create(
        session=held,
        ride_arranged=True,
        fasting_understood=True,
        feeling_well=True,
        new_medicines=True,
        new_medicines_details="Started sertraline",
        by_link=True,
        answered_at=timezone.now() - timedelta(days=3),
    )
    SessionReflection.objects.create(
        session=held, what_came_up="Memories", feeling="Lighter", created_at=timezone.now()
    )
    booked(patient, days=5, override_reason="Only time the patient can come")

    body = clinician_client.get("/api/v1/sessions/").json()

    documented_body("/api/v1/sessions/", "get", "200").validate(body)
    coming, past = body["results"]
    assert (coming["chair"], coming["override_reason"]) == (None, "Only time the patient can come")
    assert coming["readiness"] is None and coming["reflection"] is None
    assert past["chair"] == 2
    assert past["readiness"]["ready"] is False  # a new medicine to review
    assert past["readiness"]["new_medicines_details"] == "Started sertraline"
    assert past["reflection"]["feeling"] == "Lighter"


# The patient


def test_the_patient_sees_their_plan_in_plain_terms_without_reasons_or_doses(
    patient_client, patient, clinician
):
    make_plan(patient, clinician, versions=2)
    patient.clinic.address = "1 River Road"
    patient.clinic.save()

    response = patient_client.get("/api/v1/me/plan/")

    body = response.json()
    documented_body("/api/v1/me/plan/", "get", "200").validate(body)
    plan = body["plan"]
    assert plan["version"] == 2
    assert plan["induction"] == "6 sessions over 3 weeks"
    assert plan["maintenance_text"] == "A session every 4 weeks"
    assert plan["questionnaires_text"] == "PHQ-9 and GAD-7 every 14 days"
    assert plan["goals"] == "Get back to work and sleep through the night."
    assert plan["prescriber"] == clinician.full_name
    text = response.content.decode()
    assert "partial" not in text and "0.6" not in text and "mg" not in text
    assert body["address"] == "1 River Road"
    assert body["preparation"]["ride"] == patient.clinic.prep_ride
    assert not AuditEvent.objects.filter(actor=patient.user, action="viewed").exists()


def test_a_patient_without_a_plan_gets_null(patient_client):
    assert patient_client.get("/api/v1/me/plan/").json()["plan"] is None


def test_the_patient_sees_upcoming_sessions_and_past_ones_with_their_answers(
    patient_client, patient, other_patient
):
    patient.clinic.session_minutes = 90
    patient.clinic.save()
    later = booked(patient, days=9)
    soon = booked(patient, days=2, route="intranasal")
    booked(patient, days=4, status="cancelled")
    held = booked(patient, days=-3, status="completed", dose_mg=Decimal("56"))
    SessionReflection.objects.create(session=held, feeling="Calm", created_at=timezone.now())
    SessionMoveRequest.objects.create(
        session=soon, preferred_times="Later that week", created_at=timezone.now()
    )
    booked(other_patient, days=1)

    upcoming = patient_client.get("/api/v1/me/sessions/").json()
    past = patient_client.get("/api/v1/me/sessions/?when=past").json()

    documented_body("/api/v1/me/sessions/", "get", "200").validate(upcoming)
    assert [s["id"] for s in upcoming["results"]] == [soon.pk, later.pk]
    first = upcoming["results"][0]
    assert first["route_label"] == "Intranasal esketamine"
    assert first["move_requests"][0]["preferred_times"] == "Later that week"
    starts = timezone.datetime.fromisoformat(first["scheduled_at"])
    assert timezone.datetime.fromisoformat(first["ends_at"]) - starts == timedelta(minutes=90)
    assert [s["id"] for s in past["results"]] == [held.pk]
    assert past["results"][0]["reflection"]["feeling"] == "Calm"
    assert "dose" not in str(past["results"][0])
    assert len(patient_client.get("/api/v1/me/sessions/?when=all").json()["results"]) == 4
    response = patient_client.get("/api/v1/me/sessions/?when=tomorrow")
    assert response.status_code == 400 and "when" in response.json()["errors"]


def test_the_patient_sees_their_own_move_requests_only(patient_client, patient, other_patient):
    mine = SessionMoveRequest.objects.create(
        session=booked(patient, days=2), preferred_times="Mornings", created_at=timezone.now()
    )
    SessionMoveRequest.objects.create(
        session=booked(other_patient, days=2), preferred_times="Evenings", created_at=timezone.now()
    )

    body = patient_client.get("/api/v1/me/move-requests/").json()

    documented_body("/api/v1/me/move-requests/", "get", "200").validate(body)
    assert [r["id"] for r in body["results"]] == [mine.pk]
    assert "answered_by" not in body["results"][0]


@pytest.mark.parametrize("path", ["me/plan/", "me/sessions/", "me/move-requests/"])
def test_staff_have_no_patient_endpoints(clinician_client, path):
    assert clinician_client.get(f"/api/v1/{path}").status_code == 404


def test_a_deactivated_prescriber_is_refused(clinician_client, clinician, patient, clinic):
    gone = StaffFactory(clinic=clinic, deactivated_at=timezone.now()).user
    values = body_of(iv_values(clinician))
    values["prescriber"] = gone.pk

    response = clinician_client.post(plan_url(patient), values, content_type="application/json")

    assert response.status_code == 400
    assert "prescriber" in response.json()["errors"]


# Writes: the care team's weights, the patient's answers about their sessions


def post_json(client, path, body):
    return client.post(path, body, content_type="application/json")


def test_staff_record_a_weight_in_lb_kept_in_kg_and_audited(clinician_client, clinician, patient):
    path = WEIGHTS_PATH.format(public_id=patient.public_id)
    # The clinic's today (a day behind UTC's in the evening of the Americas).
    today = patient.clinic.local_date(timezone.now()).isoformat()

    response = post_json(
        clinician_client, path, {"value": "165.0", "unit": "lb", "measured_on": today}
    )

    assert response.status_code == 201
    body = response.json()
    documented_body(WEIGHTS_PATH, "post", "201").validate(body)
    assert (body["weight_kg"], body["entered_value"], body["entered_unit"]) == (
        "74.8",
        "165.0",
        "lb",
    )
    weight = BodyWeight.objects.get(patient=patient)
    assert weight.weight_kg == Decimal("74.8") and weight.recorded_by == clinician
    assert audit_rows(clinician, AuditEvent.What.WEIGHT) == [AuditEvent.Action.CREATED]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"value": "7.5", "unit": "kg"}, "value"),  # 7.5 kg: a slip of the keyboard
        ({"value": "70", "unit": "st"}, "unit"),
        ({"value": "70", "unit": "kg", "days": -1}, "measured_on"),  # tomorrow
        ({"value": "abc", "unit": "kg"}, "value"),
    ],
)
def test_a_weight_a_clinician_would_refuse_is_a_400_naming_the_field(
    clinician_client, patient, body, field
):
    day = patient.clinic.local_date(timezone.now()) - timedelta(days=body.pop("days", 0))

    response = post_json(
        clinician_client,
        WEIGHTS_PATH.format(public_id=patient.public_id),
        {**body, "measured_on": day.isoformat()},
    )

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not BodyWeight.objects.exists()


def test_a_weight_for_another_clinics_patient_or_by_a_patient_is_404(
    clinician_client, foreign_patient, patient_client, patient
):
    today = patient.clinic.local_date(timezone.now())
    body = {"value": "70", "unit": "kg", "measured_on": today.isoformat()}

    foreign = post_json(
        clinician_client, WEIGHTS_PATH.format(public_id=foreign_patient.public_id), body
    )
    own = post_json(patient_client, WEIGHTS_PATH.format(public_id=patient.public_id), body)

    assert (foreign.status_code, own.status_code) == (404, 404)
    assert not BodyWeight.objects.exists()


READY = {
    "ride_arranged": True,
    "fasting_understood": True,
    "feeling_well": True,
    "new_medicines": False,
}


def ready_path(session):
    return f"/api/v1/me/sessions/{session.pk}/readiness/"


def test_the_patient_answers_the_readiness_check_once(patient_client, patient):
    session = booked(patient, days=1)

    response = post_json(patient_client, ready_path(session), READY)
    again = post_json(patient_client, ready_path(session), READY)

    assert response.status_code == 201
    documented_body("/api/v1/me/sessions/{session_id}/readiness/", "post", "201").validate(
        response.json()
    )
    assert response.json()["ready"] is True and response.json()["by_link"] is False
    readiness = SessionReadiness.objects.get(session=session)
    assert readiness.by_link is False
    assert not Alert.objects.filter(kind="not_ready").exists()
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert "answered already" in again.json()["detail"]


def test_a_new_medicine_needs_its_name_and_makes_an_alert(patient_client, patient):
    session = booked(patient, days=1)

    missing = post_json(patient_client, ready_path(session), {**READY, "new_medicines": True})
    left_out = post_json(patient_client, ready_path(session), {"new_medicines": False})
    named = post_json(
        patient_client,
        ready_path(session),
        {**READY, "new_medicines": True, "new_medicines_details": "Sertraline, 50 mg"},
    )

    assert missing.status_code == 400
    assert "new_medicines_details" in missing.json()["errors"]
    assert left_out.status_code == 400
    assert {"ride_arranged", "fasting_understood", "feeling_well"} <= set(left_out.json()["errors"])
    assert named.status_code == 201 and named.json()["ready"] is False
    alert = Alert.objects.get(patient=patient, kind="not_ready")
    assert "Sertraline" not in alert.reason


def test_a_readiness_check_not_yet_open_or_for_a_started_session_is_refused(
    patient_client, patient
):
    far = booked(patient, days=5)
    started = booked(patient, days=-0.01)

    early = post_json(patient_client, ready_path(far), READY)
    late = post_json(patient_client, ready_path(started), READY)

    assert early.status_code == 409 and early.json()["code"] == "not_open"
    assert early.json()["detail"].startswith("The readiness check opens on")
    assert late.status_code == 409 and late.json()["detail"] == "This session has started."
    assert not SessionReadiness.objects.exists()


@pytest.mark.parametrize("kind", ["readiness", "reflection", "move-request"])
def test_another_patients_session_is_404_and_staff_have_none(
    patient_client, clinician_client, other_patient, patient, kind
):
    theirs = booked(other_patient, days=1)
    mine = booked(patient, days=1)

    other = post_json(patient_client, f"/api/v1/me/sessions/{theirs.pk}/{kind}/", {})
    staff = post_json(clinician_client, f"/api/v1/me/sessions/{mine.pk}/{kind}/", {})

    assert (other.status_code, staff.status_code) == (404, 404)


def reflection_path(session):
    return f"/api/v1/me/sessions/{session.pk}/reflection/"


def test_the_patient_writes_a_reflection_once(patient_client, patient):
    held = booked(patient, days=-2, status="completed")
    words = {"what_came_up": "My grandmother's garden", "feeling": "Lighter"}

    response = post_json(patient_client, reflection_path(held), words)
    again = post_json(patient_client, reflection_path(held), {"feeling": "Changed my mind"})

    assert response.status_code == 201
    documented_body("/api/v1/me/sessions/{session_id}/reflection/", "post", "201").validate(
        response.json()
    )
    reflection = SessionReflection.objects.get(session=held)
    assert (reflection.what_came_up, reflection.feeling, reflection.for_team) == (
        "My grandmother's garden",
        "Lighter",
        "",
    )
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert SessionReflection.objects.get(session=held).feeling == "Lighter"


def test_an_empty_or_too_long_reflection_is_a_400(patient_client, patient):
    held = booked(patient, days=-2, status="completed")

    empty = post_json(patient_client, reflection_path(held), {"feeling": "   "})
    long = post_json(patient_client, reflection_path(held), {"feeling": "x" * 2001})

    assert empty.status_code == 400 and empty.json()["errors"]
    assert long.status_code == 400 and "feeling" in long.json()["errors"]
    assert not SessionReflection.objects.exists()


def test_a_reflection_on_a_session_not_held_or_too_old_is_refused(patient_client, patient):
    coming = booked(patient, days=1)
    old = booked(patient, days=-15, status="completed")

    for session in (coming, old):
        response = post_json(patient_client, reflection_path(session), {"feeling": "Calm"})
        assert response.status_code == 409 and response.json()["code"] == "not_open"
    assert not SessionReflection.objects.exists()


def move_path(session):
    return f"/api/v1/me/sessions/{session.pk}/move-request/"


def test_the_patient_asks_to_move_a_session_once_while_it_waits(patient_client, patient):
    session = booked(patient, days=6)

    response = post_json(patient_client, move_path(session), {"preferred_times": " Mornings "})
    again = post_json(patient_client, move_path(session), {"preferred_times": "Evenings"})

    assert response.status_code == 201
    body = response.json()
    documented_body("/api/v1/me/sessions/{session_id}/move-request/", "post", "201").validate(body)
    assert (body["session"], body["preferred_times"], body["status"]) == (
        session.pk,
        "Mornings",
        "pending",
    )
    assert Alert.objects.filter(patient=patient, kind="move_request").count() == 1
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert SessionMoveRequest.objects.filter(session=session).count() == 1


def test_a_move_request_needs_times_and_a_booked_session(patient_client, patient):
    session = booked(patient, days=6)
    cancelled = booked(patient, days=6, status="cancelled")

    blank = post_json(patient_client, move_path(session), {"preferred_times": ""})
    long = post_json(patient_client, move_path(session), {"preferred_times": "x" * 501})
    closed = post_json(patient_client, move_path(cancelled), {"preferred_times": "Mornings"})

    assert blank.status_code == 400 and "preferred_times" in blank.json()["errors"]
    assert long.status_code == 400 and "preferred_times" in long.json()["errors"]
    assert closed.status_code == 409 and closed.json()["code"] == "not_open"
    assert not SessionMoveRequest.objects.exists()
