"""Crisis resources that fit the clinic: its country's lines, its own phone and hours first
(docs/clinical.md §6), on /crisis/, the crisis bar, the result pages and the API."""

import uuid
from datetime import UTC, date, datetime
from urllib.parse import urlparse

import pytest
import time_machine

from care.domain.crisis import (
    CHECKED,
    COUNTRIES,
    COUNTRY_CHOICES,
    DEFAULT_COUNTRY,
    NOT_WATCHED,
    ClinicContact,
    Crisis,
    country_resources,
    crisis_block,
)
from care.records.crisis import crisis_for_clinic
from tests.factories import PatientFactory

OFFICE_HOURS = {key: [["09:00", "17:00"]] for key in ("mon", "tue", "wed", "thu", "fri")}
# Monday 7 December 2026: 15:00 UTC is 10:00 in New York, 15:00 in London (both open);
# 23:00 UTC is 18:00 / 23:00 (both closed).
OPEN = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
CLOSED = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)

EXPECTED = {  # (emergency number's link, a national line's link) per country
    "US": ("tel:911", "tel:988"),
    "CA": ("tel:911", "sms:988"),
    "GB": ("tel:999", "tel:116123"),
    "IE": ("tel:112", "sms:50808"),
    "AU": ("tel:000", "tel:131114"),
    "NZ": ("tel:111", "tel:1737"),
}


# --- the data -------------------------------------------------------------------------


def test_the_table_has_the_six_countries_and_a_choice_for_each():
    assert set(COUNTRIES) == set(EXPECTED)
    assert [code for code, _ in COUNTRY_CHOICES] == list(COUNTRIES)
    assert DEFAULT_COUNTRY == "US"


@pytest.mark.parametrize("code", list(EXPECTED))
def test_every_line_has_a_link_a_source_page_and_the_date_it_was_checked(code):
    country = COUNTRIES[code]
    emergency, national = EXPECTED[code]
    hrefs = [r.href for r in country.all_resources]

    assert country.emergency.href == emergency and national in hrefs
    assert country.all_resources[-1] == country.emergency
    for resource in country.all_resources:
        assert urlparse(resource.href).scheme in {"tel", "sms", "https"}, resource
        assert urlparse(resource.source).scheme == "https" and resource.source.count(".") >= 1
        assert resource.checked == CHECKED == date(2026, 12, 7)
        assert resource.kind == "national"
    assert any(r.main for r in country.resources)
    assert country.emergency_number in country.not_watched
    assert "not watched around the clock" in country.not_watched
    assert [link.href for link in country.bar][-1] == emergency


def test_the_us_keeps_its_lines_and_message():
    us = COUNTRIES["US"]
    hrefs = {r.href for r in us.all_resources}

    assert {"tel:988", "sms:988", "https://988lifeline.org/chat/", "tel:911"} <= hrefs
    assert "sms:741741?&body=HOME" in hrefs
    assert us.not_watched == NOT_WATCHED
    assert NOT_WATCHED.endswith("call or text 988, or call 911 in an emergency.")
    assert [r.href for r in us.resources if r.main].count("tel:988") == 1


def test_an_unknown_country_falls_back_to_the_default():
    assert country_resources("FR") is COUNTRIES["US"]
    assert country_resources(None) is COUNTRIES["US"]
    assert country_resources("GB") is COUNTRIES["GB"]


def test_the_clinics_line_to_call_now_comes_first():
    both = {"name": "Riverside", "phone": "020 7946 0018", "phone_href": "tel:+442079460018"}
    both |= {"after_hours": "020 7946 0999", "after_hours_href": "tel:+442079460999"}
    open_clinic = ClinicContact(**both, open_now=True, state="Open now, until 17:00")
    closed_clinic = ClinicContact(**both, open_now=False, state="Closed now; opens Mon 09:00")
    no_line = ClinicContact(name="Riverside", open_now=False)

    assert [r.href for r in open_clinic.resources()] == ["tel:+442079460018", "tel:+442079460999"]
    assert [r.href for r in closed_clinic.resources()] == ["tel:+442079460999", "tel:+442079460018"]
    assert open_clinic.resources()[0].label == (
        "Call Riverside: 020 7946 0018 (Open now, until 17:00)"
    )
    assert open_clinic.first_call.number == "020 7946 0018"
    assert closed_clinic.first_call.words == "your clinic's after-hours line"
    assert no_line.resources() == () and no_line.first_call is None


def test_the_api_block_puts_the_clinic_first_then_the_country():
    clinic = ClinicContact(
        name="Harbour", phone="0491 570 006", phone_href="tel:+61491570006", open_now=None
    )

    block = crisis_block(alert_raised=True, crisis=Crisis(COUNTRIES["AU"], clinic))

    assert block["alert_raised"] is True and block["country"] == "AU"
    assert "000" in block["message"] and "Lifeline" in block["message"]
    first, *national = block["resources"]
    assert first == {
        "label": "Call Harbour: 0491 570 006",
        "href": "tel:+61491570006",
        "kind": "clinic",
        "source": None,
        "checked": None,
    }
    assert [r["href"] for r in national][-1] == "tel:000"
    assert {r["checked"] for r in national} == {"2026-12-07"}
    assert block["clinic"]["phone"] == "0491 570 006" and block["clinic"]["open_now"] is None


def test_without_a_clinic_the_block_is_the_default_countrys():
    block = crisis_block(alert_raised=False)

    assert block["country"] == "US" and block["clinic"] is None
    assert block["message"] == NOT_WATCHED


# --- built from a clinic ------------------------------------------------------------------


@pytest.fixture
def uk_clinic(clinic):
    clinic.country, clinic.tz = "GB", "Europe/London"
    clinic.phone, clinic.after_hours_phone = "+442079460018", "+442079460999"
    clinic.opening_hours = OFFICE_HOURS
    clinic.save()
    return clinic


@pytest.mark.django_db
def test_a_clinic_is_shown_in_its_country_with_its_hours_and_state(uk_clinic):
    open_now = crisis_for_clinic(uk_clinic, now=OPEN)
    closed_now = crisis_for_clinic(uk_clinic, now=CLOSED)

    assert open_now.country.code == "GB"
    assert open_now.clinic.phone == "020 7946 0018"  # national form in the clinic's country
    assert open_now.clinic.hours == (
        ("Mon\u2013Fri", "09:00\u201317:00"),
        ("Sat\u2013Sun", "closed"),
    )
    assert open_now.clinic.state == "Open now, until 17:00"
    assert closed_now.clinic.state == "Closed now; opens Tue 09:00"
    assert [r.href for r in open_now.resources][:2] == ["tel:+442079460018", "tel:+442079460999"]
    assert [r.href for r in closed_now.resources][:2] == ["tel:+442079460999", "tel:+442079460018"]
    assert open_now.resources[-1].href == "tel:999"


@pytest.mark.django_db
def test_a_clinic_without_hours_or_phones_shows_only_the_country(clinic):
    crisis = crisis_for_clinic(clinic, now=OPEN)

    assert crisis.clinic.open_now is None and crisis.clinic.state == ""
    assert crisis.clinic.resources() == ()
    assert crisis.resources == COUNTRIES["US"].all_resources


@pytest.mark.django_db
def test_stored_values_the_forms_would_refuse_never_break_the_crisis_resources(clinic):
    clinic.opening_hours = {"mon": [["17:00", "09:00"]]}
    clinic.phone, clinic.after_hours_phone = "+1555", "not a number"
    clinic.save()  # as a migration or a shell could, without validation

    crisis = crisis_for_clinic(clinic, now=OPEN)

    assert crisis.clinic.hours == () and crisis.clinic.open_now is None
    assert crisis.clinic.phone == crisis.clinic.after_hours == ""
    assert crisis.resources == COUNTRIES["US"].all_resources


# --- the pages and the API ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_crisis_page_shows_the_patients_clinic_first_then_its_country(client, uk_clinic):
    patient = PatientFactory(clinic=uk_clinic, tz="Europe/London")
    with time_machine.travel(OPEN, tick=False):
        client.force_login(patient.user)
        page = client.get("/crisis/").content.decode()

    main = page.split("<main")[1]
    lead, rest = main.split("</p>", 1)
    assert 'href="tel:999"' in lead  # in immediate danger: the emergency number, before all
    assert rest.index("tel:+442079460018") < rest.index("tel:116123") < rest.index("tel:999")
    assert "Open now, until 17:00" in main and "Mon\u2013Fri" in main
    assert "tel:988" not in page and "tel:911" not in page  # nor in the crisis bar
    assert "checked 2026-12-07" in main and "https://www.samaritans.org/" in main


@pytest.mark.django_db
def test_the_crisis_bar_on_every_patient_page_leads_with_the_clinic(client, uk_clinic):
    patient = PatientFactory(clinic=uk_clinic, tz="Europe/London")
    with time_machine.travel(CLOSED, tick=False):
        client.force_login(patient.user)
        page = client.get("/me/").content.decode()

    bar = page.split('class="crisis-bar"')[1].split("</aside>")[0]
    assert "after-hours line" in bar
    assert bar.index("tel:+442079460999") < bar.index("tel:116123") < bar.index("tel:999")
    main = page.split("<main")[1]
    assert 'href="tel:999"' in main and "tel:911" not in main  # the home page's notice


@pytest.mark.django_db
def test_someone_not_signed_in_gets_the_default_country_and_can_choose_another(client):
    default = client.get("/crisis/").content.decode()
    australia = client.get("/crisis/", {"country": "au"}).content.decode()
    unknown = client.get("/crisis/", {"country": "XX"}).content.decode()

    assert "These are the numbers for the United States" in default
    assert 'href="tel:988"' in default and 'href="?country=GB"' in default
    assert "These are the numbers for Australia" in australia
    assert 'href="tel:131114"' in australia.split("<main")[1]
    assert "These are the numbers for the United States" in unknown


@pytest.mark.django_db
def test_the_result_page_box_is_the_clinics_country(client, uk_clinic):
    patient = PatientFactory(clinic=uk_clinic, tz="Europe/London")
    answers = {"client_id": str(uuid.uuid4())} | {f"item_{n}": "0" for n in range(1, 9)}

    with time_machine.travel(OPEN, tick=False):
        client.force_login(patient.user)
        response = client.post("/me/questionnaires/phq9/", answers | {"item_9": "1"}, follow=True)

    box = response.content.decode().split('class="crisis-box"')[1].split("</section>")[0]
    assert box.index("tel:+442079460018") < box.index("tel:116123")
    assert "sms:85258?&amp;body=SHOUT" in box and 'href="tel:999"' in box
    assert "988" not in box
    assert "not watched around the clock" in box


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["CA", "IE", "NZ"])
def test_the_api_safety_block_follows_the_patients_clinic(client, clinic, code):
    clinic.country, clinic.phone = code, ""
    clinic.save()
    patient = PatientFactory(clinic=clinic)
    client.force_login(patient.user)
    body = {"mood": 2, "anxiety": 8, "energy": 3, "sleep_hours": "5", "sleep_quality": 1}
    body |= {"has_self_harm_thoughts": True}

    response = client.post("/api/v1/checkins/", body, "application/json")

    safety = response.json()["safety"]
    assert response.status_code == 201 and safety["country"] == code
    assert safety["clinic"]["name"] == clinic.name and safety["clinic"]["phone"] == ""
    hrefs = [r["href"] for r in safety["resources"]]
    assert hrefs[-1] == EXPECTED[code][0] and EXPECTED[code][1] in hrefs
    assert {r["kind"] for r in safety["resources"]} == {"national"}
    assert COUNTRIES[code].emergency_number in safety["message"]


@pytest.mark.django_db
def test_staff_of_another_clinic_see_their_own_clinics_lines(client, uk_clinic, other_clinician):
    client.force_login(other_clinician)

    page = client.get("/crisis/").content.decode()

    assert 'href="tel:988"' in page and "tel:+442079460018" not in page
