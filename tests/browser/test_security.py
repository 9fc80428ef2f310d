"""The Content-Security-Policy and the cookies in a real browser: the policy blocks inline
code (so "no violations" elsewhere means something), the API docs work under it, and
Secure __Host- cookies let people sign in over http://localhost and http://127.0.0.1."""

import pytest
from django.contrib.auth.decorators import login_not_required
from django.core.management import call_command
from django.http import HttpResponse
from django.template import engines
from django.test import Client
from django.urls import path

from devtools.management.commands.seed_demo import DEMO_PASSWORD
from tests.browser.conftest import watch
from tracker import urls as project_urls

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INLINE_CODE_PAGE = """<!DOCTYPE html><title>inline</title>
<script nonce="{{ csp_nonce }}">document.documentElement.dataset.withNonce = "ran";</script>
<script>document.documentElement.dataset.withoutNonce = "ran";</script>
<p style="color: red">styled inline</p>"""


def inline_code(request):
    return HttpResponse(engines["django"].from_string(INLINE_CODE_PAGE).render({}, request))


def boom(request):
    raise RuntimeError("boom")


# The URLconf of these tests: the project's, a page with inline code and a view that fails.
urlpatterns = [
    path("test-inline/", login_not_required(inline_code)),
    path("test-boom/", login_not_required(boom)),
    *project_urls.urlpatterns,
]
handler404 = project_urls.handler404
handler500 = project_urls.handler500


@pytest.fixture(autouse=True)
def _test_urls(settings):
    settings.ROOT_URLCONF = __name__


def test_the_policy_runs_only_nonced_inline_code_and_reports_the_rest(live_server, browser):
    context = browser.new_context()
    page = watch(context.new_page())
    page.goto(f"{live_server.url}/test-inline/")
    for _ in range(40):  # the reports arrive asynchronously
        if len(page.csp_violations) >= 2:
            break
        page.wait_for_timeout(50)
    ran = page.evaluate("({...document.documentElement.dataset})")
    violations = list(page.csp_violations)
    context.close()

    assert ran == {"withNonce": "ran"}
    assert sorted(v.split()[0] for v in violations) == ["script-src-elem", "style-src-attr"]


def test_pages_for_everyone_and_the_error_pages_break_no_policy(live_server, desktop, screenshot):
    page, base = desktop, live_server.url
    for path_ in ("/accounts/login/", "/accounts/password/reset/", "/crisis/", "/admin/login/"):
        assert page.goto(base + path_).status == 200, path_
    # Chromium logs an error status of the page itself as a console error: expected here.
    for path_, status, reason in [
        ("/no-such-page/", 404, "Not Found"),
        ("/test-boom/", 500, "Internal Server Error"),
    ]:
        with page.expect_console_message(lambda m: m.type == "error") as message:
            assert page.goto(base + path_).status == status
        logged = f"the server responded with a status of {status} ({reason})"
        assert message.value.text == f"Failed to load resource: {logged}"
        assert page.console_errors == [message.value.text]
        page.console_errors.clear()
    assert page.locator("body.error-page").evaluate("e => getComputedStyle(e).maxWidth") != "none"
    screenshot(page, "security-2-error-500")
    assert page.problems() == []


def test_the_api_docs_render_every_operation_under_the_policy(live_server, desktop, screenshot):
    schema = Client().get("/api/schema/?format=json").json()
    operations = sum(
        method in {"get", "post", "put", "patch", "delete"}
        for item in schema["paths"].values()
        for method in item
    )
    page = desktop
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock")

    assert page.locator(".opblock").count() == operations
    assert "/api/v1/checkins/" in page.inner_text("#swagger-ui")
    screenshot(page, "security-1-api-docs")
    assert page.problems() == []


def test_try_it_out_sends_the_session_and_the_csrf_token(live_server, desktop):
    call_command("seed_demo", days=14)
    page, base = desktop, live_server.url
    sign_in(page, base, "alex@demo.example")
    page.goto(f"{base}/api/docs/")
    operation = page.locator(".opblock-put", has_text="/api/v1/reminder-preferences/")
    operation.locator(".opblock-summary").click()
    operation.locator(".try-out__btn").click()
    operation.locator(".execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first

    # Swagger UI's example body is a valid preference set: the session and the CSRF token
    # taken from the page were accepted (without the token it would be a 403).
    assert status.inner_text().strip() == "200", operation.inner_text()
    assert page.problems() == []


def sign_in(page, base, email):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_secure_host_cookies_work_over_http_on_loopback(live_server, phone, host):
    call_command("seed_demo", days=7)
    base = live_server.url.replace("localhost", host)
    sign_in(phone, base, "alex@demo.example")

    assert phone.url == f"{base}/me/"
    cookies = {c["name"]: c for c in phone.context.cookies()}
    assert set(cookies) >= {"__Host-sessionid", "__Host-csrftoken"}
    for cookie in (cookies["__Host-sessionid"], cookies["__Host-csrftoken"]):
        assert cookie["secure"] is True and cookie["sameSite"] == "Lax"
        assert cookie["path"] == "/" and cookie["domain"] == host
    assert cookies["__Host-sessionid"]["httpOnly"] is True
    assert phone.problems() == []
