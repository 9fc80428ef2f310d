"""Booking with checks (services, the session form, the API's 409), "Book from plan", the
day view and the care team's answer to a request to move a session."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from care.models import Alert, AuditEvent, SessionMoveRequest, SessionReadiness, TreatmentSession
from care.treatment.services import (
    BookingConflict,
    MoveRequestAnswered,
    move_request_decide,
    session_reschedule,
    session_schedule,
    sessions_schedule_series,
    treatment_plan_version_create,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
MONDAY_10 = datetime(2030, 6, 17, 10, 0, tzinfo=NY)  # 14:00 UTC
SUNDAY_10 = datetime(2030, 6, 16, 10, 0, tzinfo=NY)
WEEKDAYS = {key: [["09:00", "17:00"]] for key in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def hours(clinic):
    clinic.opening_hours = WEEKDAYS
    clinic.treatment_chairs = 2
    clinic.session_minutes = 120
    clinic.save()
    return clinic


@pytest.fixture
def others(hours):
    return [PatientFactory(clinic=hours) for _ in range(2)]


def book(patient, at, by, **kwargs):
    return session_schedule(patient=patient, scheduled_at=at, route="iv", by=by, now=NOW, **kwargs)


# Services.


def test_bookings_take_the_lowest_free_chair(patient, others, clinician):
    first = book(others[0], MONDAY_10, clinician)
    second = book(others[1], MONDAY_10 + timedelta(hours=1), clinician)
    third = book(patient, MONDAY_10 + timedelta(hours=2), clinician)

    assert (first.chair, second.chair, third.chair) == (1, 2, 1)
    assert third.override_reason == ""


def test_no_chair_free_raises_with_the_nearest_free_slots(patient, others, clinician):
    book(others[0], MONDAY_10, clinician)
    book(others[1], MONDAY_10, clinician)

    with pytest.raises(BookingConflict) as raised:
        book(patient, MONDAY_10 + timedelta(minutes=30), clinician)

    assert [p.code for p in raised.value.problems] == ["no_chair"]
    assert raised.value.free_slots[0] == MONDAY_10 + timedelta(hours=2)
    assert len(raised.value.free_slots) == 3
    assert TreatmentSession.objects.filter(patient=patient).count() == 0


def test_closed_day_and_double_booking_are_refused(patient, hours, clinician):
    with pytest.raises(BookingConflict) as closed:
        book(patient, SUNDAY_10, clinician)
    assert "closed on Sundays" in closed.value.problems[0].message

    book(patient, MONDAY_10, clinician)
    with pytest.raises(BookingConflict) as twice:
        book(patient, MONDAY_10 + timedelta(hours=4), clinician)
    assert [p.code for p in twice.value.problems] == ["patient_booked"]


def test_an_override_with_a_reason_is_booked_kept_and_audited(patient, others, clinician):
    book(others[0], MONDAY_10, clinician)
    book(others[1], MONDAY_10, clinician)

    with pytest.raises(BookingConflict):
        book(patient, MONDAY_10, clinician, override_reason="   ")
    session = book(patient, MONDAY_10, clinician, override_reason="Extra nurse on duty")

    assert session.chair is None
    assert session.override_reason == "Extra nurse on duty"
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.OVERRIDDEN, object_id=str(session.pk), actor=clinician
    ).exists()


def test_an_override_outside_hours_keeps_a_free_chair(patient, hours, clinician):
    session = book(patient, SUNDAY_10, clinician, override_reason="Weekend clinic")

    assert (session.chair, session.override_reason) == (1, "Weekend clinic")


def test_a_reason_without_a_conflict_is_not_kept(patient, hours, clinician):
    session = book(patient, MONDAY_10, clinician, override_reason="Just in case")

    assert session.override_reason == ""
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.OVERRIDDEN).exists()


def test_cancelled_sessions_hold_no_chair(patient, others, clinician):
    a = book(others[0], MONDAY_10, clinician)
    book(others[1], MONDAY_10, clinician)
    TreatmentSession.objects.filter(pk=a.pk).update(status="cancelled")

    assert book(patient, MONDAY_10, clinician).chair == 1


def test_rescheduling_checks_without_the_session_itself(patient, others, clinician):
    session = book(patient, MONDAY_10, clinician)
    moved = session_reschedule(
        session=session, scheduled_at=MONDAY_10 + timedelta(hours=1), route="iv", now=NOW
    )
    assert (moved.chair, moved.scheduled_at) == (1, MONDAY_10 + timedelta(hours=1))

    book(others[0], MONDAY_10 + timedelta(days=1), clinician)
    book(others[1], MONDAY_10 + timedelta(days=1), clinician)
    with pytest.raises(BookingConflict):
        session_reschedule(
            session=moved, scheduled_at=MONDAY_10 + timedelta(days=1), route="iv", now=NOW
        )
    moved.refresh_from_db()
    assert moved.scheduled_at == MONDAY_10 + timedelta(hours=1)


def test_a_series_is_booked_all_or_none(patient, others, clinician):
    book(others[0], MONDAY_10 + timedelta(days=2), clinician)
    book(others[1], MONDAY_10 + timedelta(days=2), clinician)
    starts = [MONDAY_10, MONDAY_10 + timedelta(days=2), MONDAY_10 + timedelta(days=4)]

    with pytest.raises(BookingConflict) as raised:
        sessions_schedule_series(patient=patient, starts=starts, route="iv", by=clinician, now=NOW)

    assert raised.value.index == 1
    assert not TreatmentSession.objects.filter(patient=patient).exists()
    starts[1] = MONDAY_10 + timedelta(days=1)
    booked = sessions_schedule_series(
        patient=patient, starts=starts, route="iv", by=clinician, now=NOW
    )
    assert [s.chair for s in booked] == [1, 1, 1]


def test_a_clinic_without_hours_books_any_time(patient, clinician):
    assert book(patient, SUNDAY_10.replace(hour=3), clinician).chair == 1


# The session form and the API.


def test_the_form_shows_the_conflict_free_slots_and_books_anyway(
    clinician_client, patient, others, clinician
):
    book(others[0], MONDAY_10, clinician)
    book(others[1], MONDAY_10, clinician)
    url = reverse("care:session-new", args=[patient.public_id])

    response = clinician_client.post(url, {"scheduled_at": "2030-06-17T10:00", "route": "iv"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "No chair is free" in page
    assert "Nearest free times" in page
    assert 'data-slot-value="2030-06-17T12:00"' in page
    assert "Book anyway because" in page
    assert not TreatmentSession.objects.filter(patient=patient).exists()

    response = clinician_client.post(
        url,
        {"scheduled_at": "2030-06-17T10:00", "route": "iv", "override_reason": "Third nurse"},
    )
    assert response.status_code == 302
    assert TreatmentSession.objects.get(patient=patient).override_reason == "Third nurse"


def test_the_api_answers_a_conflict_with_409_and_free_slots(clinician_client, patient, hours):
    url = f"/api/v1/patients/{patient.public_id}/sessions/"

    response = clinician_client.post(
        url, {"scheduled_at": "2030-06-16T10:00:00-04:00", "route": "iv"}, "application/json"
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert body["errors"]["scheduled_at"] == ["The clinic is closed on Sundays."]
    assert body["errors"]["free_slots"][0].endswith("-04:00")
    assert len(body["errors"]["free_slots"]) == 3

    response = clinician_client.post(
        url,
        {"scheduled_at": "2030-06-16T10:00:00-04:00", "route": "iv", "override_reason": "Once"},
        "application/json",
    )
    assert response.status_code == 201
    assert response.json()["override_reason"] == "Once"
    ok = clinician_client.post(
        url, {"scheduled_at": "2030-06-17T10:00:00-04:00", "route": "iv"}, "application/json"
    )
    assert (ok.status_code, ok.json()["chair"]) == (201, 1)


def test_the_api_refuses_bad_input_and_other_clinics(
    clinician_client, patient, hours, other_clinician, client
):
    url = f"/api/v1/patients/{patient.public_id}/sessions/"
    bad = clinician_client.post(url, {"scheduled_at": "soon", "route": "iv"}, "application/json")
    assert bad.status_code == 400
    client.force_login(other_clinician)
    foreign = client.post(
        url, {"scheduled_at": "2030-06-17T10:00:00-04:00", "route": "iv"}, "application/json"
    )
    assert foreign.status_code == 404
    assert not TreatmentSession.objects.exists()


# Book from plan.


def write_plan(patient, by, **overrides):
    values = {
        "route": "iv",
        "induction_sessions": 6,
        "induction_weeks": 3,
        "target_dose_mg_per_kg": Decimal("0.50"),
        "maintenance": "every_n_weeks",
        "maintenance_every_weeks": 4,
        "questionnaires": ["phq9"],
        "questionnaire_every_days": 14,
        "goals": "",
        "prescriber": by,
        **overrides,
    }
    return treatment_plan_version_create(
        patient=patient, by=by, now=NOW, values=values, reason_code="", reason=""
    )


def test_book_from_plan_proposes_the_induction_and_books_it(
    clinician_client, patient, hours, clinician
):
    write_plan(patient, clinician)
    url = reverse("care:sessions-from-plan", args=[patient.public_id])

    page = clinician_client.get(url, {"kind": "induction", "first": "2030-06-17T10:00"})

    assert page.status_code == 200
    form = page.context["form"]
    assert form.count == 6
    starts = [form[f"start_{i}"].value().astimezone(NY) for i in range(6)]
    # Days 0 4 7 11 14 18 from Monday: Fri, Mon, Fri, Mon, Fri at 10:00.
    assert [s.strftime("%a %d %H:%M") for s in starts] == [
        "Mon 17 10:00",
        "Fri 21 10:00",
        "Mon 24 10:00",
        "Fri 28 10:00",
        "Mon 01 10:00",
        "Fri 05 10:00",
    ]
    data = {"count": "6", "route": "iv"}
    data.update({f"start_{i}": s.strftime("%Y-%m-%dT%H:%M") for i, s in enumerate(starts)})
    data["start_5"] = ""  # left out
    response = clinician_client.post(url, data)

    assert response.status_code == 302
    booked = TreatmentSession.objects.filter(patient=patient).order_by("scheduled_at")
    assert booked.count() == 5
    assert {s.chair for s in booked} == {1}


def test_book_from_plan_shows_a_conflict_and_books_none(
    clinician_client, patient, others, clinician
):
    write_plan(patient, clinician)
    book(others[0], MONDAY_10, clinician)
    book(others[1], MONDAY_10, clinician)
    url = reverse("care:sessions-from-plan", args=[patient.public_id])

    response = clinician_client.post(
        url,
        {"count": "2", "route": "iv", "start_0": "2030-06-18T10:00", "start_1": "2030-06-17T10:00"},
    )

    assert response.status_code == 200
    assert "No chair is free" in str(response.context["form"].errors["start_1"])
    assert not TreatmentSession.objects.filter(patient=patient).exists()


def test_book_from_plan_books_a_conflicting_series_with_a_reason(
    clinician_client, patient, others, clinician
):
    write_plan(patient, clinician)
    book(others[0], MONDAY_10, clinician)
    book(others[1], MONDAY_10, clinician)
    url = reverse("care:sessions-from-plan", args=[patient.public_id])
    data = {
        "count": "2",
        "route": "iv",
        "start_0": "2030-06-17T10:00",
        "start_1": "2030-06-19T10:00",
    }

    refused = clinician_client.post(url, data)
    assert "Book anyway because" in refused.content.decode()
    response = clinician_client.post(url, {**data, "override_reason": "Third chair borrowed"})

    assert response.status_code == 302
    booked = list(TreatmentSession.objects.filter(patient=patient).order_by("scheduled_at"))
    assert [(s.chair, s.override_reason) for s in booked] == [
        (None, "Third chair borrowed"),
        (1, ""),
    ]
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.OVERRIDDEN, patient=patient).count() == 1
    )


def test_book_from_plan_without_a_plan_goes_to_the_plan(clinician_client, patient):
    response = clinician_client.get(reverse("care:sessions-from-plan", args=[patient.public_id]))
    assert response.status_code == 302
    assert response["Location"] == reverse("care:treatment-plan", args=[patient.public_id])


def test_book_from_plan_proposes_the_next_maintenance_session(
    clinician_client, patient, hours, clinician
):
    write_plan(patient, clinician)
    book(patient, MONDAY_10, clinician)

    page = clinician_client.get(reverse("care:sessions-from-plan", args=[patient.public_id]))

    assert page.context["kind"] == "next"
    assert page.context["form"].count == 1
    assert page.context["form"]["start_0"].value().astimezone(NY).strftime("%Y-%m-%d %H:%M") == (
        "2030-07-15 10:00"
    )


# The day view.


def test_the_day_view_has_chairs_as_columns_and_readiness(
    clinician_client, patient, others, clinician
):
    ready = book(others[0], MONDAY_10, clinician)
    book(others[1], MONDAY_10, clinician)
    over = book(patient, MONDAY_10, clinician, override_reason="Extra chair")
    SessionReadiness.objects.create(
        session=ready,
        ride_arranged=True,
        fasting_understood=True,
        feeling_well=True,
        new_medicines=False,
        answered_at=NOW,
    )
    SessionReadiness.objects.create(
        session=over,
        ride_arranged=False,
        fasting_understood=True,
        feeling_well=True,
        new_medicines=False,
        answered_at=NOW,
    )

    response = clinician_client.get(reverse("care:session-day", args=["2030-06-17"]))

    assert response.status_code == 200
    grid = response.context["grid"]
    assert grid.columns == ["Chair 1", "Chair 2", "No chair"]
    assert grid.rows[0].at.strftime("%H:%M") == "09:00"
    assert grid.rows[-1].at.strftime("%H:%M") == "16:30"
    row = next(r for r in grid.rows if r.at.strftime("%H:%M") == "10:00")
    labels = [[e.readiness for e in cell] for cell in row.cells]
    assert labels == [["ready"], ["not answered"], ["not ready"]]
    page = response.content.decode()
    assert others[0].preferred_name in page
    assert "10:00\u201312:00" in page
    assert AuditEvent.objects.filter(
        actor=clinician, action="viewed", what=AuditEvent.What.SESSION
    ).exists()


def test_the_day_view_shows_no_other_clinics_sessions(
    clinician_client, patient, clinician, other_clinic
):
    foreign = PatientFactory(clinic=other_clinic)
    TreatmentSession.objects.create(patient=foreign, scheduled_at=MONDAY_10, route="iv")

    response = clinician_client.get(reverse("care:session-day", args=["2030-06-17"]))

    assert response.context["sessions"] == []
    assert foreign.preferred_name not in response.content.decode()


@pytest.mark.parametrize("day", ["2030-02-30", "yesterday", "20300617", "1800-01-01"])
def test_the_day_view_answers_a_bad_date_with_404(clinician_client, day):
    assert clinician_client.get(reverse("care:session-day", args=[day])).status_code == 404


def test_the_day_view_defaults_to_today_and_links_the_days(clinician_client):
    response = clinician_client.get(reverse("care:session-day-today"))
    assert response.status_code == 200
    assert response.context["day"] == response.context["today"]
    assert "Next day" in response.content.decode()


# Move requests.


@pytest.fixture
def move(patient, hours, clinician):
    session = book(patient, MONDAY_10, clinician)
    request = SessionMoveRequest.objects.create(
        session=session, preferred_times="Tuesday mornings", created_at=NOW
    )
    alert = Alert.objects.create(
        patient=patient,
        kind=Alert.Kind.MOVE_REQUEST,
        priority="routine",
        cause=f"move:{request.pk}",
        reason="Asks to move a session",
        created_at=NOW,
        session=session,
    )
    return request, alert


def test_accepting_moves_the_session_and_acknowledges_the_alert(move, clinician):
    request, alert = move
    new = MONDAY_10 + timedelta(days=1)

    move_request_decide(
        request=request, accept=True, new_start=new, answer="See you Tuesday", by=clinician, now=NOW
    )

    request.refresh_from_db()
    alert.refresh_from_db()
    assert request.status == "accepted"
    assert (request.moved_from, request.moved_to) == (MONDAY_10, new)
    assert (request.decided_by, request.decided_at, request.answer) == (
        clinician,
        NOW,
        "See you Tuesday",
    )
    assert request.session.scheduled_at == new
    assert (alert.action, alert.acknowledged_by) == (Alert.Action.MOVE_DECIDED, clinician)
    assert AuditEvent.objects.filter(
        what=AuditEvent.What.MOVE_REQUEST, object_id=str(request.pk), action="changed"
    ).exists()
    with pytest.raises(MoveRequestAnswered):
        move_request_decide(
            request=request, accept=False, new_start=None, answer="", by=clinician, now=NOW
        )


def test_declining_leaves_the_session(move, clinician):
    request, alert = move
    move_request_decide(
        request=request, accept=False, new_start=None, answer="No chair then", by=clinician, now=NOW
    )
    request.refresh_from_db()
    alert.refresh_from_db()
    assert (request.status, request.moved_to) == ("declined", None)
    assert request.session.scheduled_at == MONDAY_10
    assert alert.acknowledged_at == NOW


def test_accepting_into_a_conflict_writes_nothing_unless_overridden(move, clinician):
    request, _alert = move
    with pytest.raises(BookingConflict):
        move_request_decide(
            request=request, accept=True, new_start=SUNDAY_10, answer="", by=clinician, now=NOW
        )
    request.refresh_from_db()
    assert request.status == "pending"
    move_request_decide(
        request=request,
        accept=True,
        new_start=SUNDAY_10,
        answer="",
        by=clinician,
        now=NOW,
        override_reason="Opened specially",
    )
    request.refresh_from_db()
    assert request.status == "accepted"
    assert request.session.override_reason == "Opened specially"


def test_the_move_request_page_accepts_and_shows_conflicts(clinician_client, move):
    request, _alert = move
    url = reverse("care:move-request", args=[request.pk])

    page = clinician_client.get(url)
    assert page.status_code == 200
    assert "Tuesday mornings" in page.content.decode()

    conflict = clinician_client.post(url, {"decision": "accept", "new_start": "2030-06-16T10:00"})
    assert conflict.status_code == 200
    assert "closed on Sundays" in conflict.content.decode()
    assert "Nearest free times" in conflict.content.decode()

    refused = clinician_client.post(url, {"decision": "decline"})
    assert "Tell the patient why" in refused.content.decode()

    done = clinician_client.post(url, {"decision": "accept", "new_start": "2030-06-18T11:00"})
    assert done.status_code == 302
    request.refresh_from_db()
    assert request.moved_to == datetime(2030, 6, 18, 15, 0, tzinfo=UTC)


def test_a_pending_request_shows_on_the_patient_page_and_the_day_view(
    clinician_client, move, patient
):
    request, _alert = move
    answer = reverse("care:move-request", args=[request.pk])
    patient_page = clinician_client.get(reverse("care:patient-detail", args=[patient.public_id]))
    day = clinician_client.get(reverse("care:session-day", args=["2030-06-17"]))
    assert answer in patient_page.content.decode()
    assert answer in day.content.decode()


def test_another_clinics_move_request_is_not_found(client, move, other_clinician):
    request, _alert = move
    client.force_login(other_clinician)
    assert client.get(reverse("care:move-request", args=[request.pk])).status_code == 404


def test_a_time_outside_the_bookable_years_is_refused_as_input(clinician_client, patient, hours):
    response = clinician_client.post(
        reverse("care:session-new", args=[patient.public_id]),
        {"scheduled_at": "0001-01-01T10:00", "route": "iv"},
    )
    assert response.status_code == 200
    assert "between the years 2000 and 2099" in response.content.decode()
    api = clinician_client.post(
        f"/api/v1/patients/{patient.public_id}/sessions/",
        {"scheduled_at": "9999-12-31T23:59:00+00:00", "route": "iv"},
        "application/json",
    )
    assert api.status_code == 400
    assert not TreatmentSession.objects.exists()
