""" "Please call me": the one-tap request on the patient's messages page."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages

from care.alerts.services import message_waiting_alerts_run
from care.messages.services import (
    CALL_REQUEST_SUBJECT,
    CallNotPossible,
    message_call_request,
    message_post,
)
from care.models import Alert, Message, MessageThread
from tests.care.test_message_response_target import FRIDAY_3PM, MONDAY_3PM, OFFICE

pytestmark = pytest.mark.django_db


@pytest.fixture
def callable_patient(patient):
    patient.phone_mobile = "+13125550199"
    patient.may_call = True
    patient.contact_times = "Weekdays after 5 pm"
    patient.save()
    return patient


CALL_URL = "/me/messages/call-me/"


def test_the_messages_page_offers_the_call_with_the_number_as_dialled(
    patient_client, callable_patient
):
    page = patient_client.get("/me/messages/").content.decode()

    assert f'action="{CALL_URL}"' in page and 'method="post"' in page
    assert "csrfmiddlewaretoken" in page
    assert "(312) 555-0199" in page and "Ask to be called" in page


@pytest.mark.parametrize(
    ("phone", "may_call", "missing"),
    [
        ("", False, "add your phone number, and agree to be called in"),
        ("", True, "add your phone number in"),
        ("+13125550199", False, "add that you agree to be called in"),
    ],
)
def test_without_a_number_or_consent_the_page_points_to_contact_details(
    patient_client, patient, phone, may_call, missing
):
    patient.phone_mobile, patient.may_call = phone, may_call
    patient.save()

    page = patient_client.get("/me/messages/").content.decode()
    response = patient_client.post(CALL_URL)

    assert "Ask to be called" not in page and CALL_URL not in page
    assert missing in page and 'href="/me/contact/"' in page
    assert response.status_code == 302 and response["Location"] == "/me/messages/"
    [notice] = get_messages(response.wsgi_request)
    assert "Contact details" in str(notice)
    assert not MessageThread.objects.exists()


def test_one_tap_sends_an_ordinary_message_with_number_times_and_consent(
    patient_client, callable_patient, caplog
):
    callable_patient.phone_other = "+13125550177"
    callable_patient.save()
    now = datetime(2026, 3, 20, 19, tzinfo=UTC)

    with caplog.at_level(logging.DEBUG), time_machine.travel(now, tick=False):
        response = patient_client.post(CALL_URL)

    thread = MessageThread.objects.get()
    [message] = thread.messages.all()
    assert response.status_code == 302
    assert response["Location"] == f"/me/messages/{thread.public_id}/"
    assert thread.subject == CALL_REQUEST_SUBJECT == "Please call me"
    assert message.from_patient and not message.is_urgent and not thread.is_urgent
    assert thread.waiting_since == now and thread.staff_unread == 1
    assert message.body == (
        "Please call me.\n"
        "Number: (312) 555-0199 (mobile)\n"
        "Other number: (312) 555-0177\n"
        "Best times to call: Weekdays after 5 pm\n"
        "Agrees to be called: yes\n"
        "Agrees to text messages: no"
    )
    assert not Alert.objects.exists()  # not urgent: the response target applies
    [notice] = get_messages(response.wsgi_request)
    for text in (str(notice), response["Location"], caplog.text):
        assert "555" not in text and "5550199" not in text


def test_the_number_is_dialled_as_in_the_clinics_country(clinic, patient):
    clinic.country = "GB"
    clinic.save()
    patient.phone_other, patient.may_call = "+447911123456", True
    patient.save()

    thread = message_call_request(patient=patient, now=FRIDAY_3PM).thread

    body = thread.messages.get().body
    assert "Number: 07911 123456 (other phone)" in body
    assert "Best times" not in body and "Other number" not in body


def test_a_second_tap_sends_nothing_until_the_details_change_or_the_team_replies(
    callable_patient, clinician
):
    first = message_call_request(patient=callable_patient, now=FRIDAY_3PM)
    again = message_call_request(patient=callable_patient, now=FRIDAY_3PM + timedelta(minutes=1))

    assert (first.created, first.sent) == (True, True)
    assert (again.created, again.sent, again.thread) == (False, False, first.thread)
    assert Message.objects.count() == 1

    callable_patient.contact_times = "Mornings"
    callable_patient.save()
    changed = message_call_request(patient=callable_patient, now=FRIDAY_3PM + timedelta(hours=1))
    assert (changed.created, changed.sent, changed.thread) == (False, True, first.thread)
    assert "Best times to call: Mornings" in first.thread.messages.last().body
    first.thread.refresh_from_db()
    assert first.thread.waiting_since == FRIDAY_3PM  # still the first unanswered message

    message_post(thread=first.thread, by=clinician, body="Called you.", now=MONDAY_3PM)
    later = message_call_request(patient=callable_patient, now=MONDAY_3PM + timedelta(hours=1))
    assert later.created and later.thread != first.thread


def test_the_call_request_counts_for_the_response_target(clinic, callable_patient):
    clinic.tz, clinic.opening_hours = "America/New_York", OFFICE
    clinic.save()
    message_call_request(patient=callable_patient, now=FRIDAY_3PM)

    [alert] = message_waiting_alerts_run(now=MONDAY_3PM)

    assert "555" not in alert.reason and "Weekdays" not in alert.reason


def test_the_service_refuses_without_consent(patient):
    patient.phone_mobile, patient.may_call = "+13125550199", False
    patient.save()

    with pytest.raises(CallNotPossible):
        message_call_request(patient=patient, now=FRIDAY_3PM)


def test_a_get_is_refused_and_staff_cannot_ask(client, patient_client, clinician):
    assert patient_client.get(CALL_URL).status_code == 405
    client.force_login(clinician)
    assert client.post(CALL_URL).status_code == 404
    assert not MessageThread.objects.exists()
