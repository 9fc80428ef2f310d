"""Treatment plans, body weights, booked sessions and what the patient answered about them
(API v1), for both sides.

The care team: a patient's plan with every version (who, when, why, the alert it answered)
and a new version through the page's service (`treatment_plan_version_create`, the same
checks and audit row); the patient's weights, and a new one (`weight_record`); their
requests to move a session. Readiness answers and reflections come with each session in
`sessions/` (care/api/staff.py). Every read is audited; another clinic's patient is a 404.

The patient (their own only, not audited, as their other reads are not): the plan in plain
terms (care/treatment/plan_terms.py: no reasons, no alert, no dose) with the clinic's
preparation texts, their sessions with their readiness answers, reflections and move
requests, and those requests on their own. They answer a session's readiness check, write
their reflection on a held one and ask to move a booked one through the pages' services
(care/treatment/services.py: the same checks, alerts and audit rows); a session that is not
theirs is a 404, one that no longer takes the answer a 409 `not_open`, a second answer a
409 `conflict`.
"""

from datetime import timedelta
from decimal import Decimal

import django_filters as filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.fields import empty
from rest_framework.generics import ListAPIView, ListCreateAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from care.api.authentication import api_user
from care.api.errors import Conflict, ErrorSerializer
from care.api.messages import PersonOutput
from care.audit.services import audit_view
from care.common.access import (
    get_membership_for_user,
    get_own_patient_for_user,
    get_own_session_for_user,
    get_patient_for_user,
)
from care.domain.reflections import REFLECTION_MAX_CHARS
from care.models import (
    Alert,
    Assessment,
    AuditEvent,
    BodyWeight,
    Clinic,
    Patient,
    SessionMoveRequest,
    TreatmentPlanVersion,
    TreatmentSession,
    User,
)
from care.models.plans import (
    PLAN_DOSE_MG_PER_KG_MAX,
    PLAN_DOSE_MG_PER_KG_MIN,
    PLAN_ESKETAMINE_DOSES_MG,
    PLAN_INDUCTION_SESSIONS,
    PLAN_INDUCTION_WEEKS,
)
from care.treatment.plan_terms import plan_terms
from care.treatment.selectors import patient_plan_versions
from care.treatment.services import (
    PLAN_VALUE_FIELDS,
    MoveRequestPending,
    ReadinessAlreadyAnswered,
    ReflectionAlreadyWritten,
    ReflectionNotOpen,
    SessionNotOpen,
    move_request_create,
    readiness_submit,
    reflection_submit,
    treatment_plan_version_create,
    weight_record,
)


class NotOpen(Conflict):
    """The session no longer takes this answer (started, no longer booked, the readiness
    check not yet open, the reflection's 14 days over or the session not held)."""

    default_code = "not_open"


NOT_OPEN = OpenApiResponse(
    ErrorSerializer,
    description="`conflict`: answered already (once per session, never changed); "
    "`not_open`: the session does not take it now (`detail` says why).",
)


def field_errors(exc: DjangoValidationError) -> ValidationError:
    """A service's ValidationError as the API's 400 (its fields, `__all__` as non_field_errors)."""
    return ValidationError(
        {
            ("non_field_errors" if field == "__all__" else field): messages
            for field, messages in exc.message_dict.items()
        }
    )


# Output: both sides


class ReadinessOutput(serializers.Serializer):
    """The patient's answers the day before the session (never changed once given)."""

    ready = serializers.BooleanField(
        source="is_ready",
        help_text="Ride arranged, fasting understood, feeling well and no new medicine.",
    )
    ride_arranged = serializers.BooleanField()
    fasting_understood = serializers.BooleanField()
    feeling_well = serializers.BooleanField()
    new_medicines = serializers.BooleanField()
    new_medicines_details = serializers.CharField(allow_blank=True)
    by_link = serializers.BooleanField(help_text="Answered through the e-mailed link.")
    answered_at = serializers.DateTimeField()


class ReflectionOutput(serializers.Serializer):
    """The patient's reflection in the days after a held session."""

    what_came_up = serializers.CharField(allow_blank=True)
    feeling = serializers.CharField(allow_blank=True)
    for_team = serializers.CharField(allow_blank=True, help_text="Anything for the care team.")
    written_at = serializers.DateTimeField(source="created_at")


class MoveRequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    session = serializers.IntegerField(source="session_id", help_text="The session's id.")
    preferred_times = serializers.CharField(help_text="The patient's words.")
    asked_at = serializers.DateTimeField(source="created_at")
    status = serializers.ChoiceField(choices=SessionMoveRequest.Status.choices)
    answered_at = serializers.DateTimeField(source="decided_at", allow_null=True)
    answer = serializers.CharField(allow_blank=True, help_text="The care team's words.")
    moved_from = serializers.DateTimeField(allow_null=True)
    moved_to = serializers.DateTimeField(allow_null=True)


class StaffMoveRequestOutput(MoveRequestOutput):
    session_scheduled_at = serializers.DateTimeField(source="session.scheduled_at")
    answered_by = PersonOutput(source="decided_by", allow_null=True)


class PatientMoveRequestOutput(MoveRequestOutput):
    session_scheduled_at = serializers.DateTimeField(source="session.scheduled_at")


# The care team: the plan


class PlanVersionOutput(serializers.ModelSerializer):
    version = serializers.IntegerField(source="number")
    questionnaires = serializers.ListField(
        child=serializers.ChoiceField(choices=Assessment.Instrument.choices)
    )
    prescriber = PersonOutput()
    created_by = PersonOutput(help_text="Who made this version.")
    answered_alert = serializers.IntegerField(
        source="answered_alert_id",
        allow_null=True,
        help_text="The alert this version answered (acknowledged 'plan adjusted').",
    )

    class Meta:
        model = TreatmentPlanVersion
        fields = [
            "version",
            "route",
            "induction_sessions",
            "induction_weeks",
            "target_dose_mg_per_kg",
            "target_dose_mg",
            "maintenance",
            "maintenance_every_weeks",
            "questionnaires",
            "questionnaire_every_days",
            "goals",
            "prescriber",
            "created_by",
            "created_at",
            "reason_code",
            "reason",
            "answered_alert",
        ]


class PlanOutput(serializers.Serializer):
    patient = serializers.UUIDField()
    current = PlanVersionOutput(allow_null=True, help_text="The plan as it stands; null: none.")
    versions = PlanVersionOutput(many=True, help_text="Every version, newest (current) first.")


def _plan_body(patient: Patient) -> dict:
    versions = list(patient_plan_versions(patient=patient))
    return PlanOutput(
        {
            "patient": patient.public_id,
            "current": versions[0] if versions else None,
            "versions": versions,
        }
    ).data


def plan_prescribers(clinic: Clinic) -> QuerySet[User]:
    """Who may be a plan's prescriber: the clinic's active staff (as on the plan page)."""
    return User.objects.filter(
        is_active=True,
        staff_membership__clinic=clinic,
        staff_membership__deactivated_at__isnull=True,
    ).order_by("full_name")


class PlanVersionInput(serializers.Serializer):
    """A new version of the plan: the whole plan as it will stand, and why it changes."""

    route = serializers.ChoiceField(choices=TreatmentSession.Route.choices)
    induction_sessions = serializers.IntegerField(
        min_value=PLAN_INDUCTION_SESSIONS[0], max_value=PLAN_INDUCTION_SESSIONS[1]
    )
    induction_weeks = serializers.IntegerField(
        min_value=PLAN_INDUCTION_WEEKS[0], max_value=PLAN_INDUCTION_WEEKS[1]
    )
    target_dose_mg_per_kg = serializers.DecimalField(
        max_digits=4,
        decimal_places=2,
        min_value=PLAN_DOSE_MG_PER_KG_MIN,
        max_value=PLAN_DOSE_MG_PER_KG_MAX,
        required=False,
        allow_null=True,
        default=None,
        help_text="IV or IM ketamine (null for intranasal esketamine).",
    )
    target_dose_mg = serializers.ChoiceField(
        choices=list(PLAN_ESKETAMINE_DOSES_MG),
        required=False,
        allow_null=True,
        default=None,
        help_text="Intranasal esketamine, 56 or 84 (null for IV or IM).",
    )
    maintenance = serializers.ChoiceField(choices=TreatmentPlanVersion.Maintenance.choices)
    maintenance_every_weeks = serializers.IntegerField(
        min_value=1,
        max_value=26,
        required=False,
        allow_null=True,
        default=None,
        help_text="With maintenance every_n_weeks only.",
    )
    questionnaires = serializers.ListField(
        child=serializers.ChoiceField(choices=Assessment.Instrument.choices),
        required=False,
        default=list,
        max_length=len(Assessment.Instrument.choices),
    )
    questionnaire_every_days = serializers.IntegerField(min_value=1, max_value=90)
    goals = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    prescriber = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), help_text="An active staff member of the clinic (user id)."
    )
    reason_code = serializers.ChoiceField(
        choices=[(r.value, r.label) for r in TreatmentPlanVersion.CHANGE_REASONS],
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the plan changes: required for every version after the first.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Why, in words: required for every version after the first.",
    )
    answered_alert = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=2**63 - 1,
        help_text="An open 'booster may be due' or 'worsening' alert of the patient that this "
        "version answers: it is acknowledged 'plan adjusted'.",
    )

    def __init__(self, *args, prescribers: QuerySet[User] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["prescriber"]
        assert isinstance(field, serializers.PrimaryKeyRelatedField)
        field.queryset = prescribers if prescribers is not None else User.objects.none()  # type: ignore[arg-type]  # stub: Manager read as a descriptor

    def validate_questionnaires(self, value: list[str]) -> list[str]:
        return sorted(set(value), key=value.index)


class PatientPlanApi(APIView):
    """GET: the patient's treatment plan, the current version and every earlier one (who,
    when, why, the alert it answered). POST: a new version (the first needs no reason; every
    later one a reason code and words); answering an open booster or worsening alert
    acknowledges it."""

    @extend_schema(responses=PlanOutput)
    def get(self, request: Request, public_id: str) -> Response:
        get_membership_for_user(request.user)
        patient = get_patient_for_user(request.user, public_id, related=("clinic",))
        body = _plan_body(patient)
        audit_view(
            request,
            action=AuditEvent.Action.VIEWED,
            what=AuditEvent.What.TREATMENT_PLAN,
            patient=patient,
            object_id=patient.public_id,
        )
        return Response(body)

    @extend_schema(request=PlanVersionInput, responses={201: PlanOutput})
    def post(self, request: Request, public_id: str) -> Response:
        membership = get_membership_for_user(request.user)
        patient = get_patient_for_user(request.user, public_id, related=("clinic",))
        data = PlanVersionInput(data=request.data, prescribers=plan_prescribers(membership.clinic))
        data.is_valid(raise_exception=True)
        values = data.validated_data
        alert = None
        if values["answered_alert"] is not None:
            alert = Alert.objects.filter(pk=values["answered_alert"], patient=patient).first()
            if alert is None:
                raise ValidationError(
                    {"answered_alert": ["No such alert of this patient."]}, code="invalid"
                )
        try:
            treatment_plan_version_create(
                patient=patient,
                by=api_user(request),
                now=timezone.now(),
                values={name: values[name] for name in PLAN_VALUE_FIELDS},
                reason_code=values["reason_code"],
                reason=values["reason"],
                answered_alert=alert,
            )
        except DjangoValidationError as exc:
            raise field_errors(exc) from exc
        return Response(_plan_body(patient), status=status.HTTP_201_CREATED)


# The care team: weights and move requests


class WeightOutput(serializers.ModelSerializer):
    recorded_by = PersonOutput()
    recorded_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = BodyWeight
        fields = [
            "id",
            "measured_on",
            "weight_kg",
            "entered_value",
            "entered_unit",
            "recorded_by",
            "recorded_at",
        ]


class WeightInput(serializers.Serializer):
    """A measured weight as typed: the service keeps it in kg to one decimal."""

    value = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        min_value=Decimal("0"),
        help_text="As measured, in `unit`; 20-350 kg (44-771 lb) once converted.",
    )
    unit = serializers.ChoiceField(choices=BodyWeight.Unit.choices)
    measured_on = serializers.DateField(help_text="Up to the clinic's today.")


class PatientWeightListApi(ListCreateAPIView):
    """GET: the patient's body weights, the latest measured first: in kg (one decimal) and
    as entered (kg or lb). POST: record a measured weight (kg or lb, measured on a day up to
    the clinic's today; 20-350 kg once converted)."""

    queryset = BodyWeight.objects.none()  # names the model for the schema
    serializer_class = WeightOutput
    filter_backends = []

    def get_queryset(self):
        get_membership_for_user(self.request.user)
        self.patient = get_patient_for_user(self.request.user, self.kwargs["public_id"], related=())
        return (
            BodyWeight.objects.filter(patient=self.patient)
            .select_related("recorded_by")
            .order_by("-measured_on", "-created_at", "-pk")
        )

    def list(self, request: Request, *args, **kwargs) -> Response:
        response = super().list(request, *args, **kwargs)
        audit_view(
            request,
            action=AuditEvent.Action.VIEWED,
            what=AuditEvent.What.WEIGHT,
            patient=self.patient,
            object_id=self.patient.public_id,
        )
        return response

    @extend_schema(request=WeightInput, responses={201: WeightOutput})
    def post(self, request: Request, public_id: str) -> Response:
        get_membership_for_user(request.user)
        patient = get_patient_for_user(request.user, public_id, related=("clinic",))
        data = WeightInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            weight = weight_record(
                patient=patient, by=api_user(request), now=timezone.now(), **data.validated_data
            )
        except DjangoValidationError as exc:
            raise field_errors(exc) from exc
        return Response(WeightOutput(weight).data, status=status.HTTP_201_CREATED)


class MoveRequestFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=SessionMoveRequest.Status.choices)

    class Meta:
        model = SessionMoveRequest
        fields: list[str] = []


class PatientMoveRequestListApi(ListAPIView):
    """The patient's requests to move a session, newest first (`?status=`), with the care
    team's answers."""

    queryset = SessionMoveRequest.objects.none()  # names the model for the schema
    serializer_class = StaffMoveRequestOutput
    filterset_class = MoveRequestFilter

    def get_queryset(self):
        get_membership_for_user(self.request.user)
        self.patient = get_patient_for_user(self.request.user, self.kwargs["public_id"], related=())
        return (
            SessionMoveRequest.objects.filter(session__patient=self.patient)
            .select_related("session", "decided_by")
            .order_by("-created_at", "-pk")
        )

    def list(self, request: Request, *args, **kwargs) -> Response:
        response = super().list(request, *args, **kwargs)
        audit_view(
            request,
            action=AuditEvent.Action.VIEWED,
            what=AuditEvent.What.MOVE_REQUEST,
            patient=self.patient,
            object_id=self.patient.public_id,
        )
        return response


# The patient


class PlainPlanOutput(serializers.Serializer):
    """The plan as it stands, in the patient's terms: no reasons, no alert, no dose."""

    version = serializers.IntegerField()
    since = serializers.DateTimeField(help_text="When this version was made.")
    route = serializers.ChoiceField(choices=TreatmentSession.Route.choices)
    route_label = serializers.CharField()
    induction_sessions = serializers.IntegerField()
    induction_weeks = serializers.IntegerField()
    induction = serializers.CharField(help_text="“6 sessions over 3 weeks”.")
    maintenance = serializers.ChoiceField(choices=TreatmentPlanVersion.Maintenance.choices)
    maintenance_every_weeks = serializers.IntegerField(allow_null=True)
    maintenance_text = serializers.CharField()
    questionnaires = serializers.ListField(
        child=serializers.ChoiceField(choices=Assessment.Instrument.choices)
    )
    questionnaire_every_days = serializers.IntegerField()
    questionnaires_text = serializers.CharField(
        allow_blank=True, help_text="“PHQ-9 and GAD-7 every 14 days”; empty without any."
    )
    goals = serializers.CharField(allow_blank=True, help_text="In the patient's words.")
    prescriber = serializers.CharField()


class PreparationOutput(serializers.Serializer):
    """The clinic's words on preparing for a session (empty where it gives none)."""

    fasting = serializers.CharField(allow_blank=True)
    medicines = serializers.CharField(allow_blank=True)
    ride = serializers.CharField(allow_blank=True)
    bring = serializers.CharField(allow_blank=True)


class MyPlanOutput(serializers.Serializer):
    plan = PlainPlanOutput(allow_null=True, help_text="Null until the care team makes one.")
    preparation = PreparationOutput()
    clinic = serializers.CharField(help_text="Where sessions take place: the clinic's name.")
    address = serializers.CharField(allow_blank=True)


def preparation_texts(clinic: Clinic) -> dict[str, str]:
    return {
        "fasting": clinic.prep_fasting,
        "medicines": clinic.prep_medicines,
        "ride": clinic.prep_ride,
        "bring": clinic.prep_bring,
    }


class MyPlanApi(APIView):
    """The signed-in patient's treatment plan in plain terms, and how to prepare for a
    session."""

    @extend_schema(responses=MyPlanOutput)
    def get(self, request: Request) -> Response:
        patient = get_own_patient_for_user(request.user)
        current = patient_plan_versions(patient=patient).first()
        clinic = patient.clinic
        return Response(
            MyPlanOutput(
                {
                    "plan": plan_terms(current) if current else None,
                    "preparation": preparation_texts(clinic),
                    "clinic": clinic.name,
                    "address": clinic.address,
                }
            ).data
        )


class MySessionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    scheduled_at = serializers.DateTimeField()
    ends_at = serializers.SerializerMethodField(
        help_text="When the chair time ends (the clinic's session length)."
    )
    status = serializers.ChoiceField(choices=TreatmentSession.Status.choices)
    route = serializers.ChoiceField(choices=TreatmentSession.Route.choices)
    route_label = serializers.CharField(source="get_route_display")
    readiness = ReadinessOutput(allow_null=True, help_text="Null until answered.")
    reflection = ReflectionOutput(allow_null=True, help_text="Null until written.")
    move_requests = MoveRequestOutput(many=True, help_text="Newest first.")

    def get_ends_at(self, session: TreatmentSession) -> str:
        minutes = self.context["session_minutes"]
        field = serializers.DateTimeField()
        return field.to_representation(session.scheduled_at + timedelta(minutes=minutes))


class MySessionFilter(filters.FilterSet):
    when = filters.ChoiceFilter(
        choices=[("upcoming", "Upcoming"), ("past", "Past"), ("all", "All")],
        method="keep",
        label="upcoming (default: booked, from now on, soonest first), past or all (newest first)",
    )

    class Meta:
        model = TreatmentSession
        fields: list[str] = []

    def keep(self, queryset, name, value):
        return queryset


class MySessionListApi(ListAPIView):
    """The signed-in patient's sessions (`?when=upcoming`, the default: booked from now on,
    soonest first; `past` or `all`, newest first) with their readiness answers, reflections
    and requests to move them."""

    queryset = TreatmentSession.objects.none()  # names the model for the schema
    serializer_class = MySessionOutput
    filterset_class = MySessionFilter

    def get_queryset(self):
        self.patient = get_own_patient_for_user(self.request.user)
        sessions = (
            TreatmentSession.objects.filter(patient=self.patient)
            .select_related("readiness", "reflection")
            .prefetch_related("move_requests")
        )
        when = self.request.query_params.get("when", "upcoming")
        now = timezone.now()
        if when == "upcoming":
            return sessions.filter(
                status=TreatmentSession.Status.SCHEDULED, scheduled_at__gte=now
            ).order_by("scheduled_at", "pk")
        if when == "past":
            sessions = sessions.filter(scheduled_at__lt=now)
        return sessions.order_by("-scheduled_at", "-pk")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "session_minutes": self._minutes()}

    def _minutes(self) -> int:
        return get_own_patient_for_user(self.request.user).clinic.session_minutes


class MyMoveRequestListApi(ListAPIView):
    """The signed-in patient's requests to move a session, newest first, with the care
    team's answers."""

    queryset = SessionMoveRequest.objects.none()  # names the model for the schema
    serializer_class = PatientMoveRequestOutput
    filterset_class = MoveRequestFilter

    def get_queryset(self):
        patient = get_own_patient_for_user(self.request.user)
        return (
            SessionMoveRequest.objects.filter(session__patient=patient)
            .select_related("session")
            .order_by("-created_at", "-pk")
        )


# The patient: answers about their own sessions


class AnswerField(serializers.BooleanField):
    """A yes/no the patient must give: never taken as "no" when left out."""

    default_empty_html = empty


class ReadinessInput(serializers.Serializer):
    """The readiness check: every question answered, none taken for granted."""

    ride_arranged = AnswerField(help_text="A ride home is arranged (no driving until next day).")
    fasting_understood = AnswerField(help_text="They know when to stop eating and drinking.")
    feeling_well = AnswerField(help_text="No fever, cold or new illness.")
    new_medicines = AnswerField(help_text="A medicine started or changed since the last visit.")
    new_medicines_details = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text="Which medicine and what changed: required with new_medicines true "
        "(ignored without).",
    )


class ReflectionInput(serializers.Serializer):
    """Three boxes, at least one saying something."""

    what_came_up = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=REFLECTION_MAX_CHARS
    )
    feeling = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=REFLECTION_MAX_CHARS
    )
    for_team = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=REFLECTION_MAX_CHARS,
        help_text="Anything for the care team.",
    )


class MoveRequestInput(serializers.Serializer):
    preferred_times = serializers.CharField(
        max_length=500, help_text="Which days and times would suit, in the patient's words."
    )


class MySessionReadinessApi(APIView):
    """Answer the readiness check of one of the signed-in patient's coming sessions: once,
    within the two days before it starts. A "not ready" answer raises an alert for the
    care team."""

    @extend_schema(request=ReadinessInput, responses={201: ReadinessOutput, 409: NOT_OPEN})
    def post(self, request: Request, session_id: int) -> Response:
        session = get_own_session_for_user(request.user, session_id)
        data = ReadinessInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            readiness, _alert = readiness_submit(
                session=session, values=data.validated_data, now=timezone.now(), by_link=False
            )
        except SessionNotOpen as exc:
            raise NotOpen(exc.message) from exc
        except ReadinessAlreadyAnswered as exc:
            raise Conflict("This session's readiness check is answered already.") from exc
        except DjangoValidationError as exc:
            raise field_errors(exc) from exc
        return Response(ReadinessOutput(readiness).data, status=status.HTTP_201_CREATED)


class MySessionReflectionApi(APIView):
    """Write the reflection on one of the signed-in patient's held sessions: once, within
    14 days of it; never changed."""

    @extend_schema(request=ReflectionInput, responses={201: ReflectionOutput, 409: NOT_OPEN})
    def post(self, request: Request, session_id: int) -> Response:
        session = get_own_session_for_user(request.user, session_id)
        data = ReflectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            reflection = reflection_submit(
                session=session, values=data.validated_data, now=timezone.now()
            )
        except ReflectionNotOpen as exc:
            raise NotOpen(
                "A reflection can be written only on a held session, within 14 days of it."
            ) from exc
        except ReflectionAlreadyWritten as exc:
            raise Conflict(
                "The reflection on this session is written already; it cannot be changed."
            ) from exc
        except DjangoValidationError as exc:
            raise field_errors(exc) from exc
        return Response(ReflectionOutput(reflection).data, status=status.HTTP_201_CREATED)


class MySessionMoveRequestApi(APIView):
    """Ask the care team to move one of the signed-in patient's booked sessions that has
    not started: one waiting request per session; the care team accept or decline it."""

    @extend_schema(
        request=MoveRequestInput, responses={201: PatientMoveRequestOutput, 409: NOT_OPEN}
    )
    def post(self, request: Request, session_id: int) -> Response:
        session = get_own_session_for_user(request.user, session_id)
        data = MoveRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            move, _alert = move_request_create(
                session=session,
                preferred_times=data.validated_data["preferred_times"],
                now=timezone.now(),
            )
        except SessionNotOpen as exc:
            raise NotOpen(exc.message) from exc
        except MoveRequestPending as exc:
            raise Conflict(
                "A request to move this session is waiting for the care team already."
            ) from exc
        except DjangoValidationError as exc:
            raise field_errors(exc) from exc
        return Response(PatientMoveRequestOutput(move).data, status=status.HTTP_201_CREATED)
