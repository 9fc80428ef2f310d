"""The "session tomorrow" reminder's readiness link: opens that session's readiness check
without signing in, once, for that session only, until it starts."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from care.models import Alert, AuditEvent, SessionReadiness, TreatmentSession
from care.treatment.services import readiness_submit
from notifications.dispatch.sessions import session_reminders_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.sending import delivery_send
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

SESSION = datetime(2026, 5, 6, 14, 0, tzinfo=UTC)  # Wednesday 10:00 in New York
EVE = datetime(2026, 5, 5, 23, 0, tzinfo=UTC)  # Tuesday 19:00 in New York
FORM = "/r/ready/"
READY = {
    "ride_arranged": "yes",
    "fasting_understood": "yes",
    "feeling_well": "yes",
    "new_medicines": "no",
}


@pytest.fixture
def link(clinic, mailoutbox):
    patient = PatientFactory(clinic=clinic, tz="America/New_York", preferred_name="Sam")
    ReminderPreference.objects.create(patient=patient, checkin_time=time(19))
    session = TreatmentSession.objects.create(patient=patient, scheduled_at=SESSION, route="iv")
    session_reminders_dispatch(now=EVE)
    assert delivery_send(delivery_id=Delivery.objects.get().id, now=EVE) == "sent"
    path = re.search(r"http://testserver(/r/ready/\S+/)", mailoutbox[0].body).group(1)
    return session, path


def test_the_link_opens_the_sessions_check_and_saves_it_once(client, link):
    session, path = link
    with time_machine.travel(EVE + timedelta(hours=1), tick=False):
        opened = client.get(path)
        form = client.get(FORM)
        saved = client.post(FORM, READY)
        client.get(path)
        again = client.get(FORM)

    assert opened["Location"] == FORM and form.status_code == 200
    assert "Wednesday, May 6, 10:00 AM" in form.content.decode()  # the patient's zone
    assert "Thank you" in saved.content.decode()
    readiness = SessionReadiness.objects.get(session=session)
    assert readiness.is_ready and readiness.by_link
    assert Delivery.objects.get().link_used_at is not None
    assert again.status_code == 410
    assert "_auth_user_id" not in client.session  # the link does not sign anyone in
    event = AuditEvent.objects.get(what=AuditEvent.What.READINESS)
    assert (event.channel, event.actor, event.patient) == (
        AuditEvent.Channel.LINK,
        session.patient.user,
        session.patient,
    )


def test_the_link_saves_for_its_own_session_only(client, link):
    session, path = link
    other = TreatmentSession.objects.create(
        patient=session.patient, scheduled_at=SESSION + timedelta(hours=3), route="iv"
    )
    with time_machine.travel(EVE + timedelta(hours=1), tick=False):
        client.get(path)
        client.post(FORM + f"?session={other.pk}", READY | {"session": other.pk})

    assert list(SessionReadiness.objects.values_list("session_id", flat=True)) == [session.pk]


def test_a_not_ready_answer_through_the_link_raises_a_routine_alert(client, link):
    session, path = link
    with time_machine.travel(EVE + timedelta(hours=1), tick=False):
        client.get(path)
        client.post(FORM, READY | {"feeling_well": "no"})

    alert = Alert.objects.get(patient=session.patient)
    assert (alert.kind, alert.priority, alert.session_id) == ("not_ready", "routine", session.pk)


def test_the_link_is_refused_once_the_session_starts(client, link):
    _, path = link
    with time_machine.travel(SESSION - timedelta(minutes=1), tick=False):
        client.get(path)
        assert client.get(FORM).status_code == 200
    with time_machine.travel(SESSION, tick=False):
        assert client.get(FORM).status_code == 410
        assert client.post(FORM, READY).status_code == 410
    assert not SessionReadiness.objects.exists()


def test_the_link_is_refused_once_the_session_is_cancelled(client, link):
    session, path = link
    session.status = TreatmentSession.Status.CANCELLED
    session.save()
    with time_machine.travel(EVE + timedelta(hours=1), tick=False):
        client.get(path)

        assert client.post(FORM, READY).status_code == 410
    assert not SessionReadiness.objects.exists()


def test_the_link_is_refused_once_answered_signed_in(client, link):
    session, path = link
    readiness_submit(
        session=session,
        values={
            "ride_arranged": True,
            "fasting_understood": True,
            "feeling_well": True,
            "new_medicines": False,
            "new_medicines_details": "",
        },
        now=EVE,
        by_link=False,
    )
    with time_machine.travel(EVE + timedelta(hours=1), tick=False):
        client.get(path)

        assert client.post(FORM, READY | {"feeling_well": "no"}).status_code == 410
    assert SessionReadiness.objects.get().feeling_well is True
    assert Delivery.objects.get().link_used_at is None


def test_a_tampered_link_opens_nothing(client, link):
    _, path = link
    with time_machine.travel(EVE + timedelta(hours=1), tick=False):
        client.get(path[:-5] + "abcd/")

        assert client.get(FORM).status_code == 410


def test_a_checkin_link_token_does_not_open_the_readiness_check(client, link):
    from notifications.emails import checkin_link_token

    with time_machine.travel(EVE + timedelta(hours=1), tick=False):
        client.get(f"/r/ready/{checkin_link_token(delivery_id=Delivery.objects.get().id)}/")

        assert client.get(FORM).status_code == 410  # another salt: not a readiness token


def test_bad_answers_through_the_link_get_clear_messages_and_keep_the_link(client, link):
    _, path = link
    with time_machine.travel(EVE + timedelta(hours=1), tick=False):
        client.get(path)
        response = client.post(FORM, READY | {"new_medicines": "yes"})

    assert response.status_code == 200
    assert "new_medicines_details" in response.context["form"].errors
    assert Delivery.objects.get().link_used_at is None


def test_the_email_says_tell_us_you_are_ready_without_health_words(link, mailoutbox):
    [message] = mailoutbox
    text = (message.subject + message.body + message.alternatives[0].content).lower()

    assert "tell us you are ready" in text
    for word in ("infusion", "ketamine", "dose", "treatment", "medicine", "fasting", "session"):
        assert word not in text
