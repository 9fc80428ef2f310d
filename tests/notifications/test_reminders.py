"""Daily check-in reminders: due once, sent once, nothing revealing, one-click unsubscribe."""

import re
import smtplib
import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection
from django.utils import timezone

from care.models import Alert
from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.sending import MAX_ATTEMPTS, delivery_send
from notifications.tasks import dispatch_reminders
from tests.factories import CheckInFactory, PatientFactory
from tests.notifications.clock import deliveries_age
from tests.notifications.mail_text import mail_words

pytestmark = pytest.mark.django_db

NINE_NY = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)  # 09:00 in New York (EDT)
FORBIDDEN = [
    "ketamine",
    "esketamine",
    "infusion",
    "phq",
    "gad",
    "pcl",
    "suicid",
    "depress",
    "anxiety",
    "ptsd",
    "score",
    "clinic a",
]


@pytest.fixture
def patient_ny(clinic):
    patient = PatientFactory(
        clinic=clinic,
        tz="America/New_York",
        preferred_name="Sam",
        user__full_name="Samantha Quill",
        has_depression=True,
    )
    ReminderPreference.objects.create(patient=patient, checkin_time=time(9, 0))
    return patient


def test_a_due_reminder_becomes_one_delivery_however_often_the_dispatcher_runs(
    patient_ny, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))
        checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=2))

    [delivery] = Delivery.objects.all()
    assert (delivery.kind, delivery.status, delivery.due_at) == ("checkin_due", "pending", NINE_NY)
    assert delivery.to_email == patient_ny.user.email
    assert len(callbacks) == 1  # a subject that already has its delivery is left alone


def test_no_reminder_before_its_time_or_after_the_checkin(patient_ny):
    checkin_reminders_dispatch(now=NINE_NY - timedelta(minutes=1))
    CheckInFactory(patient=patient_ny, local_date=date(2026, 5, 4))
    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=5))

    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("tz", "start"),
    [
        ("America/New_York", date(2026, 3, 7)),  # clocks forward on the 8th
        ("America/New_York", date(2026, 10, 31)),  # back on 1 November
        ("Europe/London", date(2026, 3, 28)),
        ("Europe/London", date(2026, 10, 24)),
        ("Asia/Kathmandu", date(2026, 6, 1)),  # UTC+05:45
    ],
)
def test_the_dispatcher_task_makes_one_9am_reminder_per_local_day_across_dst(clinic, tz, start):
    patient = PatientFactory(clinic=clinic, tz=tz)
    ReminderPreference.objects.create(patient=patient, checkin_time=time(9, 0))
    moment = datetime.combine(start, time(0), tzinfo=ZoneInfo(tz))
    end = moment + timedelta(days=3)
    while moment < end:
        with time_machine.travel(moment, tick=False):
            dispatch_reminders()
        moment += timedelta(minutes=10)

    local = sorted(d.due_at.astimezone(ZoneInfo(tz)) for d in Delivery.objects.all())
    assert [(m.date(), m.strftime("%H:%M")) for m in local] == [
        (start + timedelta(days=n), "09:00") for n in range(3)
    ]


def test_sending_twice_sends_one_email(patient_ny, mailoutbox):
    checkin_reminders_dispatch(now=NINE_NY)
    delivery = Delivery.objects.get()

    first = delivery_send(delivery_id=delivery.id, now=NINE_NY)
    second = delivery_send(delivery_id=delivery.id, now=NINE_NY + timedelta(seconds=1))

    delivery.refresh_from_db()
    assert (first, second) == ("sent", "not claimed")
    assert len(mailoutbox) == 1
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("sent", 1, NINE_NY)


def test_a_reminder_for_a_day_already_checked_in_is_skipped(patient_ny, mailoutbox):
    checkin_reminders_dispatch(now=NINE_NY)
    CheckInFactory(patient=patient_ny, local_date=date(2026, 5, 4))

    assert delivery_send(delivery_id=Delivery.objects.get().id, now=NINE_NY) == "skipped"
    assert mailoutbox == []


def test_the_reminder_email_says_nothing_about_health(patient_ny, mailoutbox):
    checkin_reminders_dispatch(now=NINE_NY)
    delivery_send(delivery_id=Delivery.objects.get().id, now=NINE_NY)

    [message] = mailoutbox
    text = mail_words(message)
    assert message.subject == "You have a check-in waiting"
    assert "hi sam," in text and "samantha" not in text and "quill" not in text
    for word in FORBIDDEN:
        assert word not in text, word
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith("<http://testserver/unsubscribe/")


def test_one_click_unsubscribe_works_once_and_stops_the_reminders(client, patient_ny, mailoutbox):
    checkin_reminders_dispatch(now=NINE_NY)
    delivery_send(delivery_id=Delivery.objects.get().id, now=NINE_NY)
    url = re.search(
        r"<http://testserver(/unsubscribe/\S+/)>", mailoutbox[0].extra_headers["List-Unsubscribe"]
    ).group(1)

    asked = client.get(url)
    first = client.post(url)
    again = client.post(url)
    checkin_reminders_dispatch(now=NINE_NY + timedelta(days=1))

    assert asked.status_code == 200 and "Stop these e-mails?" in asked.content.decode()
    assert "You are unsubscribed" in first.content.decode()
    assert "already unsubscribed" in again.content.decode()
    assert ReminderPreference.objects.get(patient=patient_ny).unsubscribed == ["checkin_due"]
    # The next day's reminder is on record as skipped, not sent.
    assert list(Delivery.objects.order_by("due_at").values_list("status", "skip_reason")) == [
        ("sent", ""),
        ("skipped", "unsubscribed"),
    ]


def test_a_tampered_unsubscribe_link_is_refused(client, patient_ny):
    response = client.post("/unsubscribe/not-a-real-token/")

    assert response.status_code == 400
    assert ReminderPreference.objects.get(patient=patient_ny).unsubscribed == []


def test_a_permanent_refusal_fails_the_delivery_and_alerts_the_care_team(patient_ny, monkeypatch):
    def refuse(self, messages):
        raise smtplib.SMTPRecipientsRefused({"x": (550, b"no such user")})

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", refuse)
    checkin_reminders_dispatch(now=NINE_NY)

    status = delivery_send(delivery_id=Delivery.objects.get().id, now=NINE_NY)

    assert status == "failed"
    alert = Alert.objects.get(patient=patient_ny)
    assert (alert.kind, alert.priority) == ("delivery_failure", "routine")


def test_a_deferral_is_retried_then_given_up(patient_ny, monkeypatch):
    def defer(self, messages):
        raise smtplib.SMTPResponseException(451, b"try later")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", defer)
    checkin_reminders_dispatch(now=NINE_NY)
    delivery = Delivery.objects.get()

    for attempt in range(1, MAX_ATTEMPTS):
        assert (
            delivery_send(delivery_id=delivery.id, now=NINE_NY + timedelta(hours=attempt))
            == "deferred"
        )
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("pending", attempt)
        deliveries_age(timedelta(hours=1))  # past its backoff
    final = delivery_send(delivery_id=delivery.id, now=NINE_NY + timedelta(hours=MAX_ATTEMPTS))

    delivery.refresh_from_db()
    assert final == "failed" and delivery.attempts == MAX_ATTEMPTS
    assert "451" in delivery.last_error


def test_a_row_already_there_is_left_alone_and_its_batch_still_made(clinic):
    due = []
    for _ in range(3):
        due.append(PatientFactory(clinic=clinic, tz="America/New_York"))
        ReminderPreference.objects.create(patient=due[-1], checkin_time=time(9, 0))
    # Skipped (it does not count as a reminder): the patient is a candidate again, and the
    # reminder due would be this very row.
    Delivery.objects.create(
        kind="checkin_due",
        subject_key=f"patient:{due[0].pk}:2026-05-04",
        due_at=NINE_NY,
        patient=due[0],
        to_email=due[0].user.email,
        status="skipped",
    )

    assert checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1)) == 2

    made = Delivery.objects.filter(status="pending")
    assert set(made.values_list("patient_id", flat=True)) == {due[1].pk, due[2].pk}


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_create_one_delivery_per_due_item(clinic):
    for _ in range(20):
        patient = PatientFactory(clinic=clinic, tz="America/New_York")
        ReminderPreference.objects.create(patient=patient, checkin_time=time(9, 0))
    errors = []

    def run():
        try:
            checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Delivery.objects.count() == 20
    assert mail.outbox == []


@pytest.mark.real_enqueue
def test_a_broker_outage_leaves_the_delivery_for_the_sweeper(
    patient_ny, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from notifications import tasks
    from notifications.sending import deliveries_sweep

    def refuse(*args, **kwargs):
        raise OperationalError("broker down")

    monkeypatch.setattr(tasks.send_delivery, "apply_async", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        checkin_reminders_dispatch(now=NINE_NY)

    delivery = Delivery.objects.get()
    assert delivery.status == "pending"
    assert "left for the sweeper" in caplog.text
    monkeypatch.setattr(tasks.send_delivery, "apply_async", lambda *args, **kwargs: None)
    assert deliveries_sweep() == 0  # its message may still be on its way
    deliveries_age(timedelta(minutes=6))
    assert deliveries_sweep() == 1


def test_the_care_team_sees_a_patients_deliveries(clinician_client, patient_ny, monkeypatch):
    def defer(self, messages):
        raise smtplib.SMTPResponseException(451, b"try later")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", defer)
    checkin_reminders_dispatch(now=NINE_NY)
    assert delivery_send(delivery_id=Delivery.objects.get().id, now=NINE_NY) == "deferred"

    page = clinician_client.get(f"/staff/patients/{patient_ny.public_id}/").content.decode()

    assert "Reminders sent" in page and "Daily check-in" in page and "SMTP 451" in page


def test_on_a_session_day_the_reminder_waits_until_after_the_session(patient_ny):
    from care.models import TreatmentSession

    TreatmentSession.objects.create(
        patient=patient_ny, scheduled_at=NINE_NY + timedelta(hours=1), route="iv"
    )

    checkin_reminders_dispatch(now=NINE_NY + timedelta(minutes=1))
    assert not Delivery.objects.exists()
    checkin_reminders_dispatch(now=NINE_NY + timedelta(hours=4))

    assert Delivery.objects.get().due_at == NINE_NY + timedelta(hours=4)  # 13:00 in New York


def test_new_patients_get_the_clinics_default_reminder_time(clinician_client, clinician, clinic):
    clinic.default_checkin_time = time(18, 15)
    clinic.save()

    clinician_client.post(
        "/staff/patients/new/",
        {
            "full_name": "Pat New",
            "preferred_name": "Pat",
            "email": "pat@example.org",
            "date_of_birth": "1990-01-01",
            "tz": "America/Chicago",
            "conditions": ["depression"],
            "consultation_on": "2026-11-20",
        },
    )

    assert ReminderPreference.objects.get(
        patient__user__email="pat@example.org"
    ).checkin_time == time(18, 15)


def test_the_work_is_cut_into_batches_of_the_patients_with_a_reminder_due(clinic, monkeypatch):
    from notifications.dispatch import patients as patient_dispatch

    due, later = [], []
    for n in range(14):
        patient = PatientFactory(clinic=clinic, tz="America/New_York")
        ReminderPreference.objects.create(patient=patient, checkin_time=time(9 if n % 2 else 15))
        (due if n % 2 else later).append(patient)
    batches = []
    batch = patient_dispatch._patient_batch

    def recorded(candidates, now, since, kinds):
        batches.append([c.pk for c in candidates])
        return batch(candidates, now, since, kinds)

    monkeypatch.setattr(patient_dispatch, "BATCH", 3)
    monkeypatch.setattr(patient_dispatch, "_patient_batch", recorded)

    assert patient_dispatch.patient_reminders_dispatch(now=NINE_NY) == 7

    pks = [p.pk for p in due]  # only the patients whose reminder may be due
    assert batches == [pks[0:3], pks[3:6], pks[6:7]]
    assert {d.patient for d in Delivery.objects.all()} == set(due)


def test_a_deferred_delivery_waits_for_its_backoff(patient_ny, monkeypatch):
    from notifications.sending import deliveries_sweep

    def defer(self, messages):
        raise smtplib.SMTPResponseException(451, b"try later")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", defer)
    checkin_reminders_dispatch(now=NINE_NY)
    Delivery.objects.update(created_at=NINE_NY)
    delivery = Delivery.objects.get()
    deferred_at = timezone.now()
    assert delivery_send(delivery_id=delivery.id, now=NINE_NY) == "deferred"

    assert deliveries_sweep() == 0
    assert delivery_send(delivery_id=delivery.id, now=NINE_NY) == "not claimed"
    deliveries_age(timedelta(seconds=61))
    assert deliveries_sweep() == 1  # the minute has passed
    delivery.refresh_from_db()
    # A minute from the deferral, by the database's clock (aged 61 s since).
    wait = delivery.next_attempt_at + timedelta(seconds=61) - deferred_at
    assert delivery.attempts == 1 and timedelta(minutes=1) <= wait < timedelta(minutes=1, seconds=5)


def test_a_greylisted_recipient_is_deferred_not_failed(patient_ny, monkeypatch):
    def greylist(self, messages):
        raise smtplib.SMTPRecipientsRefused({"x": (451, b"greylisted")})

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", greylist)
    checkin_reminders_dispatch(now=NINE_NY)

    assert delivery_send(delivery_id=Delivery.objects.get().id, now=NINE_NY) == "deferred"
    assert Delivery.objects.get().status == "pending"


def test_a_delivery_whose_data_is_gone_fails_instead_of_looping(patient_ny, monkeypatch):
    from notifications import sending

    def broken(delivery):
        raise LookupError("gone")

    monkeypatch.setattr(sending, "_build", broken)
    checkin_reminders_dispatch(now=NINE_NY)

    status = delivery_send(delivery_id=Delivery.objects.get().id, now=NINE_NY)

    assert status == "failed"
    assert Delivery.objects.get().last_error == "could not prepare: LookupError"


def test_a_changed_reminder_time_does_not_send_a_second_reminder_that_day(patient_ny):
    checkin_reminders_dispatch(now=NINE_NY)
    preference = patient_ny.reminder_preference
    preference.checkin_time = time(10, 0)
    preference.save()

    checkin_reminders_dispatch(now=NINE_NY + timedelta(hours=1, minutes=5))

    assert Delivery.objects.count() == 1


def test_one_failing_dispatch_step_does_not_stop_the_others(patient_ny, monkeypatch, caplog):
    from notifications import tasks
    from notifications.models import Heartbeat

    def broken(**kwargs):
        raise RuntimeError("digest broke")

    monkeypatch.setattr(tasks, "digests_dispatch", broken)

    with time_machine.travel(NINE_NY, tick=False), pytest.raises(RuntimeError):
        dispatch_reminders()

    assert Delivery.objects.filter(kind="checkin_due").count() == 1
    assert Heartbeat.objects.filter(name="dispatcher").exists()
    assert "A reminder dispatch step failed" in caplog.text


def test_an_unsubscribe_link_for_a_removed_patient_does_not_fail(client, patient_ny):
    from notifications.emails import unsubscribe_token

    token = unsubscribe_token(patient_id=999999, kind="checkin_due")

    response = client.post(f"/unsubscribe/{token}/")

    assert response.status_code == 200 and "already unsubscribed" in response.content.decode()
