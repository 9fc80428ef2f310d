"""The daily reminder's link: opens that day's check-in form without signing in, once."""

import re
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from care.models import Alert, CheckIn
from notifications.dispatch.patients import checkin_reminders_dispatch
from notifications.models import ReminderPreference
from notifications.sending import delivery_send
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NINE_NY = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)
FORM = "/r/checkin/"


def answers(**overrides):
    data = {
        "client_id": str(uuid.uuid4()),
        "mood": "6",
        "anxiety": "3",
        "energy": "5",
        "sleep_hours": "7",
        "sleep_quality": "3",
        "has_self_harm_thoughts": "no",
    }
    return data | overrides


@pytest.fixture
def link(clinic, mailoutbox):
    patient = PatientFactory(clinic=clinic, tz="America/New_York", preferred_name="Sam")
    ReminderPreference.objects.create(patient=patient, checkin_time=time(9))
    checkin_reminders_dispatch(now=NINE_NY)
    delivery_send(delivery_id=patient.deliveries.get().id, now=NINE_NY)
    path = re.search(r"http://testserver(/r/checkin/\S+/)", mailoutbox[0].body).group(1)
    return patient, path


def test_the_link_opens_the_form_and_saves_that_days_checkin_once(client, link):
    patient, path = link
    with time_machine.travel(NINE_NY + timedelta(hours=2), tick=False):
        opened = client.get(path)
        form = client.get(FORM)
        saved = client.post(FORM, answers())
        client.get(path)
        again = client.get(FORM)

    assert opened["Location"] == FORM and form.status_code == 200
    assert "your check-in is saved" in saved.content.decode()
    checkin = CheckIn.objects.get(patient=patient)
    assert str(checkin.local_date) == "2026-05-04" and checkin.mood == 6
    assert again.status_code == 410
    assert "_auth_user_id" not in client.session  # the link does not sign anyone in


def test_the_link_expires_at_the_end_of_the_local_day(client, link):
    _, path = link
    midnight_ny = datetime(2026, 5, 5, 4, 0, tzinfo=UTC)
    with time_machine.travel(midnight_ny - timedelta(minutes=1), tick=False):
        client.get(path)
        assert client.get(FORM).status_code == 200
    with time_machine.travel(midnight_ny, tick=False):
        assert client.get(FORM).status_code == 410
        assert client.post(FORM, answers()).status_code == 410
    assert not CheckIn.objects.exists()


def test_a_tampered_link_opens_nothing(client, link):
    _, path = link

    client.get(path[:-5] + "abcd/")

    assert client.get(FORM).status_code == 410


def test_thoughts_of_self_harm_through_the_link_show_crisis_resources_and_alert(client, link):
    patient, path = link
    with time_machine.travel(NINE_NY + timedelta(hours=1), tick=False):
        client.get(path)
        response = client.post(FORM, answers(has_self_harm_thoughts="yes"))

    page = response.content.decode()
    assert 'href="tel:988"' in page and "not watched around the clock" in page
    assert Alert.objects.get(patient=patient).priority == "urgent"


def test_crisis_resources_through_the_link_are_the_patients_clinics(client, clinic, link):
    _, path = link
    clinic.country, clinic.phone = "IE", "+35312345678"
    clinic.save()
    with time_machine.travel(NINE_NY + timedelta(hours=1), tick=False):
        client.get(path)
        response = client.post(FORM, answers(has_self_harm_thoughts="yes"))

    box = response.content.decode().split('class="crisis-box"')[1].split("</section>")[0]
    assert box.index('href="tel:+35312345678"') < box.index('href="tel:116123"')
    assert 'href="sms:50808"' in box and 'href="tel:112"' in box and "988" not in box


def test_bad_answers_through_the_link_get_clear_messages(client, link):
    _, path = link
    with time_machine.travel(NINE_NY + timedelta(hours=1), tick=False):
        client.get(path)
        response = client.post(FORM, answers(mood="11"))

    assert response.status_code == 200
    assert "mood" in response.context["form"].errors
    assert not CheckIn.objects.exists()


def test_a_client_id_already_used_is_saved_as_a_new_submission(client, link):
    patient, path = link
    used = uuid.uuid4()
    from care.records.services import checkin_submit

    checkin_submit(
        patient=patient,
        client_id=used,
        now=NINE_NY - timedelta(days=1),
        values={
            "mood": 2,
            "anxiety": 2,
            "energy": 2,
            "sleep_hours": 6,
            "sleep_quality": 2,
            "side_effects": [],
            "has_self_harm_thoughts": False,
            "note": "",
        },
    )
    with time_machine.travel(NINE_NY + timedelta(hours=1), tick=False):
        client.get(path)
        response = client.post(FORM, answers(client_id=str(used)))

    assert response.status_code == 200 and "your check-in is saved" in response.content.decode()
    assert CheckIn.objects.filter(patient=patient).count() == 2
