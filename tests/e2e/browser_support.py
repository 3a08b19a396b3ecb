"""Shared by the browser tests: Chromium's launch options and the steps a buyer takes in the
storefront and in the buyer simulator's pages."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from playwright.sync_api import Locator, Page, expect

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


def request_datastream(page: Page, base: str, estimate: str) -> Requisition:
    """A Coupa requisition for DataStream Pro (contract + usage), from a level-2 punchout."""
    punch_out(page, base, "coupa", selected_item="datastream-pro")
    choose_offer(page, demo_product("datastream-pro")["offers"][0]["name"])
    page.get_by_label("Your estimate, in hours").fill(estimate)
    page.get_by_role("button", name="Request approval").click()
    return read_requisition(page, base)


# --- the buyer simulator's approval, and what follows it ---------------------------------------

MAIL_TIMEOUT_SECONDS = 15.0  # the local outbox pump runs the email worker every 0.5 s
MAIL_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class PurchaseOrder:
    """A row of the simulator's purchase orders table, as the buyer reads it."""

    order_id: str
    order_type: str
    version: str
    lines: str
    total: str
    payload_id: str
    http_status: str
    status_code: str
    status: str
    message: str


def _cell(row: Locator, name: str) -> str:
    return " ".join((row.locator(f"td.{name}").text_content() or "").split())


def purchase_orders(page: Page) -> list[PurchaseOrder]:
    return [
        PurchaseOrder(
            order_id=_cell(row, "order-id"),
            order_type=_cell(row, "order-type"),
            version=_cell(row, "order-version"),
            lines=_cell(row, "order-lines"),
            total=_cell(row, "order-total"),
            payload_id=_cell(row, "payload-id"),
            http_status=_cell(row, "http-status"),
            status_code=row.get_attribute("data-code") or "",
            status=_cell(row, "status-code"),
            message=_cell(row, "status-message"),
        )
        for row in page.locator("#orders tr.order").all()
    ]


def press(page: Page, button: str, *, adds: int) -> list[PurchaseOrder]:
    """On the simulator's requisition page: press an approval button; the POs it sent."""
    rows = page.locator("#orders tr.order")
    before = rows.count()
    page.get_by_role("button", name=button, exact=True).click()
    try:
        expect(rows).to_have_count(before + adds)
    except AssertionError:
        refusal = page.locator("#message")
        if refusal.count():
            pytest.fail(f"the simulator refused {button!r}: {refusal.inner_text()}")
        raise
    return purchase_orders(page)[before:]


def open_your_subscriptions(page: Page, base: str, system: str) -> None:
    """Punch out again and follow the session bar's "Your subscriptions" link."""
    punch_out(page, base, system)
    bar = page.get_by_role("region", name="Procurement session")
    bar.get_by_role("link", name="Your subscriptions").click()
    expect(page.get_by_role("heading", level=1, name="Your subscriptions")).to_be_visible()


def _naming(order_ids: list[str]) -> str:
    return rf"^PO number:\s+({'|'.join(re.escape(o) for o in order_ids)})$"


def sent_mails(base: str, order_ids: list[str]) -> list[dict[str, Any]]:
    """The local mailbox's mails whose text names one of these POs."""
    naming = re.compile(_naming(order_ids), re.M)
    mails = requests.get(f"{base}/_local/mailbox.json", timeout=10).json()
    return [m for m in mails if naming.search(m.get("text") or "")]


def wait_for_mails(base: str, order_ids: list[str], count: int = 1) -> list[dict[str, Any]]:
    """The mails naming these POs, polling the local mailbox until at least `count` arrived;
    fails after MAIL_TIMEOUT_SECONDS."""
    deadline = time.monotonic() + MAIL_TIMEOUT_SECONDS
    while len(found := sent_mails(base, order_ids)) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"{len(found)} mail(s) naming {order_ids} after "
                        f"{MAIL_TIMEOUT_SECONDS} s, expected {count}: {found}")  # fmt: skip
        time.sleep(MAIL_POLL_SECONDS)
    return found
