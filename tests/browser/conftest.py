"""Playwright with Debian's chromium (no browser download), against pytest-django's live server."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing in CI (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls are ours.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


# Runs in every document before the page's own scripts (Playwright injects it, so the
# page's CSP does not apply to it) and reports each CSP violation to the test.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} on ${event.documentURI}`
  );
});
"""


def watch(page):
    """Record the page's console errors and CSP violations (page.problems())."""
    page.console_errors, page.csp_violations = [], []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    page.expose_function("reportCspViolation", lambda text: page.csp_violations.append(text))
    page.add_init_script(REPORT_CSP_VIOLATIONS)
    page.problems = lambda: page.console_errors + page.csp_violations
    return page


@pytest.fixture
def new_page(browser):
    """Pages in windows of a given size; each test fails if any of them had a console error
    or a Content-Security-Policy violation."""
    contexts, pages = [], []

    def make(width: int, height: int):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        pages.append(watch(context.new_page()))
        return pages[-1]

    yield make
    problems = [problem for page in pages for problem in page.problems()]
    for context in contexts:
        context.close()
    assert problems == [], "console errors or CSP violations"


@pytest.fixture
def phone(new_page):
    """A page in a phone-sized window (390 x 844)."""
    return new_page(390, 844)


@pytest.fixture
def desktop(new_page):
    """A page in a desktop window (1440 x 900)."""
    return new_page(1440, 900)


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
