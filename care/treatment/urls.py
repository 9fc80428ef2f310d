"""URLs of treatment (in the `care` namespace: care/urls.py)."""

from django.urls import path

from care.treatment import views

urlpatterns = [
    path("me/plan/", views.my_plan, name="my-plan"),
    path("me/sessions/<int:session_id>/ready/", views.my_session_ready, name="my-session-ready"),
    path("me/sessions/<int:session_id>/move/", views.my_session_move, name="my-session-move"),
    path("staff/sessions/", views.session_list, name="session-list"),
    path("staff/sessions/day/", views.session_day, name="session-day-today"),
    path("staff/sessions/day/<str:day>/", views.session_day, name="session-day"),
    path(
        "staff/move-requests/<int:request_id>/",
        views.move_request_detail,
        name="move-request",
    ),
    path(
        "staff/patients/<uuid:public_id>/sessions/from-plan/",
        views.sessions_from_plan,
        name="sessions-from-plan",
    ),
    path(
        "staff/patients/<uuid:public_id>/plan/",
        views.treatment_plan_edit,
        name="treatment-plan",
    ),
    path(
        "staff/patients/<uuid:public_id>/weight/",
        views.weight_new,
        name="patient-weight",
    ),
    path(
        "staff/patients/<uuid:public_id>/sessions/new/",
        views.session_new,
        name="session-new",
    ),
    path("staff/sessions/<int:session_id>/", views.session_edit, name="session-edit"),
    path(
        "staff/sessions/<int:session_id>/cancel/",
        views.session_cancel_view,
        name="session-cancel",
    ),
    path(
        "staff/sessions/<int:session_id>/record/",
        views.session_record_view,
        name="session-record",
    ),
    path(
        "me/sessions/<int:session_id>/reflection/",
        views.my_session_reflection,
        name="my-session-reflection",
    ),
]
