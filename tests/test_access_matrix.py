"""Access matrix: every discovered URL and API operation, for every actor, against one policy.

Actors: anonymous, the patient, another patient of the same clinic, a clinician and an admin
of the patient's clinic, and a clinician and an admin of another clinic. URLs are discovered
from the URLconf and the API's methods from its OpenAPI schema; a URL missing from POLICY
fails `test_every_discovered_url_has_a_policy`, so none can be forgotten, and
`test_an_unprotected_view_is_caught` shows the matrix failing on a view that checks nothing.
List pages and list endpoints are also read as the other clinic's staff: none of this
clinic's patients may appear.

Every URL also has an AUDIT rule: a GET answered 200 that shows patient data to staff (or
exports it) must leave that row in the audit trail, one that does not must leave no read
row, and staff of another clinic refused an object of this one (404) leave a "denied" row.
"""

import uuid

import pytest
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import include, path, reverse
from drf_spectacular.generators import SchemaGenerator

from care.models import (
    Alert,
    AuditEvent,
    CheckIn,
    Message,
    MessageThread,
    Patient,
    StaffMembership,
    TreatmentSession,
)
from tests.conftest import STAFF_NOTE
from tests.test_url_access import PUBLIC, PUBLIC_PREFIXES, named_patterns

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "patient",
    "other_patient",
    "clinician",
    "admin",
    "other_clinician",
    "other_admin",
]
CROSS_CLINIC = {"other_clinician", "other_admin"}
OK = {200, 201, 204, 302, 400, 405, 409, 410}  # allowed: done, redirect, refused input

# Who may use each URL: "own" = the patient the URL is about; "patients" = any patient
# (their own data only); "staff" / "admins" = of the patient's clinic; "staff_any" /
# "admins_any" = of any clinic (pages without an object show their own clinic's data);
# "signed_in" = any signed-in user; "asker" = the staff member who asked for the object.
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
    "care:my-contact": "patients",
    "care:my-plan": "patients",
    "care:my-session-ready": "own",
    "care:my-session-move": "own",
    "care:patient-list": "staff_any",
    "care:patient-enroll": "staff_any",
    "care:patient-detail": "staff",
    "care:patient-edit": "staff",
    "care:patient-export": "staff",
    "care:clinic-exports": "staff_any",
    "care:clinic-exports-status": "staff_any",
    "care:clinic-export-download": "asker",
    "care:invitation-resend": "staff",
    "care:alert-inbox": "staff_any",
    "care:alert-acknowledge": "staff",
    "care:my-messages": "patients",
    "care:my-message-new": "patients",
    "care:my-call-request": "patients",
    "care:my-message-thread": "own",
    "care:staff-messages": "staff_any",
    "care:staff-message-thread": "staff",
    "care:staff-message-reply": "staff",
    "care:staff-message-note": "staff",
    "care:staff-message-assign": "staff",
    "care:staff-message-handle": "staff",
    "care:staff-message-reopen": "staff",
    "care:session-list": "staff_any",
    "care:session-new": "staff",
    "care:treatment-plan": "staff",
    "care:patient-weight": "staff",
    "care:session-edit": "staff",
    "care:session-cancel": "staff",
    "care:session-record": "staff",
    "care:my-session-reflection": "own",
    "care:session-day-today": "staff_any",
    "care:session-day": "staff_any",
    "care:sessions-from-plan": "staff",
    "care:move-request": "staff",
    "care:staff-list": "admins_any",
    "care:staff-add": "admins_any",
    "care:staff-edit": "admins",
    "care:clinic-settings": "admins_any",
    "care:audit-log": "admins_any",
    "care:outcomes": "staff_any",
    "care:outcomes-export": "staff_any",
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
    "api:patient-plan": "staff",
    "api:patient-weights": "staff",
    "api:patient-move-requests": "staff",
    "api:my-plan": "patients",
    "api:my-session-list": "patients",
    "api:my-session-readiness": "own",
    "api:my-session-reflection": "own",
    "api:my-session-move-request": "own",
    "api:my-move-request-list": "patients",
    "api:token-list": "signed_in",
    "api:token-detail": "own",
    "api:session-list": "staff_any",
    "api:alert-list": "staff_any",
    "api:alert-acknowledge": "staff",
    "api:patient-session-book": "staff",
    "api:outcomes": "staff_any",
    "api:message-thread-list": "signed_in",  # a patient's own threads; staff their clinic's
    "api:message-thread-detail": "own_or_staff",
    "api:message-thread-reply": "own_or_staff",
    "api:message-thread-note": "staff",
    "api:message-thread-assign": "staff",
    "api:message-thread-status": "staff",
}
# Where a method of a URL has a rule of its own: only a patient starts a thread.
METHOD_POLICY = {("api:message-thread-list", "post"): "patients"}

V, E = AuditEvent.Action.VIEWED, AuditEvent.Action.EXPORTED
W = AuditEvent.What
# What a GET answered 200 leaves in the audit trail: (action, record kind), or None for a
# page that shows no patient data but the signed-in patient's own (their reads of their
# own record are not recorded; their downloads are) or none at all.
AUDIT = {
    "home": None,
    "care:me": None,
    "care:checkin": None,
    "care:checkin-saved": None,
    "care:questionnaire": None,
    "care:result": None,
    "care:history": None,
    "care:my-export-json": (E, W.ALL_RECORDS),
    "care:my-export-csv": (E, W.CHECKIN),  # 400 without ?records=: nothing then
    "care:my-contact": None,  # the patient's own contact details (a change is recorded)
    "care:my-plan": None,  # the patient's own plan and sessions
    "care:my-session-ready": None,  # (their answers are recorded)
    "care:my-session-move": None,
    "care:patient-list": (V, W.CASELOAD),
    "care:patient-enroll": None,
    "care:patient-detail": (V, W.PATIENT),
    "care:patient-edit": (V, W.PATIENT),
    "care:patient-export": (E, W.CHECKIN),
    "care:clinic-exports": None,  # the asker's exports: no patient data
    "care:clinic-exports-status": None,
    "care:clinic-export-download": (E, W.CHECKIN),
    "care:invitation-resend": None,  # POST only
    "care:alert-inbox": (V, W.ALERT),
    "care:alert-acknowledge": None,  # POST only
    "care:my-messages": None,  # the patient's own threads
    "care:my-message-new": None,
    "care:my-call-request": None,  # POST only
    "care:my-message-thread": None,
    "care:staff-messages": (V, W.MESSAGE_THREAD),
    "care:staff-message-thread": (V, W.MESSAGE_THREAD),  # every opening by staff
    "care:staff-message-reply": None,  # POST only
    "care:staff-message-note": None,
    "care:staff-message-assign": None,
    "care:staff-message-handle": None,
    "care:staff-message-reopen": None,
    "care:session-list": (V, W.SESSION),
    "care:session-new": (V, W.SESSION),
    "care:treatment-plan": (V, W.TREATMENT_PLAN),
    "care:patient-weight": (V, W.WEIGHT),
    "care:session-edit": (V, W.SESSION),
    "care:session-cancel": None,  # POST only
    "care:session-record": (V, W.SESSION),
    "care:my-session-reflection": None,  # the patient's own (writing one is recorded)
    "care:session-day-today": (V, W.SESSION),
    "care:session-day": (V, W.SESSION),
    "care:sessions-from-plan": (V, W.SESSION),
    "care:move-request": (V, W.MOVE_REQUEST),
    "care:staff-list": None,
    "care:staff-add": None,
    "care:staff-edit": None,
    "care:clinic-settings": None,
    "care:audit-log": (V, W.AUDIT),
    "care:outcomes": (V, W.OUTCOMES),
    "care:outcomes-export": (E, W.OUTCOMES),
    "notifications:outbox": (V, W.OUTBOX),  # hidden in tests: tests/care/test_audit_reads.py
    "notifications:settings": None,
    "api:reminder-preferences": None,
    "api:me": None,
    "api:checkin-list": None,
    "api:instrument-list": None,
    "api:instrument-detail": None,
    "api:assessment-list": None,
    "api:assessment-detail": None,
    "api:patient-list": (V, W.CASELOAD),
    "api:patient-trends": (V, W.TRENDS),
    "api:patient-fhir": (E, W.FHIR),
    "api:patient-plan": (V, W.TREATMENT_PLAN),
    "api:patient-weights": (V, W.WEIGHT),
    "api:patient-move-requests": (V, W.MOVE_REQUEST),
    "api:my-plan": None,  # the patient's own plan, sessions and requests
    "api:my-session-list": None,
    "api:my-session-readiness": None,  # POST only (the answers are recorded)
    "api:my-session-reflection": None,
    "api:my-session-move-request": None,
    "api:my-move-request-list": None,
    "api:token-list": None,
    "api:token-detail": None,
    "api:session-list": (V, W.SESSION),
    "api:alert-list": (V, W.ALERT),
    "api:alert-acknowledge": None,  # POST only
    "api:patient-session-book": None,  # POST only
    "api:outcomes": (V, W.OUTCOMES),
    # By who reads: staff reads of threads are audited, a patient's of their own are not.
    "api:message-thread-list": {"staff": (V, W.MESSAGE_THREAD), "patients": None},
    "api:message-thread-detail": {"staff": (V, W.MESSAGE_THREAD), "patients": None},
    "api:message-thread-reply": None,  # POST only
    "api:message-thread-note": None,
    "api:message-thread-assign": None,
    "api:message-thread-status": None,
}
READS = {V, E}
PATIENT_ROLES = {"patient", "other_patient"}


# Open to anyone, signed in or not: obtaining a token (with e-mail and password).
ANYONE = {("api:token-list", "post")}


def allowed(rule: str, role: str) -> bool:
    return {
        "signed_in": role != "anonymous",
        "patients": role in {"patient", "other_patient"},
        "own": role == "patient",
        "staff": role in {"clinician", "admin"},
        # The patient the object is about, and the staff of their clinic.
        "own_or_staff": role in {"patient", "clinician", "admin"},
        "staff_any": role in {"clinician", "admin", *CROSS_CLINIC},
        "admins": role == "admin",
        # Staff who asked for the object (an export file: the world's is the clinician's).
        "asker": role == "clinician",
        # Pages without an object: any clinic's admin, about their own clinic.
        "admins_any": role in {"admin", "other_admin"},
        "file_mailer_only": False,  # tests use the in-memory mailer: the outbox is hidden
    }[rule]


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
        sorted(Message.objects.values_list("pk", "body", "is_staff_note")),
        sorted(MessageThread.objects.values_list("pk", "status", "assigned_to_id")),
    )


def url_for(name, pattern, kwargs, per_name):
    wanted = {key: kwargs[key] for key in pattern.pattern.converters}
    if isinstance(per_name.get(name), dict):  # ids of other names than public_id
        wanted.update(per_name[name])
    elif name in per_name:
        wanted["public_id"] = per_name[name]
    return reverse(name, kwargs=wanted)


def api_methods() -> dict[str, set[str]]:
    """The methods of each API path, from the OpenAPI schema (e.g. PUT, DELETE)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {route: {m for m in ops if m != "parameters"} for route, ops in schema["paths"].items()}


API_METHODS = api_methods()


def methods_for(name, pattern) -> list[str]:
    if not name.startswith("api:"):
        return ["get", "post"]
    route = "/api/v1/" + str(pattern.pattern).replace("<", "{").replace(">", "}")
    route = route.replace("{uuid:", "{").replace("{int:", "{").replace("{slug:", "{")
    return sorted({"get", "post"} | API_METHODS.get(route, set()))


OURS = sorted(
    (name, pattern)
    for name, pattern in named_patterns()
    if name not in PUBLIC and not name.startswith(PUBLIC_PREFIXES)
)
CASES = [(name, pattern, method) for name, pattern in OURS for method in methods_for(name, pattern)]


def test_every_discovered_url_has_a_policy():
    assert sorted(name for name, _ in OURS) == sorted(POLICY)


def test_every_url_has_an_audit_rule():
    assert sorted(AUDIT) == sorted(POLICY)


def test_api_methods_come_from_the_schema():
    methods = {name: methods_for(name, pattern) for name, pattern in OURS}

    assert "put" in methods["api:reminder-preferences"]
    assert "delete" in methods["api:token-detail"]


def call(client, name, url, method):
    if name.startswith("api:"):
        return getattr(client, method)(url, content_type="application/json")
    return getattr(client, method)(url)


def audit_violations(name, user, role, method, status, start, rule) -> list[str]:
    """What is wrong with the audit rows the request left (empty if all is right)."""
    rows = set(AuditEvent.objects.filter(id__gt=start, actor=user).values_list("action", "what"))
    where = (role, method, name, status)
    expected = AUDIT.get(name)
    if isinstance(expected, dict):
        expected = expected["patients" if role in PATIENT_ROLES else "staff"]
    if allowed(rule, role) and method == "get" and status == 200:
        if expected is not None and expected not in rows:
            return [f"{where}: a read of patient data left no {expected} audit row"]
        if expected is None and {action for action, _ in rows} & READS:
            return [f"{where}: declared no read, yet left {sorted(rows)}"]
    denied = {action for action, _ in rows} == {AuditEvent.Action.DENIED}
    if (
        status == 404
        and role in CROSS_CLINIC
        and rule in {"staff", "admins", "asker", "own_or_staff"}
        and not denied
    ):
        return [f"{where}: another clinic's record refused, yet no 'denied' row alone"]
    return []


def last_event_id() -> int:
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return last or 0


def violations(client, users, clinic, name, url, method, rule) -> list[str]:
    """What is wrong with `url` for each actor, against `rule` (empty if all is right)."""
    found, wrong_method = [], set()
    for role in ROLES:
        client.logout()
        if users[role] is not None:
            client.force_login(users[role])
        before = snapshot(clinic)
        start = last_event_id()
        status = call(client, name, url, method).status_code
        where = (role, method, url, status)
        if users[role] is not None:
            found += audit_violations(name, users[role], role, method, status, start, rule)
        if (name, method) in ANYONE:
            if status not in OK:
                found.append(f"{where}: open to anyone, yet refused")
        elif role == "anonymous":
            # Pages go to the sign-in page; the API answers 401.
            if status not in {302, 401}:
                found.append(f"{where}: anonymous must be sent to sign in")
        elif allowed(rule, role):
            if status not in OK:
                found.append(f"{where}: allowed, yet refused")
        elif status == 405:
            # A method the address never takes: answered before anything is looked up.
            wrong_method.add(role)
        elif status not in {403, 404}:
            found.append(f"{where}: must be refused")
        elif status == 403 and role in {"other_patient", "patient", "other_admin"}:
            # Other clinics and other patients learn nothing: 404. (A clinician is told an
            # admin page is not for them, 403, whichever clinic it is about.)
            found.append(f"{where}: must be 404, not 403")
        if role != "anonymous" and not allowed(rule, role) and snapshot(clinic) != before:
            found.append(f"{where}: a refused request changed data")
    # ... and then the same for every signed-in role, so a 405 tells nothing.
    signed_in = set(ROLES) - {"anonymous"}
    if wrong_method not in (
        set(),
        signed_in - {r for r in ROLES if allowed(rule, r)},
        signed_in,
    ):
        found.append(f"{method} {url}: 405 for some roles only: {sorted(wrong_method)}")
    return found


@pytest.mark.parametrize(
    ("name", "pattern", "method"), CASES, ids=[f"{m}-{n}" for n, _, m in CASES]
)
def test_each_actor_gets_what_the_policy_says(client, world, clinic, name, pattern, method):
    users, kwargs, per_name = world
    url = url_for(name, pattern, kwargs, per_name)
    rule = METHOD_POLICY.get((name, method), POLICY[name])

    assert violations(client, users, clinic, name, url, method, rule) == []


# A view that checks nothing, to show that the matrix catches it.


@login_not_required
def leaky_view(request, public_id):
    return HttpResponse(f"Everything about patient {public_id}")


urlpatterns = [
    path("staff/leaky/<uuid:public_id>/", leaky_view, name="leaky"),
    path("", include("tracker.urls")),
]


def test_an_unprotected_view_is_caught(client, world, clinic, settings):
    settings.ROOT_URLCONF = __name__
    users, kwargs, _ = world
    discovered = {name for name, _ in named_patterns()}
    url = reverse("leaky", kwargs={"public_id": kwargs["public_id"]})

    problems = violations(client, users, clinic, "leaky", url, "get", "staff")

    assert "leaky" in discovered and "leaky" not in POLICY  # the first test fails on it
    assert any("anonymous must be sent to sign in" in p for p in problems)
    assert any("'other_admin'" in p and "must be refused" in p for p in problems)


# Lists: another clinic's staff never see this clinic's patients.

LISTS = [
    "/staff/patients/",
    "/staff/patients/?status=all&q=",
    "/staff/alerts/",
    "/staff/alerts/?state=all",
    "/staff/messages/?state=all",
    "/staff/sessions/",
    "/staff/audit/",
    "/staff/exports/",
    "/staff/exports/status.json",
    "/api/v1/patients/?status=all",
    "/api/v1/sessions/",
    "/api/v1/alerts/?state=all",
    "/staff/outcomes/",
    "/staff/outcomes/export.csv",
    "/api/v1/outcomes/",
    "/api/v1/messages/",
    "/api/v1/messages/?unread=false&status=open",
]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("role", ["other_clinician", "other_admin"])
def test_lists_never_show_another_clinics_patients(client, world, url, role):
    users, kwargs, _ = world
    patient = Patient.objects.get(public_id=kwargs["public_id"])
    client.force_login(users[role])

    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode()

    assert response.status_code in {200, 403}, (url, response.status_code)
    for secret in (str(patient.public_id), patient.user.full_name, patient.user.email):
        assert secret not in text, (url, secret)
    # ... and a foreign patient id as a filter gives nothing either.
    if url.startswith(("/api/v1/sessions/", "/api/v1/alerts/", "/api/v1/messages/")):
        filtered = client.get(f"{url.split('?')[0]}?patient={patient.public_id}&state=all")
        assert filtered.json()["results"] == []


PATIENT_READS = [
    (name, pattern)
    for name, pattern in OURS
    if POLICY[name] in {"signed_in", "patients", "own", "own_or_staff"}
    and (name, "get") not in ANYONE
]


@pytest.mark.parametrize(("name", "pattern"), PATIENT_READS, ids=[n for n, _ in PATIENT_READS])
def test_patients_never_see_a_staff_note(client, world, name, pattern):
    """Every page and endpoint a patient may read, as the patient whose thread has a staff
    note: the note is nowhere (nor in a file downloaded)."""
    users, kwargs, per_name = world
    client.force_login(users["patient"])

    response = call(client, name, url_for(name, pattern, kwargs, per_name), "get")
    body = b"".join(response.streaming_content) if response.streaming else response.content

    assert response.status_code in OK, response.status_code
    assert STAFF_NOTE.encode() not in body


def test_the_staff_see_the_staff_note(client, world):
    users, _, per_name = world
    client.force_login(users["clinician"])
    thread = per_name["care:staff-message-thread"]

    assert STAFF_NOTE in client.get(f"/staff/messages/{thread}/").content.decode()


def test_a_random_id_is_not_found_for_everyone(client, world):
    users, _, _ = world
    client.force_login(users["admin"])

    assert client.get(f"/staff/patients/{uuid.uuid4()}/").status_code == 404
