"""The audit trail page: clinic admins only, their own clinic's events, filters, pages."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from care.models import AuditEvent
from tests.factories import PatientFactory, StaffFactory

pytestmark = pytest.mark.django_db

URL = "/staff/audit/"
A = AuditEvent.Action
W = AuditEvent.What
# 09:00 in New York (the clinic's zone) on 10 March 2026.
NOW = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)


def add_events(n, *, clinic, at=NOW, **fields):
    AuditEvent.objects.bulk_create(
        AuditEvent(
            at=at - timedelta(minutes=i),
            actor_role=fields.get("actor_role", "clinician"),
            clinic=clinic,
            action=fields.get("action", A.VIEWED),
            what=fields.get("what", W.PATIENT),
            channel="page",
            actor=fields.get("actor"),
            actor_email=fields["actor"].email if fields.get("actor") else "",
            patient=fields.get("patient"),
        )
        for i in range(n)
    )


def shown(response) -> list[AuditEvent]:
    return list(response.context["page"].object_list)


@pytest.fixture
def admin_client(client, clinic_admin):
    client.force_login(clinic_admin)
    return client


def test_admins_see_the_page_and_a_link_to_it(admin_client):
    response = admin_client.get(URL)

    assert response.status_code == 200
    assert reverse("care:audit-log") == URL
    assert f'href="{URL}"' in response.content.decode()


def test_clinicians_get_403_and_patients_404(clinician_client, patient, client):
    assert clinician_client.get(URL).status_code == 403
    assert f'href="{URL}"' not in clinician_client.get("/staff/patients/").content.decode()
    client.force_login(patient.user)
    assert client.get(URL).status_code == 404


def test_only_the_admins_own_clinic_is_shown_newest_first(
    admin_client, clinic, other_clinic, patient, foreign_patient, clinician, other_clinician
):
    add_events(2, clinic=clinic, actor=clinician, patient=patient)
    add_events(3, clinic=other_clinic, actor=other_clinician, patient=foreign_patient)
    add_events(1, clinic=None, actor_role="anonymous", action=A.LOGIN_FAILED, what=W.ACCOUNT)

    events = shown(admin_client.get(URL))

    # Signing the admin in is an event of the clinic too (it has no path: a test login).
    assert {e.clinic_id for e in events} == {clinic.pk}
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
    assert foreign_patient.user.full_name not in admin_client.get(URL).content.decode()


def test_the_page_shows_who_what_and_which_patient(admin_client, clinic, clinician, patient):
    add_events(1, clinic=clinic, actor=clinician, patient=patient, action=A.EXPORTED)

    html = admin_client.get(URL).content.decode()

    assert clinician.full_name in html
    assert "Exported" in html
    assert reverse("care:patient-detail", args=[patient.public_id]) in html


def test_filters_by_actor_patient_action_and_days(
    admin_client, clinic, clinician, patient, other_patient
):
    nurse = StaffFactory(clinic=clinic).user
    add_events(2, clinic=clinic, actor=clinician, patient=patient)
    add_events(3, clinic=clinic, actor=nurse, patient=other_patient, action=A.EXPORTED)
    add_events(4, clinic=clinic, actor=nurse, patient=patient, at=NOW - timedelta(days=2))

    by_actor = shown(admin_client.get(URL, {"actor": clinician.pk}))
    by_patient = shown(admin_client.get(URL, {"patient": str(other_patient.public_id)}))
    by_action = shown(admin_client.get(URL, {"action": "exported"}))
    # The clinic's days: 10 March in New York runs from 05:00 UTC on 10 March.
    one_day = shown(admin_client.get(URL, {"since": "2026-03-10", "until": "2026-03-10"}))
    earlier = shown(admin_client.get(URL, {"until": "2026-03-09", "patient": patient.public_id}))

    assert {e.actor for e in by_actor} == {clinician} and len(by_actor) == 2
    assert {e.patient for e in by_patient} == {other_patient} and len(by_patient) == 3
    assert {e.action for e in by_action} == {A.EXPORTED} and len(by_action) == 3
    assert len(one_day) == 5
    assert len(earlier) == 4


@pytest.mark.parametrize(
    "query",
    [
        {"actor": "nobody"},
        {"actor": "999999"},
        {"patient": "not-a-uuid"},
        {"action": "hacked"},
        {"since": "yesterday"},
        {"until": "2026-02-30"},
        {"page": "-1"},
        {"page": "x" * 500},
    ],
)
def test_bad_filter_values_are_ignored_not_errors(admin_client, clinic, clinician, query):
    add_events(3, clinic=clinic, actor=clinician)

    response = admin_client.get(URL, query)

    assert response.status_code == 200
    assert len(shown(response)) >= 3


def test_a_patient_of_another_clinic_cannot_be_filtered_for(
    admin_client, other_clinic, foreign_patient, other_clinician
):
    add_events(2, clinic=other_clinic, actor=other_clinician, patient=foreign_patient)

    events = shown(admin_client.get(URL, {"patient": str(foreign_patient.public_id)}))

    assert foreign_patient not in {e.patient for e in events}


def test_pages_of_fifty_keep_the_filters(admin_client, clinic, clinician):
    add_events(120, clinic=clinic, actor=clinician, action=A.CHANGED)

    first = admin_client.get(URL, {"action": "changed"})
    third = admin_client.get(URL, {"action": "changed", "page": "3"})

    assert len(shown(first)) == 50 and len(shown(third)) == 20
    assert "action=changed&amp;page=2" in first.content.decode()


def test_the_page_costs_the_same_queries_for_10_and_200_events(admin_client, clinic):
    patients = [PatientFactory(clinic=clinic) for _ in range(3)]
    staff = [StaffFactory(clinic=clinic).user for _ in range(3)]
    for i in range(10):
        add_events(1, clinic=clinic, actor=staff[i % 3], patient=patients[i % 3])
    with CaptureQueriesContext(connection) as small:
        admin_client.get(URL)

    for i in range(190):
        add_events(1, clinic=clinic, actor=staff[i % 3], patient=patients[i % 3])
    with CaptureQueriesContext(connection) as large:
        response = admin_client.get(URL, {"page": "2"})

    assert response.context["page"].paginator.count > 200
    assert len(large.captured_queries) == len(small.captured_queries) <= 12
