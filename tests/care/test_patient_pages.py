"""The patient's pages: access, validation messages, crisis resources, double submission."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from care.models import Alert, Assessment, CheckIn
from care.records.services import assessment_submit

pytestmark = pytest.mark.django_db

CHECKIN_URL = "/me/checkin/"
CRISIS_MARKERS = [
    'href="tel:988"',
    'href="sms:988"',
    "988lifeline.org",
    "741741",
    'href="tel:911"',
    "not watched around the clock",
]


def checkin_post(**overrides):
    data = {
        "client_id": str(uuid.uuid4()),
        "mood": "6",
        "anxiety": "3",
        "energy": "5",
        "sleep_hours": "7.5",
        "sleep_quality": "3",
        "side_effects": ["nausea", "headache"],
        "has_self_harm_thoughts": "no",
        "note": "Slept better.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def phq9_post(**items):
    data = {"client_id": str(uuid.uuid4())} | {f"item_{n}": "0" for n in range(1, 10)}
    data.update({k: v for k, v in items.items() if v is not None})
    return {k: v for k, v in data.items() if v != "omit"}


@pytest.fixture
def own_result(patient):
    return assessment_submit(
        patient=patient,
        instrument_code="gad7",
        answers={str(n): 1 for n in range(1, 8)},
        difficulty=None,
        client_id=None,
        entered_by=patient.user,
        now=timezone.now(),
    ).assessment


PATIENT_PAGES = ["/me/", CHECKIN_URL, "/me/questionnaires/phq9/", "/me/history/"]


@pytest.mark.parametrize("url", PATIENT_PAGES)
def test_the_patient_reaches_their_own_pages(patient_client, url):
    assert patient_client.get(url).status_code == 200


@pytest.mark.parametrize("url", PATIENT_PAGES)
def test_staff_of_any_clinic_get_404_on_patient_pages(client, clinician, other_clinician, url):
    for staff in (clinician, other_clinician):
        client.force_login(staff)
        assert client.get(url).status_code == 404


def test_a_result_is_reachable_only_by_its_patient(client, own_result, other_patient, clinician):
    url = reverse("care:result", args=[own_result.public_id])
    client.force_login(own_result.patient.user)
    assert client.get(url).status_code == 200
    for outsider in (other_patient.user, clinician):
        client.force_login(outsider)
        assert client.get(url).status_code == 404


def test_a_valid_checkin_is_saved_and_thanked(patient_client, patient):
    response = patient_client.post(CHECKIN_URL, checkin_post())

    checkin = CheckIn.objects.get(patient=patient)
    assert response["Location"] == reverse(
        "care:checkin-saved", args=[checkin.local_date.isoformat()]
    )
    assert (checkin.mood, checkin.sleep_hours, checkin.side_effects) == (
        6,
        Decimal("7.5"),
        ["nausea", "headache"],
    )
    page = patient_client.get(response["Location"]).content.decode()
    assert "your check-in is saved" in page
    assert "tel:988" not in page.split("<main")[1]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"mood": None}, "mood", "Choose a number from 0 to 10."),
        ({"mood": "11"}, "mood", "Select a valid choice."),
        ({"anxiety": "-1"}, "anxiety", "Select a valid choice."),
        ({"sleep_hours": "25"}, "sleep_hours", "cannot be more than 24"),
        ({"sleep_hours": "lots"}, "sleep_hours", "as a number"),
        ({"sleep_hours": None}, "sleep_hours", "Enter the hours you slept"),
        ({"sleep_quality": "9"}, "sleep_quality", "Select a valid choice."),
        ({"side_effects": ["telepathy"]}, "side_effects", "Select a valid choice."),
        ({"has_self_harm_thoughts": None}, "has_self_harm_thoughts", "Please answer yes or no."),
        ({"note": "x" * 2001}, "note", "at most 2000 characters"),
    ],
)
def test_bad_checkin_input_gets_a_clear_message_and_keeps_what_was_saved(
    patient_client, patient, overrides, field, message
):
    patient_client.post(CHECKIN_URL, checkin_post(mood="4"))

    response = patient_client.post(CHECKIN_URL, checkin_post(**overrides))

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    checkin = CheckIn.objects.get(patient=patient)
    assert (checkin.mood, checkin.version) == (4, 1)


def test_a_second_checkin_today_shows_the_saved_answers(patient_client):
    patient_client.post(CHECKIN_URL, checkin_post(mood="2"))

    response = patient_client.get(CHECKIN_URL)

    assert response.context["form"]["mood"].value() == 2
    assert "already checked in today" in response.content.decode()


def test_the_same_form_posted_twice_saves_once(patient_client, patient):
    data = checkin_post()

    patient_client.post(CHECKIN_URL, data)
    patient_client.post(CHECKIN_URL, data)

    assert CheckIn.objects.get(patient=patient).version == 1


def test_thoughts_of_self_harm_show_crisis_resources_at_once_and_alert(patient_client, patient):
    response = patient_client.post(
        CHECKIN_URL, checkin_post(has_self_harm_thoughts="yes"), follow=True
    )

    page = response.content.decode().split("<main")[1]
    for marker in CRISIS_MARKERS:
        assert marker in page
    assert Alert.objects.get(patient=patient).priority == "urgent"


def test_a_questionnaire_page_has_the_stem_recall_items_and_attribution(patient_client):
    page = patient_client.get("/me/questionnaires/gad7/").content.decode()

    assert "Over the last 2 weeks, how often have you been bothered by the following" in page
    assert "7. Feeling afraid, as if something awful might happen" in page
    assert page.count('type="radio"') == 7 * 4 + 4
    assert "No permission required to reproduce" in page
    assert "Regenstrief Institute" in page


def test_pcl5_page_has_its_own_instructions_and_five_options(patient_client):
    page = patient_client.get("/me/questionnaires/pcl5/").content.decode()

    assert "In the past month, how much were you bothered by:" in page
    assert page.count('type="radio"') == 20 * 5


def test_an_unknown_questionnaire_is_404(patient_client):
    assert patient_client.get("/me/questionnaires/madrs/").status_code == 404


@pytest.mark.parametrize(
    ("items", "key", "message"),
    [
        ({"item_3": "omit"}, "item_3", "Item 3: please choose an answer."),
        ({"item_9": "4"}, "item_9", "Item 9: choose one of the answers shown."),
        ({"item_1": "many"}, "item_1", "Item 1: choose one of the answers shown."),
    ],
)
def test_a_bad_questionnaire_answer_is_named_and_nothing_is_stored(
    patient_client, items, key, message
):
    response = patient_client.post("/me/questionnaires/phq9/", phq9_post(**items))

    assert response.status_code == 200
    assert message in response.context["form"].errors[key]
    assert not Assessment.objects.exists()


def test_item_9_shows_crisis_resources_on_the_result_page_with_a_low_total(patient_client, patient):
    response = patient_client.post("/me/questionnaires/phq9/", phq9_post(item_9="1"), follow=True)

    page = response.content.decode().split("<main")[1]
    for marker in CRISIS_MARKERS:
        assert marker in page
    assert "Minimal." in page
    assert page.index("tel:988") < page.index("Your PHQ-9 result")
    assert Alert.objects.get(patient=patient).kind == "safety"


def test_a_result_without_item_9_shows_the_band_in_plain_words(patient_client):
    response = patient_client.post(
        "/me/questionnaires/phq9/",
        phq9_post(item_1="3", item_2="3", item_3="3", item_4="2"),
        follow=True,
    )

    page = response.content.decode().split("<main")[1]
    assert "Moderate." in page and "moderate depression" in page
    assert "tel:988" not in page


def test_history_lists_checkins_and_results_with_a_table_and_chart_data(patient_client, own_result):
    patient_client.post(CHECKIN_URL, checkin_post(note="<script>alert(1)</script>"))

    page = patient_client.get("/me/history/").content.decode()

    assert 'id="history-data"' in page
    assert "GAD-7" in page and "<td>6</td>" in page
    assert "<script>alert(1)</script>" not in page


def test_home_shows_todays_checkin_state_and_due_questionnaires(patient_client, patient):
    patient.has_anxiety = True
    patient.save()

    before = patient_client.get("/me/").content.decode()
    patient_client.post(CHECKIN_URL, checkin_post())
    after = patient_client.get("/me/").content.decode()

    assert "Start today's check-in" in before and "Done for today" in after
    assert "/me/questionnaires/phq9/" in before and "/me/questionnaires/gad7/" in before


def test_home_shows_the_next_scheduled_session_in_the_patients_zone(patient_client, patient):
    from datetime import UTC, datetime, timedelta

    from care.models import TreatmentSession

    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    soon = soon.replace(hour=16, minute=0, second=0)  # 10:00 in Chicago (CST)
    TreatmentSession.objects.create(patient=patient, scheduled_at=soon, route="iv")
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=soon - timedelta(days=5), route="iv", status="completed"
    )

    page = patient_client.get("/me/").content.decode()

    assert "IV infusion" in page
    assert ("10:00 AM" in page) != ("11:00 AM" in page)  # CST or CDT, never UTC's 4:00 PM
    assert "4:00 PM" not in page


def test_times_are_shown_in_the_patients_zone(patient_client, patient):
    from datetime import UTC, datetime

    result = assessment_submit(
        patient=patient,
        instrument_code="gad7",
        answers={str(n): 0 for n in range(1, 8)},
        difficulty=None,
        client_id=None,
        entered_by=patient.user,
        now=datetime(2026, 1, 15, 3, 30, tzinfo=UTC),  # 14 Jan, 9:30 PM in Chicago
    ).assessment

    page = patient_client.get(reverse("care:result", args=[result.public_id])).content.decode()

    assert "January 14, 2026, 9:30 PM" in page


def test_staff_see_times_in_the_clinics_zone(clinician_client, patient):
    from care.models import Alert

    Alert.objects.create(
        patient=patient,
        kind="safety",
        priority="urgent",
        reason="Test reason",
        created_at="2026-01-15T03:30:00Z",  # 14 Jan 22:30 in New York
    )

    page = clinician_client.get(reverse("care:patient-detail", args=[patient.public_id]))

    assert "Wed, Jan 14, 22:30" in page.content.decode()
