"""Every e-mail kind, rendered for a patient with a full record: nothing revealing in it."""

from datetime import UTC, datetime, time, timedelta

import pytest

from care.models import Alert, TreatmentSession
from care.records.services import assessment_submit, checkin_submit
from notifications.dispatch.alerts import digests_dispatch
from notifications.models import Delivery, ReminderPreference
from notifications.sending import delivery_send
from tests.factories import PatientFactory
from tests.notifications.mail_text import mail_words

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 5, 11, 30, tzinfo=UTC)  # 07:30 in New York
FORBIDDEN = [
    "ketamine",
    "esketamine",
    "infusion",
    "phq",
    "gad",
    "pcl",
    "suicid",
    "depress",
    "anxiety",
    "ptsd",
    "self-harm",
    "harming",
    "score",
    "moderately",
    "severe",
    "wellness clinic",
    "1984",
    "zzcanary",
]


@pytest.fixture
def full_record(clinic, clinician):
    clinic.name = "Riverside Ketamine Wellness Clinic"  # the clinic's own name reveals the care
    clinic.email_sender_name = "Riverside Team"
    clinic.on_call_email = "on-call@clinic.example"
    clinic.save()
    patient = PatientFactory(
        clinic=clinic,
        tz="America/New_York",
        preferred_name="Jo",
        user__full_name="Joanna Zzcanary",
        date_of_birth="1984-02-02",
        has_depression=True,
        has_ptsd=True,
    )
    ReminderPreference.objects.create(patient=patient, checkin_time=time(19))
    checkin_submit(
        patient=patient,
        client_id=None,
        now=NOW - timedelta(days=1),
        values={
            "mood": 1,
            "anxiety": 9,
            "energy": 1,
            "sleep_hours": 3,
            "sleep_quality": 0,
            "side_effects": ["craving"],
            "has_self_harm_thoughts": True,
            "note": "ZZCANARY note",
        },
    )
    assessment_submit(
        patient=patient,
        instrument_code="phq9",
        difficulty=3,
        client_id=None,
        entered_by=None,
        now=NOW - timedelta(days=1),
        answers={str(n): 3 for n in range(1, 10)},
    )
    session = TreatmentSession.objects.create(
        patient=patient, route="iv", scheduled_at=NOW + timedelta(days=1, hours=3)
    )
    TreatmentSession.objects.create(  # held two days ago: the reflection prompt
        patient=patient, route="iv", scheduled_at=NOW - timedelta(days=2), status="completed"
    )
    return patient, session, Alert.objects.filter(patient=patient, kind="safety").first()


def test_no_email_kind_reveals_health_information(full_record, clinician, mailoutbox):
    patient, session, alert = full_record
    held = TreatmentSession.objects.get(patient=patient, status="completed")
    deliveries = [
        Delivery(
            kind="checkin_due",
            subject_key=f"patient:{patient.pk}",
            due_at=NOW,
            patient=patient,
            to_email=patient.user.email,
        ),
        Delivery(
            kind="session_tomorrow",
            subject_key=f"session:{session.pk}:2026-05-06",
            due_at=datetime(2026, 5, 5, 23, 0, tzinfo=UTC),
            patient=patient,
            session=session,
            to_email=patient.user.email,
        ),
        Delivery(
            kind="questionnaire_due",
            subject_key=f"questionnaire:session:{session.pk}:2026-05-06",
            due_at=datetime(2026, 5, 4, 23, 0, tzinfo=UTC),
            patient=patient,
            session=session,
            to_email=patient.user.email,
        ),
        Delivery(
            kind="safety_oncall",
            subject_key=f"alert:{alert.pk}:oncall",
            due_at=NOW,
            patient=patient,
            alert=alert,
            to_email="on-call@clinic.example",
        ),
        Delivery(
            kind="safety_escalation",
            subject_key=f"alert:{alert.pk}:user:{clinician.pk}",
            due_at=NOW,
            patient=patient,
            alert=alert,
            recipient=clinician,
            to_email=clinician.email,
        ),
        Delivery(
            kind="integration_prompt",
            subject_key=f"integration:session:{held.pk}",
            due_at=NOW,
            patient=patient,
            session=held,
            to_email=patient.user.email,
        ),
    ]
    Delivery.objects.bulk_create(deliveries)
    digests_dispatch(now=NOW)
    kinds = set()
    for delivery in Delivery.objects.all():
        assert delivery_send(delivery_id=delivery.id, now=delivery.due_at) == "sent", delivery
        kinds.add(delivery.kind)

    assert kinds == {
        "checkin_due",
        "session_tomorrow",
        "safety_oncall",
        "safety_escalation",
        "digest",
        "questionnaire_due",
        "integration_prompt",
    }
    assert len(mailoutbox) == 7
    for message in mailoutbox:
        text = mail_words(message)
        assert "riverside team" in text
        for word in FORBIDDEN:
            assert word not in text, (message.subject, word)


def test_the_digest_goes_to_each_clinician_at_0730_clinic_time_with_counts(
    full_record, clinician, clinic_admin, mailoutbox
):
    digests_dispatch(now=NOW - timedelta(minutes=1))
    assert not Delivery.objects.exists()

    digests_dispatch(now=NOW)
    digests_dispatch(now=NOW + timedelta(minutes=5))

    digests = Delivery.objects.filter(kind="digest")
    assert {d.to_email for d in digests} == {clinician.email, clinic_admin.email}
    delivery_send(delivery_id=digests[0].id, now=NOW)
    assert "2 urgent" in mailoutbox[0].body


def test_no_digest_is_sent_when_every_alert_was_acknowledged(full_record, clinician, mailoutbox):
    digests_dispatch(now=NOW)
    Alert.objects.update(acknowledged_at=NOW, acknowledged_by=clinician)

    statuses = {delivery_send(delivery_id=d.id, now=NOW) for d in Delivery.objects.all()}

    assert statuses == {"skipped"} and mailoutbox == []
