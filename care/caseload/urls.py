"""URLs of caseload (in the `care` namespace: care/urls.py)."""

from django.urls import path

from care.caseload import views

urlpatterns = [
    path("staff/patients/", views.patient_list, name="patient-list"),
    path("staff/patients/new/", views.patient_enroll_view, name="patient-enroll"),
    path("staff/patients/<uuid:public_id>/", views.patient_detail, name="patient-detail"),
    path("staff/patients/<uuid:public_id>/edit/", views.patient_edit, name="patient-edit"),
    path(
        "staff/patients/<uuid:public_id>/invitation/",
        views.invitation_resend,
        name="invitation-resend",
    ),
]
