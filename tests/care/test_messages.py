"""Messages between a patient and their care team: services, pages, access and audit."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from care.domain.messages import TextInvalid
from care.messages.selectors import clinic_threads_list
from care.messages.services import (
    NotAllowed,
    message_post,
    message_thread_assign,
    message_thread_handle,
    message_thread_read,
    message_thread_reopen,
    message_thread_start,
)
from care.models import Alert, AuditEvent, Message, MessageThread
from tests.factories import PatientFactory, StaffFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 20, 15, tzinfo=UTC)
NOTE = "Staff-only: spoke to pharmacy about the refill"


def start(patient, *, subject="About my next session", body="Can I move it?", urgent=False):
    return message_thread_start(
        patient=patient, subject=subject, body=body, urgent=urgent, now=NOW
    ).message.thread


def audit_rows(**filters):
    return list(
        AuditEvent.objects.filter(what=AuditEvent.What.MESSAGE_THREAD, **filters)
        .order_by("id")
        .values_list("action", "actor_id", "object_id")
    )


# Services.


def test_a_patient_starts_a_thread_waiting_for_a_reply(patient):
    thread = start(patient, subject=" About\nmy session ", body="Line one\r\nline two ")

    [message] = thread.messages.all()
    assert (thread.subject, message.body) == ("About my session", "Line one\nline two")
    assert message.from_patient and not message.is_staff_note and not message.is_urgent
    assert thread.status == "open" and thread.waiting_since == thread.last_message_at == NOW
    assert (thread.staff_unread, thread.patient_unread, thread.is_urgent) == (1, 0, False)
    assert not Alert.objects.exists()
    sent = (AuditEvent.Action.SENT, patient.user_id, str(thread.public_id))
    assert audit_rows() == [sent]


@pytest.mark.parametrize(
    ("subject", "body"), [("", "text"), ("subject", " \n "), ("s", "x" * 2001), ("s" * 121, "x")]
)
def test_a_thread_needs_a_subject_and_a_message_within_limits(patient, subject, body):
    with pytest.raises(TextInvalid):
        start(patient, subject=subject, body=body)

    assert not MessageThread.objects.exists() and not Message.objects.exists()


def test_an_urgent_message_raises_one_urgent_alert_naming_no_words(patient):
    thread = start(patient, body="I feel unsafe tonight", urgent=True)

    [alert] = Alert.objects.all()
    assert (alert.kind, alert.priority, alert.patient) == ("message_urgent", "urgent", patient)
    assert alert.message_thread == thread and alert.acknowledged_at is None
    assert "unsafe" not in alert.reason and "urgent" in alert.reason
    assert thread.is_urgent and thread.messages.get().is_urgent


def test_a_care_team_reply_answers_the_patient(patient, clinician):
    thread = start(patient)

    message_post(thread=thread, by=clinician, body="Yes, Tuesday works.", now=NOW + timedelta(1))

    thread.refresh_from_db()
    assert thread.waiting_since is None and thread.last_message_at == NOW + timedelta(1)
    assert (thread.staff_unread, thread.patient_unread) == (1, 1)
    assert not thread.messages.last().from_patient


def test_a_staff_note_is_no_reply_and_moves_nothing_the_patient_sees(patient, clinician):
    thread = start(patient)

    message_post(thread=thread, by=clinician, body=NOTE, staff_note=True, now=NOW + timedelta(1))

    thread.refresh_from_db()
    assert thread.waiting_since == thread.last_message_at == NOW
    assert thread.patient_unread == 0
    assert audit_rows(action=AuditEvent.Action.NOTE_ADDED) == [
        (AuditEvent.Action.NOTE_ADDED, clinician.pk, str(thread.public_id))
    ]


def test_the_patients_next_message_keeps_the_first_unanswered_time_and_reopens(patient, clinician):
    thread = start(patient)
    later = NOW + timedelta(hours=2)
    assert message_thread_handle(thread=thread, by=clinician, now=NOW + timedelta(hours=1))

    message_post(thread=thread, by=patient.user, body="Also: parking?", now=later)

    thread.refresh_from_db()
    assert thread.waiting_since == NOW and thread.last_message_at == later
    assert (thread.status, thread.handled_at, thread.handled_by) == ("open", None, None)
    assert thread.staff_unread == 2


def test_a_reply_marked_urgent_raises_its_own_alert(patient):
    thread = start(patient, urgent=True)

    posted = message_post(thread=thread, by=patient.user, body="Worse now", urgent=True, now=NOW)

    assert posted.alert is not None and Alert.objects.filter(kind="message_urgent").count() == 2


@pytest.mark.parametrize("how", ["urgent", "not_staff", "other_clinic", "deactivated"])
def test_only_the_patient_marks_urgent_and_only_their_care_team_replies(
    patient, clinician, other_clinician, other_patient, how
):
    thread = start(patient)
    by = {
        "urgent": clinician,
        "not_staff": other_patient.user,
        "other_clinic": other_clinician,
        "deactivated": StaffFactory(clinic=patient.clinic, deactivated_at=NOW).user,
    }[how]

    with pytest.raises(NotAllowed):
        message_post(thread=thread, by=by, body="x", urgent=how == "urgent", now=NOW)
    assert thread.messages.count() == 1


def test_a_patient_cannot_add_a_staff_note(patient):
    thread = start(patient)

    with pytest.raises(NotAllowed):
        message_post(thread=thread, by=patient.user, body="x", staff_note=True, now=NOW)


def test_reading_resets_each_sides_unread_count_and_only_staff_reads_are_audited(
    patient, clinician
):
    thread = start(patient)
    message_post(thread=thread, by=clinician, body="Reply", now=NOW)
    before = audit_rows(action=AuditEvent.Action.VIEWED)

    message_thread_read(thread=thread, by=patient.user, now=NOW + timedelta(1))
    assert audit_rows(action=AuditEvent.Action.VIEWED) == before == []
    message_thread_read(thread=thread, by=clinician, now=NOW + timedelta(2))

    thread.refresh_from_db()
    assert (thread.staff_unread, thread.patient_unread) == (0, 0)
    assert thread.patient_read_at == NOW + timedelta(1)
    viewed = (AuditEvent.Action.VIEWED, clinician.pk, str(thread.public_id))
    assert audit_rows(action=AuditEvent.Action.VIEWED) == [viewed]


def test_assign_handle_and_reopen_are_recorded_once_each(patient, clinician, clinic_admin):
    thread = start(patient)

    message_thread_assign(thread=thread, to=clinician, by=clinic_admin, now=NOW)
    assert message_thread_handle(thread=thread, by=clinician, now=NOW)
    assert not message_thread_handle(thread=thread, by=clinic_admin, now=NOW)
    assert message_thread_reopen(thread=thread, by=clinician, now=NOW)
    assert not message_thread_reopen(thread=thread, by=clinician, now=NOW)

    thread.refresh_from_db()
    assert (thread.assigned_to, thread.status, thread.handled_at) == (clinician, "open", None)
    assert [a for a, _, _ in audit_rows()][1:] == ["assigned", "handled", "reopened"]


def test_a_thread_is_assigned_only_to_the_patients_care_team(patient, clinician, other_clinician):
    thread = start(patient)

    with pytest.raises(NotAllowed):
        message_thread_assign(thread=thread, to=other_clinician, by=clinician, now=NOW)
    with pytest.raises(NotAllowed):
        message_thread_assign(thread=thread, to=patient.user, by=clinician, now=NOW)


def test_the_inbox_states(patient, other_patient, clinician, clinic):
    unread = start(patient, subject="unread")
    answered = start(other_patient, subject="answered")
    message_post(thread=answered, by=clinician, body="ok", now=NOW)
    message_thread_read(thread=answered, by=clinician, now=NOW)
    handled = start(patient, subject="handled")
    message_thread_handle(thread=handled, by=clinician, now=NOW)
    message_thread_read(thread=handled, by=clinician, now=NOW)
    urgent = message_thread_start(
        patient=other_patient, subject="urgent", body="b", urgent=True, now=NOW + timedelta(1)
    ).message.thread
    message_thread_assign(thread=urgent, to=clinician, by=clinician, now=NOW)

    def subjects(state, **kwargs):
        return [t.subject for t in clinic_threads_list(clinic=clinic, state=state, **kwargs)]

    assert subjects("unread") == ["urgent", "unread"]  # urgent first
    assert subjects("waiting") == ["urgent", "unread"]  # handled and answered are not
    assert sorted(subjects("all")) == sorted(t.subject for t in (unread, answered, handled, urgent))
    assert subjects("all", assigned_to=clinician) == ["urgent"]


# Pages: the patient's.


def test_the_compose_page_says_when_messages_are_read_before_the_text_box(patient_client):
    html = patient_client.get(reverse("care:my-message-new")).content.decode()

    notice = html.index("read by your care team during clinic hours")
    assert notice < html.index("<textarea")
    assert 'href="tel:988"' in html[notice : html.index("<textarea")]
    assert "Is this urgent?" in html


def test_a_patient_sends_a_message_and_reads_the_reply(patient_client, patient, clinician):
    response = patient_client.post(
        reverse("care:my-message-new"),
        {"subject": "Refill", "body": "I am running low.", "urgent": "no"},
    )
    thread = MessageThread.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("care:my-message-thread", args=[thread.public_id])
    assert "Refill" not in response["Location"]
    message_post(thread=thread, by=clinician, body="Sent to the pharmacy.", now=NOW)
    message_post(thread=thread, by=clinician, body=NOTE, staff_note=True, now=NOW)

    listing = patient_client.get(reverse("care:my-messages")).content.decode()
    page = patient_client.get(response["Location"]).content.decode()

    assert "Refill" in listing and "New reply" in listing
    assert "I am running low." in page and "Sent to the pharmacy." in page
    assert NOTE not in page and "Staff note" not in page
    assert "New reply" not in patient_client.get(reverse("care:my-messages")).content.decode()


def test_a_message_needs_the_urgent_question_answered(patient_client):
    response = patient_client.post(
        reverse("care:my-message-new"), {"subject": "Refill", "body": "Low."}
    )

    assert response.status_code == 400
    assert "Say whether this is urgent." in response.content.decode()
    assert not MessageThread.objects.exists()


def test_an_urgent_message_alerts_the_team_once_and_shows_the_crisis_resources(
    patient_client, patient
):
    response = patient_client.post(
        reverse("care:my-message-new"),
        {"subject": "Tonight", "body": "I do not feel safe.", "urgent": "yes"},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("care:crisis"), 302)]
    html = response.content.decode()
    assert "your care team has been alerted" in html
    assert html.index("your care team has been alerted") < html.index("988 Suicide")
    [alert] = Alert.objects.filter(patient=patient)
    assert (alert.kind, alert.priority) == ("message_urgent", "urgent")
    assert MessageThread.objects.get(patient=patient).messages.get().body == "I do not feel safe."


def test_an_urgent_reply_too(patient_client, patient):
    thread = start(patient)

    response = patient_client.post(
        reverse("care:my-message-thread", args=[thread.public_id]),
        {"body": "It got worse.", "urgent": "yes"},
    )

    assert response["Location"] == reverse("care:crisis")
    assert Alert.objects.filter(patient=patient, priority="urgent").count() == 1


def test_a_patient_never_reaches_another_patients_thread(client, patient, other_patient):
    theirs = start(other_patient)
    client.force_login(patient.user)

    url = reverse("care:my-message-thread", args=[theirs.public_id])
    assert client.get(url).status_code == 404
    assert client.post(url, {"body": "hi", "urgent": "no"}).status_code == 404
    assert theirs.messages.count() == 1
    assert client.get(reverse("care:my-message-thread", args=[uuid.uuid4()])).status_code == 404
    denied = AuditEvent.objects.filter(action="denied", what="message_thread", actor=patient.user)
    assert denied.count() == 3


def test_patients_never_reach_the_staff_pages_of_their_own_thread(patient_client, patient):
    thread = start(patient)

    for name in ("staff-message-thread", "staff-message-reply", "staff-message-note"):
        url = reverse(f"care:{name}", args=[thread.public_id])
        assert patient_client.post(url, {"body": "x", "note-body": "x"}).status_code == 404
    assert patient_client.get(reverse("care:staff-messages")).status_code == 404
    assert thread.messages.count() == 1


# Pages: the care team's.


def test_staff_read_a_thread_with_its_notes_and_each_opening_is_audited(
    clinician_client, clinician, patient
):
    thread = start(patient)
    message_post(thread=thread, by=clinician, body=NOTE, staff_note=True, now=NOW)
    url = reverse("care:staff-message-thread", args=[thread.public_id])

    pages = [clinician_client.get(url), clinician_client.get(url)]

    assert all(NOTE in p.content.decode() and "Can I move it?" in p.content.decode() for p in pages)
    assert "not shown to the patient" in pages[0].content.decode()
    viewed = audit_rows(action=AuditEvent.Action.VIEWED, actor=clinician)
    assert viewed == [(AuditEvent.Action.VIEWED, clinician.pk, str(thread.public_id))] * 2
    thread.refresh_from_db()
    assert thread.staff_unread == 0


def test_staff_reply_note_assign_and_handle_through_the_pages(clinician_client, clinician, patient):
    thread = start(patient)
    url = reverse("care:staff-message-thread", args=[thread.public_id])

    replied = clinician_client.post(f"{url}reply/", {"body": "Tuesday at 10?"})
    noted = clinician_client.post(f"{url}note/", {"note-body": NOTE})
    assigned = clinician_client.post(f"{url}assign/", {"assigned_to": clinician.pk})
    handled = clinician_client.post(f"{url}handled/")

    assert [r.status_code for r in (replied, noted, assigned, handled)] == [302] * 4
    thread.refresh_from_db()
    assert (thread.status, thread.assigned_to, thread.waiting_since) == ("handled", clinician, None)
    bodies = list(thread.messages.values_list("body", "is_staff_note"))
    assert bodies == [("Can I move it?", False), ("Tuesday at 10?", False), (NOTE, True)]
    assert clinician_client.post(f"{url}reopen/").status_code == 302
    thread.refresh_from_db()
    assert thread.status == "open"


def test_an_empty_reply_is_refused_and_the_thread_shown_again(clinician_client, patient):
    thread = start(patient)
    url = reverse("care:staff-message-thread", args=[thread.public_id])

    response = clinician_client.post(f"{url}reply/", {"body": "  \n "})

    assert response.status_code == 400 and "Write a message." in response.content.decode()
    assert thread.messages.count() == 1


def test_assigning_to_another_clinics_clinician_is_refused(
    clinician_client, patient, other_clinician
):
    thread = start(patient)
    url = reverse("care:staff-message-assign", args=[thread.public_id])

    response = clinician_client.post(url, {"assigned_to": other_clinician.pk})

    assert response.status_code == 400
    thread.refresh_from_db()
    assert thread.assigned_to is None


def test_another_clinics_staff_get_404_and_a_denied_row(client, patient, other_clinician):
    thread = start(patient)
    client.force_login(other_clinician)
    url = reverse("care:staff-message-thread", args=[thread.public_id])

    responses = [client.get(url)] + [
        client.post(f"{url}{action}/", {"body": "x", "note-body": "x", "assigned_to": ""})
        for action in ("reply", "note", "assign", "handled", "reopen")
    ]

    assert {r.status_code for r in responses} == {404}
    assert NOTE not in client.get(reverse("care:staff-messages") + "?state=all").content.decode()
    assert thread.messages.count() == 1
    thread.refresh_from_db()
    assert thread.status == "open"
    assert AuditEvent.objects.filter(actor=other_clinician, action="denied").count() == 6


def test_the_inbox_lists_the_clinics_threads_only(clinician_client, patient, foreign_patient):
    start(patient, subject="Ours")
    start(foreign_patient, subject="Theirs")

    html = clinician_client.get(reverse("care:staff-messages") + "?state=all").content.decode()

    assert "Ours" in html and "Theirs" not in html
    assert AuditEvent.objects.filter(action="viewed", what="message_thread", object_id="").exists()


def test_the_navigation_counts_unread_threads_with_words(clinician_client, patient):
    start(patient)
    start(patient)

    html = clinician_client.get(reverse("care:alert-inbox")).content.decode()

    assert 'Messages <span class="badge badge-high">2<span class="visually-hidden"> unread' in html


def test_the_patient_page_lists_the_threads(clinician_client, patient):
    thread = start(patient, subject="About my next session")

    html = clinician_client.get(reverse("care:patient-detail", args=[patient.public_id]))

    page = html.content.decode()
    assert "About my next session" in page and "1 unread" in page
    assert reverse("care:staff-message-thread", args=[thread.public_id]) in page


def test_the_urgent_alert_links_to_its_thread(clinician_client, patient):
    thread = start(patient, urgent=True)

    html = clinician_client.get(reverse("care:alert-inbox")).content.decode()

    assert "Urgent message" in html
    assert reverse("care:staff-message-thread", args=[thread.public_id]) in html


# The caseload.


def test_the_caseload_shows_unread_messages_per_patient_in_words(
    clinician_client, patient, other_patient
):
    thread = start(patient)
    message_post(thread=thread, by=patient.user, body="and another", now=NOW)
    start(patient)

    response = clinician_client.get(reverse("care:patient-list"))

    rows = {row.patient.pk: row.unread_messages for row in response.context["rows"]}
    assert rows == {patient.pk: 3, other_patient.pk: 0}
    assert "3 unread messages" in response.content.decode()


def test_an_urgent_message_brings_the_patient_to_the_top_of_the_caseload(clinician_client, clinic):
    first = PatientFactory(clinic=clinic, user__full_name="Aaron A")
    last = PatientFactory(clinic=clinic, user__full_name="Zoe Z")
    start(last, urgent=True)

    rows = clinician_client.get(reverse("care:patient-list")).context["rows"]

    assert [row.patient.pk for row in rows] == [last.pk, first.pk]


def test_the_caseloads_queries_do_not_grow_with_messages(clinician_client, clinic):
    patients = [PatientFactory(clinic=clinic) for _ in range(3)]
    with CaptureQueriesContext(connection) as few:
        clinician_client.get(reverse("care:patient-list"))
    for patient in patients + [PatientFactory(clinic=clinic) for _ in range(5)]:
        start(patient)
        start(patient)

    with CaptureQueriesContext(connection) as many:
        response = clinician_client.get(reverse("care:patient-list"))

    assert len(many.captured_queries) == len(few.captured_queries)
    assert sum(row.unread_messages for row in response.context["rows"]) == 16


def test_the_patient_is_told_of_a_new_reply_on_every_page(patient_client, patient, clinician):
    thread = start(patient)
    message_post(thread=thread, by=clinician, body="Reply", now=NOW)
    message_post(thread=thread, by=clinician, body=NOTE, staff_note=True, now=NOW)

    home = patient_client.get(reverse("care:me")).content.decode()

    assert '1<span class="visually-hidden"> with a new reply</span>' in home
    assert "Read the reply" in home
    patient_client.get(reverse("care:my-message-thread", args=[thread.public_id]))
    assert "with a new reply" not in patient_client.get(reverse("care:me")).content.decode()


def test_the_compose_notice_shows_the_clinics_hours_and_its_own_line_first(patient_client, patient):
    """With the clinic's hours and phones given: its hours in its zone, whether it is open,
    and its after-hours line before the country's lines while it is closed."""
    clinic = patient.clinic
    clinic.country = "AU"
    clinic.tz = "Australia/Sydney"
    clinic.phone = "+61290000000"
    clinic.after_hours_phone = "+61290000001"
    clinic.opening_hours = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu")}
    clinic.save()
    sunday = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)  # 12:00 on a Sunday in Sydney: closed

    with time_machine.travel(sunday, tick=False):
        html = patient_client.get(reverse("care:my-message-new")).content.decode()

    notice = html[html.index("Not for emergencies") : html.index("<textarea")]
    assert "Clinic hours (Australia/Sydney time)" in notice
    assert "09:00" in notice and "17:00" in notice
    lines = re.findall(r'href="tel:([^"]+)"', notice)
    assert lines[0] == "+61290000001"  # the after-hours line first: the clinic is closed
    assert "+61290000000" in lines and "000" in lines  # its main line; Australia's emergency
    assert "988" not in lines  # not the United States' lines
