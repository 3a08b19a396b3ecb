"""Fuzz: every JSON API (admin, metering and the seller APIs, Coupa Open Buy) with valid requests mutated in
structure and in bytes. Every answer is JSON, never a 5xx, never a trace, and a refused request
stores nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import NOW, World
from tests.fuzz.support import (
    Exchange,
    byte_mutations,
    exchange_and_check,
    fuzz_settings,
    mutated_json,
)
from tests.storefront_support import CONTRACT_PAYG, FREE_TRIAL
from tests.support import ADMIN_TOKEN, coupa_integration, seller_token

CUSTOMER = "111122223333"  # coupa_integration()'s account


@dataclass(frozen=True)
class JsonEndpoint:
    method: str
    path: Callable[[World], str]
    payload: Callable[[World], Any]
    token: Callable[[World], str | None]


def _admin(_: World) -> str:
    return ADMIN_TOKEN


def _seller(_: World) -> str:
    return seller_token("309876543210")


def _registration_token() -> str:
    """A genuine token (signed with the local link key) for a datastream-pro subscription."""
    import os

    from functions import registration

    return registration.issue(
        os.environ["LINK_SIGNING_KEY"].encode(), subscription_id="req-0123456789abcdef",
        account_id=CUSTOMER, product_id="datastream-pro", test=False, now=NOW,
    )  # fmt: skip


def _openbuy(world: World) -> str:
    return world.openbuy_token


ENDPOINTS = {
    "create integration": JsonEndpoint(
        "POST", lambda w: "/admin/integrations",
        lambda w: coupa_integration(buyer_identity={"domain": "DUNS", "identity": "fuzz"}), _admin,
    ),
    "edit integration": JsonEndpoint(
        "PATCH", lambda w: f"/admin/integrations/{w.coupa['id']}",
        lambda w: {"name": "Acme", "approval_redirect_url": "https://acme.example/r",
                   "test_mode": True}, _admin,
    ),
    "create product": JsonEndpoint(
        "POST", lambda w: "/admin/products", lambda w: {**CONTRACT_PAYG, "id": "fuzz-product"},
        _admin,
    ),
    "edit product": JsonEndpoint(
        "PATCH", lambda w: "/admin/products/sentinel-siem-trial",
        lambda w: {k: v for k, v in FREE_TRIAL.items() if k != "id"}, _admin,
    ),
    "billing run": JsonEndpoint(
        "POST", lambda w: "/admin/billing-runs", lambda w: {"period": "2026-10"}, _admin
    ),
    "meter usage": JsonEndpoint(
        "POST", lambda w: "/metering/batch-meter-usage",
        lambda w: {"ProductCode": "datastream-pro", "UsageRecords": [{
            "Timestamp": NOW.isoformat(),
            "CustomerIdentifier": CUSTOMER, "Dimension": "hours", "Quantity": 5}]},
        _seller,
    ),
    "resolve customer": JsonEndpoint(
        "POST", lambda w: "/marketplace/resolve-customer",
        lambda w: {"RegistrationToken": _registration_token()}, _seller,
    ),
    "get entitlements": JsonEndpoint(
        "POST", lambda w: "/marketplace/entitlements",
        lambda w: {"ProductCode": "datastream-pro", "MaxResults": 5, "Filter": {
            "CUSTOMER_IDENTIFIER": [CUSTOMER], "DIMENSION": ["annual"]}},
        _seller,
    ),
    "open buy login": JsonEndpoint(
        "POST", lambda w: "/openbuy/authentication/v1.0.0",
        lambda w: {"username": w.coupa["id"], "credentials": w.secret,
                   "email": "jim@acme.example"}, lambda w: None,
    ),
    "open buy search": JsonEndpoint(
        "POST", lambda w: "/openbuy/search/v1.0.0",
        lambda w: {"query": "siem", "page_number": 1}, _openbuy,
    ),
    "open buy detail": JsonEndpoint(
        "POST", lambda w: "/openbuy/detail/v1.0.0",
        lambda w: {"source_part_num": "datastream-pro"}, _openbuy,
    ),
    "open buy checkout": JsonEndpoint(
        "POST", lambda w: "/openbuy/checkout/v1.0.0",
        lambda w: {"source_part_num": "datastream-pro", "offer": "annual"}, _openbuy,
    ),
}  # fmt: skip
CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "text/plain", None]


def _send(world: World, name: str, body: bytes, content_type: str | None, token: bool) -> None:
    endpoint = ENDPOINTS[name]
    headers = [] if content_type is None else [("Content-Type", content_type)]
    bearer = endpoint.token(world)
    if token and bearer is not None:
        headers.append(("Authorization", f"Bearer {bearer}"))
    exchange = Exchange("json", endpoint.method, endpoint.path(world), "", headers, body)
    exchange_and_check(world.api, world.aws, exchange)


def test_every_unmutated_request_is_accepted(world: World) -> None:
    """The fuzz starts from requests the API accepts, so mutations reach past validation."""
    for name, endpoint in ENDPOINTS.items():
        body = json.dumps(endpoint.payload(world)).encode()
        exchange = Exchange("json", endpoint.method, endpoint.path(world), "",
                            [("Content-Type", "application/json")], body)  # fmt: skip
        if (bearer := endpoint.token(world)) is not None:
            exchange.headers.append(("Authorization", f"Bearer {bearer}"))
        exchange_and_check(world.api, world.aws, exchange)
        assert exchange.status < 300, f"{name}: {exchange}"


@fuzz_settings(examples=200)
@given(data=st.data())
def test_json_requests_mutated_in_structure(world: World, data: Any) -> None:
    name = data.draw(st.sampled_from(sorted(ENDPOINTS)), label="endpoint")
    body = data.draw(mutated_json(ENDPOINTS[name].payload(world)), label="body")
    content_type = data.draw(st.sampled_from(CONTENT_TYPES), label="content type")

    _send(world, name, body, content_type, token=data.draw(st.booleans() | st.just(True)))


@fuzz_settings(examples=100)
@given(data=st.data())
def test_json_requests_mutated_byte_by_byte(world: World, data: Any) -> None:
    name = data.draw(st.sampled_from(sorted(ENDPOINTS)), label="endpoint")
    original = json.dumps(ENDPOINTS[name].payload(world)).encode()
    body = data.draw(byte_mutations(original), label="body")

    _send(world, name, body, "application/json", token=True)


@fuzz_settings(examples=30)
@given(
    name=st.sampled_from(sorted(ENDPOINTS)),
    authorization=st.sampled_from(
        ["Bearer", "Bearer ", "Basic eA==", "Bearer " + "x" * 10_000, "Bearer \u00e9\u0000",
         "bearer test-admin-token-0123456789", "Bearer openbuy#x"]
    ),
)  # fmt: skip
def test_json_requests_with_hostile_credentials(
    world: World, name: str, authorization: str
) -> None:
    endpoint = ENDPOINTS[name]
    headers = [("Content-Type", "application/json"), ("Authorization", authorization)]
    body = json.dumps(endpoint.payload(world)).encode()
    exchange = Exchange("json", endpoint.method, endpoint.path(world), "", headers, body)
    exchange_and_check(world.api, world.aws, exchange)
