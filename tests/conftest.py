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

import django
import pytest

# Set Django up now, so that test modules can import models at collection time.
django.setup()

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # No collectstatic in tests; a fast hasher.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = "http://testserver"
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
        from notifications.services import patient_batch_dispatch

        monkeypatch.setattr("care.services.accounts._enqueue_invitation", enqueued.append)
        monkeypatch.setattr("notifications.services._enqueue", enqueued.append)
        # Dispatcher batches run here and now, as a worker would run them.
        monkeypatch.setattr(
            "notifications.tasks.enqueue_patient_batch",
            lambda after, until, now: patient_batch_dispatch(
                after_pk=after, until_pk=until, now=now
            ),
        )
    return enqueued


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
