"""Security headers per response class: pages for staff and patients, the API, the login
page, static files, 404 and 500; HSTS and the HTTPS redirect; cookie flags and names.

Also the URLconf for these tests: the project's URLs plus a view that raises and one that
renders an inline script with the CSP nonce.
"""

import pytest
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template import engines
from django.test import Client
from django.urls import path, reverse
from django.utils import timezone

from care.accounts.tokens import api_token_issue
from tests.factories import PASSWORD
from tracker import urls as project_urls

pytestmark = pytest.mark.django_db

ONE_YEAR = 31_536_000
NONCE_PAGE = (
    "<!DOCTYPE html><title>nonce</title>"
    '<script nonce="{{ csp_nonce }}">document.title = "ran";</script>'
)


def boom(request):
    raise RuntimeError("boom")


def message_view(request):
    messages.warning(request, "A high alert was raised: blood pressure 190/110")
    return redirect("care:crisis")


def nonce_view(request):
    return HttpResponse(engines["django"].from_string(NONCE_PAGE).render({}, request))


urlpatterns = [
    path("test-boom/", boom),
    path("test-boom-public/", login_not_required(boom)),
    path("api/test-boom/", login_not_required(boom)),
    path("test-nonce/", login_not_required(nonce_view)),
    path("test-message/", message_view),
    *project_urls.urlpatterns,
]
handler404 = project_urls.handler404
handler500 = project_urls.handler500


@pytest.fixture
def test_urls(settings):
    settings.ROOT_URLCONF = __name__


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [values]}."""
    directives = [d.split() for d in response["Content-Security-Policy"].split(";")]
    return {d[0]: d[1:] for d in directives if d}


def assert_security_headers(response, *, framing_header: bool = True) -> None:
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    for directive in ("script-src", "style-src"):
        assert csp[directive][0] == "'self'"
        assert "'unsafe-inline'" not in csp[directive] and "'unsafe-eval'" not in csp[directive]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert_no_powerful_features(response)
    if framing_header:
        assert response["X-Frame-Options"] == "DENY"
    # Plain HTTP: no HSTS (see the HSTS tests for HTTPS).
    assert "Strict-Transport-Security" not in response


def assert_no_powerful_features(response) -> None:
    features = dict(
        item.strip().split("=", 1) for item in response["Permissions-Policy"].split(",")
    )
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert features[feature] == "()", feature


def test_pages_refuse_camera_microphone_and_location_to_every_origin(client, patient_client):
    for response in (client.get(reverse("account_login")), patient_client.get("/me/")):
        assert_no_powerful_features(response)


def cache_directives(response) -> set[str]:
    return {d.strip() for d in response.get("Cache-Control", "").split(",") if d.strip()}


def assert_not_stored(response) -> None:
    assert {"no-store", "private"} <= cache_directives(response), response.get("Cache-Control")


def test_a_staff_page_has_the_security_headers_and_is_not_stored(clinician_client, patient):
    for url in (
        reverse("care:patient-list"),
        reverse("care:patient-detail", args=[patient.public_id]),
    ):
        response = clinician_client.get(url)

        assert response.status_code == 200
        assert_security_headers(response)
        assert_not_stored(response)


def test_a_patient_page_has_the_security_headers_and_is_not_stored(patient_client):
    for name in ("care:me", "care:history", "notifications:settings"):
        response = patient_client.get(reverse(name))

        assert response.status_code == 200
        assert_security_headers(response)
        assert_not_stored(response)


def test_a_signed_in_page_without_its_own_cache_control_gets_no_store(patient_client):
    # The crisis page sets no Cache-Control itself; the middleware adds it for a signed-in user.
    response = patient_client.get(reverse("care:crisis"))

    assert response.status_code == 200
    assert cache_directives(response) == {"no-store", "private"}


def test_a_csv_export_keeps_its_own_no_store(clinician_client, patient):
    url = reverse("care:patient-export", args=[patient.public_id]) + "?records=checkins"
    response = clinician_client.get(url)

    assert response.status_code == 200
    assert_security_headers(response)
    assert_not_stored(response)


def test_api_responses_have_the_security_headers_and_are_not_stored(client, patient):
    secret = api_token_issue(user=patient.user, name="Phone", days=1, now=timezone.now()).secret
    with_token = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    anonymous = Client().get("/api/v1/me/")

    assert with_token.status_code == 200 and with_token["Content-Type"] == "application/json"
    assert anonymous.status_code == 401
    for response in (with_token, anonymous):
        assert_security_headers(response)
        assert_not_stored(response)


def test_the_login_page_has_the_security_headers(client):
    response = client.get(reverse("account_login"))

    assert response.status_code == 200
    assert_security_headers(response)


@pytest.fixture
def collected_static(settings, tmp_path):
    """Static files collected as in production: hashed names, served by WhiteNoise."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--no-input", verbosity=0)


def test_a_static_file_is_cached_for_a_long_time_even_for_a_signed_in_user(
    collected_static, clinician
):
    client = Client()
    client.force_login(clinician, backend="django.contrib.auth.backends.ModelBackend")
    url = staticfiles_storage.url("css/site.css")
    response = client.get(url)

    assert response.status_code == 200 and url != "/static/css/site.css"
    assert cache_directives(response) >= {"public", "immutable", f"max-age={10 * ONE_YEAR}"}
    assert_security_headers(response, framing_header=False)


def test_a_404_page_has_the_security_headers(clinician_client):
    signed_in = clinician_client.get("/no-such-page/")
    anonymous = Client().get("/no-such-page/")

    for response in (signed_in, anonymous):
        assert response.status_code == 404
        assert_security_headers(response)
    assert_not_stored(signed_in)
    assert "no-store" not in cache_directives(anonymous)


def test_the_500_page_has_the_security_headers_and_no_inline_style(test_urls, clinician):
    client = Client(raise_request_exception=False)
    anonymous = client.get("/test-boom-public/")
    api = client.get("/api/test-boom/")
    client.force_login(clinician, backend="django.contrib.auth.backends.ModelBackend")
    signed_in = client.get("/test-boom/")

    for response in (anonymous, api, signed_in):
        assert response.status_code == 500
        assert_security_headers(response)
    for response in (anonymous, signed_in):
        html = response.content.decode()
        assert "Something went wrong" in html and "style=" not in html and "<style" not in html
        assert 'href="/static/css/site.css"' in html
    assert api.json()["code"] == "server_error"
    assert_not_stored(api)
    assert_not_stored(signed_in)


def test_an_inline_script_runs_only_with_the_nonce_of_its_own_response(test_urls, client):
    first, second = client.get("/test-nonce/"), client.get("/test-nonce/")

    nonces = []
    for response in (first, second):
        (nonce,) = [v for v in policy(response)["script-src"] if v.startswith("'nonce-")]
        assert f'<script nonce="{nonce[7:-1]}">' in response.content.decode()
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_a_page_without_inline_code_sends_no_nonce(client):
    response = client.get(reverse("account_login"))

    assert policy(response)["script-src"] == ["'self'"]


def test_hsts_is_sent_for_a_year_with_subdomains_over_https_only(client):
    over_https = client.get(reverse("account_login"), secure=True)
    over_http = client.get(reverse("account_login"))

    assert over_https["Strict-Transport-Security"] == f"max-age={ONE_YEAR}; includeSubDomains"
    assert "Strict-Transport-Security" not in over_http


def test_the_proxy_header_counts_as_https_only_when_configured(client, settings):
    forwarded = {"HTTP_X_FORWARDED_PROTO": "https"}
    untrusted = client.get(reverse("account_login"), **forwarded)
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    trusted = client.get(reverse("account_login"), **forwarded)

    assert "Strict-Transport-Security" not in untrusted
    assert trusted["Strict-Transport-Security"].startswith(f"max-age={ONE_YEAR}")


def test_plain_http_is_redirected_to_https_except_the_health_probe(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    page = client.get(reverse("account_login"))
    health = client.get(reverse("health"))

    assert page.status_code == 301
    assert page["Location"] == "https://testserver" + reverse("account_login")
    assert health.status_code in (200, 503)


def test_cookies_are_secure_host_prefixed_and_same_site_lax(client, patient):
    login_page = client.get(reverse("account_login"))
    csrf = login_page.cookies["__Host-csrftoken"]
    response = client.post(
        reverse("account_login"), {"login": patient.user.email, "password": PASSWORD}
    )
    session = response.cookies["__Host-sessionid"]

    assert response.status_code == 302
    for cookie in (csrf, session):
        assert cookie["secure"] is True
        assert cookie["samesite"] == "Lax"
        assert cookie["path"] == "/" and cookie["domain"] == ""
    assert session["httponly"] is True
    assert client.get(reverse("care:me")).status_code == 200


def test_messages_stay_in_the_session_not_in_a_cookie(test_urls, clinician_client):
    response = clinician_client.get("/test-message/", follow=True)

    assert "blood pressure 190/110" in response.content.decode()
    assert "messages" not in clinician_client.cookies
