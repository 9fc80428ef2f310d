"""A patient on a phone: home, check-in, PHQ-9, result and history, screenshotted.

The screenshots land in var/screenshots/ (rerun: ./dev test tests/browser).
"""

import json

import pytest
from django.core.management import call_command

from care.models import Alert
from devtools.management.commands.seed_demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base, email):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")


def test_a_patient_checks_in_completes_a_phq9_and_sees_their_history(
    live_server, phone, screenshot
):
    call_command("seed_demo", days=90)
    page, base = phone, live_server.url
    sign_in(page, base, "alex@demo.example")
    assert page.url == f"{base}/me/"
    screenshot(page, "patient-1-home")

    page.click("text=Start today's check-in")
    screenshot(page, "patient-2-checkin")
    page.click("main button[type=submit]")
    assert page.locator(".form-errors").is_visible()
    page.check("input[name=mood][value='7']")
    page.check("input[name=anxiety][value='3']")
    page.check("input[name=energy][value='6']")
    page.fill("input[name=sleep_hours]", "7.5")
    page.check("input[name=sleep_quality][value='3']")
    page.check("input[name=side_effects][value='headache']")
    page.check("input[name=has_self_harm_thoughts][value='no']")
    page.click("main button[type=submit]")
    assert "your check-in is saved" in page.inner_text("main")

    page.goto(f"{base}/me/questionnaires/phq9/")
    screenshot(page, "patient-3-phq9")
    for number, value in enumerate([1, 1, 2, 1, 0, 1, 0, 0, 0], start=1):
        page.check(f"input[name=item_{number}][value='{value}']")
    page.click("main button[type=submit]")
    assert "Your PHQ-9 result" in page.inner_text("main")
    assert "Mild." in page.inner_text("main")
    screenshot(page, "patient-4-result")

    page.goto(f"{base}/me/history/")
    page.wait_for_function("document.querySelector('#mood-chart').width > 0")
    screenshot(page, "patient-5-history")

    page.click("header >> text=Settings")
    screenshot(page, "patient-7-settings")
    with page.expect_download() as download:
        page.click("text=Download all (JSON)")
    data = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert data["patient"]["email"] == "alex@demo.example"
    assert len(data["checkins"]) > 60 and data["checkins"][-1]["mood"] == 7
    assert page.problems() == []


def test_item_9_shows_crisis_resources_before_the_score(live_server, phone, screenshot):
    call_command("seed_demo", days=30)
    page, base = phone, live_server.url
    sign_in(page, base, "casey@demo.example")

    page.goto(f"{base}/me/questionnaires/phq9/")
    for number in range(1, 10):
        page.check(f"input[name=item_{number}][value='{1 if number == 9 else 0}']")
    page.click("main button[type=submit]")

    crisis = page.locator(".crisis-box")
    assert crisis.is_visible()
    assert crisis.locator("a[href='tel:988']").count() == 1
    assert crisis.bounding_box()["y"] < page.locator("h1").bounding_box()["y"]
    screenshot(page, "patient-6-result-crisis")
    assert Alert.objects.filter(patient__user__email="casey@demo.example").count() == 1


def test_patient_pages_fit_a_320_pixel_screen_without_sideways_scrolling(live_server, new_page):
    call_command("seed_demo", days=30)
    page = new_page(320, 640)
    sign_in(page, live_server.url, "jordan@demo.example")
    for path in ["/me/", "/me/checkin/", "/me/questionnaires/pcl5/", "/me/history/", "/crisis/"]:
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{path} is {width}px wide"
    assert page.problems() == []


@pytest.mark.parametrize(
    ("scale", "low", "high"),
    [
        ("mood", "0 = very low", "10 = very good"),
        ("anxiety", "0 = not anxious", "10 = extremely anxious"),
        ("energy", "0 = no energy", "10 = full of energy"),
    ],
)
def test_a_checkin_scale_fits_one_row_on_a_phone_with_both_ends_named(
    live_server, phone, step, scale, low, high
):
    call_command("seed_demo", days=7)
    page = phone
    sign_in(page, live_server.url, "casey@demo.example")
    page.goto(f"{live_server.url}/me/checkin/")

    options = page.locator(f"#id_{scale} label")
    boxes = [options.nth(n).bounding_box() for n in range(11)]
    assert {round(box["y"]) for box in boxes} == {round(boxes[0]["y"])}, "one row"
    ends = page.locator(f"#id_{scale}_helptext .scale-end")
    first, last = ends.nth(0).bounding_box(), ends.nth(1).bounding_box()
    assert [ends.nth(0).inner_text(), ends.nth(1).inner_text()] == [low, high]
    assert abs(first["x"] - boxes[0]["x"]) < 2
    assert abs(last["x"] + last["width"] - boxes[10]["x"] - boxes[10]["width"]) < 2
    assert all(box["width"] >= 24 and box["height"] >= 44 for box in boxes)
    step(page, f"patient-checkin-scale-{scale}")
