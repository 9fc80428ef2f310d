"""The patient's reflection after a held session: the rule (pure), the service, the patient's
page and home, and the staff patient page showing it beside its session."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from care.domain.reflections import REFLECTION_DAYS, reflection_open, reflection_problems
from care.models import AuditEvent, SessionReflection, TreatmentSession
from care.treatment.services import (
    ReflectionAlreadyWritten,
    ReflectionNotOpen,
    reflection_submit,
)
from tests.factories import PatientFactory

AT = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)
WORDS = {"what_came_up": "Memories of the lake", "feeling": "Lighter", "for_team": ""}


# The rule: no database.


def test_a_reflection_is_open_from_the_start_of_a_held_session_for_14_days():
    assert reflection_open(held=True, session_at=AT, now=AT)
    assert reflection_open(held=True, session_at=AT, now=AT + timedelta(days=REFLECTION_DAYS))
    assert not reflection_open(
        held=True, session_at=AT, now=AT + timedelta(days=REFLECTION_DAYS, seconds=1)
    )
    assert not reflection_open(held=True, session_at=AT, now=AT - timedelta(seconds=1))
    assert not reflection_open(held=False, session_at=AT, now=AT + timedelta(days=1))


def test_a_reflection_says_something_in_a_box_and_no_box_is_too_long():
    assert reflection_problems(WORDS) == {}
    assert reflection_problems({"for_team": "Thanks"}) == {}
    assert set(reflection_problems({"what_came_up": " ", "feeling": "", "for_team": ""})) == {
        "__all__"
    }
    assert set(reflection_problems({"feeling": "x" * 2001})) == {"feeling"}
    assert reflection_problems({"feeling": "x" * 2000}) == {}


# The service.


@pytest.fixture
def held(patient):
    return TreatmentSession.objects.create(
        patient=patient, scheduled_at=AT, route="iv", status="completed"
    )


@pytest.mark.django_db
def test_the_service_writes_one_reflection_audited(held):
    now = AT + timedelta(days=1)
    reflection = reflection_submit(session=held, values=WORDS, now=now)

    assert (reflection.what_came_up, reflection.feeling, reflection.for_team) == (
        "Memories of the lake",
        "Lighter",
        "",
    )
    event = AuditEvent.objects.get(what=AuditEvent.What.REFLECTION)
    assert (event.action, event.patient_id, event.object_id, event.at) == (
        AuditEvent.Action.CREATED,
        held.patient_id,
        str(reflection.pk),
        now,
    )
    with pytest.raises(ReflectionAlreadyWritten):
        reflection_submit(session=held, values={"feeling": "again"}, now=now)
    assert SessionReflection.objects.get().feeling == "Lighter"


@pytest.mark.django_db
def test_the_service_refuses_a_session_not_held_too_old_or_empty_words(held, patient):
    booked = TreatmentSession.objects.create(patient=patient, scheduled_at=AT, route="iv")
    with pytest.raises(ReflectionNotOpen):
        reflection_submit(session=booked, values=WORDS, now=AT + timedelta(days=1))
    with pytest.raises(ReflectionNotOpen):
        reflection_submit(session=held, values=WORDS, now=AT + timedelta(days=15))
    with pytest.raises(ValidationError):
        reflection_submit(session=held, values={"feeling": "  "}, now=AT + timedelta(days=1))
    assert not SessionReflection.objects.exists()
    assert not AuditEvent.objects.filter(what=AuditEvent.What.REFLECTION).exists()


# The patient's page.


def page(session) -> str:
    return reverse("care:my-session-reflection", args=[session.pk])


@pytest.fixture
def yesterday(patient):
    return TreatmentSession.objects.create(
        patient=patient,
        scheduled_at=timezone.now() - timedelta(days=1),
        route="iv",
        status="completed",
    )


@pytest.mark.django_db
def test_the_page_shows_the_crisis_links_before_the_three_boxes(patient_client, yesterday):
    response = patient_client.get(page(yesterday))

    assert response.status_code == 200
    html = response.content.decode()
    crisis, box = html.index('class="crisis-button"'), html.index('name="what_came_up"')
    assert crisis < box
    for name in ("what_came_up", "feeling", "for_team"):
        assert f'name="{name}"' in html
    for label in ("What came up", "How you feel now", "Anything to tell your care team"):
        assert label in html


@pytest.mark.django_db
def test_writing_it_saves_once_and_a_second_is_refused(patient_client, yesterday):
    response = patient_client.post(page(yesterday), WORDS)
    assert response.status_code == 302 and response["Location"] == reverse("care:me")
    assert SessionReflection.objects.get(session=yesterday).feeling == "Lighter"

    again = patient_client.post(page(yesterday), {"feeling": "Different"})

    assert again.status_code == 409
    assert b"already written your reflection" in again.content
    assert SessionReflection.objects.get(session=yesterday).feeling == "Lighter"
    shown = patient_client.get(page(yesterday))
    assert b"Memories of the lake" in shown.content and b'name="feeling"' not in shown.content


@pytest.mark.django_db
def test_empty_boxes_are_a_form_error_not_a_reflection(patient_client, yesterday):
    response = patient_client.post(page(yesterday), {"what_came_up": " ", "feeling": ""})

    assert response.status_code == 400
    assert b"at least one of the boxes" in response.content
    assert not SessionReflection.objects.exists()


@pytest.mark.django_db
def test_another_patients_session_is_404(client, yesterday, other_patient):
    client.force_login(other_patient.user, backend="django.contrib.auth.backends.ModelBackend")

    assert client.get(page(yesterday)).status_code == 404
    assert client.post(page(yesterday), WORDS).status_code == 404
    assert not SessionReflection.objects.exists()


@pytest.mark.django_db
def test_sessions_not_held_or_older_than_14_days_are_404(patient_client, patient):
    now = timezone.now()
    booked = TreatmentSession.objects.create(
        patient=patient, scheduled_at=now - timedelta(hours=2), route="iv"
    )
    cancelled = TreatmentSession.objects.create(
        patient=patient, scheduled_at=now - timedelta(days=1), route="iv", status="cancelled"
    )
    old = TreatmentSession.objects.create(
        patient=patient, scheduled_at=now - timedelta(days=15), route="iv", status="completed"
    )
    for session in (booked, cancelled, old):
        assert patient_client.get(page(session)).status_code == 404, session.status
        assert patient_client.post(page(session), WORDS).status_code == 404
    assert patient_client.get("/me/sessions/999999999/reflection/").status_code == 404
    assert not SessionReflection.objects.exists()


@pytest.mark.django_db
def test_staff_have_no_patient_reflection_page(clinician_client, yesterday):
    assert clinician_client.get(page(yesterday)).status_code == 404


# The patient's home.


@pytest.mark.django_db
def test_home_asks_for_a_reflection_while_one_is_open(patient_client, patient, yesterday):
    home = patient_client.get(reverse("care:me")).content.decode()
    assert "How was your session?" in home and page(yesterday) in home

    patient_client.post(page(yesterday), WORDS)

    assert "How was your session?" not in patient_client.get(reverse("care:me")).content.decode()


@pytest.mark.django_db
def test_home_does_not_ask_for_old_or_unheld_sessions(patient_client, patient):
    now = timezone.now()
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=now - timedelta(days=15), route="iv", status="completed"
    )
    TreatmentSession.objects.create(
        patient=patient, scheduled_at=now - timedelta(days=1), route="iv", status="no_show"
    )

    assert "How was your session?" not in patient_client.get(reverse("care:me")).content.decode()


# The staff patient page.


@pytest.mark.django_db
def test_the_patient_page_shows_each_reflection_beside_its_session(
    clinician_client, patient, yesterday
):
    other = TreatmentSession.objects.create(
        patient=patient,
        scheduled_at=yesterday.scheduled_at - timedelta(days=7),
        route="iv",
        status="completed",
    )
    reflection_submit(session=yesterday, values=WORDS, now=timezone.now())
    reflection_submit(
        session=other, values={"for_team": "Please call about the ride"}, now=timezone.now()
    )
    before = AuditEvent.objects.count()

    response = clinician_client.get(reverse("care:patient-detail", args=[patient.public_id]))

    html = response.content.decode()
    table = html[html.index('id="sessions-heading"') : html.index('id="checkins-heading"')]
    # Newest session first, each followed by its own reflection.
    rows = table.split("<tr")
    newest = next(i for i, row in enumerate(rows) if "Memories of the lake" in row)
    older = next(i for i, row in enumerate(rows) if "Please call about the ride" in row)
    assert newest < older
    assert "Patient&#x27;s reflection" in rows[newest] or "Patient's reflection" in rows[newest]
    # The read of the page (with its reflections) is in the audit trail.
    reads = AuditEvent.objects.filter(pk__gt=before, patient=patient, action="viewed")
    assert reads.filter(what="patient").exists()


@pytest.mark.django_db
def test_reflections_add_no_query_to_the_patient_page(clinician_client, patient, yesterday):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = clinician_client.get(
                reverse("care:patient-detail", args=[patient.public_id])
            )
        assert response.status_code == 200
        return len(captured.captured_queries)

    without = queries()
    for days in range(2, 6):
        session = TreatmentSession.objects.create(
            patient=patient,
            scheduled_at=timezone.now() - timedelta(days=days),
            route="iv",
            status="completed",
        )
        reflection_submit(session=session, values=WORDS, now=timezone.now())

    assert queries() == without


@pytest.mark.django_db
def test_a_patient_of_another_clinic_gets_404(client, patient, yesterday):
    reflection_submit(session=yesterday, values=WORDS, now=timezone.now())
    foreign = PatientFactory()  # another clinic
    client.force_login(foreign.user, backend="django.contrib.auth.backends.ModelBackend")

    assert client.get(page(yesterday)).status_code == 404
