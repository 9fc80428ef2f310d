from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("staff/outbox/", views.outbox, name="outbox"),
    path("me/settings/", views.reminder_settings, name="settings"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("r/checkin/", views.checkin_link_form, name="checkin-link-form"),
    path("r/checkin/<str:token>/", views.checkin_link_open, name="checkin-link"),
    path("r/ready/", views.readiness_link_form, name="ready-link-form"),
    path("r/ready/<str:token>/", views.readiness_link_open, name="ready-link"),
    # A text reminder's short link (notifications.texts).
    path("t/<str:code>/", views.text_link, name="text-link"),
    # The text-message provider's webhooks (signed requests).
    path("sms/status/", views.text_status_webhook, name="text-status"),
    path("sms/inbound/", views.text_inbound_webhook, name="text-inbound"),
]
