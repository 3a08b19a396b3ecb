"""The buyer console in Chromium against `make run`: the demo buyer admin the banner prints
signs in, sees the console home with their account's subscriptions, and signs out; the sign-in
and home pages fit every width with no axe-core violation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.layout_support import assert_page_fits, axe_page


@pytest.fixture
def console_page(browser: Browser) -> Iterator[Page]:
    with axe_page(browser) as page:
        yield page


def test_the_demo_admin_signs_in_sees_the_home_and_signs_out(
    console_page: Page, stack: dict[str, Any]
) -> None:
    page = console_page
    admin = stack["banner"]["console"]
    # Given the sign-in page the banner names
    page.goto(admin["sign_in"])
    assert_page_fits(page, "console-sign-in")
    # When the demo admin signs in with the printed credentials
    page.get_by_label("Email address").fill(admin["email"])
    page.get_by_label("Password").fill(admin["password"])
    page.get_by_role("button", name="Sign in").click()
    # Then the console home shows who is signed in and their account's subscriptions
    page.wait_for_url(f"{stack['base']}/console")
    assert admin["email"] in page.get_by_role("navigation", name="Console").inner_text()
    assert page.get_by_role("heading", name="Your subscriptions").is_visible()
    assert admin["account_id"] in page.inner_text("main")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["console_id"]["httpOnly"] and cookies["console_id"]["path"] == "/console"
    assert_page_fits(page, "console-home")
    # When they sign out, the session ends and the console asks for a sign-in again
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{stack['base']}/console/sign-in?signed-out=1")
    assert page.get_by_role("status").inner_text() == "You have signed out."
    page.goto(f"{stack['base']}/console")
    assert page.url == f"{stack['base']}/console/sign-in"


def test_a_wrong_password_is_said_on_the_page(console_page: Page, stack: dict[str, Any]) -> None:
    page = console_page
    page.goto(stack["banner"]["console"]["sign_in"])
    page.get_by_label("Email address").fill(stack["banner"]["console"]["email"])
    page.get_by_label("Password").fill("Not-The-Demo-Password-1!")
    page.get_by_role("button", name="Sign in").click()
    assert "not correct" in page.get_by_role("alert").inner_text()
    assert_page_fits(page, "console-sign-in-error", screenshot=False)
