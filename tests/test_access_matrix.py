"""Access matrix: every discovered URL, for every role, against one policy table.

Roles: anonymous, the patient, another patient of the same clinic, a clinician and an
admin of the patient's clinic, and a clinician of another clinic. URLs are discovered from
the URLconf; a URL missing from POLICY fails the first test, so none can be forgotten.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from care.models import Alert, CheckIn, Patient, StaffMembership, TreatmentSession
from care.services import api_token_issue, assessment_submit
from tests.factories import PatientFactory, StaffFactory
from tests.test_url_access import PUBLIC, PUBLIC_PREFIXES, named_patterns

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "patient", "other_patient", "clinician", "admin", "other_clinic"]
OK = {200, 302, 400, 405, 410}  # allowed: page, redirect, validation error, wrong method

# Who may use each URL: "own" = the patient the URL is about; "patients" = any patient
# (their own data only); "staff" / "admins" = of the patient's clinic; "staff_any" /
# "admins_any" = of any clinic (pages without an object show their own clinic's data);
# "signed_in" = any signed-in user.
POLICY = {
    "home": "signed_in",
    "care:me": "patients",
    "care:checkin": "patients",
    "care:checkin-saved": "own",
    "care:questionnaire": "patients",
    "care:result": "own",
    "care:history": "patients",
    "care:my-export-json": "patients",
    "care:my-export-csv": "patients",
    "care:patient-list": "staff_any",
    "care:patient-enroll": "staff_any",
    "care:patient-detail": "staff",
    "care:patient-edit": "staff",
    "care:patient-export": "staff",
    "care:clinic-export": "staff_any",
    "care:invitation-resend": "staff",
    "care:alert-inbox": "staff_any",
    "care:alert-acknowledge": "staff",
    "care:session-list": "staff_any",
    "care:session-new": "staff",
    "care:session-edit": "staff",
    "care:session-cancel": "staff",
    "care:session-record": "staff",
    "care:staff-list": "admins_any",
    "care:staff-add": "admins_any",
    "care:staff-edit": "admins",
    "care:clinic-settings": "admins_any",
    "care:audit-log": "admins_any",
    "notifications:outbox": "file_mailer_only",
    "notifications:settings": "patients",
    "api:reminder-preferences": "patients",
    "api:me": "signed_in",
    "api:checkin-list": "patients",
    "api:instrument-list": "signed_in",
    "api:instrument-detail": "signed_in",
    "api:assessment-list": "patients",
    "api:assessment-detail": "own",
    "api:patient-list": "staff_any",
    "api:patient-trends": "staff",
    "api:patient-fhir": "staff",
    "api:token-list": "signed_in",
    "api:token-detail": "own",
    "api:session-list": "staff_any",
    "api:alert-list": "staff_any",
    "api:alert-acknowledge": "staff",
}


# Open to anyone, signed in or not: obtaining a token (with e-mail and password).
ANYONE = {("api:token-list", "post")}


def allowed(rule: str, role: str) -> bool:
    return {
        "signed_in": role != "anonymous",
        "patients": role in {"patient", "other_patient"},
        "own": role == "patient",
        "staff": role in {"clinician", "admin"},
        "staff_any": role in {"clinician", "admin", "other_clinic"},
        "admins": role == "admin",
        # Pages without an object: any clinic's admin, about their own clinic.
        "admins_any": role in {"admin", "other_clinic"},
        "file_mailer_only": False,  # tests use the in-memory mailer: the outbox is hidden
    }[rule]


@pytest.fixture
def world(clinic, other_clinic):
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
    alert = Alert.objects.create(
        patient=patient, kind="safety", priority="urgent", cause="c", reason="r", created_at=now
    )
    clinician = StaffFactory(clinic=clinic)
    users = {
        "anonymous": None,
        "patient": patient.user,
        "other_patient": PatientFactory(clinic=clinic).user,
        "clinician": clinician.user,
        "admin": StaffFactory(clinic=clinic, role="admin").user,
        "other_clinic": StaffFactory(clinic=other_clinic, role="admin").user,
    }
    kwargs = {
        "public_id": patient.public_id,
        "alert_id": alert.pk,
        "session_id": session.pk,
        "membership_id": clinician.pk,
        "code": "phq9",
        "day": checkin.local_date.isoformat(),
        "token": "x",
    }
    token = api_token_issue(user=patient.user, name="phone", days=30, now=now).token
    per_name = {
        "care:result": assessment.public_id,
        "api:assessment-detail": assessment.public_id,
        "api:token-detail": token.public_id,
    }
    return users, kwargs, per_name


def snapshot(clinic):
    """What a forbidden request must not change."""
    clinic.refresh_from_db()
    return (
        clinic.name,
        sorted(Alert.objects.values_list("pk", "acknowledged_at")),
        sorted(TreatmentSession.objects.values_list("pk", "status", "scheduled_at")),
        sorted(Patient.objects.values_list("pk", "status", "preferred_name")),
        sorted(StaffMembership.objects.values_list("pk", "role", "deactivated_at")),
        CheckIn.objects.count(),
    )


def url_for(name, pattern, kwargs, per_name):
    wanted = {key: kwargs[key] for key in pattern.pattern.converters}
    if name in per_name:
        wanted["public_id"] = per_name[name]
    return reverse(name, kwargs=wanted)


OURS = sorted(
    (name, pattern)
    for name, pattern in named_patterns()
    if name not in PUBLIC and not name.startswith(PUBLIC_PREFIXES)
)


def test_every_discovered_url_has_a_policy():
    assert sorted(name for name, _ in OURS) == sorted(POLICY)


@pytest.mark.parametrize(("name", "pattern"), OURS, ids=[n for n, _ in OURS])
@pytest.mark.parametrize("method", ["get", "post"])
def test_each_role_gets_what_the_policy_says(client, world, clinic, name, pattern, method):
    users, kwargs, per_name = world
    url = url_for(name, pattern, kwargs, per_name)
    wrong_method = set()
    for role in ROLES:
        client.logout()
        if users[role] is not None:
            client.force_login(users[role])
        before = snapshot(clinic)
        response = (
            getattr(client, method)(url, content_type="application/json")
            if name.startswith("api:")
            else getattr(client, method)(url)
        )
        status = response.status_code
        if (name, method) in ANYONE:
            assert status in OK, (role, method, url, status)
        elif role == "anonymous":
            expected = {302, 401}  # pages go to login; the API answers 401
            assert status in expected, (role, method, url, status)
            if status == 302:
                assert response["Location"].startswith(reverse("account_login"))
            assert snapshot(clinic) == before, (role, method, url)
        elif allowed(POLICY[name], role):
            assert status in OK, (role, method, url, status)
        elif status == 405:
            # A method the address never takes: answered before anything is looked up.
            wrong_method.add(role)
        else:
            # Other clinics and other patients learn nothing: 404; a clinician in an
            # admin page of their own clinic is told it is not allowed: 403.
            assert status in {403, 404}, (role, method, url, status)
            if role in {"other_clinic", "other_patient", "patient"}:
                assert status == 404, (role, method, url, status)
            assert snapshot(clinic) == before, (role, method, url)
    # ... and then the same for every signed-in role, so a 405 tells nothing.
    assert wrong_method in (
        set(),
        set(ROLES) - {"anonymous"} - {r for r in ROLES if allowed(POLICY[name], r)},
        set(ROLES) - {"anonymous"},
    ), wrong_method
