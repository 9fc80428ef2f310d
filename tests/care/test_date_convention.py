"""One date convention, the clinic's locale (en-US): written dates put the month first, as
the browser's date inputs do (mm/dd/yyyy), and the pages say their language is en-US."""

from datetime import UTC, date, datetime

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from care.caseload.display import session_moment
from care.domain.dates import day_month, day_month_year
from care.domain.rules import missed_checkins_alert
from care.records.services import assessment_submit

pytestmark = pytest.mark.django_db


def test_pages_and_the_error_page_say_they_are_in_us_english(patient_client):
    home = patient_client.get(reverse("care:me")).content.decode()
    error = server_error(RequestFactory().get("/")).content.decode()

    assert '<html lang="en-US">' in home and '<html lang="en-US">' in error


def test_the_patients_pages_write_a_moment_month_first(patient_client, patient):
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

    assert "Completed January 14, 2026, 9:30 PM." in page


def test_staff_pages_write_dates_month_first(clinician_client, patient):
    patient.date_of_birth = date(1986, 12, 6)
    patient.save()

    page = clinician_client.get(reverse("care:patient-detail", args=[patient.public_id]))

    assert "<dd>Dec 6, 1986</dd>" in page.content.decode()


def test_the_display_helpers_write_the_month_first():
    assert day_month(date(2026, 1, 5)) == "Jan 5"
    assert day_month_year(date(2026, 12, 6)) == "Dec 6, 2026"
    assert session_moment(datetime(2026, 11, 27, 14, 30, tzinfo=UTC)).startswith("Fri, Nov 27,")


def test_an_alert_reason_writes_its_day_month_first():
    draft = missed_checkins_alert(
        last_checkin_on=date(2026, 3, 3),
        counting_from=date(2026, 1, 1),
        today=date(2026, 3, 9),
        days=3,
    )

    assert "since Mar 3" in draft.reason
