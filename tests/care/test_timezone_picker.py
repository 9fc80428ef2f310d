"""The time-zone pickers: zones grouped by country, the clinic's country and its common
zones first, usable without JavaScript; every zone name the database knows stays valid."""

import re

import pytest

from care.accounts.forms import ClinicSettingsForm
from care.domain.timezones import timezone_groups

pytestmark = pytest.mark.django_db


def optgroups(html: str, name: str) -> list[tuple[str, list[str]]]:
    """The <optgroup>s of the select `name`: (label, [option values])."""
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
    return [
        (label, re.findall(r'<option value="([^"]+)"', body))
        for label, body in re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S)
    ]


def test_the_enrollment_zone_picker_offers_the_clinics_country_first_by_country(
    clinician_client, clinic
):
    clinic.tz = "America/Denver"
    clinic.save()

    page = clinician_client.get("/staff/patients/new/").content.decode()

    groups = optgroups(page, "tz")
    assert groups[0][0] == "United States"
    assert groups[0][1][:5] == [
        "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
        "America/Los_Angeles",
    ]  # fmt: skip
    by_label = dict(groups)
    assert "Europe/Paris" in by_label["France"] and "America/Toronto" in by_label["Canada"]
    assert '<option value="America/Denver" selected>Denver — Mountain (most areas)' in page


def test_a_clinic_abroad_sees_its_own_country_first(client, clinic_admin, clinic):
    clinic.tz = "Europe/Berlin"
    clinic.save()
    client.force_login(clinic_admin)

    page = client.get("/staff/clinic/").content.decode()

    assert optgroups(page, "tz")[0] == ("Germany", ["Europe/Berlin", "Europe/Busingen"])


@pytest.mark.parametrize("zone", ["America/Indianapolis", "US/Eastern", "Etc/UTC"])
def test_an_older_or_alias_zone_name_stays_a_valid_choice(clinic, zone):
    form = ClinicSettingsForm(instance=clinic)

    assert form.fields["tz"].valid_value(zone)


def test_every_zone_is_offered_once():
    values = [value for _, choices in timezone_groups("America/New_York") for value, _ in choices]

    assert len(values) == len(set(values)) > 500
