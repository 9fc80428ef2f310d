"""Notices of new messages (notifications/dispatch/messages.py): to the other side of a
thread, no words, at most one an hour per thread and recipient, staff only while open."""

from datetime import UTC, datetime, timedelta

import pytest

from care.messages.services import (
    message_post,
    message_thread_assign,
    message_thread_read,
    message_thread_start,
)
from notifications.dispatch.messages import message_notices_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.sending import delivery_send
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

# A Wednesday, 15:00 in New York (the factories' clinic zone is set below).
NOW = datetime(2026, 3, 18, 19, 0, tzinfo=UTC)
MARKER = "zebra-marker-9413"


@pytest.fixture
def thread(patient):
    ReminderPreference.objects.get_or_create(patient=patient)
    return message_thread_start(
        patient=patient, subject=f"subject {MARKER}", body=f"body {MARKER}", urgent=False, now=NOW
    ).message.thread


def notices(kind=None):
    rows = Delivery.objects.filter(kind__in=[kind] if kind else ["message", "message_staff"])
    return list(rows.order_by("id").values_list("kind", "to_email", "due_at"))


def test_the_care_team_is_told_of_a_patients_message_once(thread, clinician, clinic):
    other = StaffFactory(clinic=clinic).user

    assert message_notices_dispatch(now=NOW) == 2  # unassigned: every clinician
    assert message_notices_dispatch(now=NOW + timedelta(minutes=1)) == 0  # the same message

    assert sorted(to for _, to, _ in notices("message_staff")) == sorted(
        [clinician.email, other.email]
    )
    assert {row.thread_id for row in Delivery.objects.all()} == {thread.pk}


def test_an_assigned_thread_tells_only_its_clinician(thread, clinician, clinic):
    StaffFactory(clinic=clinic)
    message_thread_assign(thread=thread, to=clinician, by=clinician, now=NOW)

    message_notices_dispatch(now=NOW)

    assert [to for _, to, _ in notices("message_staff")] == [clinician.email]


def test_the_patient_is_told_of_a_reply_and_the_email_has_no_words(
    thread, patient, clinician, mailoutbox
):
    message_thread_read(thread=thread, by=clinician, now=NOW)
    message_post(thread=thread, by=clinician, body=f"reply {MARKER}", now=NOW)
    message_post(thread=thread, by=clinician, body="a staff note", staff_note=True, now=NOW)

    assert message_notices_dispatch(now=NOW) == 1
    (delivery,) = Delivery.objects.filter(kind="message")
    assert (delivery.to_email, delivery.patient_id) == (patient.user.email, patient.pk)
    assert delivery_send(delivery_id=delivery.id, now=NOW) == "sent"

    (mail,) = mailoutbox
    text = mail.subject + mail.body + mail.alternatives[0][0]
    assert MARKER not in text and "subject" not in mail.subject.lower()
    assert f"/me/messages/{thread.public_id}/" in mail.body
    assert "list-unsubscribe" in {k.lower() for k in mail.extra_headers}


def test_at_most_one_notice_an_hour_per_thread_and_recipient(thread, patient, clinician):
    message_thread_read(thread=thread, by=clinician, now=NOW)
    message_post(thread=thread, by=clinician, body="one", now=NOW)
    assert message_notices_dispatch(now=NOW) == 1

    later = NOW + timedelta(minutes=20)
    message_post(thread=thread, by=clinician, body="two", now=later)
    assert message_notices_dispatch(now=later) == 0  # capped

    hour_on = NOW + timedelta(minutes=61)
    assert message_notices_dispatch(now=hour_on) == 1  # still unread: one more
    assert [due for _, _, due in notices("message")] == [NOW, later]


def test_a_message_read_before_its_notice_goes_is_skipped(thread, clinician):
    message_notices_dispatch(now=NOW)
    message_thread_read(thread=thread, by=clinician, now=NOW)

    for delivery in Delivery.objects.filter(kind="message_staff"):
        delivery_send(delivery_id=delivery.id, now=NOW)

    assert set(Delivery.objects.values_list("status", "skip_reason")) == {("skipped", "read")}


def test_the_care_team_is_told_only_while_the_clinic_is_open(thread, clinic, clinician):
    clinic.tz = "America/New_York"
    clinic.opening_hours = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed")}
    clinic.save()
    evening = datetime(2026, 3, 18, 23, 0, tzinfo=UTC)  # 19:00 in New York: closed

    assert message_notices_dispatch(now=evening) == 0
    assert message_notices_dispatch(now=NOW) == 1  # 15:00: open


def test_a_patient_who_takes_no_emails_of_this_kind_gets_none(thread, patient, clinician):
    ReminderPreference.objects.filter(patient=patient).update(unsubscribed=["message"])
    message_thread_read(thread=thread, by=clinician, now=NOW)
    message_post(thread=thread, by=clinician, body="reply", now=NOW)
    message_notices_dispatch(now=NOW)

    (delivery,) = Delivery.objects.filter(kind="message")
    delivery_send(delivery_id=delivery.id, now=NOW)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.skip_reason) == ("skipped", "unsubscribed")


def test_the_dispatch_reads_a_fixed_number_of_statements(
    patient, clinician, clinic, django_assert_max_num_queries
):
    from tests.factories import PatientFactory

    ReminderPreference.objects.get_or_create(patient=patient)
    for _ in range(12):
        message_thread_start(
            patient=PatientFactory(clinic=clinic), subject="s", body="b", urgent=False, now=NOW
        )
    # The threads, the recent notices, the clinicians, the insert (and its check).
    with django_assert_max_num_queries(8):
        assert message_notices_dispatch(now=NOW) == 12


def test_messages_written_while_closed_are_in_the_morning_digest(
    thread, clinic, clinician, mailoutbox
):
    """No notice while the clinic is closed; the digest counts the conversation, and goes
    even with no open alert."""
    from notifications.dispatch.alerts import digests_dispatch

    clinic.tz = "America/New_York"
    clinic.opening_hours = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu")}
    clinic.save()
    morning = datetime(2026, 3, 19, 11, 45, tzinfo=UTC)  # 07:45 in New York, before opening

    assert message_notices_dispatch(now=morning) == 0
    digests_dispatch(now=morning)
    (digest,) = Delivery.objects.filter(kind="digest", recipient=clinician)
    assert delivery_send(delivery_id=digest.id, now=morning) == "sent"

    (mail,) = mailoutbox
    assert "Conversations with unread messages: 1." in mail.body
    assert "/staff/messages/" in mail.body and MARKER not in mail.body


def test_no_notice_reveals_the_kind_of_care(thread, patient, clinician, mailoutbox):
    from care.models import REVEALING_WORDS

    def send_all(now):
        for delivery in Delivery.objects.filter(status="pending"):
            assert delivery_send(delivery_id=delivery.id, now=now) == "sent"

    message_notices_dispatch(now=NOW)  # the care team's
    send_all(NOW)
    message_thread_read(thread=thread, by=clinician, now=NOW)
    message_post(thread=thread, by=clinician, body="reply", now=NOW)
    message_notices_dispatch(now=NOW)  # the patient's
    send_all(NOW)

    assert {m.to[0] for m in mailoutbox} == {clinician.email, patient.user.email}
    for mail in mailoutbox:
        text = (mail.subject + mail.body + mail.alternatives[0][0]).lower()
        assert [word for word in REVEALING_WORDS if word in text] == [], mail.subject
