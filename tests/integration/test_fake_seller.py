"""The local fake seller (local/fake_seller.py, local/fake_seller_events.py): its registration
page trades the posted token for the customer through ResolveCustomer with the seller's bearer
token and shows who subscribed, or the error the API gave; its event log holds what the seller's
rule on the bus delivered, and only that seller's events. The seed points the demo products at
these registration pages."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from functions.clock import now
from functions.links import verify_subscriptions_link
from functions.registration import TOKEN_FIELD, issue
from functions.seller_events import DETAIL_TYPE, source_for
from local.fake_seller import PREFIX, FakeSeller, registration_url, seller_tokens
from local.fake_seller_events import RULE_PREFIX, EventPump, ensure_bus, subscribe
from local.seed import demo_products, seed, seed_catalog, with_fulfillment_urls
from local.simulator import BuyerAccount, BuyerState
from local.stack import HttpAnswer
from tests.support import ADMIN_TOKEN, BASE_URL, SELLER, admin, seller_token

OTHER_SELLER = "412345678901"  # sentinel-siem-trial's seller in local/demo_catalog.json
CUSTOMER = "111122223333"  # the demo Coupa account


def _link_key() -> bytes:
    return os.environ["LINK_SIGNING_KEY"].encode()


def _token(product: str = "datastream-pro", test: bool = True, **moved: Any) -> str:
    return issue(_link_key(), subscription_id="sub-1", account_id=CUSTOMER, product_id=product,
                 test=test, now=now() + timedelta(**moved))  # fmt: skip


def _form(token: str) -> bytes:
    return urlencode({TOKEN_FIELD: token}).encode()


class RecordingApi:
    """The real local API (ResolveCustomer included), keeping what the seller's server sent it."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.sent: list[tuple[str, str, dict[str, str], bytes]] = []

    def handle(self, method: str, path: str, query: str = "", headers: Any = (),
               body: bytes = b"", identity: Any = None) -> HttpAnswer:  # fmt: skip
        self.sent.append((method, path, dict(headers), body))
        answer: HttpAnswer = self.api.handle(method, path, query=query, headers=headers,
                                             body=body, identity=identity)  # fmt: skip
        return answer


@pytest.fixture
def contract(api: Any) -> RecordingApi:
    """The demo catalog (each product with its seller account) behind the real API."""
    seed_catalog(api, ADMIN_TOKEN)
    return RecordingApi(api)


@pytest.fixture
def seller(contract: RecordingApi) -> FakeSeller:
    return FakeSeller(contract, seller_tokens(os.environ["SELLER_TOKENS"]))  # type: ignore[arg-type]


def _json(seller: FakeSeller, name: str) -> list[dict[str, Any]]:
    answer = seller.handle("GET", f"{PREFIX}/{name}.json", b"")
    assert answer.status == 200
    return list(json.loads(answer.body))


# --- the registration page -----------------------------------------------------------------


def test_the_registration_page_resolves_the_token_with_the_sellers_token_and_welcomes_the_customer(
    seller: FakeSeller, contract: RecordingApi
) -> None:
    # Given a buyer's browser posting a fresh test-mode token for DataStream Pro
    token = _token("datastream-pro", test=True)
    # When it reaches DataStream Pro's seller's registration page
    answer = seller.handle("POST", f"{PREFIX}/{SELLER}/register", _form(token))

    # Then the seller's server called ResolveCustomer with its own bearer token and the token
    ((method, path, headers, body),) = contract.sent
    assert (method, path) == ("POST", "/marketplace/resolve-customer")
    assert headers["Authorization"] == f"Bearer {seller_token(SELLER)}"
    assert json.loads(body) == {"RegistrationToken": token}
    # And the page welcomes the customer: account, product, test
    assert answer.status == 200
    assert f"<title>Welcome, customer {CUSTOMER}" in answer.text
    assert f'<dd id="customer-identifier">{CUSTOMER}</dd>' in answer.text
    assert '<dd id="customer-product">datastream-pro</dd>' in answer.text
    assert '<dd id="customer-test">yes</dd>' in answer.text
    # And the seller's customer list has it, for that seller only
    (kept,) = _json(seller, "registrations")
    assert (kept["seller_account"], kept["customer_identifier"], kept["product_code"]) == (
        SELLER, CUSTOMER, "datastream-pro",
    )  # fmt: skip
    assert kept["test"] is True
    mine = seller.handle("GET", f"{PREFIX}/{SELLER}/registrations", b"").text
    assert 'class="customer-identifier">111122223333<' in mine
    theirs = seller.handle("GET", f"{PREFIX}/{OTHER_SELLER}/registrations", b"").text
    assert CUSTOMER not in theirs


@pytest.mark.parametrize(
    ("token", "name"),
    [
        (lambda: _token(hours=-2), "ExpiredTokenException"),
        (lambda: _token()[:-4] + "AAAA", "InvalidTokenException"),
        (lambda: _token("sentinel-siem-trial"), "InvalidTokenException"),  # another seller's
        (lambda: "", "InvalidTokenException"),
        (lambda: "<script>alert(1)</script>" * 50, "InvalidTokenException"),
    ],
    ids=["expired", "forged", "another-sellers", "empty", "hostile"],
)
def test_a_token_the_api_refuses_shows_the_apis_error_and_records_no_customer(
    seller: FakeSeller, token: Any, name: str
) -> None:
    # When the registration page gets a token the API will not resolve
    answer = seller.handle("POST", f"{PREFIX}/{SELLER}/register", _form(token()))

    # Then it shows the API's error, escaped, and welcomes nobody
    assert answer.status == 400
    assert f'<strong id="refusal-name">{name}</strong>' in answer.text
    assert "HTTP 400" in answer.text
    assert "<script>" not in answer.text
    assert "Welcome" not in answer.text
    assert _json(seller, "registrations") == []


def test_through_the_local_api_a_hostile_token_is_a_4xx_error_shown_never_a_crash(
    api: Any,
) -> None:
    # Given the fake seller calling the real local API (whatever it answers, as JSON)
    seller = FakeSeller(api, seller_tokens(os.environ["SELLER_TOKENS"]))
    # When a hostile form reaches the registration page
    body = urlencode({TOKEN_FIELD: "\u0000' OR 1=1 --<b>" * 40}).encode() + b"&%ZZ=%"
    answer = seller.handle("POST", f"{PREFIX}/{SELLER}/register", body)

    # Then the page shows the API's 4xx error, escaped, and no customer is recorded
    assert answer.status == 400
    assert 'role="alert" id="refusal-message">HTTP 4' in answer.text
    assert "<b>" not in answer.text
    assert _json(seller, "registrations") == []


def test_pages_other_than_a_demo_sellers_are_not_found_and_a_get_of_register_explains(
    seller: FakeSeller,
) -> None:
    assert seller.handle("GET", f"{PREFIX}/999999999999/events", b"").status == 404
    assert seller.handle("POST", f"{PREFIX}/{SELLER}/nothing", b"").status == 404
    refused = seller.handle("GET", f"{PREFIX}/{SELLER}/register", b"")
    assert refused.status == 405
    assert "Set up your account" in refused.text
    index = seller.handle("GET", PREFIX, b"")
    assert index.status == 200
    for account in seller.accounts:
        assert f'id="seller-{account}"' in index.text
        assert registration_url("", account) in index.text


# --- the event log ---------------------------------------------------------------------------


@pytest.fixture
def bus(tables: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The seller events' bus (created here only if missing) and the clients; the fake
    sellers' rules are removed afterwards (the queues go with the `tables` fixture)."""
    events = boto3.client("events", region_name="us-east-1")
    name = os.environ["EVENT_BUS_NAME"]
    ensure_bus(events, name)
    yield {"events": events, "sqs": tables["sqs"], "name": name}
    for rule in events.list_rules(EventBusName=name, NamePrefix=RULE_PREFIX)["Rules"]:
        events.remove_targets(Rule=rule["Name"], EventBusName=name, Ids=["fake-seller"])
        events.delete_rule(Name=rule["Name"], EventBusName=name)


def _publish(bus: dict[str, Any], account: str, action: str, customer: str) -> None:
    detail = {"action": action, "customer-identifier": customer, "product-code": "p",
              "test": True, "occurred-at": "2026-11-30T12:00:00Z"}  # fmt: skip
    answer = bus["events"].put_events(Entries=[{
        "Source": source_for(account), "DetailType": DETAIL_TYPE,
        "Detail": json.dumps(detail), "EventBusName": bus["name"],
    }])  # fmt: skip
    assert answer["FailedEntryCount"] == 0


def test_each_seller_receives_its_own_events_from_the_bus_through_its_rule_and_queue(
    seller: FakeSeller, bus: dict[str, Any]
) -> None:
    # Given each demo seller's rule on the bus and the pump
    queues = subscribe(bus["events"], bus["sqs"], bus["name"], seller.accounts)
    pump = EventPump(seller, bus["sqs"], queues)
    # When the marketplace publishes one event for each of two sellers
    _publish(bus, SELLER, "subscribe-success", CUSTOMER)
    _publish(bus, OTHER_SELLER, "unsubscribe-pending", "444455556666")
    moved = pump.pump_once()

    # Then each seller's log has exactly its own event, once
    assert moved == 2
    assert pump.pump_once() == 0
    logged = {(e["seller_account"], e["detail"]["action"]) for e in _json(seller, "events")}
    assert logged == {(SELLER, "subscribe-success"), (OTHER_SELLER, "unsubscribe-pending")}
    page = seller.handle("GET", f"{PREFIX}/{SELLER}/events", b"").text
    assert '<tr class="event" data-action="subscribe-success">' in page
    assert CUSTOMER in page and "444455556666" not in page
    assert f"<td>{source_for(SELLER)}</td>" in page


def test_a_message_that_is_not_an_event_is_kept_as_unreadable_and_pumping_goes_on(
    seller: FakeSeller, bus: dict[str, Any]
) -> None:
    queues = subscribe(bus["events"], bus["sqs"], bus["name"], [SELLER])
    bus["sqs"].send_message(QueueUrl=queues[SELLER], MessageBody="<not json>")
    bus["sqs"].send_message(QueueUrl=queues[SELLER], MessageBody='["a list"]')
    pump = EventPump(seller, bus["sqs"], queues)

    assert pump.pump_once() == 2
    kept = [e["detail"] for e in _json(seller, "events")]
    assert kept == [{"unreadable": "<not json>"}, {"unreadable": '["a list"]'}]
    page = seller.handle("GET", f"{PREFIX}/{SELLER}/events", b"")
    assert page.status == 200
    assert "Events received (2)" in page.text


# --- the seed and the simulator's link ----------------------------------------------------------


def test_the_seed_points_each_sellers_products_at_its_registration_page(api: Any) -> None:
    # Given the demo products pointed at their sellers' registration pages
    products = with_fulfillment_urls(demo_products(), "http://127.0.0.1:8080")
    expected = {p["id"]: registration_url("http://127.0.0.1:8080", p["seller_account"])
                for p in demo_products()}  # fmt: skip
    assert {p["id"]: p["fulfillment_url"] for p in products} == expected
    # When the local server seeds with its base URL, it succeeds through the admin API
    seed(api, ADMIN_TOKEN, fulfillment_base_url="http://127.0.0.1:8080")
    status, body = admin(api, "GET", "/admin/products/datastream-pro")
    assert status == 200
    assert body["product"]["fulfillment_url"] == expected["datastream-pro"]


def test_the_simulator_links_an_approved_requisition_to_the_accounts_signed_subscriptions_page(
) -> None:  # fmt: skip
    account = BuyerAccount(id="int-1", name="Demo", system="coupa", buyer_domain="DUNS",
                           buyer_identity="b", supplier_domain="NetworkID", supplier_identity="s",
                           shared_secret="x", account_id=CUSTOMER)  # fmt: skip
    buyer = BuyerState(api=None, base_url=BASE_URL, accounts=(account,))  # type: ignore[arg-type]

    link = buyer.subscriptions_link(account)

    path, _, query = link.partition("?")
    assert path == f"{BASE_URL}/subscriptions/{CUSTOMER}"
    params = dict(p.split("=", 1) for p in query.split("&"))
    assert verify_subscriptions_link(_link_key(), CUSTOMER, params["expires"],
                                     params["signature"], now())  # fmt: skip
    assert buyer.subscriptions_link(BuyerAccount(**{**account.__dict__, "account_id": ""})) == ""
