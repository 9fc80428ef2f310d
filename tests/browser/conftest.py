"""Playwright with Debian's chromium (no browser download), against pytest-django's live server."""

import json
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
AXE_JS = ROOT / "static" / "vendor" / "axe-core" / "axe.min.js"
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

    def make(width: int, height: int, **options):
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
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


# axe-core (static/vendor/axe-core) is evaluated into the page by Playwright, like the
# script above: the page's CSP does not apply to it, and the page itself never loads it.
AXE_RUN = """async () => {
  // Every rule axe runs by default, and WCAG 2.2's target size (off by default).
  const options = { resultTypes: ["violations"], rules: { "target-size": { enabled: true } } };
  const results = await axe.run(document, options);
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
  }));
}"""
BLOCKING = {"serious", "critical"}
AXE_FINDINGS = SCREENSHOTS / "axe-findings.json"


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now, of every impact."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate(AXE_RUN)


@pytest.fixture(scope="session")
def _axe_findings():
    """Every violation seen in the run (any impact), written to var/screenshots/."""
    findings = {}
    yield findings
    if findings:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        AXE_FINDINGS.write_text(json.dumps(findings, indent=1), encoding="utf-8")


@pytest.fixture
def audit(_axe_findings):
    """audit(page, name): axe-core on the page; fails on a serious or critical violation."""

    def check(page, name: str) -> list[dict]:
        page.wait_for_load_state("load")
        violations = axe_violations(page)
        if violations:
            _axe_findings[f"{name} {page.url}"] = violations
        blocking = [v for v in violations if v["impact"] in BLOCKING]
        found = json.dumps(blocking, indent=1)
        assert blocking == [], f"axe-core on {name} ({page.url}):\n{found}"
        return violations

    return check


@pytest.fixture
def step(audit, screenshot):
    """step(page, name): one journey step looked at: no console error or CSP violation so
    far, axe-core passes, and a full-page screenshot var/screenshots/<name>.png."""

    def take(page, name: str) -> Path:
        audit(page, name)
        assert page.problems() == [], f"{name}: console errors or CSP violations"
        return screenshot(page, name)

    return take
