"""Exports: CSV for staff (one patient at once; the whole clinic as a worker's job) and a
patient's own data as JSON or CSV."""

from collections.abc import Iterator

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from care.audit.services import audit_view
from care.common.access import (
    AuthenticatedHttpRequest,
    RecordNotFound,
    get_membership_for_user,
    get_own_patient_for_user,
    get_patient_for_user,
)
from care.exports.services import (
    export_download_finished,
    export_download_started,
    export_job_request,
    export_path,
)
from care.exports.tables import (
    KINDS,
    OWN_RECORDS,
    PATIENT_KINDS,
    export_csv,
    own_csv,
    patient_data,
)
from care.models import AuditEvent, ExportJob, Patient

# Pieces of an export file sent at once.
FILE_PIECE = 256 * 1024
# The export jobs a person sees on their page: the latest ones.
JOBS_SHOWN = 20

# Record kinds of the export, as the audit trail names them.
AUDIT_KINDS = {
    "checkins": AuditEvent.What.CHECKIN,
    "assessments": AuditEvent.What.ASSESSMENT,
    "sessions": AuditEvent.What.SESSION,
    "messages": AuditEvent.What.MESSAGE_THREAD,
    "weights": AuditEvent.What.WEIGHT,
    "readiness": AuditEvent.What.READINESS,
    "reflections": AuditEvent.What.REFLECTION,
    "move_requests": AuditEvent.What.MOVE_REQUEST,
}


def _csv(
    request: AuthenticatedHttpRequest,
    patients,
    name: str,
    patient: Patient | None,
    *,
    own: bool = False,
) -> HttpResponse | StreamingHttpResponse:
    """The CSV of the record kind asked for (`?records=`), or a 400 naming the choices.

    `patient` is the one patient exported (None: the whole clinic), for the audit trail;
    `own`: the patient's own download, which has their messages too.
    """
    kind = request.GET.get("records", "")
    kinds = PATIENT_KINDS if own else KINDS
    if kind not in kinds:
        message = _("Choose the records to export: %(kinds)s.") % {"kinds": ", ".join(kinds)}
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    audit_view(request, action=AuditEvent.Action.EXPORTED, what=AUDIT_KINDS[kind], patient=patient)
    if kind in OWN_RECORDS and patient is not None:
        rows = own_csv(kind, patient)
    else:
        rows = export_csv(kind, patients)
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="{name}-{kind}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
def patient_export(
    request: AuthenticatedHttpRequest, public_id: str
) -> HttpResponse | StreamingHttpResponse:
    """One patient's records of one kind, as CSV (staff of the patient's clinic)."""
    get_membership_for_user(request.user)
    patient = get_patient_for_user(request.user, public_id)
    # The file name carries the opaque id only: no name or other identifier.
    return _csv(
        request, Patient.objects.filter(pk=patient.pk), f"patient-{patient.public_id}", patient
    )


def _own_jobs(request: AuthenticatedHttpRequest):
    membership = get_membership_for_user(request.user)
    jobs = ExportJob.objects.filter(requested_by=request.user, clinic_id=membership.clinic_id)
    return membership, jobs


@never_cache
def clinic_exports(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Whole-clinic exports (any staff member): ask for one, watch it, download it.

    A POST with `records=KIND` asks a worker for the file and comes back here (a second ask
    while it is unfinished shows the same one).
    """
    membership, jobs = _own_jobs(request)
    if request.method == "POST":
        kind = request.POST.get("records", "")
        if kind not in ExportJob.Kind.values:
            messages.error(
                request, _("Choose the records to export: %(kinds)s.") % {"kinds": ", ".join(KINDS)}
            )
            return redirect("care:clinic-exports")
        job, new = export_job_request(
            clinic=membership.clinic, user=request.user, kind=kind, now=timezone.now()
        )
        if new:
            messages.success(
                request,
                _("The %(records)s export is being prepared. It appears below when it is ready.")
                % {"records": job.get_kind_display().lower()},
            )
        else:
            messages.info(request, _("That export is already being prepared: see below."))
        return redirect("care:clinic-exports")
    shown = list(jobs[:JOBS_SHOWN])
    return render(
        request,
        "care/exports.html",
        {
            "clinic": membership.clinic,
            "jobs": shown,
            "kinds": ExportJob.Kind.choices,
            "pending": any(job.status in ExportJob.PENDING for job in shown),
            "keep_hours": settings.EXPORT_KEEP_HOURS,
        },
    )


@never_cache
@require_GET
def clinic_exports_status(request: AuthenticatedHttpRequest) -> JsonResponse:
    """The signed-in person's unfinished exports, for the page to show progress (no records)."""
    _membership, jobs = _own_jobs(request)
    pending = jobs.filter(status__in=ExportJob.PENDING)
    return JsonResponse(
        {
            "exports": [
                {
                    "id": str(job.public_id),
                    "status": job.status,
                    "rows_done": job.rows_done,
                    "rows_total": job.rows_total,
                    "percent": job.percent,
                }
                for job in pending
            ]
        }
    )


def _file_pieces(job: ExportJob, request: AuthenticatedHttpRequest, handle) -> Iterator[bytes]:
    """The file's bytes; once the last one is handed over, the file is removed.

    A client that hangs up stops the loop before its end (the server closes the
    generator): the file stays, to be downloaded again until it expires.
    """
    while piece := handle.read(FILE_PIECE):
        yield piece
    export_download_finished(job=job, request=request, now=timezone.now())


@never_cache
@require_GET
def clinic_export_download(
    request: AuthenticatedHttpRequest, public_id: str
) -> HttpResponse | StreamingHttpResponse:
    """The file of one finished export, for the person who asked for it only."""
    _membership, jobs = _own_jobs(request)
    job = jobs.filter(public_id=public_id).first()
    if job is None:
        # Another person's export (or none): refused as not found, and audited as such.
        raise RecordNotFound(AuditEvent.What.EXPORT_FILE, public_id)
    try:
        # Closed with the response (below), whether or not the download ran to its end.
        ready = job.status == ExportJob.Status.READY
        handle = open(export_path(job), "rb") if ready else None  # noqa: SIM115
    except FileNotFoundError:
        handle = None
    if handle is None:
        return render(request, "care/export_gone.html", {"job": job}, status=410)
    export_download_started(job=job, request=request)
    response = StreamingHttpResponse(
        _file_pieces(job, request, handle), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime(job.finished_at).strftime("%Y%m%d")
    # Django closes these with the response (FileResponse does the same with its file).
    response._resource_closers.append(handle.close)  # type: ignore[attr-defined]  # private, unstubbed
    response["Content-Disposition"] = f'attachment; filename="clinic-{job.kind}-{stamp}.csv"'
    response["Content-Length"] = str(job.size_bytes)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
def my_export_json(request: AuthenticatedHttpRequest) -> HttpResponse:
    """All of the signed-in patient's own data as one JSON file (their messages with the
    care team too, never a staff note)."""
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
def my_export_csv(request: AuthenticatedHttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The signed-in patient's own records of one kind (their messages too), as CSV."""
    patient = get_own_patient_for_user(request.user)
    return _csv(request, Patient.objects.filter(pk=patient.pk), "my", patient, own=True)
