"""The clinic's audit trail, for its admins."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from care.audit.forms import AuditFilterForm
from care.audit.selectors import clinic_audit_events
from care.audit.services import audit_view
from care.common.access import get_admin_membership_for_user
from care.models import AuditEvent

PAGE_SIZE = 50


@never_cache
def audit_log(request: HttpRequest) -> HttpResponse:
    """Who viewed, exported or changed what, newest first, with filters (clinic admins)."""
    admin = get_admin_membership_for_user(request.user)
    form = AuditFilterForm(request.GET or None, clinic=admin.clinic)
    events = clinic_audit_events(clinic=admin.clinic, filters=form.filters())
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "form": form, "clinic": admin.clinic}
    response = render(request, "care/audit_log.html", context)
    # Recorded once the page is drawn, so that it does not list its own reading.
    audit_view(request, action=AuditEvent.Action.VIEWED, what=AuditEvent.What.AUDIT)
    return response
