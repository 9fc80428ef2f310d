"""The clinic's outcome figures for staff (API v1): the same figures as the page's CSV."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from care.audit.services import audit_view
from care.common.access import get_membership_for_user
from care.domain.outcomes import SMALL_COUNT_BELOW
from care.models import Alert, AuditEvent, Patient, TreatmentSession
from care.outcomes.export import FEWER, report_json
from care.outcomes.forms import OutcomeFilterForm
from care.outcomes.reminders import skip_reason_labels
from care.outcomes.selectors import clinic_outcome_report, filters_echo


class CountOutput(serializers.Serializer):
    count = serializers.IntegerField(
        allow_null=True,
        help_text=f"The number; null when it is 1 to {SMALL_COUNT_BELOW - 1} (not shown).",
    )
    text = serializers.CharField(help_text=f'The number as text, or "{FEWER}".')


class ShareOutput(serializers.Serializer):
    count = CountOutput()
    of = CountOutput(help_text="The denominator.")
    percent = serializers.FloatField(
        allow_null=True,
        help_text="count / of in %, one decimal; null when `of` is 0 or either is not shown.",
    )


class TimePointOutput(serializers.Serializer):
    key = serializers.ChoiceField(choices=["induction_end", "month_3", "month_6"])
    label = serializers.CharField()  # type: ignore[assignment]  # the field "label", not Field.label
    first_day = serializers.IntegerField(help_text="Days since the first held session, from.")
    last_day = serializers.IntegerField(help_text="... to (included).")
    scored = ShareOutput(help_text="Patients with a score in the window, of those with a baseline.")
    response = ShareOutput(help_text="At least 50% below baseline, of those with a score.")
    remission = ShareOutput(help_text="Below 5, of those with a score.")


class ResponseWeekOutput(serializers.Serializer):
    week = serializers.IntegerField(help_text="Weeks since the first held session (0-26).")
    at_risk = CountOutput()
    responded = CountOutput(help_text="First responses this week.")
    censored = CountOutput(help_text="Last score this week, without a response.")
    cumulative_percent = serializers.FloatField(
        allow_null=True,
        help_text="Kaplan-Meier share with a first response by the end of the week; null "
        f"when fewer than {SMALL_COUNT_BELOW} are at risk.",
    )


class ChangeWeekOutput(serializers.Serializer):
    week = serializers.IntegerField()
    patients = CountOutput(help_text="Patients with a score this week (their latest).")
    mean_change = serializers.FloatField(
        allow_null=True,
        help_text=f"Mean score minus baseline; null for fewer than {SMALL_COUNT_BELOW} patients.",
    )


class InstrumentOutcomesOutput(serializers.Serializer):
    code = serializers.ChoiceField(choices=["phq9", "gad7"])
    name = serializers.CharField()
    with_baseline = CountOutput()
    no_baseline = CountOutput(help_text="Scored, but only after the first held session.")
    never_scored = CountOutput()
    time_points = TimePointOutput(many=True)
    time_to_response = ResponseWeekOutput(many=True)
    mean_change = ChangeWeekOutput(many=True)


class AdherenceOutput(serializers.Serializer):
    first_day = serializers.DateField(allow_null=True)
    last_day = serializers.DateField(allow_null=True, help_text="Yesterday at the latest.")
    patients = CountOutput(help_text="Active patients with a day expected.")
    left_out = CountOutput(help_text="Paused or discharged patients (not counted).")
    checkins = ShareOutput(help_text="Daily check-ins done, of one expected per day.")
    questionnaires = ShareOutput(help_text="Questionnaires done, of expected.")
    dropped = ShareOutput(help_text="Patients whose adherence dropped, of those with 28 days.")


class AlertKindOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[*Alert.Kind.values, "all"])
    label = serializers.CharField()  # type: ignore[assignment]  # the field "label", not Field.label
    alerts = CountOutput(help_text="Raised in the period.")
    acknowledged = CountOutput()
    median_minutes_to_acknowledge = serializers.FloatField(
        allow_null=True, help_text=f"null for fewer than {SMALL_COUNT_BELOW} acknowledged."
    )
    escalated = CountOutput()
    still_open = CountOutput()


class AlertWorkloadOutput(serializers.Serializer):
    kinds = AlertKindOutput(many=True)
    total = AlertKindOutput()


class SkipReasonOutput(serializers.Serializer):
    reason = serializers.CharField(help_text="The skip reason's code; `label` says it in words.")
    label = serializers.CharField()  # type: ignore[assignment]  # the field "label", not Field.label
    count = CountOutput()


class ChannelFiguresOutput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=["email", "text"])
    sent = CountOutput()
    failed = CountOutput(help_text="Refused by the mail server or the text provider.")
    skipped = CountOutput()
    waiting = CountOutput()
    delivered_share = ShareOutput(help_text="Delivery success: sent, of sent and failed.")


class ReminderFiguresOutput(serializers.Serializer):
    sent = CountOutput(help_text="Reminders due in the period and sent.")
    skipped = CountOutput(help_text="Due in the period and not sent, on record with a reason.")
    skipped_by_reason = SkipReasonOutput(many=True, help_text="The skipped ones, most first.")
    failed = CountOutput()
    waiting = CountOutput(help_text="Not sent yet (waiting or being sent).")
    by_channel = ChannelFiguresOutput(
        many=True, help_text="The same by channel (e-mail first), with delivery success."
    )


class MessageFiguresOutput(serializers.Serializer):
    patient_messages = CountOutput(help_text="The patients' messages sent in the period.")
    care_team_replies = CountOutput(
        help_text="The care team's replies sent in the period (staff notes are not counted)."
    )
    threads_started = CountOutput(help_text="Threads the patients started in the period.")
    replied = CountOutput(help_text="Of the threads started, those the care team replied to.")
    no_reply_yet = CountOutput(help_text="Of the threads started, those not replied to yet.")
    median_hours_to_first_reply = serializers.FloatField(
        allow_null=True,
        help_text="From the thread's first message to the care team's first reply, wall-clock "
        f"hours, one decimal; null for fewer than {SMALL_COUNT_BELOW} replied to.",
    )


class PeriodOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class FiltersOutput(serializers.Serializer):
    condition = serializers.CharField(allow_null=True)
    route = serializers.CharField(allow_null=True)
    clinician = serializers.IntegerField(allow_null=True)
    phase = serializers.CharField(allow_null=True)


class CohortOutput(serializers.Serializer):
    patients = CountOutput()
    not_treated_yet = CountOutput(help_text="Enrolled, no session held by the end (not counted).")


class OutcomesOutput(serializers.Serializer):
    period = PeriodOutput()
    filters = FiltersOutput()
    suppressed_below = serializers.IntegerField()
    cohort = CohortOutput()
    instruments = InstrumentOutcomesOutput(many=True)
    adherence = AdherenceOutput()
    alerts = AlertWorkloadOutput()
    reminders = ReminderFiguresOutput(
        help_text="The cohort's check-in, questionnaire and session reminders due in the period."
    )
    messages = MessageFiguresOutput(
        help_text="Messages between the cohort and the care team, and the time to a first reply."
    )


def _choices(pairs) -> str:
    return ", ".join(f"`{value}`" for value, _ in pairs)


PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (default: 6 months ago)."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day (default and latest: today)."),
    OpenApiParameter(
        "condition", str, enum=["depression", "anxiety", "ptsd"], description="Treated for."
    ),
    OpenApiParameter(
        "route",
        str,
        enum=TreatmentSession.Route.values,
        description="At least one session of this route held.",
    ),
    OpenApiParameter("clinician", int, description="Primary clinician (user id, this clinic)."),
    OpenApiParameter("phase", str, enum=Patient.Phase.values, description="Treatment phase now."),
]


class OutcomesApi(APIView):
    """The clinic's outcome figures: response and remission at the end of induction, 3 and 6
    months, time to first response and mean change by week, adherence, alert workload,
    reminders and messages (volume, time to a first reply).

    The same patients and definitions as the outcomes page (`/staff/outcomes/`), for a period
    (`start`..`end`, at most 3 years, not after today) and filters. As in the page's CSV,
    there are no patient rows, and counts of 1 to 4 are not shown (`count` null, `text`
    "fewer than 5"), nor what rests on them. A bad filter (such as an end before the start,
    or a clinician of another clinic) is a 400 naming it.
    """

    @extend_schema(parameters=PARAMETERS, responses=OutcomesOutput)
    def get(self, request: Request) -> Response:
        membership = get_membership_for_user(request.user)
        clinic = membership.clinic
        today = clinic.local_date(timezone.now())
        form = OutcomeFilterForm(request.query_params, clinic=clinic, today=today)
        if not form.is_valid():
            raise ValidationError(form.error_list())
        filters = form.filters()
        report, _ = clinic_outcome_report(clinic=clinic, filters=filters, today=today)
        audit_view(request, action=AuditEvent.Action.VIEWED, what=AuditEvent.What.OUTCOMES)
        figures = report_json(
            report,
            kind_labels={k: str(label) for k, label in Alert.Kind.choices},
            filters=filters_echo(filters),
            reason_labels=skip_reason_labels(),
        )
        return Response(OutcomesOutput(figures).data)
