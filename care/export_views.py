"""Exports: CSV for staff (a patient or the whole clinic); a patient's own data as JSON or CSV."""

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from .access import get_membership_for_user, get_own_patient_for_user, get_patient_for_user
from .exports import KINDS, export_csv, patient_data
from .models import AuditEvent, Patient
from .services import audit_view

# Record kinds of the export, as the audit trail names them.
AUDIT_KINDS = {
    "checkins": AuditEvent.What.CHECKIN,
    "assessments": AuditEvent.What.ASSESSMENT,
    "sessions": AuditEvent.What.SESSION,
}


def _csv(request: HttpRequest, patients, name: str, patient: Patient | None) -> HttpResponse:
    """The CSV of the record kind asked for (`?records=`), or a 400 naming the choices.

    `patient` is the one patient exported (None: the whole clinic), for the audit trail.
    """
    kind = request.GET.get("records", "")
    if kind not in KINDS:
        message = _("Choose the records to export: %(kinds)s.") % {"kinds": ", ".join(KINDS)}
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    audit_view(request, action=AuditEvent.Action.EXPORTED, what=AUDIT_KINDS[kind], patient=patient)
    response = StreamingHttpResponse(
        export_csv(kind, patients), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="{name}-{kind}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
def patient_export(request: HttpRequest, public_id: str) -> HttpResponse:
    """One patient's records of one kind, as CSV (staff of the patient's clinic)."""
    get_membership_for_user(request.user)
    patient = get_patient_for_user(request.user, public_id)
    # The file name carries the opaque id only: no name or other identifier.
    return _csv(
        request, Patient.objects.filter(pk=patient.pk), f"patient-{patient.public_id}", patient
    )


@never_cache
def clinic_export(request: HttpRequest) -> HttpResponse:
    """Every patient of the clinic, one record kind, as CSV (any staff member)."""
    membership = get_membership_for_user(request.user)
    return _csv(request, Patient.objects.filter(clinic_id=membership.clinic_id), "clinic", None)


@never_cache
def my_export_json(request: HttpRequest) -> HttpResponse:
    """All of the signed-in patient's own data as one JSON file."""
    patient = get_own_patient_for_user(request.user)
    audit_view(
        request,
        action=AuditEvent.Action.EXPORTED,
        what=AuditEvent.What.ALL_RECORDS,
        patient=patient,
    )
    data = patient_data(patient, now=timezone.now())
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="my-care-record-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
def my_export_csv(request: HttpRequest) -> HttpResponse:
    """The signed-in patient's own records of one kind, as CSV."""
    patient = get_own_patient_for_user(request.user)
    return _csv(request, Patient.objects.filter(pk=patient.pk), "my", patient)
