from django.urls import path

from . import (
    alert_views,
    audit_views,
    export_views,
    outcome_views,
    patient_views,
    session_views,
    views,
)

app_name = "care"

urlpatterns = [
    path("me/", patient_views.me, name="me"),
    path("me/checkin/", patient_views.checkin, name="checkin"),
    path("me/checkin/saved/<str:day>/", patient_views.checkin_saved, name="checkin-saved"),
    path("me/questionnaires/<slug:code>/", patient_views.questionnaire, name="questionnaire"),
    path("me/results/<uuid:public_id>/", patient_views.result, name="result"),
    path("me/history/", patient_views.history, name="history"),
    path("me/export.json", export_views.my_export_json, name="my-export-json"),
    path("me/export.csv", export_views.my_export_csv, name="my-export-csv"),
    path("crisis/", views.crisis, name="crisis"),
    path("invitation/", views.invitation_accept_view, name="invitation-accept"),
    path("invitation/<str:token>/", views.invitation_open, name="invitation-open"),
    path("staff/patients/", views.patient_list, name="patient-list"),
    path("staff/patients/new/", views.patient_enroll_view, name="patient-enroll"),
    path("staff/patients/<uuid:public_id>/", views.patient_detail, name="patient-detail"),
    path(
        "staff/patients/<uuid:public_id>/export.csv",
        export_views.patient_export,
        name="patient-export",
    ),
    path("staff/exports/", export_views.clinic_exports, name="clinic-exports"),
    path(
        "staff/exports/status.json",
        export_views.clinic_exports_status,
        name="clinic-exports-status",
    ),
    path(
        "staff/exports/<uuid:public_id>/download.csv",
        export_views.clinic_export_download,
        name="clinic-export-download",
    ),
    path("staff/patients/<uuid:public_id>/edit/", views.patient_edit, name="patient-edit"),
    path(
        "staff/patients/<uuid:public_id>/invitation/",
        views.invitation_resend,
        name="invitation-resend",
    ),
    path("staff/alerts/", alert_views.alert_inbox, name="alert-inbox"),
    path(
        "staff/alerts/<int:alert_id>/acknowledge/",
        alert_views.alert_acknowledge_view,
        name="alert-acknowledge",
    ),
    path("staff/sessions/", session_views.session_list, name="session-list"),
    path(
        "staff/patients/<uuid:public_id>/sessions/new/",
        session_views.session_new,
        name="session-new",
    ),
    path("staff/sessions/<int:session_id>/", session_views.session_edit, name="session-edit"),
    path(
        "staff/sessions/<int:session_id>/cancel/",
        session_views.session_cancel_view,
        name="session-cancel",
    ),
    path(
        "staff/sessions/<int:session_id>/record/",
        session_views.session_record_view,
        name="session-record",
    ),
    path("staff/team/", views.staff_list, name="staff-list"),
    path("staff/team/new/", views.staff_add, name="staff-add"),
    path("staff/team/<int:membership_id>/", views.staff_edit, name="staff-edit"),
    path("staff/clinic/", views.clinic_settings, name="clinic-settings"),
    path("staff/audit/", audit_views.audit_log, name="audit-log"),
    path("staff/outcomes/", outcome_views.outcomes, name="outcomes"),
    path("staff/outcomes/export.csv", outcome_views.outcomes_export, name="outcomes-export"),
]
