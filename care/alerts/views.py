"""The clinic's alert inbox and acknowledgement."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from care.alerts.forms import AlertAcknowledgeForm
from care.alerts.selectors import alerts_with_related, clinic_alerts_list, related_safety_alerts
from care.alerts.services import AlertAlreadyAcknowledged, alerts_acknowledge
from care.audit.services import audit_view
from care.common.access import (
    AuthenticatedHttpRequest,
    get_alert_for_user,
    get_membership_for_user,
)
from care.models import AuditEvent

STATES = {"open": _("Open"), "acknowledged": _("Acknowledged"), "all": _("All")}


@never_cache
def alert_inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Open alerts, most urgent and oldest first, each with its acknowledge form."""
    membership = get_membership_for_user(request.user)
    state = request.GET.get("state", "open")
    state = state if state in STATES else "open"
    alerts = clinic_alerts_list(clinic=membership.clinic, state=state)
    page = Paginator(alerts, 50).get_page(request.GET.get("page"))
    page.object_list = alerts_with_related(list(page.object_list))
    audit_view(request, action=AuditEvent.Action.VIEWED, what=AuditEvent.What.ALERT)
    context = {"page": page, "state": state, "states": STATES, "form": AlertAcknowledgeForm()}
    return render(request, "care/alert_inbox.html", context)


@require_POST
def alert_acknowledge_view(request: AuthenticatedHttpRequest, alert_id: int) -> HttpResponse:
    """Record who acknowledged the alert (and the related safety alerts chosen with it),
    when and what was done."""
    alert = get_alert_for_user(request.user, alert_id)
    form = AlertAcknowledgeForm(request.POST, related=related_safety_alerts(alert))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = ""
    if not form.is_valid():
        # The form comes back with the alert (its reason may quote scores): a read.
        audit_view(
            request,
            action=AuditEvent.Action.VIEWED,
            what=AuditEvent.What.ALERT,
            patient=alert.patient,
            object_id=alert.pk,
        )
        return render(
            request,
            "care/alert_acknowledge.html",
            {"alert": alert, "form": form, "next": back},
            status=400,
        )
    try:
        done = alerts_acknowledge(
            alert=alert, by=request.user, now=timezone.now(), **form.cleaned_data
        )
    except AlertAlreadyAcknowledged:
        messages.info(request, _("Someone else acknowledged this alert first."))
    else:
        many = _("%(count)d alerts acknowledged.") % {"count": len(done)}
        messages.success(request, many if len(done) > 1 else _("Alert acknowledged."))
    return redirect(back or "care:alert-inbox")
