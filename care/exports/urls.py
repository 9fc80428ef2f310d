"""URLs of exports (in the `care` namespace: care/urls.py)."""

from django.urls import path

from care.exports import views

urlpatterns = [
    path("me/export.json", views.my_export_json, name="my-export-json"),
    path("me/export.csv", views.my_export_csv, name="my-export-csv"),
    path(
        "staff/patients/<uuid:public_id>/export.csv",
        views.patient_export,
        name="patient-export",
    ),
    path("staff/exports/", views.clinic_exports, name="clinic-exports"),
    path(
        "staff/exports/status.json",
        views.clinic_exports_status,
        name="clinic-exports-status",
    ),
    path(
        "staff/exports/<uuid:public_id>/download.csv",
        views.clinic_export_download,
        name="clinic-export-download",
    ),
]
