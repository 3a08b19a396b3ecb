"""Seller events (part C1 of issue 14): each subscription change announced to its seller is one
outbox item `event#...`, written in the transaction of the change, once: read back from the
outbox table after purchase orders, a pre-approval and the unsubscribe sweep."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.order_support import coupa_po, only_subscription, post_order, table_items
from tests.storefront_support import (
    CONTRACT_PAYG,
    FREE_AND_BYOL,
    cart_of,
    create_integration,
    create_products,
    post_form,
    punch_out,
)
from tests.support import coupa_integration

SELLER = "210987654321"
SUBSCRIBED_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def coupa(api: Any, clock: Any) -> dict[str, Any]:
    clock.freeze(SUBSCRIBED_AT)
    create_products(api, {**CONTRACT_PAYG, "seller_account": SELLER})
    return create_integration(api, coupa_integration(test_mode=False))


def _lines(api: Any, integration: dict[str, Any]) -> Any:
    session = punch_out(api, integration)
    form = {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "1000"}
    return cart_of(post_form(api, f"{session}/requests", form)).lines


def _events(tables: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The outbox's seller events, by key: what the notification worker will publish."""
    found = {}
    for item in table_items(tables, "outbox"):
        key = item["pk"]["S"]
        if key.startswith("event#"):
            assert item["template"]["S"] == "seller_event"
            assert item["status"]["S"] == "pending"
            assert json.loads(item["recipients"]["S"]) == []
            assert "expires_at" in item
            found[key] = json.loads(item["context"]["S"])
    return found


def _actions(tables: dict[str, Any]) -> list[str]:
    return sorted(event["detail"]["action"] for event in _events(tables).values())


def _sweep() -> dict[str, Any]:
    from functions.handlers.unsubscribe_sweep import handler
    from local.events import LambdaContext

    context: Any = LambdaContext("unsubscribe_sweep")  # what Powertools reads of Lambda's
    answer: dict[str, Any] = handler({}, context)
    return answer


# --- subscribe-success --------------------------------------------------------------------------


def test_a_po_activating_a_subscription_writes_one_subscribe_success(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    # Given a request of DataStream Pro, sold by seller account 210987654321
    lines = _lines(api, coupa)

    # When the PO approving both lines arrives
    answer = post_order(api, coupa_po(coupa, lines))

    # Then one subscribe-success names the customer, the product and the seller's source
    assert answer.code == 200
    subscription = only_subscription(tables)
    assert subscription["seller_account"] == SELLER
    key = f"event#{subscription['id']}#subscribe-success"
    assert list(_events(tables)) == [key]
    event = _events(tables)[key]
    assert event["source"] == f"procurement-gateway.{SELLER}"
    assert event["detail_type"] == "Marketplace Subscription Event"
    assert event["detail"] == {
        "action": "subscribe-success",
        "customer-identifier": "111122223333",
        "product-code": "datastream-pro",
        "offer-identifier": "annual",
        "isFreeTrialTermPresent": "false",
        "subscription-id": subscription["id"],
        "test": False,
        "occurred-at": SUBSCRIBED_AT.isoformat(),
    }


def test_the_same_po_retried_writes_nothing_new(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    document = coupa_po(coupa, _lines(api, coupa), payload_id="p-again@coupa")
    post_order(api, document)

    again = post_order(api, document)

    assert again.code == 200
    assert _actions(tables) == ["subscribe-success"]


def test_concurrent_duplicates_write_one_subscribe_success(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], atomic_moto: None
) -> None:
    from functions.handlers.orders_api import receive_order

    document = coupa_po(coupa, _lines(api, coupa), payload_id="p-storm@coupa").encode()
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def send() -> None:
        start.wait()
        try:
            receive_order(document, "https://gateway.test")
        except BaseException as exc:
            errors.append(exc)

    _run_all([send] * 8)

    assert errors == []
    assert _actions(tables) == ["subscribe-success"]


def test_contract_payg_approved_by_two_pos_announces_once_at_the_second(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    contract, usage = _lines(api, coupa)

    post_order(api, coupa_po(coupa, [contract], order_id="PO-A"))
    assert _events(tables) == {}, "pending: nothing to announce yet"
    post_order(api, coupa_po(coupa, [usage], order_id="PO-B", line_numbers=[1]))

    assert only_subscription(tables)["state"] == "active"
    assert _actions(tables) == ["subscribe-success"]


def test_a_preapproved_free_offer_writes_one_subscribe_success(
    api: Any, tables: dict[str, Any], clock: Any
) -> None:
    # Given an integration pre-approving free offers, and a product with no seller account
    clock.freeze(SUBSCRIBED_AT)
    create_products(api, FREE_AND_BYOL)
    trusting = create_integration(
        api, coupa_integration(name="Trusting", preapprove_free=True, test_mode=False)
    )
    session = punch_out(api, trusting)

    # When the buyer subscribes, then presses Subscribe again
    form = {"product_id": "open-notes", "offer_id": "free"}
    first = post_form(api, f"{session}/requests", form)
    post_form(api, f"{session}/requests", form)

    # Then one subscribe-success, from the marketplace's own source
    assert first.status == 200
    (event,) = _events(tables).values()
    assert event["source"] == "procurement-gateway.marketplace"
    assert event["detail"]["action"] == "subscribe-success"
    assert event["detail"]["product-code"] == "open-notes"


def test_test_mode_subscriptions_get_events_marked_test(
    api: Any, tables: dict[str, Any], clock: Any
) -> None:
    clock.freeze(SUBSCRIBED_AT)
    create_products(api, {**CONTRACT_PAYG, "seller_account": SELLER})
    integration = create_integration(api, coupa_integration())  # test mode by default

    post_order(api, coupa_po(integration, _lines(api, integration)))

    (event,) = _events(tables).values()
    assert event["detail"]["action"] == "subscribe-success"
    assert event["detail"]["test"] is True


def test_a_refused_po_writes_no_event(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    lines = _lines(api, coupa)

    answer = post_order(api, coupa_po(coupa, lines, prices={0: "1.00"}))

    assert answer.code == 409
    assert _events(tables) == {}


# --- subscribe-fail, unsubscribe-pending ----------------------------------------------------


def test_deleting_the_po_of_a_pending_subscription_writes_subscribe_fail(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    contract, _ = _lines(api, coupa)
    post_order(api, coupa_po(coupa, [contract], order_id="PO-A"))
    delete = coupa_po(coupa, [contract], order_id="PO-A", order_type="delete", version=2)

    post_order(api, delete)
    post_order(api, delete)  # retried

    assert only_subscription(tables)["state"] == "withdrawn"
    assert _actions(tables) == ["subscribe-fail"]


def test_deleting_the_po_of_an_active_subscription_writes_unsubscribe_pending(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    lines = _lines(api, coupa)
    post_order(api, coupa_po(coupa, lines))

    post_order(api, coupa_po(coupa, lines, order_type="delete", version=2))

    assert only_subscription(tables)["state"] == "cancelled"
    assert _actions(tables) == ["subscribe-success", "unsubscribe-pending"]


def test_an_update_taking_a_line_away_writes_unsubscribe_pending(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    contract, usage = _lines(api, coupa)
    post_order(api, coupa_po(coupa, [contract, usage]))

    post_order(api, coupa_po(coupa, [contract], order_type="update", version=2))

    assert only_subscription(tables)["state"] == "cancelled"
    assert _actions(tables) == ["subscribe-success", "unsubscribe-pending"]


# --- entitlement-updated --------------------------------------------------------------------


def test_an_update_changing_an_approved_quantity_writes_one_event_per_version(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    # Given an active subscription
    lines = _lines(api, coupa)
    post_order(api, coupa_po(coupa, lines))
    subscription_id = only_subscription(tables)["id"]

    # When version 2 raises the usage budget, is retried, and version 3 changes nothing
    update = coupa_po(coupa, lines, order_type="update", version=2, quantities={1: "2500"})
    post_order(api, update)
    post_order(api, update)
    post_order(api, coupa_po(coupa, lines, order_type="update", version=3, quantities={1: "2500"}))
    # and version 4 lowers it again
    post_order(api, coupa_po(coupa, lines, order_type="update", version=4, quantities={1: "900"}))

    # Then one entitlement-updated for each version that changed it
    keys = sorted(k for k in _events(tables) if k.endswith(("#v2", "#v3", "#v4")))
    assert keys == [
        f"event#{subscription_id}#entitlement-updated#PO-1001#v2",
        f"event#{subscription_id}#entitlement-updated#PO-1001#v4",
    ]
    assert only_subscription(tables)["state"] == "active"


# --- unsubscribe-success: the sweep ---------------------------------------------------------


def _cancelled(api: Any, tables: dict[str, Any], coupa: dict[str, Any], clock: Any) -> datetime:
    lines = _lines(api, coupa)
    post_order(api, coupa_po(coupa, lines))
    cancelled_at = SUBSCRIBED_AT + timedelta(days=3)
    clock.freeze(cancelled_at)
    post_order(api, coupa_po(coupa, lines, order_type="delete", version=2))
    return cancelled_at


def test_the_sweep_announces_unsubscribe_success_once_the_metering_window_closed(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], clock: Any
) -> None:
    # Given a subscription cancelled at T
    cancelled_at = _cancelled(api, tables, coupa, clock)

    # When the sweep runs just before T + 6 h: usage may still arrive
    clock.freeze(cancelled_at + timedelta(hours=6) - timedelta(seconds=1))
    early = _sweep()
    assert early["announced"] == [] and "unsubscribe-success" not in _actions(tables)

    # When it runs once the window has closed, and again an hour later
    clock.freeze(cancelled_at + timedelta(hours=6, minutes=20))
    on_time = _sweep()
    clock.advance(timedelta(hours=1))
    later = _sweep()

    # Then one unsubscribe-success, and the subscription says when
    subscription = only_subscription(tables)
    assert on_time["announced"] == [subscription["id"]] and later["announced"] == []
    assert _actions(tables) == ["subscribe-success", "unsubscribe-pending", "unsubscribe-success"]
    assert subscription["state"] == "cancelled"
    assert (
        subscription["unsubscribed_at"]
        == (cancelled_at + timedelta(hours=6, minutes=20)).isoformat()
    )


def test_concurrent_sweeps_announce_once(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], clock: Any, atomic_moto: None
) -> None:
    cancelled_at = _cancelled(api, tables, coupa, clock)
    clock.freeze(cancelled_at + timedelta(hours=7))
    answers: list[dict[str, Any]] = []
    start = threading.Barrier(4)

    def sweep() -> None:
        start.wait()
        answers.append(_sweep())

    _run_all([sweep] * 4)

    assert sum(len(a["announced"]) for a in answers) == 1
    assert _actions(tables).count("unsubscribe-success") == 1


def _run_all(jobs: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)


def test_the_po_still_costs_one_read_and_one_transaction_with_its_event(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.client

    lines = _lines(api, coupa)
    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def counted(self: Any, operation: str, params: Any) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            calls.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counted)

    answer = post_order(api, coupa_po(coupa, lines))
    made = list(calls)  # before the test's own reads

    assert made == ["BatchGetItem", "TransactWriteItems"]
    assert answer.code == 200 and _actions(tables) == ["subscribe-success"]


def test_the_local_stack_sweeps_too(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], clock: Any
) -> None:
    from local.outbox import sweep_unsubscribes

    cancelled_at = _cancelled(api, tables, coupa, clock)
    clock.freeze(cancelled_at + timedelta(hours=6))

    sweep_unsubscribes()

    assert "unsubscribe-success" in _actions(tables)
