"""The buyer's hand-off (issue 14 part B), against moto: "Your subscriptions" shows **Set up your
account** for each active subscription whose product has a fulfillment URL, a form posting a
fresh registration token to it; the page's CSP lets the form post there and nowhere else new;
the success email links to the button."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import botocore.client
import pytest

from functions import registration
from functions.clock import now
from functions.config import settings
from functions.store.secrets import LinkSigningKey
from local import mailbox
from local.outbox import OutboxPump, streams_client
from tests.order_support import (
    DATASTREAM_ANNUAL,
    coupa_po,
    post_accepted_po,
    post_order,
    request_approval,
    table_items,
)
from tests.storefront_support import (
    CONTRACT_PAYG,
    FREE_TRIAL,
    create_integration,
    create_products,
    punch_out,
)
from tests.support import admin, coupa_integration

SELLER_PAGE = "https://register.streamline.example:8443/aws/register"
TRIAL_PAGE = "https://watchtower.example/marketplace/signup"
ACCOUNT = "111122223333"
_FORM = re.compile(
    r'<form class="handoff" method="post" action="(?P<action>[^"]+)"(?P<attrs>[^>]*)>\s*'
    r'<input type="hidden" name="(?P<field>[^"]+)" value="(?P<token>[^"]+)">'
)


@pytest.fixture
def streams(aws: dict[str, Any]) -> Any:
    return streams_client("us-east-1")


def _products(api: Any) -> None:
    create_products(
        api,
        {**CONTRACT_PAYG, "fulfillment_url": SELLER_PAGE},
        {**FREE_TRIAL, "fulfillment_url": TRIAL_PAGE},
    )


def _subscribed(api: Any, *, test_mode: bool = False, **form: str) -> tuple[dict[str, Any], str]:
    """A PO approving DataStream Pro (or `form`): the integration and its session path."""
    integration = create_integration(api, coupa_integration(test_mode=test_mode))
    cart = request_approval(api, integration, {**DATASTREAM_ANNUAL, **form} if form else None)
    post_accepted_po(api, integration, cart.lines)
    return integration, punch_out(api, integration)


def _forms(page: Any) -> list[dict[str, str]]:
    return [
        {**m.groupdict(), "action": html.unescape(m.group("action"))}
        for m in _FORM.finditer(page.text)
    ]


def _subscription_ids(tables: dict[str, Any]) -> list[str]:
    return [item["pk"]["S"] for item in table_items(tables, "subscriptions")]


def _key() -> bytes:
    return LinkSigningKey(settings())()


def test_an_active_subscription_hands_the_buyer_over_with_a_token_naming_it(
    api: Any, tables: dict[str, Any]
) -> None:
    # Given an active subscription to a product with a fulfillment URL
    _products(api)
    _, session = _subscribed(api)
    [subscription_id] = _subscription_ids(tables)

    # When the buyer opens Your subscriptions
    page = api.handle("GET", f"{session}/subscriptions")

    # Then Set up your account is a form posting a fresh registration token to the seller
    assert page.status == 200
    [form] = _forms(page)
    assert form["action"] == SELLER_PAGE
    assert form["field"] == "x-amzn-marketplace-token"
    assert f'data-handoff="{subscription_id}"' in form["attrs"]
    assert 'target="_blank"' in form["attrs"]  # in the procurement system's frame: a new tab
    assert ">Set up your account</button>" in page.text
    claims = registration.verify(_key(), form["token"], now())
    assert (claims.subscription_id, claims.account_id, claims.product_id, claims.test) == (
        subscription_id,
        ACCOUNT,
        "datastream-pro",
        False,
    )
    assert claims.expires_at >= (now() + timedelta(minutes=59)).timestamp()  # fresh
    # And the page's CSP lets exactly that origin receive the form
    csp = page.header("Content-Security-Policy") or ""
    [form_action] = [d.strip() for d in csp.split(";") if d.strip().startswith("form-action")]
    assert form_action == "form-action 'self' https://register.streamline.example:8443"
    # And the token is in the POST body only: never in a URL of the page
    assert form["token"] not in SELLER_PAGE and f"={form['token']}" not in page.text


def test_a_test_subscription_gets_a_token_marked_test_and_says_so(
    api: Any, tables: dict[str, Any]
) -> None:
    _products(api)
    _, session = _subscribed(api, test_mode=True)

    page = api.handle("GET", f"{session}/subscriptions")

    [form] = _forms(page)
    assert 'data-test="true"' in form["attrs"]
    assert registration.verify(_key(), form["token"], now()).test is True
    assert "A test hand-off:" in page.text


def test_no_form_while_pending_after_cancellation_or_without_a_url(
    api: Any, tables: dict[str, Any]
) -> None:
    # Given a subscription whose PO approved only its contract line (pending)
    _products(api)
    integration = create_integration(api, coupa_integration(test_mode=False))
    contract, usage = request_approval(api, integration).lines
    post_accepted_po(api, integration, [contract], order_id="PO-A")
    session = punch_out(api, integration)

    # Then it has no Set up your account, and the page allows no other form target
    pending = api.handle("GET", f"{session}/subscriptions")
    assert 'data-state="pending"' in pending.text
    assert _forms(pending) == [] and "Set up your account" not in pending.text
    assert "form-action 'self';" in (pending.header("Content-Security-Policy") or "")

    # When the rest is approved it has one; when the PO is deleted, none again
    post_accepted_po(api, integration, [usage], order_id="PO-B")
    assert len(_forms(api.handle("GET", f"{session}/subscriptions"))) == 1
    deleted = post_order(api, coupa_po(integration, [contract], order_id="PO-A",
                                       order_type="delete", version=2))  # fmt: skip
    assert deleted.code == 200
    cancelled = api.handle("GET", f"{session}/subscriptions")
    assert 'data-state="cancelled"' in cancelled.text and _forms(cancelled) == []


def test_removing_the_url_removes_the_button(api: Any, tables: dict[str, Any]) -> None:
    _products(api)
    _, session = _subscribed(api)
    assert len(_forms(api.handle("GET", f"{session}/subscriptions"))) == 1

    status, body = admin(api, "PATCH", "/admin/products/datastream-pro", {"fulfillment_url": None})

    assert status == 200 and body["product"]["fulfillment_url"] == ""
    page = api.handle("GET", f"{session}/subscriptions")
    assert _forms(page) == [] and "form-action 'self';" in (
        page.header("Content-Security-Policy") or ""
    )


def test_the_page_reads_its_products_fulfillment_urls_in_one_batch(
    api: Any, tables: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three active subscriptions of two products with fulfillment URLs
    _products(api)
    integration = create_integration(api, coupa_integration(test_mode=False))
    for order_id, form in (
        ("PO-1", None),
        ("PO-2", None),
        ("PO-3", {"product_id": "sentinel-siem-trial", "offer_id": "trial"}),
    ):
        cart = request_approval(api, integration, form)
        post_accepted_po(api, integration, cart.lines, order_id=order_id)
    session = punch_out(api, integration)
    api.handle("GET", f"{session}/subscriptions")  # warm the handler
    reads: list[set[str]] = []
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation: str, params: Any) -> Any:
        if operation in ("GetItem", "BatchGetItem", "Query", "Scan"):
            tables_read = set(params.get("RequestItems") or [params.get("TableName")])
            reads.append(tables_read)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)

    # When the buyer opens Your subscriptions
    page = api.handle("GET", f"{session}/subscriptions")

    # Then each has its form, and the products were read once, in one BatchGetItem
    assert len(_forms(page)) == 3
    assert [r for r in reads if "local-products" in r] == [{"local-products"}]
    csp = page.header("Content-Security-Policy") or ""
    assert (
        "form-action 'self' https://register.streamline.example:8443 https://watchtower.example;"
        in csp
    )


def test_the_success_email_links_to_the_set_up_button(
    api: Any, tables: dict[str, Any], streams: Any
) -> None:
    # Given a subscription to a product with a fulfillment URL, and its success email sent
    pump = OutboxPump(settings().outbox_table, dynamodb=tables["dynamodb"], streams=streams)
    _products(api)
    _subscribed(api)
    [subscription_id] = _subscription_ids(tables)
    pump.pump_once()

    # Then the email has Set up your account, linking to Your subscriptions at its button
    [message] = mailbox.messages()
    assert "Set up your account" in message["text"] and "Set up your account" in message["html"]
    link = next(
        w for w in message["text"].split() if w.endswith(f"#subscription-{subscription_id}")
    )
    assert link.replace("&", "&amp;") in message["html"]
    url = urlsplit(link)
    assert url.path == f"/subscriptions/{ACCOUNT}"
    # And the page it opens (outside the procurement frame) has the form, in the same tab
    page = api.handle("GET", url.path, query=url.query)
    assert page.status == 200
    [form] = _forms(page)
    assert f'data-handoff="{subscription_id}"' in form["attrs"]
    assert 'target="_blank"' not in form["attrs"]
    assert f'id="subscription-{subscription_id}"' in page.text
    assert "https://register.streamline.example:8443" in (
        page.header("Content-Security-Policy") or ""
    )


def test_no_set_up_link_in_the_email_of_a_product_without_a_url(
    api: Any, tables: dict[str, Any], streams: Any
) -> None:
    pump = OutboxPump(settings().outbox_table, dynamodb=tables["dynamodb"], streams=streams)
    create_products(api, CONTRACT_PAYG)
    _subscribed(api)
    pump.pump_once()

    [message] = mailbox.messages()
    assert "Set up your account" not in message["text"] + message["html"]


def test_the_admin_api_stores_returns_patches_and_refuses_fulfillment_urls(
    api: Any, tables: dict[str, Any]
) -> None:
    # A hostile URL is a 400 in JSON naming the field, and nothing is stored
    status, body = admin(
        api,
        "POST",
        "/admin/products",
        {**CONTRACT_PAYG, "fulfillment_url": "https://u:p@x.example/"},
    )
    assert status == 400 and body["error"]["field"] == "fulfillment_url"
    assert table_items(tables, "products") == []

    # A good one is stored and returned; a PATCH changes it; a hostile PATCH changes nothing
    create_products(api, {**CONTRACT_PAYG, "fulfillment_url": SELLER_PAGE})
    status, body = admin(api, "GET", "/admin/products/datastream-pro")
    assert (status, body["product"]["fulfillment_url"]) == (200, SELLER_PAGE)
    moved = "https://seller.example/v2/register"
    status, body = admin(api, "PATCH", "/admin/products/datastream-pro", {"fulfillment_url": moved})
    assert (status, body["product"]["fulfillment_url"]) == (200, moved)
    status, body = admin(
        api,
        "PATCH",
        "/admin/products/datastream-pro",
        {"fulfillment_url": "http://seller.example/"},
    )
    assert status == 400 and "https" in body["error"]["message"]
    assert (
        admin(api, "GET", "/admin/products/datastream-pro")[1]["product"]["fulfillment_url"]
        == moved
    )
