"""Every storefront page a buyer can reach, walked in one browser at 1280, 390 and 320 px (and
just above each breakpoint): none scrolls sideways, axe-core finds no violation, and screenshots of both widths are written to
build/screenshots/ (tests/e2e/layout_support.py). Then what narrow screens need on their own:
filters that collapse, pricing tables whose amounts stay on screen, a skip link clear of the
brand."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

import lxml.html
import pytest
import requests
from playwright.sync_api import Browser, Page, Route, expect

from functions.store.subscriptions import PAGE_SIZE as SUBSCRIPTIONS_PAGE_SIZE
from tests.e2e.browser_support import (
    TIMEOUT_MS,
    demo_product,
    press,
    punch_out,
    read_requisition,
    request_datastream,
    wait_for_mails,
)
from tests.e2e.conftest import run_stack
from tests.e2e.layout_support import (
    DESKTOP,
    NARROWEST,
    PHONE,
    assert_page_fits,
    axe_page,
    set_width,
)

# One product per pricing model, and the usage offers with more than one dimension.
PRICING_MODELS = {
    "contract": ("qa-insights-pro", "three-year"),
    "payg": ("cloudguard-waf", "usage"),
    "contract_payg": ("datastream-pro", "annual"),
    "free_trial": ("sentinel-siem-trial", "trial"),
    "free": ("openlens-observability", "free"),
    "byol": ("pgvault-backup", "byol"),
    "payg-three-dimensions": ("kubeguard-runtime", "usage"),
    "contract_payg-two-dimensions": ("vectorbase-db", "reserved"),
}
ESTIMATE = "1200"
EXPIRY_WAIT_SECONDS = 10.0


@pytest.fixture(scope="module")
def walker(browser: Browser) -> Iterator[Page]:
    """The one page the walk reuses, with axe-core in every document it loads."""
    with axe_page(browser, TIMEOUT_MS) as page:
        yield page


@pytest.fixture
def page(walker: Page) -> Page:
    set_width(walker, DESKTOP)
    return walker


@pytest.fixture(scope="module")
def session(walker: Page, stack: dict[str, Any]) -> str:
    """A Coupa punchout session's page prefix (`<base>/s/<token>`), shared by the walk."""
    punch_out(walker, stack["base"], "coupa")
    return walker.url.rstrip("/")


def _offer(product_id: str, offer_id: str) -> dict[str, Any]:
    product = demo_product(product_id)
    return next(o for o in product["offers"] if o["id"] == offer_id)


def _fill_estimates(page: Page, product_id: str, offer_id: str, estimate: str) -> None:
    for dimension in _offer(product_id, offer_id)["pricing"].get("dimensions", []):
        page.locator(f"#estimate-{dimension['key']}").fill(estimate)


# --- the catalog --------------------------------------------------------------------------------


def test_catalog_plain_filtered_and_with_requests_waiting(
    page: Page, stack: dict[str, Any], session: str
) -> None:
    base = stack["base"]
    # Given a Coupa user's catalog, and the same catalog searched and filtered
    page.goto(session + "/catalog")
    expect(page.get_by_role("heading", level=1, name="All software")).to_be_visible()
    assert_page_fits(page, "catalog")
    page.goto(session + "/catalog?q=data&type=saas&model=contract_payg")
    expect(page.get_by_role("heading", level=1, name="Results for “data”")).to_be_visible()
    assert_page_fits(page, "catalog-filtered")
    # And a request a colleague started on the public marketplace, waiting for the next punchout
    product = demo_product("qa-insights-pro")
    started = requests.post(
        f"{base}/catalog/requests",
        data={
            "product_id": product["id"],
            "offer_id": "three-year",
            "account_id": "111122223333",
            "email": "dana@initech.example",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert started.status_code == 200, started.text  # the "what happens next" page
    # When the Coupa user punches out again
    punch_out(page, base, "coupa")
    # Then the catalog with its waiting requests fits too
    expect(page.locator("li.pending-request").first).to_be_visible()
    assert_page_fits(page, "catalog-waiting-requests")


def test_filters_collapse_on_a_phone_and_stay_open_on_a_desktop(page: Page, session: str) -> None:
    # Given the catalog on a phone
    page.goto(session + "/catalog")
    set_width(page, PHONE)
    apply = page.get_by_role("button", name="Apply filters")
    # Then the filters are folded away and the first product shows on the first screen
    expect(apply).to_be_hidden()
    expect(page.locator("ul.grid article h2").first).to_be_in_viewport()
    # When the buyer opens the filters, they can choose and apply
    page.get_by_text("Filters", exact=True).click()
    expect(apply).to_be_visible()
    expect(page.get_by_role("radio", name="Pay as you go", exact=True)).to_be_visible()
    # And on a desktop they are open without a click, and work
    page.reload()
    set_width(page, DESKTOP)
    expect(apply).to_be_visible()
    page.get_by_role("radio", name="Free trial", exact=True).check()
    apply.click()
    expect(page).to_have_url(re.compile(r"[?&]model=free_trial"))
    expect(page.get_by_role("radio", name="Free trial", exact=True)).to_be_checked()


# --- product and subscribe pages, per pricing model ---------------------------------------------


@pytest.mark.parametrize("model", list(PRICING_MODELS))
def test_product_page(page: Page, session: str, model: str) -> None:
    product_id, _ = PRICING_MODELS[model]
    name = demo_product(product_id)["name"]
    page.goto(f"{session}/products/{product_id}")
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    assert_page_fits(page, f"product-{model}")


@pytest.mark.parametrize("model", list(PRICING_MODELS))
def test_subscribe_page_with_its_amounts_on_screen(page: Page, session: str, model: str) -> None:
    product_id, offer_id = PRICING_MODELS[model]
    # Given the subscribe page of this offer, with every usage estimated
    page.goto(f"{session}/products/{product_id}/subscribe?offer={offer_id}")
    expect(page.locator("table.lines")).to_be_visible()
    _fill_estimates(page, product_id, offer_id, ESTIMATE)
    # Then it fits every width
    assert_page_fits(page, f"subscribe-{model}")
    # And at the narrowest, the amounts and the total are on screen
    set_width(page, NARROWEST)
    table = page.locator("table.lines")
    for cell in [table.locator("td.num").last, page.locator("#approval-total")]:
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= NARROWEST, box
    expect(page.locator("#approval-total")).not_to_have_text("enter your estimate")


def test_subscribe_page_with_an_estimate_error(page: Page, session: str) -> None:
    product_id, offer_id = PRICING_MODELS["contract_payg"]
    # Given the subscribe page of a contract with usage
    page.goto(f"{session}/products/{product_id}/subscribe?offer={offer_id}")
    # When the buyer's estimate has more decimals than a quantity may
    _fill_estimates(page, product_id, offer_id, "1.23456")
    page.get_by_role("button", name="Request approval").click()
    # Then the page says so, and still fits
    expect(page.locator("#form-error")).to_contain_text("decimals")
    assert_page_fits(page, "subscribe-estimate-error")


def test_cart_return_page(page: Page, stack: dict[str, Any], session: str) -> None:
    product_id, offer_id = PRICING_MODELS["contract_payg"]
    # Given a buyer's system that answers its cart URL with 204, so the page stays on screen
    page.route(f"{stack['base']}/_local/simulator/cart/**", _no_content)
    try:
        page.goto(f"{session}/products/{product_id}/subscribe?offer={offer_id}")
        _fill_estimates(page, product_id, offer_id, ESTIMATE)
        # When the buyer requests approval
        page.get_by_role("button", name="Request approval").click()
        # Then the page sending the cart fits
        expect(page.locator("form#cart-return")).to_be_visible()
        assert_page_fits(page, "cart-return")
    finally:
        page.unroute(f"{stack['base']}/_local/simulator/cart/**")


def test_cancel_only_cart_return_page(page: Page, stack: dict[str, Any]) -> None:
    # Given a buyer's system that answers its cart URL with 204, and a buyer shopping
    page.route(f"{stack['base']}/_local/simulator/cart/**", _no_content)
    try:
        punch_out(page, stack["base"], "coupa")
        # When the buyer cancels
        page.get_by_role("button", name="Cancel and return to Coupa").click()
        # Then the page sending the empty cart fits
        expect(page.locator("form#cart-return")).to_be_visible()
        assert_page_fits(page, "cart-return-cancel")
    finally:
        page.unroute(f"{stack['base']}/_local/simulator/cart/**")


def _no_content(route: Route) -> None:
    route.fulfill(status=204)


@pytest.mark.parametrize("operation", ["edit", "inspect"])
def test_request_reopened_from_the_requisition(
    page: Page, stack: dict[str, Any], operation: str
) -> None:
    base = stack["base"]
    # Given a Coupa requisition holding a DataStream Pro request
    request_datastream(page, base, ESTIMATE)
    # When the buyer reopens it in the marketplace, to change it or only to look
    page.get_by_role("button", name=f"{operation.capitalize()} in the marketplace").click()
    page.wait_for_url(f"{base}/s/**")
    # Then the request's page fits, editable or read-only
    estimate = page.locator("input[data-rate]")
    expect(estimate).to_have_value(ESTIMATE)
    if operation == "edit":
        expect(estimate).to_be_enabled()
    else:
        expect(estimate).to_be_disabled()
    assert_page_fits(page, f"subscribe-{operation}")


# --- subscribed, and "Your subscriptions" with many lines ---------------------------------------


def _integration_id(stack: dict[str, Any], system: str) -> str:
    return str(next(i["id"] for i in stack["banner"]["integrations"] if i["system"] == system))


def _admin(stack: dict[str, Any], method: str, path: str, **body: Any) -> None:
    """The marketplace admin changes an integration through the admin API."""
    answer = requests.request(
        method,
        f"{stack['base']}/admin/integrations/{path}",
        json=body or None,
        headers={"Authorization": f"Bearer {stack['banner']['admin_token']}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def _ariba_preapproves_free_and_byol(stack: dict[str, Any]) -> None:
    _admin(
        stack, "PATCH", _integration_id(stack, "ariba"), preapprove_free=True, preapprove_byol=True
    )


def _subscribe_preapproved(page: Page, prefix: str, product_id: str, offer_id: str) -> None:
    """Subscribe (no approval needed) and land on the page saying so, naming the product."""
    page.goto(f"{prefix}/products/{product_id}/subscribe?offer={offer_id}")
    page.get_by_role("button", name="Subscribe", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(demo_product(product_id)["name"])
    expect(page.get_by_role("alert")).to_have_count(0)


def _approve_in_ariba(page: Page, base: str, product_id: str, offer_id: str) -> tuple[int, str]:
    """An Ariba user requests this offer and their company approves it (one PO); how many
    lines the requisition had, and the PO's number."""
    punch_out(page, base, "ariba")
    prefix = page.url.rstrip("/")
    page.goto(f"{prefix}/products/{product_id}/subscribe?offer={offer_id}")
    _fill_estimates(page, product_id, offer_id, ESTIMATE)
    page.get_by_role("button", name="Request approval").click()
    lines = len(read_requisition(page, base).lines)
    (order,) = press(page, "Approve", adds=1)
    assert order.status_code == "200", order
    return lines, order.order_id


def test_subscribed_and_your_subscriptions_with_many_lines(
    page: Page, stack: dict[str, Any]
) -> None:
    base = stack["base"]
    # Given an Ariba account whose company pre-approves free and BYOL offers
    _ariba_preapproves_free_and_byol(stack)
    punch_out(page, base, "ariba")
    prefix = page.url.rstrip("/")
    # When the buyer subscribes to a free offer (the demo integrations are in test mode)
    _subscribe_preapproved(page, prefix, "openlens-observability", "free")
    # Then the test-mode subscribed page fits
    expect(page.get_by_role("heading", level=1)).to_contain_text("Test subscription")
    assert_page_fits(page, "subscribed-test-mode")
    # And given more subscriptions: one pre-approved, one of two lines approved by a PO
    _subscribe_preapproved(page, prefix, "pgvault-backup", "byol")
    lines, order_id = _approve_in_ariba(page, base, *PRICING_MODELS["contract_payg-two-dimensions"])
    # When the buyer opens "Your subscriptions"
    page.goto(f"{prefix}/subscriptions")
    expect(page.get_by_role("heading", level=1, name="Your subscriptions")).to_be_visible()
    expect(page.locator("article.subscription")).to_have_count(3)
    reserved = page.locator("article.subscription").filter(has_text="Reserved capacity")
    expect(reserved.locator("table.lines tbody tr")).to_have_count(lines)
    expect(page.locator("article.subscription .badge.test", has_text="Test")).to_have_count(3)
    # Then it fits every width, test subscriptions included
    assert_page_fits(page, "your-subscriptions")
    # And so does the same page opened from the link in the account's email
    (mail,) = wait_for_mails(base, [order_id])
    link = re.search(r"https?://\S+/subscriptions/\S+", mail["text"])
    assert link, mail["text"]
    page.goto(link.group(0))
    expect(page.locator("article.subscription")).to_have_count(3)
    assert_page_fits(page, "your-subscriptions-from-email")


def test_live_subscribed_page_and_subscription(page: Page, stack: dict[str, Any]) -> None:
    base, coupa = stack["base"], _integration_id(stack, "coupa")
    # Given the demo Coupa integration out of test mode, pre-approving free offers
    _admin(stack, "PATCH", coupa, test_mode=False, preapprove_free=True)
    try:
        punch_out(page, base, "coupa")
        prefix = page.url.rstrip("/")
        # When the buyer subscribes to a free offer
        _subscribe_preapproved(page, prefix, "openlens-observability", "free")
        # Then the page saying they are subscribed, with how to start, fits
        expect(page.get_by_role("heading", level=1)).to_contain_text("You are subscribed")
        assert_page_fits(page, "subscribed")
        # And "Your subscriptions" shows it active, not as a test
        page.goto(f"{prefix}/subscriptions")
        live = page.locator("article.subscription", has_text="OpenLens")
        expect(live.locator(".badge")).to_have_text("Active")
        assert_page_fits(page, "your-subscriptions-live")
    finally:
        _admin(stack, "PATCH", coupa, test_mode=True, preapprove_free=False)


def _approved_over_http(http: requests.Session, base: str, prefix: str, product_id: str,
                        offer_id: str) -> None:  # fmt: skip
    """What a buyer does in the browser, as plain HTTP (4 requests, not a page each): request
    this offer in the punchout session `prefix`, send the cart, and approve it in the buyer
    simulator, which posts the PO."""
    subscribe = http.get(f"{prefix}/products/{product_id}/subscribe?offer={offer_id}", timeout=10)
    action, fields = _form(subscribe, "subscription")
    action, fields = _form(http.post(action, data=fields, timeout=10), "cart-return")
    assert http.post(action, data=fields, timeout=10).ok
    punchout_id = action.rsplit("/", 1)[-1]
    carts = http.get(f"{base}/_local/simulator/carts.json", timeout=10).json()
    index = [c["index"] for c in carts if c["punchout_id"] == punchout_id][-1]  # the one just sent
    approved = http.post(f"{base}/_local/simulator/requisitions/{index}/approve", timeout=10)
    assert approved.ok, approved.text


def _form(answer: requests.Response, form_id: str) -> tuple[str, dict[str, str]]:
    """The form's absolute action and its fields' values, as a browser would submit them."""
    assert answer.ok, answer.text
    document = lxml.html.fromstring(answer.text, base_url=answer.url)
    document.make_links_absolute(answer.url)
    form = document.get_element_by_id(form_id)
    return str(form.action), dict(form.form_values())


def test_your_subscriptions_page_two(page: Page, stack: dict[str, Any]) -> None:
    base = stack["base"]
    # Given a Coupa account with more subscriptions than one page shows
    punch_out(page, base, "coupa")
    prefix = page.url.rstrip("/")
    with requests.Session() as http:
        for _ in range(SUBSCRIPTIONS_PAGE_SIZE + 1):
            _approved_over_http(http, base, prefix, *PRICING_MODELS["contract"])
    # When the buyer opens "Your subscriptions" and goes to the older ones
    page.goto(f"{prefix}/subscriptions")
    expect(page.locator("article.subscription")).to_have_count(SUBSCRIPTIONS_PAGE_SIZE)
    page.get_by_role("link", name="Older subscriptions").click()
    # Then page 2 lists the rest, offers the way back, and fits
    expect(page.get_by_role("link", name="Newer subscriptions")).to_be_visible()
    expect(page.locator("article.subscription").first).to_be_visible()
    assert_page_fits(page, "your-subscriptions-page-2")


def test_disabled_integration_page(page: Page, stack: dict[str, Any]) -> None:
    base, coupa = stack["base"], _integration_id(stack, "coupa")
    # Given a buyer shopping from Coupa
    punch_out(page, base, "coupa")
    # When the marketplace admin disables the integration and the buyer clicks on
    _admin(stack, "POST", f"{coupa}/disable")
    try:
        answer = page.reload()
        # Then the page saying so fits
        assert answer is not None and answer.status == 403
        expect(page.get_by_role("heading", level=1, name="integration is disabled")).to_be_visible()
        assert_page_fits(page, "error-integration-disabled")
    finally:
        _admin(stack, "POST", f"{coupa}/enable")


# --- error pages --------------------------------------------------------------------------------


ERRORS = {
    "unknown-session": "/s/{token}",
    "unknown-product": "{session}/products/no-such-product",
    "unknown-offer": "{session}/products/datastream-pro/subscribe?offer=no-such-offer",
    "public-unknown-product": "/catalog/products/no-such-product",
    "subscriptions-link-not-valid": f"/subscriptions/111122223333?expires=1&signature={'0' * 64}",
}


@pytest.mark.parametrize("error", list(ERRORS))
def test_error_page(page: Page, stack: dict[str, Any], session: str, error: str) -> None:
    path = ERRORS[error].format(token=secrets.token_urlsafe(32), session=session)
    answer = page.goto(path if path.startswith("http") else stack["base"] + path)
    assert answer is not None and 400 <= answer.status < 500
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_page_fits(page, f"error-{error}")


@pytest.fixture(scope="module")
def short_sessions() -> Iterator[dict[str, Any]]:
    """A second local stack whose punchout sessions last one second."""
    yield from run_stack(SESSION_TTL_SECONDS="1")


def test_error_page_of_an_expired_session(page: Page, short_sessions: dict[str, Any]) -> None:
    base = short_sessions["base"]
    # Given a session that has ended
    page.goto(f"{base}/_local/simulator")
    page.locator("section.integration[data-system='coupa']").get_by_role(
        "button", name="Shop at the marketplace"
    ).click()
    page.wait_for_url(f"{base}/s/**")
    # When the buyer comes back after the second has passed
    deadline = time.monotonic() + EXPIRY_WAIT_SECONDS
    answer = page.reload()
    while answer is not None and answer.ok and time.monotonic() < deadline:
        answer = page.reload()
    # Then the page saying so fits
    assert answer is not None and 400 <= answer.status < 500
    expect(page.get_by_role("heading", level=1, name="shopping session has ended")).to_be_visible()
    assert_page_fits(page, "error-expired-session")


# --- the public storefront ----------------------------------------------------------------------


def test_public_catalog_product_and_subscribe_pages(page: Page, stack: dict[str, Any]) -> None:
    base = stack["base"]
    page.goto(f"{base}/catalog")
    expect(page.get_by_role("heading", level=1, name="All software")).to_be_visible()
    assert_page_fits(page, "public-catalog")
    page.goto(f"{base}/catalog/products/datastream-pro")
    assert_page_fits(page, "public-product")
    page.goto(f"{base}/catalog/products/datastream-pro/subscribe?offer=annual")
    expect(page.get_by_label("Your marketplace account ID")).to_be_visible()
    assert_page_fits(page, "public-subscribe")
    # When a visitor mistypes their account ID (a digit short of the demo Coupa account's)
    _fill_estimates(page, "datastream-pro", "annual", ESTIMATE)
    account = page.get_by_label("Your marketplace account ID")
    account.fill("11112222333")
    page.get_by_label("Your work email").fill("sam@example.com")
    with page.expect_response(f"{base}/catalog/requests") as answer:
        page.get_by_role("button", name="Request approval").click()
    # Then the form stays, the error on the field, and the page fits
    assert 400 <= answer.value.status < 500
    page.wait_for_load_state()
    expect(account).to_have_attribute("aria-invalid", "true")
    expect(account).to_have_value("11112222333")
    expect(page.locator("#account-error")).to_be_visible()
    assert_page_fits(page, "public-subscribe-mistyped-account")
    # When they correct it to the demo Coupa account's ID and send again
    account.fill("111122223333")
    with page.expect_response(f"{base}/catalog/requests") as answer:
        page.get_by_role("button", name="Request approval").click()
    # Then the next-step page says the request waits for Coupa, and fits
    assert answer.value.status == 200
    expect(page.get_by_role("heading", level=1, name="waiting for Coupa")).to_be_visible()
    expect(page.get_by_role("link", name="Continue to Coupa")).to_be_visible()
    assert_page_fits(page, "public-request-waiting-for-coupa")


# --- the skip link ------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [DESKTOP, PHONE, NARROWEST])
def test_skip_link_does_not_cover_the_brand(page: Page, session: str, width: int) -> None:
    # Given the catalog at this width
    page.goto(session + "/catalog")
    set_width(page, width)
    # When a keyboard user presses Tab
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    # Then the skip link shows, clear of the brand
    expect(skip).to_be_in_viewport()
    brand, link = page.locator("header .brand").bounding_box(), skip.bounding_box()
    assert brand is not None and link is not None
    apart = (link["x"] + link["width"] <= brand["x"] or brand["x"] + brand["width"] <= link["x"]
             or link["y"] + link["height"] <= brand["y"] or brand["y"] + brand["height"] <= link["y"])  # fmt: skip
    assert apart, (link, brand)


# --- the session bar on a phone -----------------------------------------------------------------

SESSION_BAR_MAX_HEIGHT = 64  # two lines of the bar's text and its small Return button


def test_session_bar_takes_two_lines_on_a_phone(page: Page, session: str) -> None:
    # Given a Coupa session's catalog on a phone
    page.goto(session + "/catalog")
    set_width(page, PHONE)
    bar = page.get_by_role("region", name="Procurement session")
    # Then the session bar is two lines high
    box = bar.bounding_box()
    assert box is not None and box["height"] < SESSION_BAR_MAX_HEIGHT, box
    # And still shows the system, whom the buyer shops for, test mode and the way back
    for badge in ["Coupa", "test mode"]:
        expect(bar.get_by_text(badge, exact=True)).to_be_visible()
    expect(bar.locator("strong", has_text="Demo Coupa (Initech)")).to_be_visible()
    assert "Demo Coupa (Initech) as Peter Gibbons" in bar.inner_text()
    expect(bar.get_by_role("link", name="Your subscriptions")).to_be_in_viewport()
    expect(bar.get_by_role("button", name="Cancel and return to Coupa")).to_be_in_viewport()
