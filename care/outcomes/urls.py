"""URLs of outcomes (in the `care` namespace: care/urls.py)."""

from django.urls import path

from care.outcomes import views

urlpatterns = [
    path("staff/outcomes/", views.outcomes, name="outcomes"),
    path("staff/outcomes/export.csv", views.outcomes_export, name="outcomes-export"),
]
