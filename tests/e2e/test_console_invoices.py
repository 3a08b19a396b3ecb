"""A member of the demo account in Chromium against `make run`: after the buyer's company
approved DataStream Pro in the simulator on the demo Coupa integration taken out of test mode
(its contract invoice is issued at once and delivered to the fake Coupa), the member signs in to the console, sees the account's subscriptions, opens
the subscription and its invoice; every page fits 320 px and has no axe-core violation."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser_support import press, request_datastream
from tests.e2e.layout_support import assert_page_fits, axe_page

INVOICE_TIMEOUT_SECONDS = 30.0


@pytest.fixture
def member_page(browser: Browser) -> Iterator[Page]:
    with axe_page(browser) as page:
        yield page


def _admin(stack: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack['banner']['admin_token']}"}


def _go_live(stack: dict[str, Any]) -> str:
    """The demo Coupa integration out of test mode (the demos start in it, and test
    subscriptions are never invoiced), as its operator would: its id."""
    coupa = next(i for i in stack["banner"]["integrations"] if i["system"] == "coupa")
    answer = requests.patch(
        f"{stack['base']}/admin/integrations/{coupa['id']}",
        json={"test_mode": False},
        headers=_admin(stack),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(coupa["id"])


def _contract_invoice(stack: dict[str, Any], order_id: str) -> dict[str, Any]:
    """The demo Coupa integration's contract invoice for `order_id`, once the local workers
    issued it (the admin API's list, polled until it shows)."""
    coupa_id = next(i["id"] for i in stack["banner"]["integrations"] if i["system"] == "coupa")
    deadline = time.monotonic() + INVOICE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        answer = requests.get(
            f"{stack['base']}/admin/invoices",
            params={"integration_id": coupa_id},
            headers=_admin(stack),
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        for invoice in answer.json()["invoices"]:
            if invoice["order_id"] == order_id and invoice["kind"] == "contract":
                return dict(invoice)
        time.sleep(0.2)
    pytest.fail(f"no contract invoice for {order_id} within {INVOICE_TIMEOUT_SECONDS} s")


def test_a_member_sees_the_accounts_subscription_and_opens_its_invoice(
    member_page: Page, stack: dict[str, Any]
) -> None:
    page = member_page
    base, console = stack["base"], stack["banner"]["console"]
    # Given the live demo Coupa integration, whose company approved DataStream Pro (its
    # contract invoice is issued at once)
    _go_live(stack)
    request_datastream(page, base, "1000")
    (po,) = press(page, "Approve", adds=1)
    assert po.status_code == "200"
    invoice = _contract_invoice(stack, po.order_id)

    # When a member of the account signs in to the console
    page.goto(console["sign_in"])
    page.get_by_label("Email address").fill(console["member_email"])
    page.get_by_label("Password").fill(console["password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/console")
    bar = page.get_by_role("navigation", name="Console")
    expect(bar).to_contain_text(console["member_email"])
    expect(bar.get_by_role("link", name="Members")).to_have_count(0)  # a member, not an admin
    # Then the account's subscriptions are listed, each linking to its page
    card = page.locator("article.subscription").filter(
        has_text=re.compile(rf"\b{re.escape(po.order_id)}\b")
    )
    expect(card).to_have_count(1)
    card.locator("a[data-subscription-link]").click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/console/subscriptions/req-[0-9a-f]+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("DataStream Pro")
    invoices = page.get_by_role("region", name="Invoices")
    row = invoices.locator(f'tr[data-invoice="{invoice["invoice_id"]}"]')
    expect(row).to_contain_text("15,000.00 USD")
    assert_page_fits(page, "console-subscription")

    # When they open the invoice
    row.get_by_role("link").click()
    page.wait_for_url(f"{base}/console/invoices/{invoice['invoice_id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {invoice['invoice_id']}")
    expect(page.locator('[data-field="order"]')).to_have_text(po.order_id)
    expect(page.locator('tr[data-total="due"]')).to_contain_text("15,000.00 USD")
    assert_page_fits(page, "console-invoice")
    # And printed, only the invoice shows: no bars, no links around it
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Console")).to_be_hidden()
    expect(page.locator("nav.no-print")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.emulate_media(media="screen")
    # And the cXML document downloads as a file
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the cXML document").click()
    assert download.value.suggested_filename == f"{invoice['invoice_id']}.xml"
