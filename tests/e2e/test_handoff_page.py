"""Set up your account, in Chromium (issue 14 part B): "Your subscriptions" renders the button
for an active subscription whose product has a fulfillment URL, the page fits and axe-core finds
no violation, and pressing it makes the browser POST the registration token to that URL (the
page's CSP lets it). The seller's page is a Playwright route here; the whole hand-off with the
fake seller is tests/e2e of part D."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from playwright.sync_api import Browser, Page, Request, Route, expect

from tests.e2e.browser_support import TIMEOUT_MS, punch_out
from tests.e2e.layout_support import assert_page_fits, axe_page

SELLER_PAGE = "https://register.openlens.example/aws/register"
PRODUCT = "openlens-observability"


def _admin(stack: dict[str, Any], method: str, path: str, body: dict[str, Any]) -> None:
    answer = requests.request(
        method,
        f"{stack['base']}/admin/{path}",
        json=body,
        headers={"Authorization": f"Bearer {stack['banner']['admin_token']}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


@pytest.fixture
def seller_product(stack: dict[str, Any]) -> Iterator[str]:
    """The demo Coupa integration out of test mode, pre-approving free offers, and OpenLens
    with a fulfillment URL; all put back afterwards."""
    coupa = next(i["id"] for i in stack["banner"]["integrations"] if i["system"] == "coupa")
    _admin(stack, "PATCH", f"integrations/{coupa}", {"test_mode": False, "preapprove_free": True})
    _admin(stack, "PATCH", f"products/{PRODUCT}", {"fulfillment_url": SELLER_PAGE})
    try:
        yield PRODUCT
    finally:
        _admin(stack, "PATCH", f"products/{PRODUCT}", {"fulfillment_url": None})
        _admin(
            stack, "PATCH", f"integrations/{coupa}", {"test_mode": True, "preapprove_free": False}
        )


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with axe_page(browser, TIMEOUT_MS) as opened:
        yield opened


def test_set_up_your_account_posts_the_token_to_the_sellers_page(
    page: Page, stack: dict[str, Any], seller_product: str
) -> None:
    posted: list[Request] = []

    def seller(route: Route) -> None:
        posted.append(route.request)
        route.fulfill(status=200, content_type="text/html", body="<h1>Welcome</h1>")

    page.context.route(f"{SELLER_PAGE}*", seller)
    # Given an active subscription to a product with a fulfillment URL
    punch_out(page, stack["base"], "coupa")
    prefix = page.url.rstrip("/")
    page.goto(f"{prefix}/products/{seller_product}/subscribe?offer=free")
    page.get_by_role("button", name="Subscribe", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("You are subscribed")

    # When the buyer opens Your subscriptions
    page.goto(f"{prefix}/subscriptions")
    article = page.locator("article.subscription", has_text="OpenLens")
    button = article.get_by_role("button", name="Set up your account")

    # Then the button is there, and the page fits with no axe-core violation
    expect(button).to_be_visible()
    assert_page_fits(page, "your-subscriptions-handoff")

    # When they press it (inside the procurement frame: a new tab)
    with page.context.expect_page() as opened:
        button.click()
    seller_tab = opened.value
    expect(seller_tab.get_by_role("heading", name="Welcome")).to_be_visible()

    # Then the browser posted the registration token to the seller's page, in the body only
    [request] = posted
    assert (request.method, request.url) == ("POST", SELLER_PAGE)
    form = parse_qs(request.post_data or "")
    [token] = form["x-amzn-marketplace-token"]
    assert token.startswith("v1.") and token not in request.url
    assert set(form) == {"x-amzn-marketplace-token"}
