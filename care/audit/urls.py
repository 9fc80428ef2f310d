"""URLs of audit (in the `care` namespace: care/urls.py)."""

from django.urls import path

from care.audit import views

urlpatterns = [
    path("staff/audit/", views.audit_log, name="audit-log"),
]
