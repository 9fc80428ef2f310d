"""The staff API (v1): caseload, a patient's trends, sessions and alerts of the clinic."""

from typing import cast
from zoneinfo import ZoneInfo

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from care.alerts.selectors import clinic_alerts_list, related_safety_alerts
from care.alerts.services import AlertAlreadyAcknowledged, alerts_acknowledge
from care.api.authentication import api_user
from care.api.errors import Conflict
from care.api.fhir import patient_bundle
from care.api.filters import AlertFilter, CaseloadFilter, SessionFilter
from care.api.schema import CONFLICT
from care.api.treatment import ReadinessOutput, ReflectionOutput
from care.audit.services import audit_view
from care.caseload.selectors import caseload_patients, caseload_rows
from care.caseload.trends import patient_trends
from care.common.access import get_alert_for_user, get_membership_for_user, get_patient_for_user
from care.domain.booking import out_of_range
from care.messages.selectors import patient_messages
from care.models import Alert, Assessment, AuditEvent, BodyWeight, Patient, TreatmentSession
from care.treatment.selectors import patient_plan_versions
from care.treatment.services import BookingConflict, session_schedule


class ScoreSummaryOutput(serializers.Serializer):
    latest = serializers.IntegerField(allow_null=True)
    previous = serializers.IntegerField(allow_null=True, help_text="The score before the latest.")
    change_since_previous = serializers.IntegerField(
        source="since_previous", allow_null=True, help_text="Latest minus previous."
    )
    baseline = serializers.IntegerField(allow_null=True)
    change = serializers.IntegerField(allow_null=True, help_text="Latest minus baseline.")
    response = serializers.BooleanField(help_text="At least 50% below baseline.")
    remission = serializers.BooleanField()


class AlertCountOutput(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Alert.Priority.choices)
    kind = serializers.CharField(source="label")
    count = serializers.IntegerField()


class CaseloadRowOutput(serializers.Serializer):
    id = serializers.UUIDField(source="patient.public_id")
    name = serializers.CharField(source="patient.full_name")
    preferred_name = serializers.CharField(source="patient.preferred_name")
    status = serializers.ChoiceField(source="patient.status", choices=Patient.Status.choices)
    phase = serializers.ChoiceField(source="patient.treatment_phase", choices=Patient.Phase.choices)
    conditions = serializers.ListField(source="patient.conditions", child=serializers.CharField())
    primary_clinician = serializers.SerializerMethodField()
    open_alerts = AlertCountOutput(source="alerts", many=True)
    last_checkin_on = serializers.DateField(allow_null=True)
    days_since_checkin = serializers.IntegerField(allow_null=True)
    mood_7day_average = serializers.FloatField(source="mood_avg", allow_null=True)
    mood_direction = serializers.CharField()
    phq9 = ScoreSummaryOutput(source="scores.phq9")
    gad7 = ScoreSummaryOutput(source="scores.gad7")
    next_session_at = serializers.DateTimeField(allow_null=True)

    def get_primary_clinician(self, row) -> str:
        return row.patient.primary_clinician


class PatientListApi(ListAPIView):
    """The caseload, attention first, with the same filters as the page."""

    queryset = Patient.objects.none()  # names the model for the schema
    serializer_class = CaseloadRowOutput
    filterset_class = CaseloadFilter

    def list(self, request: Request) -> Response:
        membership = get_membership_for_user(request.user)
        filterset = CaseloadFilter(request.query_params, request=request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        now = timezone.now()
        entries = self.paginate_queryset(
            caseload_patients(
                clinic=membership.clinic, filters=filterset.caseload_filters(), now=now
            )
        )
        if entries is None:  # only without a pagination class, and this view has the default
            raise ImproperlyConfigured("The caseload API is paginated.")
        rows = caseload_rows(entries=entries, now=now)
        audit_view(request, action=AuditEvent.Action.VIEWED, what=AuditEvent.What.CASELOAD)
        return self.get_paginated_response(CaseloadRowOutput(rows, many=True).data)


class TrendCheckInOutput(serializers.Serializer):
    day = serializers.DateField()
    mood = serializers.IntegerField()
    anxiety = serializers.IntegerField()
    mood_avg = serializers.FloatField(allow_null=True, help_text="7-day rolling average.")
    anxiety_avg = serializers.FloatField(allow_null=True)


class TrendPointOutput(serializers.Serializer):
    id = serializers.UUIDField()
    at = serializers.DateTimeField()
    at_local = serializers.CharField(help_text="The patient's wall-clock time, no offset.")
    total = serializers.IntegerField()
    band = serializers.CharField()
    baseline = serializers.BooleanField()
    change = serializers.IntegerField(allow_null=True)
    response = serializers.BooleanField()
    remission = serializers.BooleanField()


class TrendBandOutput(serializers.Serializer):
    low = serializers.IntegerField()
    high = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]  # the field "label", not Field.label


class TrendSeriesOutput(serializers.Serializer):
    name = serializers.CharField()
    max = serializers.IntegerField()
    baseline = serializers.IntegerField(allow_null=True)
    bands = TrendBandOutput(many=True)
    points = TrendPointOutput(many=True)


class TrendSessionOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    at_local = serializers.CharField()
    status = serializers.ChoiceField(choices=TreatmentSession.Status.choices)
    route = serializers.CharField()
    dose = serializers.CharField()


class TrendSafetyEventOutput(serializers.Serializer):
    at_local = serializers.CharField(help_text="The patient's wall-clock time, no offset.")
    what = serializers.CharField(help_text="A check-in's self-harm answer, or PHQ-9 item 9.")


class TrendsOutput(serializers.Serializer):
    since = serializers.DateField()
    until = serializers.DateField()
    checkins = TrendCheckInOutput(many=True)
    questionnaires = serializers.DictField(
        child=TrendSeriesOutput(), help_text="By instrument code (phq9, gad7, pcl5)."
    )
    sessions = TrendSessionOutput(many=True)
    safety_events = TrendSafetyEventOutput(many=True)


class PatientTrendsApi(APIView):
    """One patient's series, ready for charts (?days=1..730, default 180)."""

    class Query(serializers.Serializer):
        days = serializers.IntegerField(min_value=1, max_value=730, default=180)

    @extend_schema(parameters=[Query], responses=TrendsOutput)
    def get(self, request: Request, public_id: str) -> Response:
        get_membership_for_user(request.user)
        # The series need only the patient's clinic (its PCL-5 cut-off).
        patient = get_patient_for_user(request.user, public_id, related=("clinic",))
        query = self.Query(data=request.query_params)
        query.is_valid(raise_exception=True)
        audit_view(
            request,
            action=AuditEvent.Action.VIEWED,
            what=AuditEvent.What.TRENDS,
            patient=patient,
            object_id=patient.public_id,
        )
        return Response(
            patient_trends(patient=patient, now=timezone.now(), days=query.validated_data["days"])
        )


class SessionOutput(serializers.ModelSerializer):
    patient = serializers.UUIDField(source="patient.public_id")
    readiness = ReadinessOutput(allow_null=True, help_text="The patient's answers; null: none.")
    reflection = ReflectionOutput(
        allow_null=True, help_text="The patient's reflection after it; null: none."
    )

    class Meta:
        model = TreatmentSession
        fields = [
            "id",
            "patient",
            "scheduled_at",
            "status",
            "route",
            "dose_mg",
            "dose_mg_per_kg",
            "monitoring_started_at",
            "monitoring_ended_at",
            *TreatmentSession.VITAL_FIELDS,
            "dissociation",
            "sedation",
            "rems_submitted_on",
            "chair",
            "override_reason",
            "readiness",
            "reflection",
        ]


class SessionListApi(ListAPIView):
    """The clinic's sessions, newest first."""

    queryset = TreatmentSession.objects.none()  # names the model for the schema
    serializer_class = SessionOutput
    filterset_class = SessionFilter

    def get_queryset(self):
        membership = get_membership_for_user(self.request.user)
        return (
            TreatmentSession.objects.filter(patient__clinic=membership.clinic)
            .select_related("patient", "readiness", "reflection")
            .order_by("-scheduled_at", "-pk")
        )

    def list(self, request: Request, *args, **kwargs) -> Response:
        response = super().list(request, *args, **kwargs)  # doses and vital signs
        audit_view(request, action=AuditEvent.Action.VIEWED, what=AuditEvent.What.SESSION)
        return response


class AlertOutput(serializers.ModelSerializer):
    patient = serializers.UUIDField(source="patient.public_id")
    acknowledged_by = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "patient",
            "kind",
            "priority",
            "reason",
            "created_at",
            "acknowledged_at",
            "acknowledged_by",
            "action",
            "action_note",
            "escalated_at",
        ]


class AlertListApi(ListAPIView):
    """The clinic's alerts: open ones (the default) most urgent first, others newest first."""

    queryset = Alert.objects.none()  # names the model for the schema
    serializer_class = AlertOutput
    filterset_class = AlertFilter

    def get_queryset(self):
        membership = get_membership_for_user(self.request.user)
        state = self.request.query_params.get("state", "open")
        return clinic_alerts_list(clinic=membership.clinic, state=state)

    def list(self, request: Request, *args, **kwargs) -> Response:
        response = super().list(request, *args, **kwargs)  # reasons quote scores
        audit_view(request, action=AuditEvent.Action.VIEWED, what=AuditEvent.What.ALERT)
        return response


class AcknowledgeInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=[(a.value, a.label) for a in Alert.MANUAL_ACTIONS])
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    also = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=Alert.objects.none(),
        help_text="Ids of the patient's other safety alerts to acknowledge with this one "
        "(same action and note; each gets its own record). Only for a safety alert.",
    )

    def __init__(self, *args, related: QuerySet[Alert] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # `also` is declared with many=True, which DRF makes a ManyRelatedField.
        also = cast(serializers.ManyRelatedField, self.fields["also"]).child_relation
        also.queryset = related if related is not None else Alert.objects.none()  # type: ignore[arg-type]  # stub: Manager read as a descriptor

    def validate(self, data):
        if data["action"] == Alert.Action.OTHER and not data["note"].strip():
            raise serializers.ValidationError({"note": "Add a note when the action is other."})
        return data


class AcknowledgeOutput(AlertOutput):
    also_acknowledged = serializers.SerializerMethodField(
        help_text="Ids of the related alerts acknowledged with it (not those someone "
        "acknowledged first)."
    )

    class Meta(AlertOutput.Meta):
        fields = [*AlertOutput.Meta.fields, "also_acknowledged"]

    def get_also_acknowledged(self, alert) -> list[int]:
        return self.context.get("also_acknowledged", [])


class AlertAcknowledgeApi(APIView):
    """Record what was done about an alert (and, with `also`, the patient's other open
    safety alerts); they leave the open list."""

    @extend_schema(request=AcknowledgeInput, responses={200: AcknowledgeOutput, 409: CONFLICT})
    def post(self, request: Request, alert_id: int) -> Response:
        alert = get_alert_for_user(request.user, alert_id)
        data = AcknowledgeInput(data=request.data, related=related_safety_alerts(alert))
        data.is_valid(raise_exception=True)
        try:
            done = alerts_acknowledge(
                alert=alert,
                by=api_user(request),
                now=timezone.now(),
                **{"also": [], **data.validated_data},
            )
        except AlertAlreadyAcknowledged as exc:
            raise Conflict("This alert was already acknowledged.") from exc
        also = [a.pk for a in done[1:]]
        return Response(AcknowledgeOutput(done[0], context={"also_acknowledged": also}).data)


class FhirEntryOutput(serializers.Serializer):
    fullUrl = serializers.CharField(help_text="urn:uuid:<id>")
    resource = serializers.DictField(
        help_text="A Patient, QuestionnaireResponse, Observation, Communication, CarePlan or "
        "Appointment (FHIR R4)."
    )


class FhirBundleOutput(serializers.Serializer):
    resourceType = serializers.ChoiceField(choices=["Bundle"])
    type = serializers.ChoiceField(choices=["collection"])
    timestamp = serializers.DateTimeField()
    entry = FhirEntryOutput(many=True)


class PatientFhirApi(APIView):
    """The patient's questionnaire results, messages, treatment plan, weights and sessions
    as a FHIR R4 Bundle (collection): the Patient, a QuestionnaireResponse per questionnaire
    (LOINC items and answers), an Observation per total score (LOINC 44261-6, 70274-6,
    101698-9; unit `{score}`), a Communication per message between the patient and the care
    team (staff notes left out), a CarePlan per plan version, an Observation per body weight
    (LOINC 29463-7, kg) and an Appointment per treatment session."""

    @extend_schema(responses=FhirBundleOutput)
    def get(self, request: Request, public_id: str) -> Response:
        get_membership_for_user(request.user)
        patient = get_patient_for_user(request.user, public_id)
        audit_view(
            request,
            action=AuditEvent.Action.EXPORTED,
            what=AuditEvent.What.FHIR,
            patient=patient,
            object_id=patient.public_id,
        )
        bundle = patient_bundle(
            patient=patient,
            assessments=Assessment.objects.filter(patient=patient).order_by("completed_at"),
            pcl5_cutoff=patient.clinic.pcl5_cutoff,
            now=timezone.now(),
            messages=patient_messages(patient=patient),
            plan_versions=patient_plan_versions(patient=patient),
            weights=BodyWeight.objects.filter(patient=patient),
            sessions=TreatmentSession.objects.filter(patient=patient),
            session_minutes=patient.clinic.session_minutes,
        )
        return Response(bundle)


class SessionBookInput(serializers.Serializer):
    scheduled_at = serializers.DateTimeField(
        help_text="The start, with its offset (e.g. 2026-06-15T10:00:00-04:00)."
    )
    route = serializers.ChoiceField(choices=TreatmentSession.Route.choices)
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text="Why to book it despite a conflict (outside hours, no chair free, the "
        "patient already booked that day); without it a conflict answers 409.",
    )

    def validate_scheduled_at(self, value):
        problem = out_of_range(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class SessionBookedOutput(SessionOutput):
    class Meta(SessionOutput.Meta):
        fields = [*SessionOutput.Meta.fields, "chair", "override_reason"]


class PatientSessionBookApi(APIView):
    """Book a session for the patient, in the lowest free chair. A conflict with the clinic's
    opening hours, its chairs or the patient's other bookings answers 409, its `errors`
    holding the problems (`scheduled_at`) and the nearest free starts (`free_slots`, ISO
    8601 in the clinic's zone); send `override_reason` to book it anyway."""

    @extend_schema(request=SessionBookInput, responses={201: SessionBookedOutput, 409: CONFLICT})
    def post(self, request: Request, public_id: str) -> Response:
        get_membership_for_user(request.user)
        patient = get_patient_for_user(request.user, public_id, related=("clinic",))
        data = SessionBookInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            session = session_schedule(
                patient=patient, by=api_user(request), now=timezone.now(), **data.validated_data
            )
        except BookingConflict as conflict:
            zone = ZoneInfo(patient.clinic.tz)
            raise Conflict(
                "The session conflicts with the clinic's hours, chairs or the patient's "
                "other bookings; see errors.",
                errors={
                    "scheduled_at": [p.message for p in conflict.problems],
                    "free_slots": [s.astimezone(zone).isoformat() for s in conflict.free_slots],
                },
            ) from conflict
        return Response(SessionBookedOutput(session).data, status=status.HTTP_201_CREATED)
