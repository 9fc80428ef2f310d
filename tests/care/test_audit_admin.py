"""Reads in the Django admin: every admin URL of the care app against its audit row.

The access matrix (`tests/test_access_matrix.py`) holds the app's own pages; this is its
parallel table for the `admin:*` URLs of the care app's models, the users' password page
and the autocomplete endpoint. A GET answered 200 must leave exactly the read row declared
(channel "Django admin"), naming the patient when the record is theirs, or no read row at
all; a URL of the care app missing from the table fails
`test_every_admin_url_of_the_care_app_has_an_audit_rule`.
"""

import pytest
from django.contrib import admin
from django.urls import URLResolver, reverse
from django.utils import timezone

from care.accounts.services import invitation_create
from care.audit.services import audit_record
from care.models import AuditEvent
from tests.care.test_audit_events import mark

pytestmark = pytest.mark.django_db

V = AuditEvent.Action.VIEWED
W = AuditEvent.What
PATIENTS = "names the patient"
NO_ONE = "names no one"

# admin URL name -> (record kind, whom the row names), or None: no read row. Pages that
# show no patient's data (clinics, staff, the add forms) and pages refused to everyone (the
# audit trail's add and delete, 403) leave none.
ADMIN_AUDIT = {
    "admin:autocomplete": (W.ACCOUNT, NO_ONE),  # users' names and addresses
    "admin:auth_user_password_change": (W.ACCOUNT, PATIENTS),
    "admin:care_user_changelist": (W.ACCOUNT, NO_ONE),
    "admin:care_user_add": None,
    "admin:care_user_change": (W.ACCOUNT, PATIENTS),
    "admin:care_user_history": (W.ACCOUNT, PATIENTS),
    "admin:care_user_delete": (W.ACCOUNT, PATIENTS),
    "admin:care_patient_changelist": (W.PATIENT, NO_ONE),
    "admin:care_patient_add": None,
    "admin:care_patient_change": (W.PATIENT, PATIENTS),
    "admin:care_patient_history": (W.PATIENT, PATIENTS),
    "admin:care_patient_delete": (W.PATIENT, PATIENTS),
    "admin:care_invitation_changelist": (W.ACCOUNT, NO_ONE),
    "admin:care_invitation_add": None,
    "admin:care_invitation_change": (W.ACCOUNT, PATIENTS),
    "admin:care_invitation_history": (W.ACCOUNT, PATIENTS),
    "admin:care_invitation_delete": (W.ACCOUNT, PATIENTS),
    "admin:care_auditevent_changelist": (W.AUDIT, NO_ONE),
    "admin:care_auditevent_add": None,  # 403
    "admin:care_auditevent_change": (W.AUDIT, PATIENTS),
    "admin:care_auditevent_history": (W.AUDIT, PATIENTS),
    "admin:care_auditevent_delete": None,  # 403
    "admin:care_clinic_changelist": None,
    "admin:care_clinic_add": None,
    "admin:care_clinic_change": None,
    "admin:care_clinic_history": None,
    "admin:care_clinic_delete": None,
    "admin:care_staffmembership_changelist": None,
    "admin:care_staffmembership_add": None,
    "admin:care_staffmembership_change": None,
    "admin:care_staffmembership_history": None,
    "admin:care_staffmembership_delete": None,
}
REFUSED = {"admin:care_auditevent_add", "admin:care_auditevent_delete"}


def admin_url_names(patterns, prefix: str = "admin:") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= admin_url_names(pattern.url_patterns, prefix)
        elif pattern.name:
            names.add(prefix + pattern.name)
    return names


def test_every_admin_url_of_the_care_app_has_an_audit_rule():
    discovered = {
        name
        for name in admin_url_names(admin.site.get_urls())
        if name.startswith(("admin:care_", "admin:auth_user_")) or name == "admin:autocomplete"
    }

    assert sorted(discovered) == sorted(ADMIN_AUDIT)


@pytest.fixture
def objects(patient, clinician):
    invitation = invitation_create(user=patient.user, created_by=None, now=timezone.now())
    event = audit_record(action=V, what=W.PATIENT, patient=patient, actor=clinician)
    return {
        "user": patient.user,
        "patient": patient,
        "invitation": invitation,
        "auditevent": event,
        "clinic": patient.clinic,
        "staffmembership": clinician.staff_membership,
    }


def admin_url(name: str, objects) -> str:
    if name == "admin:autocomplete":
        query = "app_label=care&model_name=patient&field_name=user&term=a"
        return f"{reverse(name)}?{query}"
    if name == "admin:auth_user_password_change":
        return reverse(name, args=[objects["user"].pk])
    model = name.removeprefix("admin:care_").rsplit("_", 1)[0]
    if name.endswith(("_changelist", "_add")):
        return reverse(name)
    return reverse(name, args=[objects[model].pk])


@pytest.mark.parametrize("name", sorted(ADMIN_AUDIT))
def test_an_admin_page_leaves_the_read_row_its_rule_declares(
    client,
    operator,
    patient,
    objects,
    name,
):
    client.force_login(operator)
    start = mark()

    response = client.get(admin_url(name, objects))

    rows = set(
        AuditEvent.objects.filter(id__gt=start, actor=operator, action=V).values_list(
            "what", "patient", "channel"
        )
    )
    rule = ADMIN_AUDIT[name]
    assert response.status_code == (403 if name in REFUSED else 200)
    if rule is None:
        assert rows == set()
    else:
        what, whom = rule
        assert rows == {(what, patient.pk if whom == PATIENTS else None, "admin")}


def test_the_autocomplete_endpoint_lists_people_found_by_address_hence_is_a_read(
    client,
    operator,
    patient,
):
    client.force_login(operator)
    start = mark()

    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "care", "model_name": "patient", "field_name": "user", "term": "example"},
    )

    assert str(patient.user) in [row["text"] for row in response.json()["results"]]
    assert AuditEvent.objects.filter(id__gt=start, action=V, what=W.ACCOUNT).count() == 1


def test_a_refused_autocomplete_request_leaves_no_read_row(
    client,
    operator,
):
    client.force_login(operator)
    start = mark()

    response = client.get("/admin/autocomplete/", {"app_label": "care", "model_name": "nope"})

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(id__gt=start, action=V).exists()


def test_an_admin_change_form_sent_back_with_errors_is_a_read_of_the_patient(
    client,
    operator,
    patient,
):
    client.force_login(operator)
    start = mark()

    response = client.post(f"/admin/care/patient/{patient.pk}/change/", {"tz": "Not/AZone"})

    assert response.status_code == 200 and response.context["adminform"].form.errors
    rows = AuditEvent.objects.filter(id__gt=start).values_list("action", "what", "patient")
    assert list(rows) == [(V, W.PATIENT, patient.pk)]


def test_the_admin_lists_no_sign_in_addresses_outside_the_audited_account_pages():
    # allauth's own admin list of addresses would show every patient's, unrecorded.
    names = admin_url_names(admin.site.get_urls())

    assert not any(name.startswith("admin:account_emailaddress_") for name in names)
