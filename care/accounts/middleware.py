"""Request-wide context: the viewer's time zone, and who audit events belong to."""

import zoneinfo

from django.utils import timezone

from care.audit.services import audit_denied, request_bound
from care.common.access import RecordNotFound, membership_for_user, patient_for_user


class ViewerTimezoneMiddleware:
    """Patients see their own zone; clinic staff see the clinic's zone; others UTC."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        tz = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patient = patient_for_user(user)
            membership = membership_for_user(user) if patient is None else None
            tz = patient.tz if patient else membership.clinic.tz if membership else None
        if tz:
            timezone.activate(zoneinfo.ZoneInfo(tz))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class AuditContextMiddleware:
    """Attribute audit events that services record to the request being served."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        with request_bound(request):
            return self.get_response(request)

    def process_exception(self, request, exception):
        """A page refused a record asked for by id: "denied" (the API records its own)."""
        if isinstance(exception, RecordNotFound):
            audit_denied(request, exception)
        return None
