"""The patient's reminder settings, on the page and through the API."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from notifications.models import ReminderPreference

pytestmark = pytest.mark.django_db

URL = "/me/settings/"
API = "/api/v1/reminder-preferences/"


def form_data(**overrides):
    data = {
        "email_enabled": "on",
        "checkin_time": "20:30",
        "quiet_start": "22:00",
        "quiet_end": "07:00",
        "paused_until": "",
        "kinds": ["checkin_due", "session_tomorrow", "message", "integration_prompt"],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_patient_saves_reminder_settings(patient_client, patient):
    response = patient_client.post(URL, form_data())

    preference = ReminderPreference.objects.get(patient=patient)
    assert response.status_code == 302
    assert preference.checkin_time == time(20, 30) and preference.quiet_end == time(7)
    assert preference.unsubscribed == ["questionnaire_due"]


def test_the_reflection_prompt_is_a_kind_the_patient_chooses(patient_client, patient):
    page = patient_client.get(URL).content.decode()
    assert 'value="integration_prompt"' in page

    patient_client.post(URL, form_data(kinds=["checkin_due"]))

    preference = ReminderPreference.objects.get(patient=patient)
    assert "integration_prompt" in preference.unsubscribed


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"checkin_time": "23:00"}, "checkin_time", "outside your quiet hours"),
        ({"checkin_time": "25:00"}, "checkin_time", "Enter a valid time"),
        ({"paused_until": "2020-01-01"}, "paused_until", "today or later"),
        ({"kinds": ["spam"]}, "kinds", "valid choice"),
    ],
)
def test_bad_settings_are_refused_clearly_and_keep_the_saved_ones(
    patient_client, patient, overrides, field, message
):
    patient_client.post(URL, form_data())

    response = patient_client.post(URL, form_data(**overrides))

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert ReminderPreference.objects.get(patient=patient).checkin_time == time(20, 30)


def test_a_long_pause_is_refused(patient_client):
    far = (timezone.now() + timedelta(days=120)).date().isoformat()

    response = patient_client.post(URL, form_data(paused_until=far))

    assert "at most 90 days" in response.context["form"].errors["paused_until"][0]


def test_the_api_reads_and_replaces_the_settings(patient_client, patient):
    body = {
        "email_enabled": False,
        "checkin_time": "08:15",
        "quiet_start": "22:00",
        "quiet_end": "06:00",
        "unsubscribed": ["session_tomorrow"],
    }

    before = patient_client.get(API).json()
    saved = patient_client.put(API, body, content_type="application/json")

    assert before["checkin_time"] == "19:00" and before["email_enabled"] is True
    assert saved.status_code == 200 and saved.json()["checkin_time"] == "08:15"
    preference = ReminderPreference.objects.get(patient=patient)
    assert (preference.email_enabled, preference.unsubscribed) == (False, ["session_tomorrow"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"checkin_time": "23:30"}, "checkin_time"),
        ({"checkin_time": "noon"}, "checkin_time"),
        ({"unsubscribed": ["digest"]}, "unsubscribed"),
        ({"email_enabled": None}, "email_enabled"),
    ],
)
def test_the_api_refuses_bad_settings_with_a_400(patient_client, changes, field):
    body = {
        "email_enabled": True,
        "checkin_time": "19:00",
        "quiet_start": "22:00",
        "quiet_end": "06:00",
    } | changes

    response = patient_client.put(API, body, content_type="application/json")

    assert response.status_code == 400
    assert any(key.split(".")[0] == field for key in response.json()["errors"])


def test_staff_get_404_on_reminder_settings(clinician_client):
    assert clinician_client.get(URL).status_code == 404
    assert clinician_client.get(API).status_code == 404
