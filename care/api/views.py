"""The patient API (v1): the same actions as the patient pages, for a mobile client."""

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from care.api.authentication import api_user
from care.api.errors import Conflict
from care.api.filters import AssessmentFilter, CheckInFilter
from care.api.schema import CONFLICT
from care.api.serializers import (
    AssessmentInput,
    AssessmentOutput,
    AssessmentSubmitted,
    CheckInInput,
    CheckInOutput,
    CheckInSubmitted,
    InstrumentOutput,
    PatientMeOutput,
    StaffMeOutput,
    checkin_data,
    instrument_data,
)
from care.common.access import (
    get_own_assessment_for_user,
    get_own_patient_for_user,
    membership_for_user,
    patient_for_user,
)
from care.domain.clock import local_date
from care.domain.crisis import crisis_block
from care.domain.instruments import INSTRUMENTS, PCL5_DEFAULT_CUTOFF
from care.domain.scoring import SELF_HARM_FLAG, AnswersInvalid
from care.domain.trends import questionnaires_due
from care.models import Assessment, CheckIn
from care.records.crisis import crisis_for_clinic
from care.records.selectors import (
    patient_checkin_on,
    patient_instrument_codes,
    patient_last_completed,
)
from care.records.services import ClientIdConflict, assessment_submit, checkin_submit


def client_id_conflict() -> Conflict:
    return Conflict(
        "This client_id was already used for a different submission.",
        errors={"client_id": ["This client_id was already used; send a new one."]},
    )


def _clinic_cutoff(user) -> int:
    patient, membership = patient_for_user(user), membership_for_user(user)
    clinic = patient.clinic if patient else membership.clinic if membership else None
    return clinic.pcl5_cutoff if clinic else PCL5_DEFAULT_CUTOFF


class MeApi(APIView):
    """Who is signed in; for a patient, today's check-in state and what is due."""

    @extend_schema(
        responses=PolymorphicProxySerializer(
            component_name="Me",
            serializers=[PatientMeOutput, StaffMeOutput],
            resource_type_field_name=None,
        )
    )
    def get(self, request: Request) -> Response:
        user = api_user(request)
        patient = patient_for_user(user)
        if patient is not None:
            today = local_date(timezone.now(), patient.tz)
            last = {
                code: local_date(at, patient.tz)
                for code, at in patient_last_completed(patient=patient).items()
            }
            due = questionnaires_due(patient_instrument_codes(patient=patient), last, today=today)
            return Response(
                PatientMeOutput(
                    {
                        "role": "patient",
                        "preferred_name": patient.preferred_name,
                        "email": user.email,
                        "time_zone": patient.tz,
                        "today": today,
                        "checked_in_today": (
                            patient_checkin_on(patient=patient, day=today) is not None
                        ),
                        "questionnaires_due": due,
                    }
                ).data
            )
        membership = membership_for_user(user)
        if membership is None:
            raise Http404
        return Response(
            StaffMeOutput(
                {
                    "role": membership.role,
                    "full_name": user.full_name,
                    "email": user.email,
                    "clinic": membership.clinic.name,
                }
            ).data
        )


class CheckInListApi(ListAPIView):
    """GET: the patient's check-ins, newest first (?since=, ?until= as dates).
    POST: submit today's check-in (send a client_id to make retries safe)."""

    queryset = CheckIn.objects.none()  # names the model for the schema
    serializer_class = CheckInOutput
    filterset_class = CheckInFilter

    def get_queryset(self):
        patient = get_own_patient_for_user(self.request.user)
        return CheckIn.objects.filter(patient=patient).order_by("-local_date")

    @extend_schema(
        request=CheckInInput,
        responses={200: CheckInSubmitted, 201: CheckInSubmitted, 409: CONFLICT},
    )
    def post(self, request: Request) -> Response:
        patient = get_own_patient_for_user(request.user)
        data = CheckInInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        client_id = values.pop("client_id", None)
        try:
            result = checkin_submit(
                patient=patient, values=values, client_id=client_id, now=timezone.now()
            )
        except ClientIdConflict as exc:
            raise client_id_conflict() from exc
        body = {"checkin": checkin_data(result.checkin), "duplicate": result.duplicate}
        if result.checkin.has_self_harm_thoughts:
            body["safety"] = crisis_block(
                alert_raised=True, crisis=crisis_for_clinic(patient.clinic, now=timezone.now())
            )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(body, status=code)


class InstrumentListApi(ListAPIView):
    """The questionnaires as data: items, answer options, LOINC codes, bands."""

    serializer_class = InstrumentOutput
    filter_backends = []

    def get_queryset(self):
        cutoff = _clinic_cutoff(self.request.user)
        return [instrument_data(i, pcl5_cutoff=cutoff) for i in INSTRUMENTS.values()]


class InstrumentDetailApi(APIView):
    """One questionnaire (`phq9`, `gad7`, `pcl5`) as data."""

    @extend_schema(responses=InstrumentOutput, operation_id="instruments_retrieve")
    def get(self, request: Request, code: str) -> Response:
        instrument = INSTRUMENTS.get(code)
        if instrument is None:
            raise Http404
        data = instrument_data(instrument, pcl5_cutoff=_clinic_cutoff(request.user))
        return Response(InstrumentOutput(data).data)


class AssessmentListApi(ListAPIView):
    """GET: the patient's results, newest first (?instrument=, ?since=, ?until=).
    POST: submit answers to a questionnaire; the scored result comes back (send a client_id
    to make retries safe)."""

    queryset = Assessment.objects.none()  # names the model for the schema
    serializer_class = AssessmentOutput
    filterset_class = AssessmentFilter

    @staticmethod
    def repeated_key_field(path: tuple[str, ...]) -> str:
        """A repeated key in `answers` is named as its item is in every other error."""
        if len(path) == 2 and path[0] == "answers":
            return f"answers.item_{path[1]}"
        return ".".join(path)

    def get_queryset(self):
        patient = get_own_patient_for_user(self.request.user)
        return (
            Assessment.objects.filter(patient=patient)
            .select_related("patient__clinic")
            .order_by("-completed_at", "-pk")
        )

    @extend_schema(
        request=AssessmentInput,
        responses={200: AssessmentSubmitted, 201: AssessmentSubmitted, 409: CONFLICT},
    )
    def post(self, request: Request) -> Response:
        patient = get_own_patient_for_user(request.user)
        data = AssessmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = assessment_submit(
                patient=patient,
                instrument_code=data.validated_data["instrument"],
                answers=data.validated_data["answers"],
                difficulty=data.validated_data.get("difficulty"),
                client_id=data.validated_data.get("client_id"),
                entered_by=api_user(request),
                now=timezone.now(),
            )
        except AnswersInvalid as invalid:
            errors = dict(invalid.errors)
            item_errors = {k: v for k, v in errors.items() if k.startswith("item_")}
            detail: dict[str, list[str] | dict[str, list[str]]] = {
                k: [v] for k, v in errors.items() if not k.startswith("item_")
            }
            if item_errors:
                detail["answers"] = {k: [v] for k, v in item_errors.items()}
            raise ValidationError(detail) from invalid
        except ClientIdConflict as exc:
            raise client_id_conflict() from exc
        body: dict[str, object] = {
            "assessment": AssessmentOutput(result.assessment).data,
            "duplicate": result.duplicate,
        }
        if SELF_HARM_FLAG in result.assessment.flags:
            body["safety"] = crisis_block(
                alert_raised=True, crisis=crisis_for_clinic(patient.clinic, now=timezone.now())
            )
        code = status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED
        return Response(body, status=code)


class AssessmentDetailApi(APIView):
    """One of the patient's results."""

    @extend_schema(responses=AssessmentOutput)
    def get(self, request: Request, public_id: str) -> Response:
        assessment = get_own_assessment_for_user(request.user, public_id)
        return Response(AssessmentOutput(assessment).data)
