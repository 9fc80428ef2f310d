"""Query filters of the API lists (django-filter). An invalid value is a 400, never ignored."""

import django_filters as filters
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from care.accounts.selectors import clinic_clinicians_list
from care.caseload.forms import CONDITION_CHOICES
from care.caseload.selectors import CaseloadFilters
from care.common.access import membership_for_user
from care.domain.instruments import INSTRUMENTS
from care.models import Alert, ApiToken, Assessment, CheckIn, Patient, TreatmentSession, User


class CheckInFilter(filters.FilterSet):
    since = filters.DateFilter(field_name="local_date", lookup_expr="gte", label="From this day")
    until = filters.DateFilter(field_name="local_date", lookup_expr="lte", label="To this day")

    class Meta:
        model = CheckIn
        fields: list[str] = []


class AssessmentFilter(filters.FilterSet):
    instrument = filters.ChoiceFilter(choices=[(c, i.name) for c, i in INSTRUMENTS.items()])
    since = filters.DateFilter(
        field_name="completed_at", lookup_expr="date__gte", label="Completed on or after"
    )
    until = filters.DateFilter(
        field_name="completed_at", lookup_expr="date__lte", label="Completed on or before"
    )

    class Meta:
        model = Assessment
        fields: list[str] = []


class SessionFilter(filters.FilterSet):
    patient = filters.UUIDFilter(field_name="patient__public_id", label="Patient id")
    status = filters.ChoiceFilter(choices=TreatmentSession.Status.choices)
    route = filters.ChoiceFilter(choices=TreatmentSession.Route.choices)
    since = filters.DateFilter(
        field_name="scheduled_at", lookup_expr="date__gte", label="Scheduled on or after"
    )
    until = filters.DateFilter(
        field_name="scheduled_at", lookup_expr="date__lte", label="Scheduled on or before"
    )

    class Meta:
        model = TreatmentSession
        fields: list[str] = []


class AlertFilter(filters.FilterSet):
    """`state` is applied by the view (it also sets the order); the rest here."""

    state = filters.ChoiceFilter(
        choices=[("open", "Open"), ("acknowledged", "Acknowledged"), ("all", "All")],
        method="keep",
        label="Open (default), acknowledged or all",
    )
    patient = filters.UUIDFilter(field_name="patient__public_id", label="Patient id")
    kind = filters.ChoiceFilter(choices=Alert.Kind.choices)
    priority = filters.ChoiceFilter(choices=Alert.Priority.choices)

    class Meta:
        model = Alert
        fields: list[str] = []

    def keep(self, queryset, name, value):
        return queryset


class TokenFilter(filters.FilterSet):
    active = filters.BooleanFilter(method="filter_active", label="Only usable (or unusable) ones")

    class Meta:
        model = ApiToken
        fields: list[str] = []

    def filter_active(self, queryset, name, value):
        # The caller's own tokens: usable ones also match the caller's current password.
        usable = Q(
            revoked_at=None,
            expires_at__gt=timezone.now(),
            password_fingerprint=self.request.user.get_session_auth_hash(),
        )
        return queryset.filter(usable) if value else queryset.exclude(usable)


@extend_schema_field(OpenApiTypes.INT)
class ClinicianFilter(filters.ModelChoiceFilter):
    """A clinician of the clinic, by user id."""


def _clinicians(request):
    membership = membership_for_user(request.user) if request else None
    if membership is None:
        return User.objects.none()
    return clinic_clinicians_list(clinic=membership.clinic)


class CaseloadFilter(filters.FilterSet):
    """The caseload's filters, the same as on the page. They are validated here and applied
    by `caseload_patients`, which also orders the caseload by attention."""

    q = filters.CharFilter(max_length=100, method="keep", label="Name contains")
    clinician = ClinicianFilter(
        queryset=_clinicians, method="keep", label="Primary clinician (user id)"
    )
    condition = filters.ChoiceFilter(choices=CONDITION_CHOICES, method="keep")
    phase = filters.ChoiceFilter(choices=Patient.Phase.choices, method="keep")
    status = filters.ChoiceFilter(
        choices=[*Patient.Status.choices, ("all", "Any")],
        method="keep",
        label="Status (active by default)",
    )

    class Meta:
        model = Patient
        fields: list[str] = []

    def keep(self, queryset, name, value):
        return queryset

    def caseload_filters(self) -> CaseloadFilters:
        data = self.form.cleaned_data
        status = data.get("status") or Patient.Status.ACTIVE
        return CaseloadFilters(
            clinician=data["clinician"].pk if data.get("clinician") else None,
            condition=data.get("condition") or "",
            phase=data.get("phase") or "",
            status="" if status == "all" else status,
            search=data.get("q") or "",
        )
