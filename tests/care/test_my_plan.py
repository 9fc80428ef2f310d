"""The patient's "My plan": the plan in plain words, every coming session with where and how
to prepare, the readiness check and asking to move a session; the care team sees the
readiness answers on the patient page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from care.models import Alert, AuditEvent, SessionMoveRequest, SessionReadiness, TreatmentSession
from care.treatment.services import (
    MoveRequestPending,
    ReadinessAlreadyAnswered,
    SessionNotOpen,
    move_request_create,
    readiness_submit,
    treatment_plan_version_create,
)

pytestmark = pytest.mark.django_db

READY = {
    "ride_arranged": True,
    "fasting_understood": True,
    "feeling_well": True,
    "new_medicines": False,
    "new_medicines_details": "",
}
READY_POST = {
    "ride_arranged": "yes",
    "fasting_understood": "yes",
    "feeling_well": "yes",
    "new_medicines": "no",
}


def book(patient, *, hours=20, route="iv"):
    return TreatmentSession.objects.create(
        patient=patient, scheduled_at=timezone.now() + timedelta(hours=hours), route=route
    )


@pytest.fixture
def planned(patient, clinician):
    clinician.full_name = "Dr Ada Prescriber"
    clinician.save()
    treatment_plan_version_create(
        patient=patient,
        by=clinician,
        now=timezone.now(),
        values={
            "route": "iv",
            "induction_sessions": 6,
            "induction_weeks": 3,
            "target_dose_mg_per_kg": Decimal("0.55"),
            "maintenance": "every_n_weeks",
            "maintenance_every_weeks": 4,
            "questionnaires": ["phq9", "gad7"],
            "questionnaire_every_days": 14,
            "goals": "Sleep through the night.",
            "prescriber": clinician,
        },
        reason_code="",
        reason="",
    )
    treatment_plan_version_create(
        patient=patient,
        by=clinician,
        now=timezone.now(),
        values={
            "route": "iv",
            "induction_sessions": 6,
            "induction_weeks": 3,
            "target_dose_mg_per_kg": Decimal("0.65"),
            "maintenance": "every_n_weeks",
            "maintenance_every_weeks": 4,
            "questionnaires": ["phq9", "gad7"],
            "questionnaire_every_days": 14,
            "goals": "Sleep through the night.",
            "prescriber": clinician,
        },
        reason_code="partial_response",
        reason="STAFFONLY-REASON partial response at week 2",
    )
    return patient


def test_my_plan_shows_the_plan_in_plain_words_and_no_staff_only_data(patient_client, planned):
    page = patient_client.get(reverse("care:my-plan")).content.decode()

    assert "6 IV infusions over 3 weeks, then one every 4 weeks" in page
    assert "PHQ-9 and GAD-7 every 2 weeks" in page
    assert "Sleep through the night." in page and "Dr Ada Prescriber" in page
    for staff_only in ("STAFFONLY-REASON", "Partial response", "mg/kg", "0.65", "0.55", "dose"):
        assert staff_only not in page


def test_my_plan_lists_every_coming_session_with_where_and_preparation(
    patient_client, patient, clinic
):
    clinic.name, clinic.address = "Riverside Clinic", "12 River Road\nSpringfield"
    clinic.prep_fasting = "No food for 6 hours before.\nClear water until 2 hours before."
    clinic.prep_bring = "A <b>warm</b> sweater."
    clinic.save()
    book(patient, hours=20)
    book(patient, hours=24 * 9, route="intranasal")
    TreatmentSession.objects.create(  # past and cancelled ones are not coming
        patient=patient, scheduled_at=timezone.now() - timedelta(days=1), route="iv"
    )

    page = patient_client.get(reverse("care:my-plan")).content.decode()

    assert page.count("<article") == 2
    assert "IV infusion" in page and "Esketamine nasal spray session" in page
    assert "Riverside Clinic" in page and "12 River Road<br>Springfield" in page
    assert "No food for 6 hours before.<br>Clear water until 2 hours before." in page
    assert "A &lt;b&gt;warm&lt;/b&gt; sweater." in page  # plain text, never markup
    assert page.count("Ask to move this session</button>") == 2


def test_home_shows_every_coming_session_and_links_to_my_plan(patient_client, patient, clinic):
    book(patient, hours=20)
    book(patient, hours=24 * 9)

    page = patient_client.get(reverse("care:me")).content.decode()

    assert page.count("IV infusion") == 2 and clinic.name in page
    assert reverse("care:my-plan") in page
    assert 'href="/me/plan/"' in page  # the navigation's "My plan" too


def test_the_readiness_check_signed_in_saves_once_and_shows_on_my_plan(patient_client, patient):
    session = book(patient)
    url = reverse("care:my-session-ready", args=[session.pk])

    assert patient_client.get(url).status_code == 200
    response = patient_client.post(url, READY_POST)
    again = patient_client.post(url, READY_POST | {"feeling_well": "no"})

    assert response.status_code == 302
    readiness = SessionReadiness.objects.get(session=session)
    assert readiness.is_ready and not readiness.by_link
    assert again.status_code == 410 and "already answered" in again.content.decode()
    assert not Alert.objects.filter(patient=patient).exists()
    event = AuditEvent.objects.get(what=AuditEvent.What.READINESS)
    assert (event.actor, event.channel) == (patient.user, AuditEvent.Channel.PAGE)
    assert "Answered" in patient_client.get(reverse("care:my-plan")).content.decode()


def test_bad_readiness_answers_get_clear_messages(patient_client, patient):
    session = book(patient)
    url = reverse("care:my-session-ready", args=[session.pk])

    response = patient_client.post(url, READY_POST | {"new_medicines": "yes", "ride_arranged": ""})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "ride_arranged" in errors and "new_medicines_details" in errors
    assert not SessionReadiness.objects.exists()


def test_not_ready_raises_one_routine_alert_without_the_patients_words(patient):
    session = book(patient)

    _, alert = readiness_submit(
        session=session,
        values=READY
        | {
            "ride_arranged": False,
            "new_medicines": True,
            "new_medicines_details": "ZZSECRET sertraline",
        },
        now=timezone.now(),
        by_link=False,
    )
    with pytest.raises(ReadinessAlreadyAnswered):
        readiness_submit(session=session, values=READY, now=timezone.now(), by_link=False)

    assert Alert.objects.filter(patient=patient).count() == 1
    assert (alert.kind, alert.priority, alert.session) == ("not_ready", "routine", session)
    assert "no ride home arranged" in alert.reason and "a new or changed medicine" in alert.reason
    assert "ZZSECRET" not in alert.reason


def test_the_readiness_check_is_refused_too_early_after_the_start_and_when_cancelled(patient):
    early, started, cancelled = book(patient, hours=60), book(patient, hours=-1), book(patient)
    cancelled.status = TreatmentSession.Status.CANCELLED
    cancelled.save()

    for session in (early, started, cancelled):
        with pytest.raises(SessionNotOpen):
            readiness_submit(session=session, values=READY, now=timezone.now(), by_link=False)
    with pytest.raises(ValidationError):
        readiness_submit(
            session=book(patient),
            values=READY | {"new_medicines": True},
            now=timezone.now(),
            by_link=False,
        )

    assert not SessionReadiness.objects.exists()


def test_a_session_two_days_ahead_says_when_the_check_opens(patient_client, patient):
    session = book(patient, hours=24 * 9)
    url = reverse("care:my-session-ready", args=[session.pk])

    page = patient_client.get(url).content.decode()
    posted = patient_client.post(url, READY_POST)

    assert "opens on" in page and "<form" not in page.split("</nav>")[1]
    assert posted.status_code == 200 and not SessionReadiness.objects.exists()


def test_another_patients_or_a_started_session_is_refused(
    patient_client, patient, other_patient, foreign_patient
):
    others = [book(other_patient), book(foreign_patient)]
    started = book(patient, hours=-1)

    for session in others:
        for name in ("care:my-session-ready", "care:my-session-move"):
            url = reverse(name, args=[session.pk])
            assert patient_client.get(url).status_code == 404
            assert (
                patient_client.post(url, READY_POST | {"preferred_times": "x"}).status_code == 404
            )
    for name in ("care:my-session-ready", "care:my-session-move"):
        assert patient_client.post(reverse(name, args=[started.pk]), READY_POST).status_code == 410
    assert not SessionReadiness.objects.exists() and not SessionMoveRequest.objects.exists()


def test_asking_to_move_makes_one_pending_request_and_a_routine_alert(patient_client, patient):
    session = book(patient, hours=24 * 5)
    url = reverse("care:my-session-move", args=[session.pk])

    response = patient_client.post(url, {"preferred_times": "Any weekday morning ZZWORDS"})
    second = patient_client.post(url, {"preferred_times": "Or Friday"}, follow=True)

    assert response.status_code == 302
    request = SessionMoveRequest.objects.get(session=session)
    assert request.status == "pending" and request.preferred_times == "Any weekday morning ZZWORDS"
    assert "already asked" in second.content.decode()
    alert = Alert.objects.get(patient=patient)
    assert (alert.kind, alert.priority, alert.session) == ("move_request", "routine", session)
    assert "ZZWORDS" not in alert.reason
    session.refresh_from_db()
    assert session.status == "scheduled"  # never a silent change
    assert AuditEvent.objects.filter(
        what=AuditEvent.What.MOVE_REQUEST, action="created", actor=patient.user
    ).exists()
    page = patient_client.get(reverse("care:my-plan")).content.decode()
    assert "Waiting for the care team" in page and "Ask to move this session</button>" not in page


def test_a_move_request_needs_times_and_at_most_500_characters(patient_client, patient):
    session = book(patient)
    url = reverse("care:my-session-move", args=[session.pk])

    empty = patient_client.post(url, {"preferred_times": "   "})
    long = patient_client.post(url, {"preferred_times": "x" * 501})

    assert empty.status_code == long.status_code == 200
    assert "preferred_times" in empty.context["form"].errors
    assert "preferred_times" in long.context["form"].errors
    assert not SessionMoveRequest.objects.exists()


def test_after_an_answer_the_patient_sees_it_and_may_ask_again(patient_client, patient, clinician):
    session = book(patient, hours=24 * 5)
    request, _ = move_request_create(
        session=session, preferred_times="Mornings", now=timezone.now()
    )
    with pytest.raises(MoveRequestPending):
        move_request_create(session=session, preferred_times="Evenings", now=timezone.now())
    request.status, request.decided_at, request.decided_by = "declined", timezone.now(), clinician
    request.answer = "No chair free then; call us to find another time."
    request.save()

    page = patient_client.get(reverse("care:my-plan")).content.decode()

    assert "Declined" in page and "No chair free then" in page
    assert "Ask to move this session</button>" in page


def test_the_patient_page_shows_each_sessions_readiness(clinician_client, patient):
    ready, not_ready, unanswered = book(patient), book(patient, hours=30), book(patient, hours=40)
    readiness_submit(session=ready, values=READY, now=timezone.now(), by_link=True)
    readiness_submit(
        session=not_ready,
        values=READY | {"new_medicines": True, "new_medicines_details": "Started lithium"},
        now=timezone.now(),
        by_link=False,
    )

    page = clinician_client.get(reverse("care:patient-detail", args=[patient.public_id]))
    text = page.content.decode()

    assert "Readiness check" in text
    assert text.count("<strong>Ready</strong>") == 1 and "Not ready" in text
    assert "Started lithium" in text and "(e-mailed link)" in text
    assert "Not answered yet" in text
    assert unanswered.pk
