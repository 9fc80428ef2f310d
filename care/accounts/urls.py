"""URLs of accounts (in the `care` namespace: care/urls.py)."""

from django.urls import path

from care.accounts import views

urlpatterns = [
    path("invitation/", views.invitation_accept_view, name="invitation-accept"),
    path("invitation/<str:token>/", views.invitation_open, name="invitation-open"),
    path("staff/team/", views.staff_list, name="staff-list"),
    path("staff/team/new/", views.staff_add, name="staff-add"),
    path("staff/team/<int:membership_id>/", views.staff_edit, name="staff-edit"),
    path("staff/clinic/", views.clinic_settings, name="clinic-settings"),
    path("me/contact/", views.my_contact, name="my-contact"),
]
