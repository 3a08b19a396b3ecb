"""The whole hand-off of issue 14, in Chromium against `make run`'s server: a Coupa user
requests Sentinel SIEM's trial, the buyer company approves it, the simulator links to the
account's "Your subscriptions", **Set up your account** posts the registration token to the
demo seller's registration page (local/fake_seller.py), which resolves it through
ResolveCustomer and shows the customer; the seller's rule on the bus then delivers the
subscribe-success event to its event log. axe-core checks the fake seller's pages as served."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from local.fake_seller import PREFIX
from local.seed import DEMO_INTEGRATIONS
from tests.e2e.browser_support import (
    TIMEOUT_MS,
    choose_offer,
    demo_product,
    find_product,
    press,
    punch_out,
)
from tests.e2e.layout_support import axe_page, axe_violations

PRODUCT = "sentinel-siem-trial"
EVENT_TIMEOUT_SECONDS = 15.0  # the email worker publishes every 0.5 s, the event pump too
EVENT_POLL_SECONDS = 0.2


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page with axe-core in every document it loads."""
    with axe_page(browser, TIMEOUT_MS) as opened:
        yield opened


def _events(base: str, seller: str, action: str, customer: str) -> list[dict[str, Any]]:
    found = requests.get(f"{base}{PREFIX}/events.json", timeout=10).json()
    return [e for e in found if e["seller_account"] == seller and e["detail"].get("action") ==
            action and e["detail"].get("customer-identifier") == customer]  # fmt: skip


def _wait_for_event(base: str, seller: str, action: str, customer: str) -> dict[str, Any]:
    deadline = time.monotonic() + EVENT_TIMEOUT_SECONDS
    while not (found := _events(base, seller, action, customer)):
        if time.monotonic() > deadline:
            pytest.fail(f"no {action} event for {customer} reached seller {seller} "
                        f"after {EVENT_TIMEOUT_SECONDS} s")  # fmt: skip
        time.sleep(EVENT_POLL_SECONDS)
    (event,) = found
    return event


def test_approve_then_set_up_your_account_hands_the_buyer_to_the_seller_who_resolves_them(
    page: Page, stack: dict[str, Any]
) -> None:
    base = stack["base"]
    product = demo_product(PRODUCT)
    (offer,) = product["offers"]
    seller, customer = product["seller_account"], DEMO_INTEGRATIONS[0]["account_id"]
    # Given a Coupa user who punched out and requested Sentinel SIEM's trial
    punch_out(page, base, "coupa")
    find_product(page, "Sentinel", product["name"])
    choose_offer(page, offer["name"])
    page.get_by_role("button", name="Request approval").click()
    # And the buyer company approved it
    (po,) = press(page, "Approve", adds=1)
    assert po.status_code == "200"

    # When the buyer follows the simulator's link to the account's "Your subscriptions"
    page.get_by_role("link", name="Your subscriptions").click()
    expect(page.get_by_role("heading", level=1, name="Your subscriptions")).to_be_visible()
    card = page.locator("article.subscription").filter(
        has_text=re.compile(rf"\b{re.escape(po.order_id)}\b")
    )
    expect(card).to_have_count(1)
    # And presses Set up your account on the subscription
    card.get_by_role("button", name="Set up your account").click()

    # Then the seller's registration page resolved the token and welcomes the customer
    expect(page).to_have_url(f"{base}{PREFIX}/{seller}/register")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, customer {customer}")
    expect(page.locator("#customer-identifier")).to_have_text(customer)
    expect(page.locator("#customer-account")).to_have_text(customer)
    expect(page.locator("#customer-product")).to_have_text(PRODUCT)
    expect(page.locator("#customer-test")).to_have_text("yes")  # the demo Coupa is in test mode
    assert axe_violations(page) == []
    # And, once the event is published and pumped, the seller's log shows subscribe-success
    event = _wait_for_event(base, seller, "subscribe-success", customer)
    assert event["source"] == f"procurement-gateway.{seller}"
    assert event["detail"]["product-code"] == PRODUCT
    assert event["detail"]["test"] is True
    page.get_by_role("link", name=f"Events seller {seller} received").click()
    row = page.locator('tr.event[data-action="subscribe-success"]').filter(has_text=customer)
    expect(row).to_have_count(1)
    assert axe_violations(page) == []
    # And the seller's customer list and the overview of every seller show the customer
    page.goto(f"{base}{PREFIX}")
    section = page.get_by_role("region", name=f"Seller {seller}")
    expect(section.locator("td.customer-identifier").first).to_have_text(customer)
    assert axe_violations(page) == []


def test_a_forged_token_posted_to_the_registration_page_shows_the_apis_error(
    page: Page, stack: dict[str, Any]
) -> None:
    seller = demo_product(PRODUCT)["seller_account"]
    # Given a page posting a forged token to the seller's registration page, as a form would
    page.goto(f"{stack['base']}{PREFIX}")
    page.evaluate(
        """([action, field]) => {
          const form = document.createElement("form");
          form.method = "post"; form.action = action;
          const input = document.createElement("input");
          input.type = "hidden"; input.name = field; input.value = "v1.forged.token";
          form.append(input); document.body.append(form); form.submit();
        }""",
        [f"{PREFIX}/{seller}/register", "x-amzn-marketplace-token"],
    )

    # Then the registration page shows the API's refusal, not a customer, and is accessible
    expect(page.get_by_role("heading", level=1)).to_have_text("Registration refused")
    expect(page.get_by_role("alert")).to_contain_text("InvalidTokenException")
    assert axe_violations(page) == []
