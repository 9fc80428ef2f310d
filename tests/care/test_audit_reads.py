"""Reads of patient data that the trail used to miss, refusals, and check-ins by link.

Lists (the API's sessions and alerts, the alert inbox, the sessions page, the outbox),
patients opened in the Django admin, ids of another clinic or patient asked for (recorded
as "denied", with the caller's clinic and the id asked for, never the other patient), and
a check-in sent through the reminder's link (recorded as by link, not signed in).
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from care.models import Alert, AuditEvent, TreatmentSession
from care.records.services import assessment_submit
from tests.care.test_audit_events import mark, new_events, only_event, summary
from tests.factories import PatientFactory, StaffFactory
from tests.notifications.test_checkin_link import FORM, NINE_NY, answers, link  # noqa: F401
from tests.notifications.test_outbox import file_mailer, send  # noqa: F401

pytestmark = pytest.mark.django_db

A = AuditEvent.Action
W = AuditEvent.What


@pytest.fixture
def records(patient):
    now = timezone.now()
    session = TreatmentSession.objects.create(
        patient=patient, scheduled_at=now + timedelta(days=1), route="iv"
    )
    alert = Alert.objects.create(
        patient=patient,
        kind="safety",
        priority="urgent",
        cause="c",
        reason="PHQ-9 item 9 answered 2",
        created_at=now,
    )
    return session, alert


@pytest.mark.parametrize(
    ("url", "what"),
    [("/api/v1/sessions/", W.SESSION), ("/api/v1/alerts/?state=all", W.ALERT)],
)
def test_the_api_session_and_alert_lists_are_recorded_as_reads(
    clinician_client, clinician, records, url, what
):
    start = mark()
    response = clinician_client.get(url)

    event = only_event(start)
    assert response.status_code == 200 and response.json()["results"]
    assert summary(event) == (clinician, "clinician", A.VIEWED, what, None, "api")
    assert event.clinic_id == clinician.staff_membership.clinic_id
    assert event.path == url.split("?")[0]


def test_a_refused_api_list_filter_records_nothing(clinician_client, records):
    start = mark()
    response = clinician_client.get("/api/v1/sessions/?patient=not-a-uuid")

    assert response.status_code == 400
    assert not new_events(start)


@pytest.mark.parametrize(
    ("url", "what"), [("/staff/alerts/", W.ALERT), ("/staff/sessions/", W.SESSION)]
)
def test_the_alert_inbox_and_sessions_pages_are_recorded_as_reads(
    clinician_client, clinician, records, url, what
):
    start = mark()
    response = clinician_client.get(url)

    assert response.status_code == 200
    assert summary(only_event(start)) == (clinician, "clinician", A.VIEWED, what, None, "page")


def test_the_outbox_page_is_recorded_as_a_read(file_mailer, clinician_client, clinician, patient):  # noqa: F811
    send(patient.user.email, "Your invitation")
    start = mark()

    response = clinician_client.get("/staff/outbox/")

    assert response.status_code == 200
    assert summary(only_event(start)) == (clinician, "clinician", A.VIEWED, W.OUTBOX, None, "page")


def test_patient_reads_in_the_django_admin_are_recorded(client, operator, patient):
    client.force_login(operator)
    start = mark()

    listed = client.get("/admin/care/patient/")
    opened = client.get(f"/admin/care/patient/{patient.pk}/change/")

    assert listed.status_code == opened.status_code == 200
    the_list, the_patient = new_events(start)
    assert summary(the_list) == (operator, "other", A.VIEWED, W.PATIENT, None, "admin")
    assert summary(the_patient) == (operator, "other", A.VIEWED, W.PATIENT, patient, "admin")
    assert the_patient.clinic_id == patient.clinic_id
    assert the_patient.object_id == str(patient.public_id)


def test_a_patient_changed_in_the_django_admin_is_recorded(client, operator, patient):
    client.force_login(operator)
    url = f"/admin/care/patient/{patient.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data |= {"preferred_name": "Robin", "conditions": patient.conditions}
    start = mark()

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert summary(only_event(start)) == (operator, "other", A.CHANGED, W.PATIENT, patient, "admin")


def test_a_patients_account_and_invitation_in_the_django_admin_are_reads_of_the_patient(
    client, operator, patient
):
    from care.accounts.services import invitation_create

    invitation = invitation_create(user=patient.user, created_by=None, now=timezone.now())
    client.force_login(operator)
    start = mark()

    client.get(f"/admin/care/user/{patient.user.pk}/change/")
    client.get(f"/admin/care/invitation/{invitation.pk}/change/")
    client.get(f"/admin/care/user/{operator.pk}/change/")

    account, invited, someone = new_events(start)
    assert summary(account) == (operator, "other", A.VIEWED, W.ACCOUNT, patient, "admin")
    assert summary(invited) == (operator, "other", A.VIEWED, W.ACCOUNT, patient, "admin")
    assert summary(someone) == (operator, "other", A.VIEWED, W.ACCOUNT, None, "admin")


@pytest.mark.parametrize(
    ("path", "what", "asked"),
    [
        ("/staff/patients/{public_id}/", W.PATIENT, "public_id"),
        ("/staff/patients/{public_id}/edit/", W.PATIENT, "public_id"),
        ("/api/v1/patients/{public_id}/trends/", W.PATIENT, "public_id"),
        ("/staff/sessions/{session_id}/record/", W.SESSION, "session_id"),
        ("/staff/alerts/{alert_id}/acknowledge/", W.ALERT, "alert_id"),
    ],
)
def test_staff_of_another_clinic_asking_for_a_record_are_recorded_as_denied(
    client, other_clinician, patient, records, path, what, asked
):
    session, alert = records
    ids = {"public_id": patient.public_id, "session_id": session.pk, "alert_id": alert.pk}
    client.force_login(other_clinician)
    url = path.format(**ids)
    start = mark()

    response = client.post(url) if "acknowledge" in url else client.get(url)

    event = only_event(start)
    channel = "api" if url.startswith("/api/") else "page"
    assert response.status_code == 404
    assert summary(event) == (other_clinician, "clinician", A.DENIED, what, None, channel)
    # The caller's own clinic and the id asked for; nothing of the other clinic's patient.
    assert event.clinic_id == other_clinician.staff_membership.clinic_id
    assert event.object_id == str(ids[asked])


def test_a_patient_asking_for_another_patients_result_is_recorded_as_denied(
    client, patient, other_patient
):
    result = assessment_submit(
        patient=other_patient,
        instrument_code="gad7",
        answers={str(n): 0 for n in range(1, 8)},
        difficulty=None,
        client_id=None,
        entered_by=other_patient.user,
        now=timezone.now(),
    ).assessment
    client.force_login(patient.user)
    start = mark()

    response = client.get(f"/me/results/{result.public_id}/")

    assert response.status_code == 404
    event = only_event(start)
    assert summary(event) == (patient.user, "patient", A.DENIED, W.ASSESSMENT, None, "page")
    assert event.object_id == str(result.public_id)


def test_a_checkin_through_the_emailed_link_is_recorded_as_by_link_not_signed_in(
    client,
    link,  # noqa: F811
):
    patient, path = link
    with time_machine.travel(NINE_NY + timedelta(hours=2), tick=False):
        client.get(path)
        start = mark()
        client.post(FORM, answers())

    event = only_event(start)
    assert summary(event) == (patient.user, "patient", A.CREATED, W.CHECKIN, patient, "link")
    assert event.get_channel_display() == "E-mailed link, not signed in"


def test_the_audit_page_itself_is_recorded_as_a_read(client, clinic):
    admin = StaffFactory(clinic=clinic, role="admin").user
    PatientFactory(clinic=clinic)
    client.force_login(admin)
    start = mark()

    client.get("/staff/audit/")

    assert summary(only_event(start)) == (admin, "admin", A.VIEWED, W.AUDIT, None, "page")


def test_an_acknowledgement_form_sent_back_with_its_alert_is_a_read_of_the_alert(
    clinician_client, clinician, patient, records
):
    _, alert = records
    start = mark()

    response = clinician_client.post(f"/staff/alerts/{alert.pk}/acknowledge/", {"action": ""})

    event = only_event(start)
    assert response.status_code == 400 and alert.reason in response.content.decode()
    assert summary(event) == (clinician, "clinician", A.VIEWED, W.ALERT, patient, "page")
    assert event.object_id == str(alert.pk)


@pytest.mark.parametrize(
    ("path", "what", "shown"),
    [
        ("/staff/patients/{public_id}/edit/", W.PATIENT, "public_id"),
        ("/staff/patients/{public_id}/sessions/new/", W.SESSION, ""),
        ("/staff/sessions/{session_id}/", W.SESSION, "session_id"),
        ("/staff/sessions/{session_id}/record/", W.SESSION, "session_id"),
    ],
)
def test_a_patient_or_session_form_sent_back_with_errors_is_a_read_of_the_patient(
    clinician_client, clinician, patient, records, path, what, shown
):
    session, _ = records
    ids = {"public_id": patient.public_id, "session_id": session.pk, "": ""}
    start = mark()

    response = clinician_client.post(path.format(**ids), {"scheduled_at": "not a time"})

    assert response.status_code == 200 and response.context["form"].errors
    event = only_event(start)
    assert summary(event) == (clinician, "clinician", A.VIEWED, what, patient, "page")
    assert event.object_id == str(ids[shown])
