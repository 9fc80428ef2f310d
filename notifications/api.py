"""The API of the notifications app: a patient's reminder settings (GET and PUT).

Mounted under /api/v1/ with care's API, in the same `api` namespace (tracker/urls.py).
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from care.accounts.services import patient_contact_update
from care.api.serializers import WallClockField
from care.common.access import get_own_patient_for_user
from care.domain.clock import local_date
from notifications.forms import PATIENT_KINDS, validate_reminder_values, validate_text_choice
from notifications.preferences import (
    reminder_preference_for,
    reminder_preference_update,
    text_number_state,
)


class ReminderPreferenceInput(serializers.Serializer):
    email_enabled = serializers.BooleanField()
    checkin_time = WallClockField()
    quiet_start = WallClockField()
    quiet_end = WallClockField()
    paused_until = serializers.DateField(allow_null=True, required=False, default=None)
    unsubscribed = serializers.ListField(
        child=serializers.ChoiceField(choices=[k for k, _ in PATIENT_KINDS]),
        required=False,
        default=list,
    )
    text_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=[k for k, _ in PATIENT_KINDS]),
        required=False,
        default=list,
        help_text="The kinds also sent as text messages (to the mobile number, with consent).",
    )
    text_consent = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The patient agrees to receive text messages (needed once, for text_kinds).",
    )


class ReminderPreferenceOutput(serializers.Serializer):
    email_enabled = serializers.BooleanField()
    checkin_time = WallClockField()
    quiet_start = WallClockField()
    quiet_end = WallClockField()
    paused_until = serializers.DateField(allow_null=True)
    unsubscribed = serializers.ListField(
        child=serializers.ChoiceField(choices=[k for k, _ in PATIENT_KINDS])
    )
    text_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=[k for k, _ in PATIENT_KINDS])
    )
    text_state = serializers.ChoiceField(
        choices=["ok", "no_mobile", "no_consent", "stop", "failed"],
        help_text="Whether texts can go: ok; no mobile number; no consent; the number replied "
        "STOP; the provider refused the number.",
    )


class ReminderPreferenceApi(APIView):
    """GET: the signed-in patient's reminder settings. PUT: replace them."""

    def _out(self, preference, patient) -> dict:
        preference.text_state = text_number_state(patient)
        return ReminderPreferenceOutput(preference).data

    @extend_schema(responses=ReminderPreferenceOutput)
    def get(self, request: Request) -> Response:
        patient = get_own_patient_for_user(request.user)
        return Response(self._out(reminder_preference_for(patient), patient))

    @extend_schema(request=ReminderPreferenceInput, responses=ReminderPreferenceOutput)
    def put(self, request: Request) -> Response:
        patient = get_own_patient_for_user(request.user)
        data = ReminderPreferenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        unsubscribed = values.pop("unsubscribed")
        text_kinds, consent = values.pop("text_kinds"), values.pop("text_consent")
        errors = validate_reminder_values(
            today=local_date(timezone.now(), patient.tz),
            **{k: values[k] for k in ("checkin_time", "quiet_start", "quiet_end", "paused_until")},
        )
        errors |= validate_text_choice(
            text_kinds=text_kinds, state=text_number_state(patient), consent=consent
        )
        if errors:
            raise ValidationError({k: [str(v)] for k, v in errors.items()})
        if consent and text_kinds:
            patient_contact_update(patient=patient, contact={"may_text": True})
        preference = reminder_preference_update(
            preference=reminder_preference_for(patient),
            values=values,
            unsubscribed=unsubscribed,
            text_kinds=[k for k, _ in PATIENT_KINDS if k in set(text_kinds)],
        )
        return Response(self._out(preference, patient))
