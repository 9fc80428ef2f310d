"""Safety alerts reach the on-call contact at once and every clinician after the target."""

from datetime import UTC, datetime, timedelta

import pytest

from care.models import Alert
from notifications.dispatch.alerts import escalations_dispatch
from notifications.models import Delivery
from notifications.sending import delivery_send
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

RAISED = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)


@pytest.fixture
def safety_alert(patient, clinic):
    clinic.on_call_email = "on-call@clinic.example"
    clinic.alert_response_minutes = 30
    clinic.save()
    return Alert.objects.create(
        patient=patient,
        kind="safety",
        priority="urgent",
        cause="checkin:1",
        reason="r",
        created_at=RAISED,
    )


@pytest.fixture
def team(clinic, other_clinic, clinician, clinic_admin):
    gone = StaffFactory(clinic=clinic)
    gone.deactivated_at = RAISED
    gone.save()
    StaffFactory(clinic=other_clinic)
    return {clinician.email, clinic_admin.email}


def test_the_on_call_contact_is_emailed_at_once_without_patient_details(
    safety_alert, patient, mailoutbox
):
    escalations_dispatch(now=RAISED + timedelta(minutes=1))
    escalations_dispatch(now=RAISED + timedelta(minutes=2))

    [delivery] = Delivery.objects.all()
    assert (delivery.kind, delivery.to_email) == ("safety_oncall", "on-call@clinic.example")
    assert delivery_send(delivery_id=delivery.id, now=RAISED) == "sent"
    [message] = mailoutbox
    text = message.subject + message.body + message.alternatives[0].content
    assert "http://testserver/staff/alerts/" in text
    for private in (patient.preferred_name, patient.user.full_name, patient.user.email):
        assert private not in text
    assert "harm" not in text.lower() and "suicid" not in text.lower()


def test_an_unacknowledged_alert_reaches_every_clinician_after_the_target(
    safety_alert, team, mailoutbox
):
    escalations_dispatch(now=RAISED + timedelta(minutes=29))
    assert not Delivery.objects.filter(kind="safety_escalation").exists()
    safety_alert.refresh_from_db()
    assert safety_alert.escalated_at is None

    escalations_dispatch(now=RAISED + timedelta(minutes=30))
    escalations_dispatch(now=RAISED + timedelta(minutes=31))

    # The alert records when it escalated (the first time) and to whom.
    safety_alert.refresh_from_db()
    assert safety_alert.escalated_at == RAISED + timedelta(minutes=30)
    assert set(safety_alert.escalated_to.split(", ")) == team

    escalations = Delivery.objects.filter(kind="safety_escalation")
    assert {d.to_email for d in escalations} == team
    assert escalations.count() == len(team)
    for delivery in escalations:
        delivery_send(delivery_id=delivery.id, now=RAISED + timedelta(minutes=31))
    assert sorted(m.to[0] for m in mailoutbox) == sorted(team)
    assert all("not been acknowledged within 30 minutes" in m.body for m in mailoutbox)


def test_an_acknowledged_alert_does_not_escalate(safety_alert, team, clinician, mailoutbox):
    safety_alert.acknowledged_at, safety_alert.acknowledged_by = RAISED, clinician
    safety_alert.save()

    escalations_dispatch(now=RAISED + timedelta(hours=1))

    assert not Delivery.objects.exists()
    safety_alert.refresh_from_db()
    assert safety_alert.escalated_at is None and safety_alert.escalated_to == ""


def test_an_alert_acknowledged_after_the_escalation_was_queued_is_not_sent(
    safety_alert, team, clinician, mailoutbox
):
    escalations_dispatch(now=RAISED + timedelta(minutes=45))
    safety_alert.acknowledged_at, safety_alert.acknowledged_by = RAISED, clinician
    safety_alert.save()

    statuses = {
        delivery_send(delivery_id=d.id, now=RAISED + timedelta(minutes=46))
        for d in Delivery.objects.all()
    }

    assert statuses == {"skipped"} and mailoutbox == []


def test_the_inbox_says_when_an_alert_escalated(safety_alert, team, clinician_client):
    escalations_dispatch(now=RAISED + timedelta(minutes=30))

    page = clinician_client.get("/staff/alerts/").content.decode()

    assert "Not acknowledged in time: escalated to every clinician of the clinic on" in page


def test_an_urgent_message_escalates_as_a_safety_alert_does(patient, clinic, team, mailoutbox):
    from care.messages.services import message_thread_start

    clinic.on_call_email = "on-call@clinic.example"
    clinic.save()
    message_thread_start(
        patient=patient, subject="Tonight", body="I need help", urgent=True, now=RAISED
    )

    escalations_dispatch(now=RAISED + timedelta(minutes=clinic.alert_response_minutes))

    kinds = sorted(Delivery.objects.values_list("kind", "to_email"))
    assert kinds == [("safety_escalation", email) for email in sorted(team)] + [
        ("safety_oncall", "on-call@clinic.example")
    ]
    for delivery in Delivery.objects.all():
        delivery_send(delivery_id=delivery.id, now=RAISED + timedelta(minutes=31))
    text = " ".join(m.subject + m.body for m in mailoutbox)
    assert "Tonight" not in text and "I need help" not in text
