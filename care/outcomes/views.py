"""The clinic outcomes page and its CSV (clinic staff: clinicians and admins)."""

import csv
import io
import zoneinfo

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from care.audit.services import audit_view
from care.common.access import AuthenticatedHttpRequest, get_membership_for_user
from care.exports.tables import cell
from care.models import Alert, AuditEvent
from care.outcomes.display import outcome_page
from care.outcomes.export import CSV_HEADER, csv_rows, report_json
from care.outcomes.forms import OutcomeFilterForm
from care.outcomes.reminders import skip_reason_labels
from care.outcomes.selectors import clinic_outcome_report, filters_echo

KIND_LABELS = Alert.Kind.choices


def _kind_labels() -> dict[str, str]:
    """The alert kinds' names in the request's language (the figures take plain strings)."""
    return {kind: str(label) for kind, label in KIND_LABELS}


def _form(request: AuthenticatedHttpRequest):
    membership = get_membership_for_user(request.user)
    clinic = membership.clinic
    today = clinic.local_date(timezone.now())
    return clinic, today, OutcomeFilterForm(request.GET, clinic=clinic, today=today)


@never_cache
def outcomes(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Response, remission, time to response, change, adherence and alert workload."""
    clinic, today, form = _form(request)
    context = {"form": form, "clinic": clinic}
    if not form.is_valid():
        return render(request, "care/outcomes.html", context, status=400)
    filters = form.filters()
    report, members = clinic_outcome_report(clinic=clinic, filters=filters, today=today)
    audit_view(request, action=AuditEvent.Action.VIEWED, what=AuditEvent.What.OUTCOMES)
    context |= outcome_page(report, members, kind_labels=_kind_labels())
    context["query"] = request.GET.urlencode()
    context["printed_at"] = timezone.localtime(timezone=zoneinfo.ZoneInfo(clinic.tz))
    return render(request, "care/outcomes.html", context)


@never_cache
def outcomes_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The figures of the outcomes page as CSV, small counts written "fewer than 5"."""
    clinic, today, form = _form(request)
    if not form.is_valid():
        lines = [f"{name}: {' '.join(m)}" for name, m in form.error_list().items()]
        return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")
    filters = form.filters()
    report, _ = clinic_outcome_report(clinic=clinic, filters=filters, today=today)
    audit_view(request, action=AuditEvent.Action.EXPORTED, what=AuditEvent.What.OUTCOMES)
    figures = report_json(
        report,
        kind_labels=_kind_labels(),
        filters=filters_echo(filters),
        reason_labels=skip_reason_labels(),
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    writer.writerows([cell(value) for value in row] for row in csv_rows(figures))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"outcomes-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
