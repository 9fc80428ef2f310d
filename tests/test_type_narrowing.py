"""The helpers that narrow types for mypy also check at run time what they promise."""

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from care.api.authentication import api_user
from care.audit.services import user_clinic_id
from care.caseload.forms import CaseloadFilterForm
from care.common.forms import form_field
from care.models import AuditEvent
from tests.factories import ClinicFactory, PatientFactory, StaffFactory, UserFactory


def _api_request(user) -> Request:
    request = Request(APIRequestFactory().get("/api/v1/me/"))
    request.user = user
    return request


@pytest.mark.django_db
def test_api_user_is_the_signed_in_user():
    user = UserFactory()

    assert api_user(_api_request(user)) == user


def test_api_user_refuses_the_anonymous_user_with_a_401():
    # Every endpoint is behind IsAuthenticated; one that lost it answers 401, acting for nobody.
    with pytest.raises(NotAuthenticated):
        api_user(_api_request(AnonymousUser()))


@pytest.mark.django_db
def test_form_field_gives_the_forms_own_copy_of_the_field():
    form = CaseloadFilterForm(clinic=ClinicFactory())

    field = form_field(form, "clinician", forms.ModelChoiceField)

    assert field is form.fields["clinician"]
    assert field is not CaseloadFilterForm.base_fields["clinician"]


@pytest.mark.django_db
def test_form_field_of_another_kind_is_a_type_error():
    form = CaseloadFilterForm(clinic=ClinicFactory())

    with pytest.raises(TypeError, match=r"clinician is a ModelChoiceField, not a DateField"):
        form_field(form, "clinician", forms.DateField)


@pytest.mark.django_db
def test_user_clinic_id_of_a_role_the_user_does_not_hold_is_none():
    # Was an AttributeError on None: the audit trail records no clinic instead.
    staff = StaffFactory().user
    patient = PatientFactory().user

    assert user_clinic_id(staff, AuditEvent.Role.PATIENT) is None
    assert user_clinic_id(patient, AuditEvent.Role.CLINICIAN) is None
    assert user_clinic_id(patient, AuditEvent.Role.PATIENT) == patient.patient.clinic_id
