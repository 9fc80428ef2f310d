"""The audit trail records sign-ins, failed sign-ins, sign-outs and API tokens; where from."""

import copy

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import user_login_failed
from django.test import Client, RequestFactory

from care.audit.services import audit_view, client_ip
from care.common.access import get_membership_for_user, get_own_patient_for_user
from care.models import AuditEvent
from tests.care.test_audit_events import mark, new_events, only_event, summary
from tests.factories import PASSWORD, totp_code

pytestmark = pytest.mark.django_db

A = AuditEvent.Action
W = AuditEvent.What


def test_api_tokens_issued_and_revoked_are_recorded(client, patient):
    start = mark()
    body = {"email": patient.user.email, "password": PASSWORD, "name": "Phone"}
    issued = client.post("/api/v1/auth/tokens/", body, content_type="application/json").json()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {issued['token']}"}
    client.delete(f"/api/v1/auth/tokens/{issued['id']}/", **bearer)
    other = client.post("/api/v1/auth/tokens/", body, content_type="application/json").json()
    client.delete(
        f"/api/v1/auth/tokens/{issued['id']}/",
        HTTP_AUTHORIZATION=f"Bearer {other['token']}",
    )  # revoked already: nothing changes

    events = new_events(start)
    me = patient.user
    assert [(e.action, e.object_id) for e in events] == [
        (A.TOKEN_ISSUED, issued["id"]),
        (A.TOKEN_REVOKED, issued["id"]),
        (A.TOKEN_ISSUED, other["id"]),
    ]
    assert {(e.actor, e.actor_role, e.what, e.channel) for e in events} == {
        (me, "patient", W.API_TOKEN, "api")
    }
    assert_no_secret = [e for e in events if issued["token"] in str(e.__dict__)]
    assert assert_no_secret == []


def test_sign_in_and_sign_out_are_recorded(clinician):
    start = mark()
    client = Client()
    client.post("/accounts/login/", {"login": clinician.email, "password": PASSWORD})
    client.post("/accounts/2fa/authenticate/", {"code": totp_code()})  # staff: the code step
    client.post("/accounts/logout/")

    login, logout = new_events(start)
    assert summary(login) == (clinician, "clinician", A.LOGIN, W.ACCOUNT, None, "page")
    assert summary(logout) == (clinician, "clinician", A.LOGOUT, W.ACCOUNT, None, "page")
    assert login.clinic_id == clinician.staff_membership.clinic_id
    assert login.path == "/accounts/2fa/authenticate/" and logout.path == "/accounts/logout/"


def test_a_failed_sign_in_names_the_account_tried_but_no_actor(clinician):
    start = mark()
    Client().post("/accounts/login/", {"login": clinician.email.upper(), "password": "wrong-one"})

    event = only_event(start)
    assert summary(event) == (None, "anonymous", A.LOGIN_FAILED, W.ACCOUNT, None, "page")
    assert (event.actor_email, event.object_id) == (clinician.email, str(clinician.pk))
    assert event.clinic_id == clinician.staff_membership.clinic_id  # its admins see it


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Nobody@Example.org", "nobody@example.org"),
        ("x" * 300 + "@example.org", ""),
    ],
)
def test_a_failed_sign_in_for_an_unknown_account_keeps_only_a_plausible_address(
    client, db, typed, kept
):
    start = mark()
    client.post("/accounts/login/", {"login": typed, "password": "whatever-it-is"})

    event = only_event(start)
    assert (event.actor, event.actor_role, event.action) == (None, "anonymous", A.LOGIN_FAILED)
    assert (event.actor_email, event.object_id, event.clinic) == (kept, "", None)


def test_a_password_typed_as_the_address_is_not_kept(db):
    # The sign-in form refuses such input before trying it; other callers may not.
    start = mark()
    secret = "correct-horse-battery-staple"
    user_login_failed.send(sender=__name__, credentials={"email": secret, "password": "*" * 20})

    event = only_event(start)
    assert (event.actor, event.actor_role, event.actor_email) == (None, "anonymous", "")
    assert secret not in str(AuditEvent.objects.values().get(pk=event.pk))


def test_a_wrong_password_for_an_api_token_is_a_failed_sign_in_by_api(client, patient):
    start = mark()
    body = {"email": patient.user.email, "password": "not-it-at-all", "name": "Phone"}
    client.post("/api/v1/auth/tokens/", body, content_type="application/json")

    event = only_event(start)
    assert (event.action, event.channel, event.actor_email) == (
        A.LOGIN_FAILED,
        "api",
        patient.user.email,
    )


def proxies(settings, count):
    rest = copy.deepcopy(django_settings.REST_FRAMEWORK)
    rest["NUM_PROXIES"] = count
    settings.REST_FRAMEWORK = rest


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "192.0.2.1"),  # no proxy: a client's header is not believed
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the hop our proxy added
        (2, "198.51.100.1, 203.0.113.7", "198.51.100.1"),
        (1, "2001:db8::1", "2001:db8::1"),
        (1, "not-an-address", None),
        (1, "<script>", None),
    ],
)
def test_the_client_address_is_read_as_the_rate_limits_read_it(
    settings, count, forwarded, expected
):
    proxies(settings, count)
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_recording_a_read_is_one_insert_for_staff_and_for_patients(
    clinician, patient, django_assert_num_queries
):
    request = RequestFactory().get("/staff/patients/")
    request.user = clinician
    get_membership_for_user(clinician)  # as every staff view does first
    with django_assert_num_queries(1):
        audit_view(request, action=A.VIEWED, what=W.CASELOAD)

    request.user = patient.user
    get_own_patient_for_user(patient.user)  # as every patient view does first
    with django_assert_num_queries(1):
        audit_view(request, action=A.EXPORTED, what=W.ALL_RECORDS, patient=patient)
