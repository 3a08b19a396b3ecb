"""The storefront in a real browser, between a buyer's procurement system (the local buyer
simulator, playing Coupa or SAP Ariba) and its cart: punch out, shop, Request approval, and
read the requisition the buyer's system received."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser_support import (
    PERIOD_UOM,
    SAAS_UNSPSC,
    choose_offer,
    demo_product,
    find_product,
    procurement_text,
    punch_out,
    read_requisition,
    request_datastream,
    request_ids,
)
from tests.e2e.layout_support import SCREENSHOTS


def test_coupa_user_requests_approval_for_a_contract_with_usage(
    page: Page, stack: dict[str, Any]
) -> None:
    base = stack["base"]
    product = demo_product("datastream-pro")
    (offer,) = product["offers"]
    pricing = offer["pricing"]
    (dimension,) = pricing["dimensions"]
    assert (product["product_type"], pricing["model"]) == ("saas", "contract_payg")
    # Given a Coupa user who punched out to the marketplace and found DataStream Pro
    punch_out(page, base, "coupa")
    find_product(page, "DataStream", product["name"])
    choose_offer(page, offer["name"])
    # When they estimate their usage and press Request approval
    page.get_by_label("Your estimate, in hours").fill("2500")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "subscribe-estimated-1280.png", full_page=True)
    page.get_by_role("button", name="Request approval").click()

    # Then Coupa's requisition holds two lines of one request: the contract and the usage
    requisition = read_requisition(page, base)
    assert requisition.buyer_cookie == requisition.sent_buyer_cookie
    assert re.fullmatch(r"[0-9a-f]{32}", requisition.buyer_cookie)
    assert requisition.status_code == "200"
    assert requisition.field == "cxml-base64"
    contract, usage = requisition.lines
    assert contract["quantity"] == str(pricing["term"])
    assert contract["unit-price"] == pricing["price"]
    assert contract["uom"] == PERIOD_UOM[pricing["period"]]
    assert usage["quantity"] == "2500"
    assert usage["unit-price"] == dimension["unit_price"]
    assert usage["uom"] == dimension["unit"] == "HUR"
    assert contract["currency"] == usage["currency"] == offer["currency"]
    expected_total = Decimal(pricing["price"]) * pricing["term"] + 2500 * Decimal(
        dimension["unit_price"]
    )
    assert requisition.total == f"{expected_total:.2f} {offer['currency']}"
    assert contract["unspsc"] == usage["unspsc"] == SAAS_UNSPSC
    part = f"datastream-pro/{offer['id']}"
    assert contract["supplier-part-id"] == usage["supplier-part-id"] == part
    assert (contract["short-name"], usage["short-name"]) == (
        f"{product['name']} contract",
        f"{product['name']} usage",
    )
    (first_request, first), (second_request, second) = request_ids(requisition)
    assert first_request == second_request
    assert (first, second) == ("1", "2")


def test_coupa_user_requests_a_free_trial_as_one_zero_priced_line(
    page: Page, stack: dict[str, Any]
) -> None:
    base = stack["base"]
    product = demo_product("sentinel-siem-trial")
    (offer,) = product["offers"]
    assert (product["product_type"], offer["pricing"]["model"]) == ("saas", "free_trial")
    # Given a Coupa user on Sentinel SIEM's free trial offer
    punch_out(page, base, "coupa")
    find_product(page, "Sentinel", product["name"])
    choose_offer(page, offer["name"])
    # When they press Request approval
    page.get_by_role("button", name="Request approval").click()

    # Then the requisition has one $0.00 line to approve
    requisition = read_requisition(page, base)
    assert requisition.buyer_cookie == requisition.sent_buyer_cookie
    assert requisition.total == "0.00 USD"
    (line,) = requisition.lines
    assert line["supplier-part-id"] == f"sentinel-siem-trial/{offer['id']}"
    assert (line["quantity"], line["unit-price"], line["currency"], line["uom"]) == (
        "1",
        "0.00",
        "USD",
        "EA",
    )
    assert line["unspsc"] == SAAS_UNSPSC
    assert request_ids(requisition)[0][1] == "1"


@pytest.mark.parametrize(
    ("product_id", "search"),
    [("qa-insights-pro", "Q&A"), ("zurich-analytics", "Zürich")],
    ids=["markup-characters", "non-ascii"],
)
def test_ariba_cart_carries_names_exactly_through_the_urlencoded_field(
    page: Page, stack: dict[str, Any], product_id: str, search: str
) -> None:
    base = stack["base"]
    product = demo_product(product_id)
    offer = next(o for o in product["offers"] if o["pricing"]["model"] == "contract")
    pricing = offer["pricing"]
    name = procurement_text(product["name"])
    # Given an Ariba user (the demo integration returns carts in cxml-urlencoded)
    punch_out(page, base, "ariba")
    find_product(page, search, product["name"])
    choose_offer(page, offer["name"])
    # When they request approval
    page.get_by_role("button", name="Request approval").click()

    # Then Ariba reads the names exactly, from a US-ASCII document
    requisition = read_requisition(page, base)
    assert requisition.field == "cxml-urlencoded"
    assert requisition.document.isascii()
    assert requisition.buyer_cookie == requisition.sent_buyer_cookie
    (line,) = requisition.lines
    assert line["short-name"] == f"{name} contract"
    assert line["description"].startswith(f"{name} / {procurement_text(offer['name'])}: ")
    assert line["description"].endswith(f"Sold by {product['seller']}.")
    assert (line["quantity"], line["unit-price"], line["currency"], line["uom"]) == (
        str(pricing["term"]),
        pricing["price"],
        offer["currency"],
        PERIOD_UOM[pricing["period"]],
    )


def test_cancel_returns_to_the_procurement_system_without_change(
    page: Page, stack: dict[str, Any]
) -> None:
    base = stack["base"]
    # Given a Coupa user browsing the catalog
    punch_out(page, base, "coupa")
    # When they cancel
    page.get_by_role("button", name="Cancel and return to Coupa").click()

    # Then Coupa receives Status 204 and no lines
    requisition = read_requisition(page, base)
    assert requisition.status_code == "204"
    assert "No Content" in requisition.status
    assert requisition.lines == []
    expect(page.locator("#no-lines")).to_be_visible()
    assert requisition.buyer_cookie == requisition.sent_buyer_cookie


def test_without_javascript_the_continue_button_delivers_the_cart(
    page_without_js: Page, stack: dict[str, Any]
) -> None:
    page, base = page_without_js, stack["base"]
    # Given a Coupa user whose browser runs no JavaScript, sent straight to a product (level 2)
    punch_out(page, base, "coupa", selected_item="sentinel-siem-trial")
    expect(page.get_by_role("heading", level=1, name="Sentinel SIEM")).to_be_visible()
    choose_offer(page, demo_product("sentinel-siem-trial")["offers"][0]["name"])
    page.get_by_role("button", name="Request approval").click()
    # When the cart return page does not submit itself
    expect(page.get_by_role("heading", name="Sending your request to Coupa")).to_be_visible()
    assert page.url.startswith(f"{base}/s/")
    page.get_by_role("button", name="Continue to Coupa").click()

    # Then the visible button delivers the cart all the same
    requisition = read_requisition(page, base)
    assert requisition.buyer_cookie == requisition.sent_buyer_cookie
    assert [line["supplier-part-id"] for line in requisition.lines] == ["sentinel-siem-trial/trial"]


def test_edit_reopens_the_request_and_keeps_its_line_ids(page: Page, stack: dict[str, Any]) -> None:
    base = stack["base"]
    # Given a requisition with a DataStream Pro request
    before = request_datastream(page, base, "100")
    # When the buyer edits it in the marketplace and raises the usage estimate
    page.get_by_role("button", name="Edit in the marketplace").click()
    page.wait_for_url(f"{base}/s/**")
    estimate = page.get_by_label("Your estimate, in hours")
    expect(estimate).to_have_value("100")
    estimate.fill("300")
    page.get_by_role("button", name="Update request").click()

    # Then the same lines come back (same auxiliary IDs) with the new quantity
    after = read_requisition(page, base)
    assert after.buyer_cookie == after.sent_buyer_cookie != before.buyer_cookie
    assert [line["aux-id"] for line in after.lines] == [line["aux-id"] for line in before.lines]
    assert [line["quantity"] for line in after.lines] == [before.lines[0]["quantity"], "300"]
    assert after.total != before.total


def test_inspect_shows_the_request_read_only_and_returns_without_change(
    page: Page, stack: dict[str, Any]
) -> None:
    base = stack["base"]
    # Given a requisition with a DataStream Pro request
    request_datastream(page, base, "100")
    # When the buyer inspects it in the marketplace
    page.get_by_role("button", name="Inspect in the marketplace").click()
    page.wait_for_url(f"{base}/s/**")

    # Then they see it read-only, and returning changes nothing
    expect(page.get_by_text("This request is open for viewing only.")).to_be_visible()
    expect(page.get_by_label("Your estimate, in hours")).to_be_disabled()
    expect(page.get_by_role("button", name="Request approval")).to_have_count(0)
    page.get_by_role("button", name="Return to Coupa").click()
    requisition = read_requisition(page, base)
    assert requisition.status_code == "204"
    assert requisition.lines == []


def test_banner_names_the_simulator(stack: dict[str, Any]) -> None:
    assert stack["banner"]["simulator"] == f"{stack['base']}/_local/simulator"
