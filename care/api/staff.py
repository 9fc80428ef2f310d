"""The staff API (v1): caseload, a patient's trends, sessions and alerts of the clinic."""

from django.utils import timezone
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..access import get_alert_for_user, get_membership_for_user, get_patient_for_user
from ..caseload import caseload_page
from ..forms import CaseloadFilterForm
from ..models import Alert, TreatmentSession
from ..patient_trends import patient_trends
from ..selectors import clinic_alerts_list
from ..services import AlertAlreadyAcknowledged, alert_acknowledge


def _score(summary) -> dict:
    return {
        "latest": summary.latest,
        "baseline": summary.baseline,
        "change": summary.change,
        "response": summary.response,
        "remission": summary.remission,
    }


class PatientListApi(APIView):
    """The caseload, attention first, with the same filters as the page (?q, clinician,
    condition, phase, status, page)."""

    def get(self, request: Request) -> Response:
        membership = get_membership_for_user(request.user)
        form = CaseloadFilterForm(request.query_params or None, clinic=membership.clinic)
        page, rows = caseload_page(
            clinic=membership.clinic,
            filters=form.filters(),
            now=timezone.now(),
            page_number=request.query_params.get("page"),
        )
        results = [
            {
                "id": str(row.patient.public_id),
                "name": row.patient.user.full_name,
                "preferred_name": row.patient.preferred_name,
                "status": row.patient.status,
                "phase": row.patient.treatment_phase,
                "conditions": row.patient.conditions,
                "primary_clinician": str(row.patient.primary_clinician or ""),
                "open_alerts": [
                    {"priority": a.priority, "kind": a.label, "count": a.count} for a in row.alerts
                ],
                "last_checkin_on": row.last_checkin_on,
                "days_since_checkin": row.days_since_checkin,
                "mood_7day_average": row.mood_avg,
                "mood_direction": row.mood_direction,
                "phq9": _score(row.scores["phq9"]),
                "gad7": _score(row.scores["gad7"]),
                "next_session_at": row.next_session_at,
            }
            for row in rows
        ]
        return Response(
            {
                "count": page.paginator.count,
                "page": page.number,
                "pages": page.paginator.num_pages,
                "results": results,
            }
        )


class PatientTrendsApi(APIView):
    """One patient's series, ready for charts (?days=1..730, default 180)."""

    def get(self, request: Request, public_id: str) -> Response:
        get_membership_for_user(request.user)
        patient = get_patient_for_user(request.user, public_id)
        try:
            days = int(request.query_params.get("days", 180))
        except ValueError:
            days = 0
        if not 1 <= days <= 730:
            return Response(
                {"days": ["A whole number of days from 1 to 730."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(patient_trends(patient=patient, now=timezone.now(), days=days))


class SessionOutput(serializers.ModelSerializer):
    patient = serializers.UUIDField(source="patient.public_id")

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
        ]


class SessionListApi(ListAPIView):
    """The clinic's sessions, newest first (?patient=<id>, ?status=)."""

    serializer_class = SessionOutput

    def get_queryset(self):
        membership = get_membership_for_user(self.request.user)
        sessions = TreatmentSession.objects.filter(
            patient__clinic=membership.clinic
        ).select_related("patient")
        patient = self.request.query_params.get("patient")
        if patient:
            sessions = sessions.filter(patient=get_patient_for_user(self.request.user, patient))
        wanted = self.request.query_params.get("status")
        if wanted in TreatmentSession.Status.values:
            sessions = sessions.filter(status=wanted)
        return sessions.order_by("-scheduled_at")


class AlertOutput(serializers.ModelSerializer):
    patient = serializers.UUIDField(source="patient.public_id")
    acknowledged_by = serializers.StringRelatedField()

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
    """The clinic's alerts (?state=open|acknowledged|all; open by default)."""

    serializer_class = AlertOutput

    def get_queryset(self):
        membership = get_membership_for_user(self.request.user)
        state = self.request.query_params.get("state", "open")
        return clinic_alerts_list(clinic=membership.clinic, state=state)


class AlertAcknowledgeApi(APIView):
    class Input(serializers.Serializer):
        action = serializers.ChoiceField(choices=Alert.Action.choices)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

        def validate(self, data):
            if data["action"] == Alert.Action.OTHER and not data["note"].strip():
                raise serializers.ValidationError({"note": "Add a note when the action is other."})
            return data

    def post(self, request: Request, alert_id: int) -> Response:
        alert = get_alert_for_user(request.user, alert_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            alert = alert_acknowledge(
                alert=alert, by=request.user, now=timezone.now(), **data.validated_data
            )
        except AlertAlreadyAcknowledged:
            return Response(
                {"detail": "This alert was already acknowledged."}, status=status.HTTP_409_CONFLICT
            )
        return Response(AlertOutput(alert).data)
