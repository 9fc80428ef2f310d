"""URLs of messages (in the `care` namespace: care/urls.py). Threads by their opaque id."""

from django.urls import path

from care.messages import views

urlpatterns = [
    path("me/messages/", views.my_messages, name="my-messages"),
    path("me/messages/new/", views.my_message_new, name="my-message-new"),
    path("me/messages/call-me/", views.my_call_request, name="my-call-request"),
    path("me/messages/<uuid:public_id>/", views.my_message_thread, name="my-message-thread"),
    path("staff/messages/", views.staff_messages, name="staff-messages"),
    path(
        "staff/messages/<uuid:public_id>/",
        views.staff_message_thread,
        name="staff-message-thread",
    ),
    path(
        "staff/messages/<uuid:public_id>/reply/",
        views.staff_message_reply,
        name="staff-message-reply",
    ),
    path(
        "staff/messages/<uuid:public_id>/note/",
        views.staff_message_note,
        name="staff-message-note",
    ),
    path(
        "staff/messages/<uuid:public_id>/assign/",
        views.staff_message_assign,
        name="staff-message-assign",
    ),
    path(
        "staff/messages/<uuid:public_id>/handled/",
        views.staff_message_handle,
        name="staff-message-handle",
    ),
    path(
        "staff/messages/<uuid:public_id>/reopen/",
        views.staff_message_reopen,
        name="staff-message-reopen",
    ),
]
