"""seed_demo on the current database: rows as the models store them, the same data for the
same seed, nothing left behind by a failed build, progress on stderr."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.urls import reverse

from care.models import (
    Alert,
    Assessment,
    BodyWeight,
    CheckIn,
    Clinic,
    Patient,
    TreatmentSession,
    User,
)
from devtools.demo import DEMO_CHAIRS
from devtools.management.commands import seed_demo
from notifications.dispatch.alerts import escalations_dispatch
from notifications.models import Delivery, ReminderPreference

pytestmark = pytest.mark.django_db

NOW = datetime.fromisoformat("2026-05-04T15:00:00+00:00")


def seed(**options) -> None:
    options = {"patients": 10, "days": 30, "no_alert_replay": True} | options
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO(), **options)


def snapshot() -> dict[str, list]:
    """The demo data by natural keys: no primary keys, no public ids."""
    email = "patient__user__email"
    ids = {"id", "patient_id", "recorded_by_id", "created_at"}
    checkins = [f.attname for f in CheckIn._meta.concrete_fields if f.attname not in ids]
    sessions = [f.attname for f in TreatmentSession._meta.concrete_fields if f.attname not in ids]
    return {
        "users": list(User.objects.order_by("email").values_list("email", "full_name")),
        "patients": list(Patient.objects.order_by("user__email").values_list(
            "user__email", "tz", "has_anxiety", "has_ptsd", "consultation_on", "enrolled_at",
            "primary_clinician__email", "treatment_phase")),
        "checkins": list(CheckIn.objects.order_by(email, "local_date").values_list(
            email, *checkins)),
        "assessments": list(Assessment.objects.order_by(email, "completed_at", "instrument")
            .values_list(email, "instrument", "answers", "total", "band", "flags",
                         "completed_at", "entered_by__email")),
        "sessions": list(TreatmentSession.objects.order_by(email, "scheduled_at").values_list(
            email, *sessions, "recorded_by__email")),
        "weights": list(BodyWeight.objects.order_by(email, "measured_on").values_list(
            email, "weight_kg", "entered_value", "entered_unit", "measured_on", "created_at")),
        "alerts": list(Alert.objects.order_by(email, "created_at", "reason").values_list(
            email, "kind", "reason", "created_at", "checkin__local_date",
            "assessment__completed_at")),
    }  # fmt: skip


def test_seed_demo_writes_rows_as_the_models_store_them():
    seed()

    assert Patient.objects.count() == 10 and User.objects.count() == 13
    active = Patient.objects.filter(user__is_active=True)
    assert EmailAddress.objects.filter(user__patient__in=active).count() == 9
    assert ReminderPreference.objects.filter(patient__in=active).count() == 9
    assert not CheckIn.objects.filter(patient__user__email="riley@demo.example").exists()
    checkins = list(CheckIn.objects.all())
    assert 9 * 20 < len(checkins) <= 9 * 30
    for checkin in checkins:
        checkin.full_clean()  # field validators and both unique constraints
        assert isinstance(checkin.sleep_hours, Decimal) and isinstance(checkin.local_date, date)
        assert checkin.submitted_at.utcoffset() is not None
        assert isinstance(checkin.side_effects, list)
    assessments = list(Assessment.objects.all())
    for assessment in assessments:
        assessment.full_clean()
        assert all(isinstance(k, str) and isinstance(v, int) for k, v in assessment.answers.items())
        assert assessment.total == sum(assessment.answers.values())
        assert isinstance(assessment.flags, list)
    assert {a.instrument for a in assessments} == {"phq9", "gad7", "pcl5"}
    assert len({a.public_id for a in assessments}) == len(assessments)
    for session in TreatmentSession.objects.all():
        session.full_clean()
    # Patients on IV are weighed (in kg or lb), those on esketamine need not be.
    weighed = set(BodyWeight.objects.values_list("patient__user__email", flat=True))
    on_iv = set(
        TreatmentSession.objects.filter(route="iv").values_list("patient__user__email", flat=True)
    )
    assert weighed == on_iv and "morgan@demo.example" not in weighed
    for weight in BodyWeight.objects.all():
        weight.full_clean()
    assert Clinic.objects.get().treatment_chairs == DEMO_CHAIRS


def test_seed_demo_points_each_safety_alert_at_its_checkin_or_questionnaire():
    seed(patients=12)

    alerts = list(Alert.objects.filter(kind="safety").select_related("checkin", "assessment"))
    assert {a.cause.split(":")[0] for a in alerts} == {"checkin", "assessment"}
    for alert in alerts:
        source = alert.checkin or alert.assessment
        assert source.patient_id == alert.patient_id
        assert alert.cause == f"{type(source).__name__.lower()}:{source.pk}"
        if alert.checkin:
            assert alert.checkin.has_self_harm_thoughts
            assert alert.created_at == alert.checkin.submitted_at
        else:
            assert "self_harm" in alert.assessment.flags and alert.assessment.answers["9"] >= 1
    flagged = CheckIn.objects.filter(has_self_harm_thoughts=True).count()
    assert Alert.objects.filter(checkin__isnull=False).count() == flagged > 0
    once = CheckIn.objects.values("patient", "local_date").annotate(n=Count("id"))
    assert not once.filter(n__gt=1).exists()


def test_seed_demo_gives_the_same_data_for_the_same_seed():
    runs = []
    for options in ({}, {}, {"seed": 7}):
        with time_machine.travel(NOW, tick=False), transaction.atomic():
            seed(**options)
            runs.append(snapshot())
            transaction.set_rollback(True)

    assert runs[0] == runs[1]
    assert runs[0]["checkins"] != runs[2]["checkins"]
    named = [user for user in runs[0]["users"] if not user[0].startswith("patient0")]
    assert len(named) == 8 and set(named) < set(runs[2]["users"])


def test_seed_demo_leaves_nothing_behind_when_a_build_fails(monkeypatch):
    monkeypatch.setattr(seed_demo, "CHUNK", 4)
    create = seed_demo.safety_alerts_create
    calls = []

    def fail_on_the_second_chunk(causes, **kwargs):
        calls.append(causes)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return create(causes, **kwargs)

    monkeypatch.setattr(seed_demo, "safety_alerts_create", fail_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        seed(patients=12)

    assert not Clinic.objects.exists() and not User.objects.exists()
    assert not CheckIn.objects.exists() and not Assessment.objects.exists()
    monkeypatch.setattr(seed_demo, "safety_alerts_create", create)
    seed(patients=12)
    assert Patient.objects.count() == 12


def test_seed_demo_shows_progress_on_stderr(monkeypatch):
    monkeypatch.setattr(seed_demo, "CHUNK", 2)
    out, err = StringIO(), StringIO()

    call_command("seed_demo", patients=20, days=7, no_alert_replay=True, stdout=out, stderr=err)

    lines = err.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == [f"{n}/20" for n in range(2, 21, 2)]
    assert all("rows/s" in line for line in lines)
    assert "Demo data created: 20 patients" in out.getvalue()


def test_seed_demo_is_quiet_on_stderr_at_verbosity_0():
    err = StringIO()

    call_command("seed_demo", days=7, verbosity=0, stdout=StringIO(), stderr=err)

    assert err.getvalue() == ""


def test_alerts_older_than_ten_days_were_dealt_with_and_the_named_one_is_open():
    from django.utils import timezone

    seed(patients=40)

    now = timezone.now()
    open_safety = Alert.objects.filter(kind=Alert.Kind.SAFETY, acknowledged_at__isnull=True)
    recent = now - seed_demo.DEALT_WITH_AFTER
    assert open_safety.filter(patient__user__email="morgan@demo.example").exists()
    assert not open_safety.filter(created_at__lt=recent).exists()
    old = Alert.objects.filter(created_at__lt=recent)
    assert old.exists() and not old.filter(acknowledged_at__isnull=True).exists()


@pytest.mark.parametrize("days", [30, 120])
def test_a_demo_patient_has_a_questionnaire_due_on_their_home_page(client, days):
    with time_machine.travel(NOW, tick=False):
        seed(days=days)
        client.force_login(User.objects.get(email="alex@demo.example"))
        page = client.get(reverse("care:me")).content.decode()

    assert reverse("care:questionnaire", args=["phq9"]) in page
    assert "Nothing due right now" not in page


def test_the_demo_safety_alerts_owe_no_escalation_mail_on_the_first_tick():
    with time_machine.travel(NOW, tick=False):
        seed(patients=40)
    open_safety = Alert.objects.filter(kind=Alert.Kind.SAFETY, acknowledged_at__isnull=True)
    assert open_safety.filter(patient__user__email="morgan@demo.example").exists()

    escalations_dispatch(now=NOW + timedelta(minutes=1))

    safety = [Delivery.Kind.SAFETY_ONCALL, Delivery.Kind.SAFETY_ESCALATION]
    assert not Delivery.objects.filter(kind__in=safety).exclude(status="sent").exists()
    for alert in open_safety:
        assert alert.escalated_at is not None and "nurse@demo.example" in alert.escalated_to
        assert alert.deliveries.filter(kind=Delivery.Kind.SAFETY_ONCALL, status="sent").exists()


@time_machine.travel(NOW, tick=False)
def test_seed_demo_books_every_session_in_a_chair_without_a_conflict():
    from care.domain.booking import booking_problems
    from care.treatment.selectors import booking_rules, clinic_bookings

    seed(patients=12, days=60)

    clinic = Clinic.objects.get()
    rules = booking_rules(clinic=clinic)
    sessions = list(TreatmentSession.objects.select_related("patient"))
    assert sessions
    assert all(s.chair is not None and s.override_reason == "" for s in sessions)
    for s in sessions:
        others, own = clinic_bookings(
            clinic=clinic,
            patient=s.patient,
            since=s.scheduled_at,
            until=s.scheduled_at,
            exclude=[s.pk],
        )
        assert booking_problems(rules, s.scheduled_at, others, own) == [], s.scheduled_at
        taken = {o.chair for o in others if o.start == s.scheduled_at}
        assert s.chair not in taken


def test_the_named_demo_patients_have_treatment_plans_one_adjusted():
    from care.models import TreatmentPlanVersion

    seed(patients=5, days=60)

    versions = TreatmentPlanVersion.objects.select_related("plan__patient__user")
    by_email: dict[str, list] = {}
    for v in versions.order_by("number"):
        by_email.setdefault(v.plan.patient.user.email, []).append(v)
    assert sorted(by_email) == [
        "alex@demo.example",
        "casey@demo.example",
        "jordan@demo.example",
        "morgan@demo.example",
    ]
    jordan = by_email["jordan@demo.example"]
    assert [v.reason_code for v in jordan] == ["first", "booster_signal"]
    assert (jordan[0].maintenance_every_weeks, jordan[1].maintenance_every_weeks) == (4, 3)
    morgan = by_email["morgan@demo.example"][0]
    assert (morgan.route, morgan.target_dose_mg, morgan.target_dose_mg_per_kg) == (
        "intranasal",
        56,
        None,
    )


def test_alex_takes_the_daily_checkin_and_session_reminders_by_text_too(client, settings, tmp_path):
    """So `./dev run` shows texts arriving in the staff Outbox beside the e-mails."""
    from notifications.dispatch.patients import checkin_reminders_dispatch
    from notifications.preferences import TEXTS_OK, text_number_state
    from notifications.sending import delivery_send

    settings.DEMO_MODE = True  # as `./dev run`'s debug mode: the Outbox exists, and staff
    settings.MFA_REQUIRED_FOR_STAFF = False  # sign in without a second factor
    settings.SMS_URL = f"file://{tmp_path}"  # the demo's default, file://, in a folder of its own
    with time_machine.travel(NOW, tick=False):
        seed()
    alex = Patient.objects.get(user__email="alex@demo.example")
    preference = ReminderPreference.objects.get(patient=alex)
    assert preference.text_kinds == ["checkin_due", "session_tomorrow"]
    assert text_number_state(alex) == TEXTS_OK
    others = ReminderPreference.objects.exclude(patient=alex)
    assert not others.exclude(text_kinds=[]).exists()  # Alex alone has a mobile number

    # 19:00 in New York, Alex's reminder time: the e-mail and the text.
    evening = datetime.fromisoformat("2026-05-04T23:01:00+00:00")
    with time_machine.travel(evening, tick=False):
        checkin_reminders_dispatch(now=evening, patient_ids=[alex.pk])
        text = Delivery.objects.get(patient=alex, kind="checkin_due", channel="text")
        assert delivery_send(delivery_id=text.id, now=evening) == "sent"
        client.force_login(User.objects.get(email="nurse@demo.example"))
        response = client.get(reverse("notifications:outbox"))
    assert response.status_code == 200
    page = response.content.decode()

    (written,) = tmp_path.glob("*.txt")
    assert "To: +12125550142" in written.read_text()
    assert "(212) 555-0142" in page and "your check-in for today is ready" in page
