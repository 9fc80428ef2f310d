"""URLs of records (in the `care` namespace: care/urls.py)."""

from django.urls import path

from care.records import views

urlpatterns = [
    path("me/", views.me, name="me"),
    path("me/checkin/", views.checkin, name="checkin"),
    path("me/checkin/saved/<str:day>/", views.checkin_saved, name="checkin-saved"),
    path("me/questionnaires/<slug:code>/", views.questionnaire, name="questionnaire"),
    path("me/results/<uuid:public_id>/", views.result, name="result"),
    path("me/history/", views.history, name="history"),
    path("crisis/", views.crisis, name="crisis"),
]
