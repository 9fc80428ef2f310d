"""Keyboard, enlarged text and charts, in a real browser.

- The daily check-in and the PHQ-9 are completed with the keyboard alone (Tab, Space, arrow
  keys, typing, Enter: no clicks), and every control reached shows a visible focus outline.
- Text at 200%: the root font size doubled (what a browser's text-size setting does: the
  stylesheet sizes text in rem and em) in a 1280-pixel-wide window, and browser zoom at 200%
  (a 1280 x 800 window zoomed shows 640 x 400 CSS pixels at 2 device pixels each). Neither
  may push the page sideways: no horizontal scroll of the document, nothing in <main> past
  the window's right edge except inside a table's own scrolling box.
- Charts: every series differs from the others by marker shape or dash, not colour alone
  (the legend shows those markers), and severity bands have their names drawn on the chart.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from care.messages.services import message_post, message_thread_start
from care.models import Alert, Assessment, CheckIn, TreatmentSession
from tests.browser.signin import sign_in, staff_sign_in
from tests.factories import ClinicFactory, PatientFactory, StaffFactory, build_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cast(db):
    """A clinic with a clinician, and a patient with a month of history, an open alert and
    a session about to be recorded."""
    clinic = ClinicFactory(name="Riverside Wellness", tz="America/New_York")
    nurse = StaffFactory(clinic=clinic, user__full_name="Dana Whitfield").user
    now = timezone.now()
    patient = PatientFactory(
        clinic=clinic,
        user__full_name="Robin Alvarez",
        preferred_name="Robin",
        primary_clinician=nurse,
        tz="America/New_York",
        has_anxiety=True,
    )
    build_history(patient, 40, end=now - timedelta(days=1))
    Assessment.objects.create(
        patient=patient,
        instrument="gad7",
        answers={str(n): 1 for n in range(1, 8)},
        total=7,
        band="mild",
        completed_at=now - timedelta(days=3),
    )
    Alert.objects.create(
        patient=patient,
        kind=Alert.Kind.WORSENING,
        priority=Alert.Priority.HIGH,
        cause="phq9:rise",
        reason="PHQ-9 rose from 9 to 15 (6 points since the previous score).",
        created_at=now - timedelta(hours=2),
    )
    session = TreatmentSession.objects.create(
        patient=patient, scheduled_at=now - timedelta(minutes=30), route="iv"
    )
    thread = message_thread_start(
        patient=patient,
        subject="Can I bring someone to my next session? They would drive me home after it",
        body="Hello,\n" + "A long line without a break: " + "x" * 300,
        urgent=False,
        now=now,
    ).message.thread
    message_post(thread=thread, by=nurse, body="Yes, of course.", now=now)
    message_post(thread=thread, by=nurse, body="Note for the team.", staff_note=True, now=now)
    return {"nurse": nurse, "patient": patient, "session": session, "thread": thread}


FOCUS = """() => {
  const el = document.activeElement;
  const shows = (e) => {
    const style = getComputedStyle(e);
    return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  };
  const label = el.closest("label");
  return {
    tag: el.tagName.toLowerCase(), name: el.name || "", value: el.value || "",
    text: (el.innerText || "").trim().slice(0, 40),
    focusVisible: el.matches(":focus-visible"),
    outlined: shows(el) || (label !== null && shows(label)),
  };
}"""


class Keyboard:
    """Moves through a page with Tab alone, checking the focus is visible at every stop."""

    def __init__(self, page):
        self.page = page
        self.stops = []

    def focused(self) -> dict:
        return self.page.evaluate(FOCUS)

    def tab_to(self, selector: str, limit: int = 80) -> dict:
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            focus = self.focused()
            self.stops.append(focus)
            assert focus["focusVisible"] and focus["outlined"], f"focus not visible: {focus}"
            if self.page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return focus
        raise AssertionError(f"Tab never reached {selector}; stops: {self.stops[-10:]}")

    def choose(self, name: str, position: int) -> None:
        """Pick the `position`-th option (from 0) of a radio group that has none chosen yet:
        Tab into the group, then arrow keys (they move and select) or Space for the first."""
        self.tab_to(f"input[type=radio][name={name}]")
        if position == 0:
            self.page.keyboard.press("Space")
        for _ in range(position):
            self.page.keyboard.press("ArrowRight")
        chosen = self.page.locator(f"input[name={name}]:checked")
        assert chosen.count() == 1 and self.page.evaluate(
            "(n) => document.activeElement === document.querySelector(`input[name=${n}]:checked`)",
            name,
        )
        self.stops.append(self.focused())

    def value_of(self, name: str) -> str:
        return self.page.locator(f"input[name={name}]:checked").input_value()


def test_the_check_in_is_completed_with_the_keyboard_alone(live_server, new_page, cast, screenshot):
    page = new_page(1280, 800)
    sign_in(page, live_server.url, cast["patient"].user.email)
    page.wait_for_url("**/me/")
    keys = Keyboard(page)

    keys.tab_to("main a[href='/me/checkin/']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/me/checkin/")
    keys.choose("mood", 7)
    screenshot(page, "k-01-keyboard-focus-on-a-choice")
    keys.choose("anxiety", 3)
    keys.choose("energy", 0)
    keys.tab_to("input[name=sleep_hours]")
    page.keyboard.type("7.5")
    keys.choose("sleep_quality", 3)
    keys.tab_to("input[name=side_effects][value=headache]")
    page.keyboard.press("Space")
    keys.choose("has_self_harm_thoughts", 0)
    keys.tab_to("textarea[name=note]")
    page.keyboard.type("Typed without a mouse.")
    keys.tab_to("main button[type=submit]")
    screenshot(page, "k-02-keyboard-focus-on-save")
    page.keyboard.press("Enter")

    page.wait_for_url("**/me/checkin/saved/**")
    assert "your check-in is saved" in page.inner_text("main")
    checkin = CheckIn.objects.get(patient=cast["patient"], note="Typed without a mouse.")
    assert (checkin.mood, checkin.anxiety, checkin.energy) == (7, 3, 0)
    assert (float(checkin.sleep_hours), checkin.sleep_quality) == (7.5, 3)
    assert checkin.side_effects == ["headache"] and checkin.has_self_harm_thoughts is False
    assert {stop["tag"] for stop in keys.stops} >= {"a", "input", "textarea", "button"}
    assert page.problems() == []


def test_the_phq9_is_completed_with_the_keyboard_alone(live_server, new_page, cast):
    page = new_page(1280, 800)
    sign_in(page, live_server.url, cast["patient"].user.email)
    page.goto(f"{live_server.url}/me/questionnaires/phq9/")
    keys = Keyboard(page)

    answers = [1, 0, 2, 1, 3, 0, 1, 2, 0]
    for number, answer in enumerate(answers, start=1):
        keys.choose(f"item_{number}", answer)
        assert keys.value_of(f"item_{number}") == str(answer)
    keys.choose("difficulty", 1)
    keys.tab_to("main button[type=submit]")
    page.keyboard.press("Enter")

    page.wait_for_url("**/me/results/**")
    assert "Your PHQ-9 result" in page.inner_text("main")
    latest = Assessment.objects.filter(patient=cast["patient"]).latest("completed_at")
    assert latest.total == sum(answers) == 10 and latest.instrument == "phq9"
    assert page.problems() == []


# Everything in <main> that ends past the window's right edge, unless a scrolling box (a
# table's) holds it: text cut off or pushing the page sideways.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (e) => ["auto", "scroll"].includes(getComputedStyle(e).overflowX);
  const out = [];
  for (const el of document.querySelectorAll("main *")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) { continue; }
    let holder = el.parentElement;
    while (holder && holder !== document.body && !scrolls(holder)) {
      holder = holder.parentElement;
    }
    if (holder && holder !== document.body && holder.getBoundingClientRect().right <= width + 1) {
      continue;
    }
    out.push(`${el.tagName.toLowerCase()}.${el.className} ends at ${Math.round(box.right)}`);
  }
  return {
    pageWidth: document.documentElement.scrollWidth, width: width, overflowing: out.slice(0, 8),
    mainFont: parseFloat(getComputedStyle(document.querySelector("main")).fontSize),
  };
}"""

PATIENT_PAGES = [
    "/me/",
    "/me/checkin/",
    "/me/questionnaires/phq9/",
    "/me/history/",
    "/me/settings/",
    "/me/messages/",
    "/me/messages/new/",
]


def staff_pages(cast) -> list[str]:
    patient, session = cast["patient"], cast["session"]
    return [
        "/staff/patients/",
        f"/staff/patients/{patient.public_id}/",
        f"/staff/sessions/{session.id}/record/",
        "/staff/alerts/",
        "/staff/patients/new/",
        "/staff/messages/?state=all",
        f"/staff/messages/{cast['thread'].public_id}/",
    ]


def assert_fits(page, base, paths, *, text_zoom: bool, expect_font: float) -> None:
    for path in paths:
        page.goto(base + path)
        if text_zoom:
            # Through the CSSOM (allowed by the site's CSP, unlike a <style> element).
            page.evaluate("document.documentElement.style.fontSize = '200%'")
        page.wait_for_timeout(50)  # charts redraw on resize
        found = page.evaluate(OVERFLOW)
        assert found["mainFont"] == expect_font, (path, found)
        assert found["pageWidth"] <= found["width"], (path, found)
        assert found["overflowing"] == [], (path, found)


def zoomed(new_page, how: str):
    """A 1280 x 800 window, its text doubled by the root font size or the page zoomed to
    200% (half as many CSS pixels, each two device pixels wide)."""
    if how == "text":
        return new_page(1280, 800)
    return new_page(640, 400, device_scale_factor=2)


@pytest.mark.parametrize("how", ["text", "zoom"])
def test_patient_pages_at_200_percent_keep_all_their_content(live_server, new_page, cast, how):
    page = zoomed(new_page, how)
    sign_in(page, live_server.url, cast["patient"].user.email)
    page.wait_for_url("**/me/")
    font = 32 if how == "text" else 16
    pages = [*PATIENT_PAGES, f"/me/messages/{cast['thread'].public_id}/"]
    assert_fits(page, live_server.url, pages, text_zoom=how == "text", expect_font=font)
    assert page.problems() == []


@pytest.mark.parametrize("how", ["text", "zoom"])
def test_staff_pages_at_200_percent_keep_all_their_content(live_server, new_page, cast, how):
    page = zoomed(new_page, how)
    staff_sign_in(page, live_server.url, cast["nurse"].email)
    font = 32 if how == "text" else 16
    assert_fits(page, live_server.url, staff_pages(cast), text_zoom=how == "text", expect_font=font)
    assert page.problems() == []


CHARTS = """() => {
  const drawn = {};
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    (drawn[this.canvas.id] = drawn[this.canvas.id] || []).push(String(text));
    return fillText.call(this, text, ...rest);
  };
  try { Object.values(Chart.instances).forEach((chart) => chart.draw()); }
  finally { CanvasRenderingContext2D.prototype.fillText = fillText; }
  return Object.values(Chart.instances).map((chart) => ({
    id: chart.canvas.id,
    pointStyleLegend: chart.options.plugins.legend.labels.usePointStyle === true,
    legend: chart.legend.legendItems.map((item) => ({
      text: item.text, marker: String(item.pointStyle), dash: (item.lineDash || []).join(","),
    })),
    bands: ((chart.options.plugins.bands || {}).bands || []).map((band) => band.label),
    drawn: drawn[chart.canvas.id] || [],
  }));
}"""


def chart_facts(page, canvas_ids: list[str]) -> dict:
    for canvas_id in canvas_ids:
        page.wait_for_function(f"document.getElementById('{canvas_id}')?.width > 0")
    charts = {chart["id"]: chart for chart in page.evaluate(CHARTS)}
    assert set(charts) == set(canvas_ids)
    for chart in charts.values():
        markers = [(item["marker"], item["dash"]) for item in chart["legend"]]
        assert chart["pointStyleLegend"], chart
        assert len(set(markers)) == len(markers), f"series told apart by colour only: {chart}"
        missing = [label for label in chart["bands"] if label not in chart["drawn"]]
        assert missing == [], f"bands without their name on {chart['id']}: {missing}"
    return charts


def test_charts_tell_series_apart_without_colour_and_name_their_bands(
    live_server, new_page, cast, screenshot
):
    page = new_page(390, 844)
    sign_in(page, live_server.url, cast["patient"].user.email)
    page.goto(f"{live_server.url}/me/history/")
    mine = chart_facts(page, ["mood-chart", "chart-phq9", "chart-gad7"])
    assert mine["chart-phq9"]["bands"] == [
        "Minimal",
        "Mild",
        "Moderate",
        "Moderately severe",
        "Severe",
    ]
    assert len(mine["chart-gad7"]["bands"]) == 4
    legend = {item["text"]: item for item in mine["mood-chart"]["legend"]}
    assert legend["Mood, 7-day average"]["marker"] == "line"
    assert legend["Anxiety, 7-day average"]["dash"] == "6,4"

    staff = new_page(1440, 900)
    staff_sign_in(staff, live_server.url, cast["nurse"].email)
    staff.goto(f"{live_server.url}/staff/patients/{cast['patient'].public_id}/")
    theirs = chart_facts(staff, ["mood-chart", "chart-phq9", "chart-gad7"])
    assert "Treatment session" in {item["text"] for item in theirs["chart-phq9"]["legend"]}
    assert "Moderately severe" in theirs["chart-phq9"]["drawn"]
    assert page.problems() == [] and staff.problems() == []
