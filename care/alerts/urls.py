"""URLs of alerts (in the `care` namespace: care/urls.py)."""

from django.urls import path

from care.alerts import views

urlpatterns = [
    path("staff/alerts/", views.alert_inbox, name="alert-inbox"),
    path(
        "staff/alerts/<int:alert_id>/acknowledge/",
        views.alert_acknowledge_view,
        name="alert-acknowledge",
    ),
]
