from django.contrib import admin
from django.urls import include, path

from care import views as care_views

from . import views

urlpatterns = [
    path("", care_views.home, name="home"),
    path("health/", views.health, name="health"),
    path("api/v1/", include("care.api.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("care.urls")),
    path("", include("notifications.urls")),
]
