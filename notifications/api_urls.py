"""API v1 of the notifications app (mounted with care's, tracker/urls.py)."""

from django.urls import path

from care.api.routing import api
from notifications.api import ReminderPreferenceApi

urlpatterns = [
    path("reminder-preferences/", api(ReminderPreferenceApi), name="reminder-preferences"),
]
