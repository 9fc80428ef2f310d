"""Shared fixtures: a small cast of clinics, staff and patients (own clinic / other clinic)."""

import os
import uuid

# Before Django loads settings: the test run is a "DEBUG off" run (whatever a local .env
# says) and needs a real key. The test client and the live server speak plain HTTP, so no
# redirect to HTTPS (tests/test_security_headers.py turns it on where it is the subject).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ["DJANGO_DEBUG"] = "false"
os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "false"
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-" + "0123456789" * 4)
# Mail stays in memory (Django's test outbox; worker processes started by tests drop it):
# with debug off, mail to files or the console is refused unless DEMO_MODE says "demo".
os.environ["EMAIL_URL"] = "memorymail://"
# Text messages too (notifications.sms.backends.outbox, emptied before each test).
os.environ["SMS_URL"] = "locmem://"
os.environ["DEMO_MODE"] = "false"
# Authenticator secrets are encrypted at rest (a Fernet key: 32 url-safe base64 bytes).
os.environ.setdefault("MFA_ENCRYPTION_KEYS", "dGVzdHMtb25seS1tZmEtZW5jcnlwdGlvbi1rZXktMDA=")

import django
import pytest

# Set Django up now, so that test modules can import models at collection time.
django.setup()

PASSWORD = "correct-horse-battery"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skipped test is a failure: a test skips locally when a tool or service
    is missing, and CI installs every one of them (.ci/run), so a skip there means an
    install step is missing and the test never ran."""
    report = yield
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"Skipped under CI=true, where nothing may be: {reason}"
    return report


def pytest_xdist_auto_num_workers(config):
    """Workers for `-n auto` (pyproject.toml): one per core (xdist's default), but none for
    the fault tests: their session starts servers of its own and they kill and restart
    processes, so they run in one process, as before."""
    only_faults = (config.option.markexpr or "").strip() == "faults"
    if only_faults or any("tests/faults" in str(arg) for arg in config.args):
        return 0
    return None


@pytest.fixture(scope="session", autouse=True)
def _audit_trail_flushable():
    """Let the test flush empty the append-only audit table.

    Transactional tests end by emptying every table (`flush`), which the audit trail's
    triggers refuse. Only this test-time flush steps around them: it disables the user
    triggers of care_auditevent and enables them again, in the flush's own transaction.
    The application never flushes.
    """
    from django.db import connection

    ops_class = type(connection.ops)
    original = ops_class.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        sql = original(self, style, tables, **kwargs)
        if "care_auditevent" not in tables:
            return sql
        table = "ALTER TABLE care_auditevent {} TRIGGER USER"
        return [table.format("DISABLE"), *sql, table.format("ENABLE")]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ops_class, "sql_flush", sql_flush)
        yield


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    # No collectstatic in tests; a fast hasher.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = "http://testserver"
    # Export files of each test in a folder of its own.
    settings.EXPORT_DIR = tmp_path / "exports"
    # A cache of its own per test: API rate-limit counts must not carry over between tests
    # (in CI the configured cache is the shared Redis).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4()}",
        }
    }


@pytest.fixture(autouse=True)
def _no_broker_publishing(request, monkeypatch):
    """Tests do not publish to the configured broker (a shared Redis or var/celery).

    Enqueue calls are recorded in `enqueued` instead; a test marked `real_enqueue` keeps the
    real functions (e.g. to see how a broker outage is handled).
    """
    enqueued = []
    if request.node.get_closest_marker("real_enqueue") is None:

        def record(name, ids, **options):
            # send_deliveries takes a list of ids; the others one id.
            if isinstance(ids, list):
                enqueued.extend(ids)
            else:
                enqueued.append(ids)

        monkeypatch.setattr("care.common.taskqueue.enqueue", record)
    return enqueued


@pytest.fixture(autouse=True)
def _sms_outbox():
    """The in-memory backend's texts (SMS_URL=locmem://), empty at the start of each test."""
    from notifications.sms import outbox

    outbox.clear()
    return outbox


@pytest.fixture
def sms_outbox(_sms_outbox):
    """The texts sent during the test, oldest first (notifications.sms.StoredText)."""
    return _sms_outbox


@pytest.fixture
def enqueued(_no_broker_publishing):
    """The ids that code under test enqueued (instead of publishing them)."""
    return _no_broker_publishing


@pytest.fixture
def clinic(db):
    from tests.factories import ClinicFactory

    return ClinicFactory(name="Clinic A")


@pytest.fixture
def other_clinic(db):
    from tests.factories import ClinicFactory

    return ClinicFactory(name="Clinic B")


@pytest.fixture
def clinician(clinic):
    from tests.factories import StaffFactory

    return StaffFactory(clinic=clinic).user


@pytest.fixture
def clinic_admin(clinic):
    from care.models import StaffMembership
    from tests.factories import StaffFactory

    return StaffFactory(clinic=clinic, role=StaffMembership.Role.ADMIN).user


@pytest.fixture
def other_clinician(other_clinic):
    from tests.factories import StaffFactory

    return StaffFactory(clinic=other_clinic).user


@pytest.fixture
def patient(clinic, clinician):
    from tests.factories import PatientFactory

    return PatientFactory(clinic=clinic, primary_clinician=clinician)


@pytest.fixture
def other_patient(clinic):
    from tests.factories import PatientFactory

    return PatientFactory(clinic=clinic)


@pytest.fixture
def foreign_patient(other_clinic):
    from tests.factories import PatientFactory

    return PatientFactory(clinic=other_clinic)


def _client_for(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def clinician_client(client, clinician):
    return _client_for(client, clinician)


@pytest.fixture
def patient_client(client, patient):
    return _client_for(client, patient.user)


# The staff note on the world's message thread: no page or endpoint of a patient shows it.
STAFF_NOTE = "Staff-only note QXZV: called the pharmacy"


@pytest.fixture
def world(clinic, other_clinic):
    """One of everything for the access matrix: a patient with a result, a check-in, a
    session, an alert, a message thread with a staff note and an API token, and a user per
    actor (tests/test_access_matrix.py).
    Returns (users by actor, URL kwargs, per-URL-name ids)."""
    from datetime import timedelta

    from django.utils import timezone

    from care.accounts.tokens import api_token_issue
    from care.models import Alert, CheckIn, SessionMoveRequest, TreatmentSession
    from care.records.services import assessment_submit
    from tests.factories import PatientFactory, StaffFactory

    patient = PatientFactory(clinic=clinic, tz="UTC")
    now = timezone.now()
    assessment = assessment_submit(
        patient=patient,
        instrument_code="gad7",
        answers={str(n): 1 for n in range(1, 8)},
        difficulty=None,
        client_id=None,
        entered_by=patient.user,
        now=now,
    ).assessment
    checkin = CheckIn.objects.create(
        patient=patient,
        local_date=now.date(),
        mood=5,
        anxiety=5,
        energy=5,
        sleep_hours=7,
        sleep_quality=2,
        has_self_harm_thoughts=False,
        submitted_at=now,
        updated_at=now,
    )
    session = TreatmentSession.objects.create(patient=patient, scheduled_at=now, route="iv")
    # A held session of yesterday: the patient's reflection on it (care:my-session-reflection).
    held = TreatmentSession.objects.create(
        patient=patient, scheduled_at=now - timedelta(days=1), route="iv", status="completed"
    )

    # What the patient answered about it, a weight, a request to move it and a plan.
    from care.models import BodyWeight, SessionReadiness, SessionReflection

    SessionReadiness.objects.create(
        session=session,
        ride_arranged=True,
        fasting_understood=True,
        feeling_well=True,
        new_medicines=False,
        answered_at=now,
    )
    SessionReflection.objects.create(session=session, feeling="Calm", created_at=now)
    move = SessionMoveRequest.objects.create(
        session=session, preferred_times="Mornings", created_at=now
    )
    alert = Alert.objects.create(
        patient=patient, kind="safety", priority="urgent", cause="c", reason="r", created_at=now
    )
    clinician = StaffFactory(clinic=clinic)
    BodyWeight.objects.create(
        patient=patient,
        weight_kg=70,
        entered_value=70,
        measured_on=now.date(),
        recorded_by=clinician.user,
        created_at=now,
    )
    from care.treatment.services import treatment_plan_version_create

    treatment_plan_version_create(
        patient=patient,
        by=clinician.user,
        now=now,
        values={
            "route": "iv",
            "induction_sessions": 6,
            "induction_weeks": 3,
            "target_dose_mg_per_kg": "0.5",
            "maintenance": "as_needed",
            "questionnaire_every_days": 14,
            "questionnaires": ["phq9"],
            "prescriber": clinician.user,
        },
        reason_code="",
        reason="",
    )
    users = {
        "anonymous": None,
        "patient": patient.user,
        "other_patient": PatientFactory(clinic=clinic).user,
        "clinician": clinician.user,
        "admin": StaffFactory(clinic=clinic, role="admin").user,
        "other_clinician": StaffFactory(clinic=other_clinic).user,
        "other_admin": StaffFactory(clinic=other_clinic, role="admin").user,
    }
    kwargs = {
        "public_id": patient.public_id,
        "alert_id": alert.pk,
        "session_id": session.pk,
        "request_id": move.pk,
        "membership_id": clinician.pk,
        "code": "phq9",
        "day": checkin.local_date.isoformat(),
        "token": "x",
    }
    token = api_token_issue(user=patient.user, name="phone", days=30, now=now).token
    from care.messages.services import message_post, message_thread_start

    thread = message_thread_start(
        patient=patient, subject="A question", body="Hello", urgent=False, now=now
    ).message.thread
    message_post(thread=thread, by=clinician.user, body=STAFF_NOTE, staff_note=True, now=now)
    # A whole-clinic export the clinician asked for, written and ready to download.
    from care.exports.services import export_job_request, export_job_run

    export, _new = export_job_request(clinic=clinic, user=clinician.user, kind="checkins", now=now)
    export_job_run(job_id=export.pk)
    per_name = {
        "care:my-session-reflection": {"session_id": held.pk},
        "api:my-session-reflection": {"session_id": held.pk},
        "care:clinic-export-download": export.public_id,
        "care:result": assessment.public_id,
        "api:assessment-detail": assessment.public_id,
        "api:token-detail": token.public_id,
        **{
            f"care:{name}": thread.public_id
            for name in (
                "my-message-thread",
                "staff-message-thread",
                "staff-message-reply",
                "staff-message-note",
                "staff-message-assign",
                "staff-message-handle",
                "staff-message-reopen",
            )
        },
        **{
            f"api:message-thread-{name}": thread.public_id
            for name in ("detail", "reply", "note", "assign", "status")
        },
    }
    return users, kwargs, per_name
