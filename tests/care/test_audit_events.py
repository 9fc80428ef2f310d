"""The audit trail records who viewed, exported or changed which patient's data, and how.

Every event is checked for its actor, role, action, record kind, patient, clinic and
channel, and a marker planted in the health data (notes) must appear in no audit column.
"""

import re
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from care.alerts.services import alert_raise
from care.domain.rules import AlertDraft
from care.exports.services import export_job_run
from care.models import Alert, AuditEvent, ExportJob, TreatmentSession
from care.records.services import checkin_submit
from care.treatment.services import session_cancel
from tests.care.test_enrollment import edit_data, enrollment_data
from tests.care.test_patient_pages import checkin_post, phq9_post
from tests.care.test_sessions import record_data
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

A = AuditEvent.Action
W = AuditEvent.What
MARKER = "zq-health-marker-7731"


def mark() -> int:
    """The newest event's id (signing in a test client is an event too)."""
    last = AuditEvent.objects.order_by("-id").first()
    return last.id if last else 0


def new_events(start: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=start).order_by("id"))


def only_event(start: int) -> AuditEvent:
    [event] = new_events(start)
    return event


def summary(event: AuditEvent) -> tuple:
    return (event.actor, event.actor_role, event.action, event.what, event.patient, event.channel)


def assert_no_marker() -> None:
    for row in AuditEvent.objects.values():
        assert not [k for k, v in row.items() if MARKER in str(v)], row


@pytest.fixture
def admin_client(client, clinic_admin):
    client.force_login(clinic_admin)
    return client


@pytest.fixture
def session(patient):
    return TreatmentSession.objects.create(
        patient=patient, scheduled_at=timezone.now() - timedelta(hours=1), route="iv"
    )


def test_the_patient_page_is_recorded_with_who_what_when_where_and_how(
    clinician_client, clinician, patient
):
    start = mark()
    before = timezone.now()
    clinician_client.get(reverse("care:patient-detail", args=[patient.public_id]) + "?tab=x")

    event = only_event(start)
    assert summary(event) == (clinician, "clinician", A.VIEWED, W.PATIENT, patient, "page")
    assert event.clinic_id == patient.clinic_id
    assert event.object_id == str(patient.public_id)
    assert event.actor_email == clinician.email
    assert event.path == f"/staff/patients/{patient.public_id}/"  # no query string
    assert event.ip == "127.0.0.1"
    assert before <= event.at <= timezone.now()


def test_the_caseload_page_and_api_are_one_event_each_without_a_patient(
    clinician_client, clinician, patient
):
    start = mark()
    clinician_client.get("/staff/patients/")
    clinician_client.get("/api/v1/patients/")

    page, api = new_events(start)
    assert summary(page) == (clinician, "clinician", A.VIEWED, W.CASELOAD, None, "page")
    assert summary(api) == (clinician, "clinician", A.VIEWED, W.CASELOAD, None, "api")
    assert page.clinic_id == api.clinic_id == clinician.staff_membership.clinic_id


@pytest.mark.parametrize(
    ("suffix", "action", "what"), [("trends/", A.VIEWED, W.TRENDS), ("fhir/", A.EXPORTED, W.FHIR)]
)
def test_api_reads_of_one_patient_are_recorded(
    clinician_client, clinician, patient, suffix, action, what
):
    start = mark()
    response = clinician_client.get(f"/api/v1/patients/{patient.public_id}/{suffix}")

    event = only_event(start)
    assert response.status_code == 200
    assert summary(event) == (clinician, "clinician", action, what, patient, "api")
    assert event.path == f"/api/v1/patients/{patient.public_id}/{suffix}"


@pytest.mark.parametrize(
    ("records", "what"),
    [("checkins", W.CHECKIN), ("assessments", W.ASSESSMENT), ("sessions", W.SESSION)],
)
def test_csv_exports_are_recorded_with_their_record_kind(
    clinician_client, clinician, patient, records, what
):
    start = mark()
    clinician_client.get(f"/staff/patients/{patient.public_id}/export.csv?records={records}")
    clinician_client.post("/staff/exports/", {"records": records})
    job = ExportJob.objects.get()
    export_job_run(job_id=job.pk)  # as the exports worker runs it: nothing to record
    response = clinician_client.get(f"/staff/exports/{job.public_id}/download.csv")
    b"".join(response.streaming_content)

    one, asked, clinic_wide, removed = new_events(start)
    assert summary(one) == (clinician, "clinician", A.EXPORTED, what, patient, "page")
    assert summary(asked) == (clinician, "clinician", A.CREATED, W.EXPORT_FILE, None, "page")
    assert summary(clinic_wide) == (clinician, "clinician", A.EXPORTED, what, None, "page")
    assert summary(removed) == (clinician, "clinician", A.REMOVED, W.EXPORT_FILE, None, "page")
    for event in (asked, clinic_wide, removed):
        assert event.clinic_id == patient.clinic_id
        assert event.object_id == str(job.public_id)


def test_an_export_refused_for_a_bad_kind_records_nothing(clinician_client, patient):
    start = mark()
    response = clinician_client.get(f"/staff/patients/{patient.public_id}/export.csv?records=all")
    assert response.status_code == 400
    response = clinician_client.post("/staff/exports/", {"records": "everything"})

    assert response.status_code == 302
    assert not new_events(start)


def test_a_patients_own_downloads_are_recorded(patient_client, patient):
    start = mark()
    patient_client.get("/me/export.json")
    patient_client.get("/me/export.csv?records=checkins")

    everything, checkins = new_events(start)
    me = patient.user
    assert summary(everything) == (me, "patient", A.EXPORTED, W.ALL_RECORDS, patient, "page")
    assert summary(checkins) == (me, "patient", A.EXPORTED, W.CHECKIN, patient, "page")
    assert everything.clinic_id == patient.clinic_id


def test_checkins_by_page_and_api_are_recorded_without_their_content(patient_client, patient):
    start = mark()
    patient_client.post("/me/checkin/", checkin_post(note=MARKER))
    patient_client.post("/me/checkin/", checkin_post(note=MARKER + " again"))
    body = {
        "client_id": str(uuid.uuid4()),
        "mood": 5,
        "anxiety": 4,
        "energy": 6,
        "sleep_hours": "6.5",
        "sleep_quality": 2,
        "side_effects": [],
        "has_self_harm_thoughts": True,
        "note": MARKER,
    }
    patient_client.post("/api/v1/checkins/", body, content_type="application/json")
    patient_client.post("/api/v1/checkins/", body, content_type="application/json")  # a retry

    created, changed, by_api = new_events(start)
    me, checkin = patient.user, patient.checkins.get()
    assert summary(created) == (me, "patient", A.CREATED, W.CHECKIN, patient, "page")
    assert summary(changed) == (me, "patient", A.CHANGED, W.CHECKIN, patient, "page")
    assert summary(by_api) == (me, "patient", A.CHANGED, W.CHECKIN, patient, "api")
    assert created.object_id == by_api.object_id == str(checkin.pk)
    assert_no_marker()


def test_questionnaires_by_page_and_api_are_recorded(patient_client, patient):
    start = mark()
    patient_client.post("/me/questionnaires/phq9/", phq9_post(item_9="2"))
    answers = {str(n): 1 for n in range(1, 8)}
    patient_client.post(
        "/api/v1/assessments/",
        {"instrument": "gad7", "answers": answers},
        content_type="application/json",
    )

    page, api = new_events(start)
    me = patient.user
    phq9, gad7 = patient.assessments.order_by("instrument").reverse()
    assert summary(page) == (me, "patient", A.CREATED, W.ASSESSMENT, patient, "page")
    assert summary(api) == (me, "patient", A.CREATED, W.ASSESSMENT, patient, "api")
    assert (page.object_id, api.object_id) == (str(phq9.public_id), str(gad7.public_id))


def test_sessions_booked_moved_recorded_and_cancelled_are_recorded(
    clinician_client, clinician, patient, session
):
    start = mark()
    clinician_client.post(
        reverse("care:session-new", args=[patient.public_id]),
        {"scheduled_at": "2026-07-01T10:00", "route": "iv"},
    )
    booked = TreatmentSession.objects.exclude(pk=session.pk).get()
    clinician_client.post(
        reverse("care:session-edit", args=[booked.pk]),
        {"scheduled_at": "2026-07-02T10:00", "route": "iv"},
    )
    clinician_client.post(
        reverse("care:session-record", args=[session.pk]),
        record_data(notes=MARKER, adverse_events=MARKER),
    )
    clinician_client.post(reverse("care:session-cancel", args=[booked.pk]), {"status": "no_show"})
    clinician_client.post(
        reverse("care:session-edit", args=[booked.pk]),
        {"scheduled_at": "2026-07-03T10:00", "route": "iv"},
    )
    clinician_client.post(reverse("care:session-cancel", args=[booked.pk]), {"status": "cancelled"})

    events = new_events(start)
    assert [(e.action, e.object_id) for e in events] == [
        (A.CREATED, str(booked.pk)),
        (A.CHANGED, str(booked.pk)),
        (A.RECORDED, str(session.pk)),
        (A.CHANGED, str(booked.pk)),  # a no-show
        (A.CHANGED, str(booked.pk)),
        (A.CANCELLED, str(booked.pk)),
    ]
    assert {summary(e)[:2] + summary(e)[3:] for e in events} == {
        (clinician, "clinician", W.SESSION, patient, "page")
    }
    assert_no_marker()


def test_a_refused_change_records_nothing(clinician_client, session):
    start = mark()
    session.status = TreatmentSession.Status.COMPLETED
    session.save()

    clinician_client.post(reverse("care:session-cancel", args=[session.pk]), {"status": "no_show"})

    assert not new_events(start)


def test_enrollment_patient_edits_and_invitations_are_recorded(
    clinician_client, clinician, patient
):
    start = mark()
    clinician_client.post("/staff/patients/new/", enrollment_data(clinician))
    clinician_client.post(
        reverse("care:patient-edit", args=[patient.public_id]), edit_data(patient)
    )
    patient.user.is_active = False
    patient.user.save()
    clinician_client.post(reverse("care:invitation-resend", args=[patient.public_id]))

    enrolled, edited, invited = new_events(start)
    assert summary(enrolled)[:4] == (clinician, "clinician", A.ENROLLED, W.PATIENT)
    assert enrolled.patient.user.email == "robin@example.org"
    assert summary(edited) == (clinician, "clinician", A.CHANGED, W.PATIENT, patient, "page")
    assert summary(invited) == (
        clinician,
        "clinician",
        A.INVITATION_SENT,
        W.PATIENT,
        patient,
        "page",
    )


def test_team_changes_and_clinic_settings_are_recorded(admin_client, clinic_admin, clinic):
    start = mark()
    admin_client.post(
        "/staff/team/new/",
        {"full_name": "Jamie Doe", "email": "jamie@example.org", "role": "clinician"},
    )
    member = clinic.staff.get(user__email="jamie@example.org")
    url = reverse("care:staff-edit", args=[member.pk])
    admin_client.post(url, {"resend": "1"})
    admin_client.post(url, {"role": "admin", "title": "RN", "is_active": "on"})
    admin_client.post(url, {"role": "admin", "title": "RN", "is_active": ""})
    admin_client.post(url, {"role": "admin", "title": "RN", "is_active": "on"})
    admin_client.post(
        "/staff/clinic/",
        {
            "name": "Lakeside",
            "email_sender_name": "Lakeside Team",
            "tz": "America/Chicago",
            "on_call_email": "",
            "default_checkin_time": "18:30",
            "alert_response_minutes": "20",
            "missed_checkin_days": "2",
            "message_response_hours": "8",
            "bp_hold_systolic": "150",
            "bp_hold_diastolic": "95",
            "treatment_chairs": "2",
            "session_minutes": "120",
            "weight_max_age_days": "90",
            "dose_margin_percent": "10",
            "country": "US",
        },
    )

    events = new_events(start)
    assert [(e.action, e.what, e.object_id) for e in events] == [
        (A.CREATED, W.STAFF, str(member.pk)),
        (A.INVITATION_SENT, W.STAFF, str(member.pk)),
        (A.CHANGED, W.STAFF, str(member.pk)),
        (A.DEACTIVATED, W.STAFF, str(member.pk)),
        (A.REACTIVATED, W.STAFF, str(member.pk)),
        (A.CHANGED, W.CLINIC, str(clinic.pk)),
    ]
    assert {(e.actor, e.actor_role, e.patient, e.clinic_id) for e in events} == {
        (clinic_admin, "admin", None, clinic.pk)
    }


def test_alert_acknowledgements_by_page_and_api_are_recorded(clinician_client, clinician, patient):
    start = mark()
    now = timezone.now()
    first, second = (
        alert_raise(patient=patient, draft=AlertDraft("safety", "urgent", cause, "r"), now=now)
        for cause in ("a", "b")
    )

    clinician_client.post(
        reverse("care:alert-acknowledge", args=[first.pk]),
        {"action": "called_patient", "note": MARKER},
    )
    clinician_client.post(
        f"/api/v1/alerts/{second.pk}/acknowledge/",
        {"action": "other", "note": MARKER},
        content_type="application/json",
    )

    page, api = new_events(start)
    assert summary(page) == (clinician, "clinician", A.ACKNOWLEDGED, W.ALERT, patient, "page")
    assert summary(api) == (clinician, "clinician", A.ACKNOWLEDGED, W.ALERT, patient, "api")
    assert (page.object_id, api.object_id) == (str(first.pk), str(second.pk))
    assert Alert.objects.filter(acknowledged_at__isnull=False).count() == 2
    assert_no_marker()


def test_services_outside_a_request_record_the_system_channel(patient, session):
    start = mark()
    checkin_submit(patient=patient, values=checkin_values(), client_id=None, now=timezone.now())
    session_cancel(session=session, status="cancelled")

    by_patient, by_system = new_events(start)
    assert summary(by_patient) == (patient.user, "patient", A.CREATED, W.CHECKIN, patient, "system")
    assert summary(by_system) == (None, "system", A.CANCELLED, W.SESSION, patient, "system")
    assert (by_system.path, by_system.ip) == ("", None)


def checkin_values(**overrides):
    values = {
        "mood": 5,
        "anxiety": 5,
        "energy": 5,
        "sleep_hours": 7,
        "sleep_quality": 2,
        "side_effects": [],
        "has_self_harm_thoughts": False,
        "note": MARKER,
    }
    return values | overrides


def test_a_change_that_rolls_back_leaves_no_audit_row(patient):
    start = mark()

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        checkin_submit(patient=patient, values=checkin_values(), client_id=None, now=timezone.now())
        assert len(new_events(start)) == 1  # written in the same transaction ...
        raise Boom

    assert not new_events(start)  # ... and gone with it
    assert not patient.checkins.exists()


def test_an_admin_is_recorded_with_the_admin_role(client, clinic, patient):
    admin = StaffFactory(clinic=clinic, role="admin").user
    client.force_login(admin)
    start = mark()

    client.get(reverse("care:patient-detail", args=[patient.public_id]))

    assert only_event(start).actor_role == "admin"


def test_the_security_doc_names_only_audit_actions_that_exist():
    # docs/security.md names actions as `code`; a renamed or dropped action must not linger.
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    # An action is written `value` ("Label") or `value`, "Label".
    named = set(re.findall(r'`([a-z]+(?:_[a-z]+)*)`(?:,| \()\s*"', doc))
    actions = {value for value, _ in AuditEvent.Action.choices}

    assert named, 'the doc names no action in the form `code` ("Label")'
    assert named <= actions
