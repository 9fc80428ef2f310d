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

from care.api.serializers import WallClockField
from care.common.access import get_own_patient_for_user
from care.domain.clock import local_date
from notifications.forms import PATIENT_KINDS, validate_reminder_values
from notifications.preferences import reminder_preference_for, reminder_preference_update


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


class ReminderPreferenceOutput(serializers.Serializer):
    email_enabled = serializers.BooleanField()
    checkin_time = WallClockField()
    quiet_start = WallClockField()
    quiet_end = WallClockField()
    paused_until = serializers.DateField(allow_null=True)
    unsubscribed = serializers.ListField(
        child=serializers.ChoiceField(choices=[k for k, _ in PATIENT_KINDS])
    )


class ReminderPreferenceApi(APIView):
    """GET: the signed-in patient's reminder settings. PUT: replace them."""

    def _out(self, preference) -> dict:
        return ReminderPreferenceOutput(preference).data

    @extend_schema(responses=ReminderPreferenceOutput)
    def get(self, request: Request) -> Response:
        patient = get_own_patient_for_user(request.user)
        return Response(self._out(reminder_preference_for(patient)))

    @extend_schema(request=ReminderPreferenceInput, responses=ReminderPreferenceOutput)
    def put(self, request: Request) -> Response:
        patient = get_own_patient_for_user(request.user)
        data = ReminderPreferenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        unsubscribed = values.pop("unsubscribed")
        errors = validate_reminder_values(
            today=local_date(timezone.now(), patient.tz),
            **{k: values[k] for k in ("checkin_time", "quiet_start", "quiet_end", "paused_until")},
        )
        if errors:
            raise ValidationError({k: [str(v)] for k, v in errors.items()})
        preference = reminder_preference_update(
            preference=reminder_preference_for(patient), values=values, unsubscribed=unsubscribed
        )
        return Response(self._out(preference))
