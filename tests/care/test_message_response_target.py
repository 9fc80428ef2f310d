"""The clinic's response target for patients' messages: the hourly alert, the reply that
answers it, the inbox, the digest's count."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from care.alerts import services
from care.alerts.selectors import threads_waiting_for_reply
from care.alerts.services import (
    alert_acknowledge,
    daily_alerts_run_all,
    message_waiting_alerts_run,
)
from care.domain.clinic_hours import DAY_KEYS
from care.messages.services import (
    message_post,
    message_thread_handle,
    message_thread_reopen,
    message_thread_start,
)
from care.models import Alert, AuditEvent
from care.tasks import run_alert_rules
from notifications.kinds import open_alert_counts
from notifications.models import Delivery
from tests.factories import ClinicFactory, PatientFactory, StaffFactory

pytestmark = pytest.mark.django_db

NEW_YORK = "America/New_York"
OFFICE = {key: [["09:00", "17:00"]] for key in DAY_KEYS[:5]}  # Mon-Fri 09:00-17:00
SUBJECT, BODY = "Refill question QJX", "My prescription runs out on Thursday ZRB"


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(NEW_YORK))


FRIDAY_3PM = ny(2026, 3, 20, 15)  # due Monday 15:00 with an 8-hour target
MONDAY_3PM = ny(2026, 3, 23, 15)


@pytest.fixture
def office_clinic(clinic):
    clinic.tz, clinic.opening_hours, clinic.message_response_hours = NEW_YORK, OFFICE, 8
    clinic.save()
    return clinic


def start(patient, at=FRIDAY_3PM, **kwargs):
    kwargs = {"subject": SUBJECT, "body": BODY, "urgent": False} | kwargs
    return message_thread_start(patient=patient, now=at, **kwargs).message.thread


def waiting_alerts():
    return list(Alert.objects.filter(kind=Alert.Kind.MESSAGE_WAITING).order_by("id"))


# The hourly rule.


def test_a_message_waiting_past_the_target_raises_one_routine_alert(office_clinic, patient):
    thread = start(patient)

    assert message_waiting_alerts_run(now=MONDAY_3PM - timedelta(minutes=1)) == []
    [alert] = message_waiting_alerts_run(now=MONDAY_3PM)

    assert (alert.kind, alert.priority, alert.patient_id) == (
        "message_waiting",
        "routine",
        patient.pk,
    )
    assert alert.message_thread_id == thread.pk and alert.created_at == MONDAY_3PM
    assert alert.get_kind_display() == "Message waiting for a reply"
    assert "since Fri, Mar 20, 15:00 (clinic time)" in alert.reason
    assert "8 working hours" in alert.reason
    for words in (SUBJECT, BODY, "QJX", "ZRB"):
        assert words not in alert.reason and words not in alert.cause
    # Once per waiting episode: not again next hour, nor after someone acknowledged it.
    assert message_waiting_alerts_run(now=MONDAY_3PM + timedelta(hours=1)) == []
    clinician = StaffFactory(clinic=office_clinic).user
    alert_acknowledge(alert=alert, by=clinician, action="called_patient", note="", now=MONDAY_3PM)
    assert message_waiting_alerts_run(now=MONDAY_3PM + timedelta(days=2)) == []
    assert len(waiting_alerts()) == 1


def test_the_target_counts_clinic_hours_across_the_spring_forward_weekend(office_clinic, patient):
    # Friday Mar 6, 2026, 15:00 EST; clocks go forward on Sunday: due Monday 15:00 EDT.
    start(patient, at=ny(2026, 3, 6, 15))

    assert message_waiting_alerts_run(now=datetime(2026, 3, 9, 18, 59, tzinfo=UTC)) == []
    assert len(message_waiting_alerts_run(now=datetime(2026, 3, 9, 19, tzinfo=UTC))) == 1


def test_the_target_counts_clinic_hours_across_the_fall_back_weekend(office_clinic, patient):
    # Friday Oct 30, 2026, 15:00 EDT; clocks go back on Sunday: due Monday 15:00 EST.
    start(patient, at=ny(2026, 10, 30, 15))

    assert message_waiting_alerts_run(now=datetime(2026, 11, 2, 19, 59, tzinfo=UTC)) == []
    assert len(message_waiting_alerts_run(now=datetime(2026, 11, 2, 20, tzinfo=UTC))) == 1


def test_a_message_sent_at_the_weekend_counts_from_monday_opening(office_clinic, patient):
    start(patient, at=ny(2026, 3, 21, 11))  # Saturday

    assert message_waiting_alerts_run(now=ny(2026, 3, 23, 16, 59)) == []
    [alert] = message_waiting_alerts_run(now=ny(2026, 3, 23, 17))
    assert "since Sat, Mar 21, 11:00" in alert.reason


def test_a_clinic_without_hours_counts_the_clock(clinic, patient):
    clinic.tz, clinic.opening_hours, clinic.message_response_hours = NEW_YORK, {}, 24
    clinic.save()
    start(patient, at=ny(2026, 3, 7, 12))  # 24 real hours: Sunday 13:00 EDT

    assert message_waiting_alerts_run(now=ny(2026, 3, 8, 12, 59)) == []
    [alert] = message_waiting_alerts_run(now=ny(2026, 3, 8, 13))
    assert "target of 24 hours." in alert.reason


def test_stored_hours_the_forms_would_refuse_count_as_none(clinic, patient):
    clinic.tz, clinic.message_response_hours = NEW_YORK, 8
    clinic.save()
    type(clinic).objects.filter(pk=clinic.pk).update(opening_hours={"mon": [["17:00", "09:00"]]})
    start(patient)

    assert len(message_waiting_alerts_run(now=FRIDAY_3PM + timedelta(hours=8))) == 1


def test_no_target_raises_nothing(office_clinic, patient):
    office_clinic.message_response_hours = 0
    office_clinic.save()
    start(patient)

    assert message_waiting_alerts_run(now=FRIDAY_3PM + timedelta(days=60)) == []


def test_threads_not_waiting_raise_nothing(office_clinic, patient, clinician):
    answered, handled, noted = start(patient), start(patient), start(patient)
    message_post(thread=answered, by=clinician, body="Yes.", now=FRIDAY_3PM + timedelta(hours=1))
    message_thread_handle(thread=handled, by=clinician, now=FRIDAY_3PM + timedelta(hours=1))
    # A staff note is no reply: that thread still waits.
    message_post(thread=noted, by=clinician, body="Asked pharmacy", staff_note=True, now=FRIDAY_3PM)

    [alert] = message_waiting_alerts_run(now=MONDAY_3PM)

    assert alert.message_thread_id == noted.pk
    # Reopened, the handled thread waits again (since its first unanswered message).
    message_thread_reopen(thread=handled, by=clinician, now=MONDAY_3PM)
    [again] = message_waiting_alerts_run(now=MONDAY_3PM + timedelta(hours=1))
    assert again.message_thread_id == handled.pk


def test_an_open_urgent_alert_stands_for_the_thread_until_acknowledged(
    office_clinic, patient, clinician
):
    thread = start(patient, urgent=True)
    [urgent] = Alert.objects.filter(kind=Alert.Kind.MESSAGE_URGENT)

    assert message_waiting_alerts_run(now=MONDAY_3PM) == []
    alert_acknowledge(alert=urgent, by=clinician, action="called_patient", note="", now=MONDAY_3PM)
    [alert] = message_waiting_alerts_run(now=MONDAY_3PM + timedelta(hours=1))
    assert alert.message_thread_id == thread.pk


def test_a_reply_acknowledges_the_alert_as_replied_and_the_next_wait_is_a_new_episode(
    office_clinic, patient, clinician
):
    thread = start(patient)
    [alert] = message_waiting_alerts_run(now=MONDAY_3PM)
    message_post(thread=thread, by=clinician, body="Sorry for the wait.", now=MONDAY_3PM)

    alert.refresh_from_db()
    assert (alert.acknowledged_at, alert.acknowledged_by, alert.action) == (
        MONDAY_3PM,
        clinician,
        "replied",
    )
    assert alert.get_action_display() == "Replied in Messages"
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.ACKNOWLEDGED, what=AuditEvent.What.ALERT, object_id=alert.pk
        ).count()
        == 1
    )
    # The patient writes again on Monday at 16:00: due Tuesday 16:00, a new alert.
    tuesday_4pm = ny(2026, 3, 24, 16)
    message_post(thread=thread, by=patient.user, body="Thanks", now=ny(2026, 3, 23, 16))
    assert message_waiting_alerts_run(now=tuesday_4pm - timedelta(seconds=1)) == []
    [second] = message_waiting_alerts_run(now=tuesday_4pm)
    assert second.cause != alert.cause and second.acknowledged_at is None


def test_the_patients_own_message_or_a_note_acknowledges_nothing(office_clinic, patient, clinician):
    thread = start(patient)
    [alert] = message_waiting_alerts_run(now=MONDAY_3PM)

    message_post(thread=thread, by=patient.user, body="Hello?", now=MONDAY_3PM)
    message_post(thread=thread, by=clinician, body="n", staff_note=True, now=MONDAY_3PM)

    alert.refresh_from_db()
    assert alert.is_open


def test_the_hourly_task_raises_it(office_clinic, patient):
    start(patient)

    with time_machine.travel(MONDAY_3PM, tick=False):
        run_alert_rules()

    assert len(waiting_alerts()) == 1
    assert daily_alerts_run_all(now=MONDAY_3PM + timedelta(hours=1)) == 0


@pytest.mark.parametrize("count", [2, 12])
def test_the_rule_costs_a_fixed_number_of_queries(count, django_assert_num_queries):
    clinics = [
        ClinicFactory(tz=NEW_YORK, opening_hours=OFFICE),
        ClinicFactory(tz="Australia/Sydney", opening_hours={}, message_response_hours=4),
    ]
    for index in range(count):
        patient = PatientFactory(clinic=clinics[index % 2])
        start(patient)
        start(patient, at=MONDAY_3PM)  # not due yet
    message_thread_start(
        patient=PatientFactory(clinic=ClinicFactory(message_response_hours=0)),
        subject="s",
        body="b",
        urgent=False,
        now=FRIDAY_3PM,
    )

    with django_assert_num_queries(4):  # the candidates; a savepoint, the insert, release
        raised = message_waiting_alerts_run(now=MONDAY_3PM)
    with django_assert_num_queries(1):  # the candidates: none left
        assert message_waiting_alerts_run(now=MONDAY_3PM + timedelta(minutes=1)) == []

    assert len(raised) == count
    assert all(a.pk is not None for a in raised)


def test_a_parallel_run_that_raised_some_first_is_no_error(office_clinic, patient, monkeypatch):
    first, second = start(patient), start(patient)
    # This run reads its candidates before another run inserts the first thread's alert.
    stale = threads_waiting_for_reply(now=MONDAY_3PM)
    [early] = [r for r in stale if r.thread_id == first.pk]
    monkeypatch.setattr(services, "threads_waiting_for_reply", lambda now: [early])
    [other_run] = message_waiting_alerts_run(now=MONDAY_3PM)
    monkeypatch.setattr(services, "threads_waiting_for_reply", lambda now: stale)

    raised = message_waiting_alerts_run(now=MONDAY_3PM)

    assert [a.message_thread_id for a in raised] == [second.pk]
    assert {a.pk for a in waiting_alerts()} == {other_run.pk, raised[0].pk}


# The inbox, acknowledgement by hand, the digest.


def test_the_inbox_links_the_alert_to_its_thread_and_offers_no_replied_action(
    office_clinic, patient, clinician_client
):
    thread = start(patient)
    message_waiting_alerts_run(now=MONDAY_3PM)

    page = clinician_client.get("/staff/alerts/").content.decode()

    assert "Message waiting for a reply" in page
    assert reverse("care:staff-message-thread", args=[thread.public_id]) in page
    assert 'value="called_patient"' in page and 'value="replied"' not in page
    assert SUBJECT not in page and BODY not in page


def test_replied_cannot_be_chosen_by_hand(office_clinic, patient, clinician_client):
    start(patient)
    [alert] = message_waiting_alerts_run(now=MONDAY_3PM)
    url = reverse("care:alert-acknowledge", args=[alert.pk])

    response = clinician_client.post(url, {"action": "replied", "note": ""})
    api = clinician_client.post(
        f"/api/v1/alerts/{alert.pk}/acknowledge/",
        {"action": "replied"},
        content_type="application/json",
    )

    alert.refresh_from_db()
    assert response.status_code == 400 and api.status_code == 400
    assert alert.is_open


def test_the_digest_counts_it_with_the_routine_alerts(office_clinic, patient, clinician):
    start(patient)
    message_waiting_alerts_run(now=MONDAY_3PM)

    counts = open_alert_counts(Delivery(kind=Delivery.Kind.DIGEST, recipient_id=clinician.pk))

    assert counts == {"urgent": 0, "high": 0, "routine": 1}
