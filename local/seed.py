"""Demo data, created through the admin API itself so it takes the same path as a real admin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from local.stack import HttpAnswer, LocalApi

DEMO_CATALOG = Path(__file__).with_name("demo_catalog.json")
"""Every product type and pricing model, with the ids the browser tests rely on
(`datastream-pro`, `sentinel-siem-trial`); tests/unit/test_catalog.py checks the coverage."""

DEMO_ACCOUNTS: tuple[dict[str, Any], ...] = (
    {"id": "111122223333", "name": "Initech", "contact_email": "it-admin@initech.example"},
    {"id": "444455556666", "name": "Globex", "contact_email": "procurement@globex.example"},
)
"""Two buyer companies, two accounts: each sees its own subscriptions only. Created before the
integrations naming them (`POST /admin/accounts`)."""

DEMO_INTEGRATIONS: tuple[dict[str, Any], ...] = (
    {
        "name": "Demo Coupa (Initech)",
        "description": "Initech's Coupa test instance",
        "system": "coupa",
        "buyer_identity": {"domain": "DUNS", "identity": "initech-coupa"},
        "account_id": "111122223333",
        "account_email": "it-admin@initech.example",
        "approval_redirect_url": "https://initech.coupahost.com/requisition_headers/new",
    },
    {
        "name": "Demo Ariba (Globex)",
        "description": "Globex on SAP Ariba (test ANID)",
        "system": "ariba",
        "buyer_identity": {"domain": "NetworkID", "identity": "AN01000000001-T"},
        "account_id": "444455556666",
        "account_email": "procurement@globex.example",
        "cart_field": "cxml-urlencoded",
    },
)


def demo_products() -> list[dict[str, Any]]:
    """The demo catalog as admin API payloads (prices are strings: exact decimals)."""
    products: list[dict[str, Any]] = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))[
        "products"
    ]
    return products


def _create(api: LocalApi, admin_token: str, path: str, payload: dict[str, Any]) -> HttpAnswer:
    answer = api.handle(
        "POST",
        path,
        headers=[
            ("Content-Type", "application/json"),
            ("Authorization", f"Bearer {admin_token}"),
        ],
        body=json.dumps(payload).encode(),
    )
    if answer.status != 201:
        raise RuntimeError(f"seeding {payload.get('id') or payload['name']} failed: {answer.text}")
    return answer


def with_fulfillment_urls(products: list[dict[str, Any]], base_url: str) -> list[dict[str, Any]]:
    """Each product with a seller account gets that fake seller's registration page as its
    `fulfillment_url` (local/fake_seller.py), so Set up your account works out of the box."""
    from local.fake_seller import registration_url

    return [
        {**p, "fulfillment_url": registration_url(base_url, p["seller_account"])}
        if p.get("seller_account")
        else p
        for p in products
    ]


def seed_catalog(api: LocalApi, admin_token: str, fulfillment_base_url: str = "") -> list[str]:
    """Create every demo product through `POST /admin/products`; the ids created, in order.
    With `fulfillment_base_url` (the local server's), the products hand buyers over to the fake
    sellers served there."""
    products = demo_products()
    if fulfillment_base_url:
        products = with_fulfillment_urls(products, fulfillment_base_url)
    return [
        json.loads(_create(api, admin_token, "/admin/products", payload).body)["product"]["id"]
        for payload in products
    ]


def seed(
    api: LocalApi,
    admin_token: str,
    *,
    coupa_invoice_delivery: dict[str, Any] | None = None,
    fulfillment_base_url: str = "",
) -> list[dict[str, Any]]:
    """The demo accounts, their integrations (returned, for the server to print) and the demo
    catalog. With `coupa_invoice_delivery` (the local server passes its fake Coupa's), the demo
    Coupa integration sends its invoices there; with `fulfillment_base_url`, the products'
    fulfillment URLs are the fake sellers' registration pages there."""
    for account in DEMO_ACCOUNTS:
        _create(api, admin_token, "/admin/accounts", account)
    created = []
    for demo in DEMO_INTEGRATIONS:
        payload = dict(demo)
        if payload["system"] == "coupa" and coupa_invoice_delivery is not None:
            payload["invoice_delivery"] = coupa_invoice_delivery
        body = json.loads(_create(api, admin_token, "/admin/integrations", payload).body)
        created.append({"id": body["id"], "name": payload["name"], "system": payload["system"],
                        "account_id": payload["account_id"],
                        "purchase_information": body["purchase_information"]})  # fmt: skip
    seed_catalog(api, admin_token, fulfillment_base_url)
    return created
