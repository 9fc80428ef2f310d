"""Signing in through the pages, as people do (shared by the browser tests)."""

from tests.factories import PASSWORD, totp_code


def sign_in(page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")


def staff_sign_in(page, base: str, email: str, step=None, name: str = "") -> None:
    """Password, then the authenticator app's code (staff always have a second factor);
    `step(page, name)` looks at the code page on the way."""
    sign_in(page, base, email)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    if step is not None:
        step(page, name)
    page.fill("input[name=code]", totp_code())
    page.click("main button[type=submit]")
    page.wait_for_url("**/staff/patients/")
