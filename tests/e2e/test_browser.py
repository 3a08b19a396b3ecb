"""The storefront in a real browser, between a buyer's procurement system (the local buyer
simulator, playing Coupa or SAP Ariba) and its cart: punch out, shop, Request approval, and
read the requisition the buyer's system received."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect, sync_playwright

from local.seed import demo_products

CHROMIUM = "/usr/bin/chromium"  # Playwright cannot download its own browsers here
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000
SAAS_UNSPSC = "81162000"
PERIOD_UOM = {"month": "MON", "year": "ANN"}  # UN/CEFACT Rec. 20, what Coupa and Ariba import
AUX_ID = re.compile(r"^(req-[0-9a-f]{16})-(\d+)$")
SCREENSHOT = "/tmp/procurement-gateway-subscribe-page.png"
COLUMNS = ("supplier-part-id", "aux-id", "short-name", "description", "quantity", "uom",
           "unit-price", "currency", "unspsc")  # fmt: skip


def demo_product(product_id: str) -> dict[str, Any]:
    """A product of the seeded demo catalog (local/demo_catalog.json), as the admin API got it."""
    found = [p for p in demo_products() if p["id"] == product_id]
    assert found, f"the demo catalog has no product {product_id!r}"
    return found[0]


def procurement_text(text: str) -> str:
    """What the cart may carry: Coupa refuses ™ ® ©, so they are spelled out."""
    return text.replace("™", "(TM)").replace("®", "(R)").replace("©", "(C)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _page(browser: Browser, **options: Any) -> Iterator[Page]:
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from _page(browser)


@pytest.fixture
def page_without_js(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, java_script_enabled=False)


@dataclass(frozen=True)
class Requisition:
    """The simulator's cart page, as the buyer reads it."""

    buyer_cookie: str
    status_code: str
    status: str
    total: str
    field: str
    lines: list[dict[str, str]]
    sent_buyer_cookie: str
    document: str


def read_requisition(page: Page, base: str) -> Requisition:
    page.wait_for_url(f"{base}/_local/simulator/cart/*")
    refusal = page.locator("#message")
    if refusal.count():
        pytest.fail(f"the buyer's system refused the cart: {refusal.inner_text()}")
    expect(page.get_by_role("heading", name="Requisition from the marketplace")).to_be_visible()
    punchout_id = page.url.rsplit("/", 1)[-1]
    carts = requests.get(f"{base}/_local/simulator/carts.json", timeout=10).json()
    received = [c for c in carts if c["punchout_id"] == punchout_id][-1]
    lines = [
        {column: row.locator(f"td.{column}").text_content() or "" for column in COLUMNS}
        for row in page.locator("#requisition-lines tr.line").all()
    ]
    status = page.locator("#cart-status")
    return Requisition(
        buyer_cookie=page.locator("#buyer-cookie").text_content() or "",
        status_code=status.get_attribute("data-code") or "",
        status=status.inner_text(),
        total=page.locator("#cart-total").inner_text(),
        field=page.locator("#cart-field").inner_text(),
        lines=lines,
        sent_buyer_cookie=received["sent_buyer_cookie"],
        document=received["document"],
    )


def punch_out(page: Page, base: str, system: str, selected_item: str = "") -> None:
    """In the buyer's system: open the marketplace from a requisition (Shop Online)."""
    page.goto(f"{base}/_local/simulator")
    integration = page.locator(f"section.integration[data-system='{system}']")
    if selected_item:
        integration.get_by_label("Product id").fill(selected_item)
    integration.get_by_role("button", name="Shop at the marketplace").click()
    page.wait_for_url(f"{base}/s/**")
    expect(page.get_by_role("region", name="Procurement session")).to_be_visible()


def find_product(page: Page, search: str, product_name: str) -> None:
    page.get_by_role("searchbox", name="Search the catalog").fill(search)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name=f"Results for “{search}”")).to_be_visible()
    page.get_by_role("link", name=product_name, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=product_name)).to_be_visible()


def choose_offer(page: Page, offer_name: str) -> None:
    page.get_by_role("link", name=f"Continue with {offer_name}", exact=True).click()
    expect(page.get_by_role("button", name="Request approval")).to_be_visible()


def request_ids(requisition: Requisition) -> list[tuple[str, str]]:
    found = [AUX_ID.match(line["aux-id"]) for line in requisition.lines]
    assert all(found), [line["aux-id"] for line in requisition.lines]
    return [(m.group(1), m.group(2)) for m in found if m]


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
    page.get_by_label("Estimated hours to approve").fill("2500")
    page.screenshot(path=SCREENSHOT, full_page=True)
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


def _request_datastream(page: Page, base: str, estimate: str) -> Requisition:
    punch_out(page, base, "coupa", selected_item="datastream-pro")
    choose_offer(page, demo_product("datastream-pro")["offers"][0]["name"])
    page.get_by_label("Estimated hours to approve").fill(estimate)
    page.get_by_role("button", name="Request approval").click()
    return read_requisition(page, base)


def test_edit_reopens_the_request_and_keeps_its_line_ids(page: Page, stack: dict[str, Any]) -> None:
    base = stack["base"]
    # Given a requisition with a DataStream Pro request
    before = _request_datastream(page, base, "100")
    # When the buyer edits it in the marketplace and raises the usage estimate
    page.get_by_role("button", name="Edit in the marketplace").click()
    page.wait_for_url(f"{base}/s/**")
    estimate = page.get_by_label("Estimated hours to approve")
    expect(estimate).to_have_value("100")
    estimate.fill("300")
    page.get_by_role("button", name="Request approval").click()

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
    _request_datastream(page, base, "100")
    # When the buyer inspects it in the marketplace
    page.get_by_role("button", name="Inspect in the marketplace").click()
    page.wait_for_url(f"{base}/s/**")

    # Then they see it read-only, and returning changes nothing
    expect(page.get_by_text("This request is open for viewing only.")).to_be_visible()
    expect(page.get_by_label("Estimated hours to approve")).to_be_disabled()
    expect(page.get_by_role("button", name="Request approval")).to_have_count(0)
    page.get_by_role("button", name="Return to Coupa").click()
    requisition = read_requisition(page, base)
    assert requisition.status_code == "204"
    assert requisition.lines == []


def test_banner_names_the_simulator(stack: dict[str, Any]) -> None:
    assert stack["banner"]["simulator"] == f"{stack['base']}/_local/simulator"
