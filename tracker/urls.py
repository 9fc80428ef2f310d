from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView

from care.accounts import signin
from care.accounts import views as care_views
from care.api import urls as care_api_urls
from notifications import api_urls as notifications_api_urls
from tracker import views

# The admin signs in through allauth, so lockout and the second factor apply there too.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]  # on this one site

urlpatterns = [
    path("", care_views.home, name="home"),
    path("health/", views.health, name="health"),
    path("favicon.ico", views.favicon, name="favicon"),
    # One API, one `api` namespace: care's endpoints and the notifications app's.
    path(
        "api/v1/",
        include(([*care_api_urls.urlpatterns, *notifications_api_urls.urlpatterns], "api")),
    ),
    path("api/schema/", login_not_required(SpectacularAPIView.as_view()), name="api-schema"),
    path(
        "api/docs/",
        login_not_required(TemplateView.as_view(template_name="api_docs.html")),
        name="api-docs",
    ),
    # allauth's code step, with its limits (care.accounts.signin); then allauth's own pages.
    path("accounts/2fa/authenticate/", signin.authenticate, name="mfa_authenticate"),
    # A person's address is the clinic's to set (it is the sign-in name): no adding addresses.
    path("accounts/email/", signin.no_address_changes, name="account_email"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("care.urls")),
    path("", include("notifications.urls")),
]

handler400 = "tracker.views.bad_request"
handler403 = "tracker.views.permission_denied"
handler404 = "tracker.views.page_not_found"
handler500 = "tracker.views.server_error"
