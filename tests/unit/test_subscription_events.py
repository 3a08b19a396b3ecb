"""When a subscription change is announced to its seller (functions/subscription_events.py),
the seller-account snapshot a subscription carries, and the unsubscribe sweep over an
in-memory port (functions/unsubscribes.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from functions.seller_events import SellerEvent
from functions.subscription_events import events_for, unsubscribed, window_closes_at
from functions.subscription_requests import CartLine, SubscriptionRequest
from functions.subscriptions import (
    ACTIVE,
    CANCELLED,
    LineApproval,
    Subscription,
    end,
    from_request,
    preapproved,
    settle,
    with_approvals,
)
from functions.unsubscribes import sweep

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _request(seller_account: str = "210987654321") -> SubscriptionRequest:
    line = CartLine(1, "contract", "ds/annual", "req-0000000000000001-1", Decimal(1),
                    Decimal("15000.00"), "USD", "ANN", "43232300", "DataStream Pro", "DS")  # fmt: skip
    return SubscriptionRequest(
        id="req-0000000000000001", integration_id="int_1", product_id="datastream-pro",
        offer_id="annual", product_name="DataStream Pro", offer_name="Annual",
        pricing_model="contract", currency="USD", lines=(line,), state="in_cart",
        seller_account=seller_account,
    )  # fmt: skip


def _approval(order_id: str = "PO-1", version: int = 1, quantity: str = "1") -> LineApproval:
    return LineApproval(order_id, "p@c", 1, Decimal(quantity), version, "2026-11-02T09:00:00+00:00")


def _pending() -> Subscription:
    return from_request(_request(), "Acme Coupa", "111122223333", False, NOW)


def _active(**approval: str | int) -> Subscription:
    subscription = with_approvals(_pending(), {"req-0000000000000001-1": _approval(**approval)})  # type: ignore[arg-type]
    return settle(subscription, NOW)[0]


def _actions(events: tuple[SellerEvent, ...]) -> list[str]:
    return [event.detail["action"] for event in events]


def test_a_subscription_keeps_the_products_seller_account_from_its_request() -> None:
    assert _pending().seller_account == "210987654321"
    assert preapproved(_request(""), "Acme Coupa", "1111", False, NOW).seller_account == "", (
        "a product with no seller account: the marketplace's own source"
    )


def test_pending_to_active_is_subscribe_success_and_a_new_pending_one_is_nothing() -> None:
    (event,) = events_for(None, _active(), NOW, order_id="PO-1", order_version=1)

    assert event.key == "event#req-0000000000000001#subscribe-success"
    assert event.source == "procurement-gateway.210987654321"
    assert events_for(None, _pending(), NOW, order_id="PO-1") == ()


def test_withdrawn_is_subscribe_fail_and_cancelled_is_unsubscribe_pending() -> None:
    withdrawn, _ = end(_pending(), NOW)
    cancelled, _ = end(_active(), NOW)

    assert _actions(events_for(_pending(), withdrawn, NOW)) == ["subscribe-fail"]
    assert _actions(events_for(_active(), cancelled, NOW)) == ["unsubscribe-pending"]
    assert events_for(cancelled, end(cancelled, NOW)[0], NOW) == (), "ended stays ended"


def test_an_entitlement_change_is_named_by_the_po_version_and_a_mere_new_version_is_nothing() -> (
    None
):
    before = _active()
    more = _active(version=2, quantity="2")
    same = _active(version=2, quantity="1.00")

    (event,) = events_for(before, more, NOW, order_id="PO-1", order_version=2)

    assert event.key == "event#req-0000000000000001#entitlement-updated#PO-1#v2"
    assert events_for(before, same, NOW, order_id="PO-1", order_version=2) == ()


def test_the_window_closes_six_hours_after_the_cancellation_and_only_until_announced() -> None:
    cancelled, _ = end(_active(), NOW)

    assert window_closes_at(cancelled) == "2026-11-02T15:00:00+00:00"
    assert window_closes_at(_active()) == ""
    marked, event = unsubscribed(cancelled, NOW + timedelta(hours=7))
    assert window_closes_at(marked) == "" and marked.state == CANCELLED
    assert event.detail["action"] == "unsubscribe-success"


def test_old_subscriptions_without_the_new_fields_read_as_empty() -> None:
    from functions.store.models import SubscriptionRecord
    from functions.store.subscriptions import subscription_json, subscription_of

    document = subscription_json(_active())
    del document["seller_account"], document["unsubscribed_at"]
    record = SubscriptionRecord("req-0000000000000001", document=document, version=3)

    found = subscription_of(record)

    assert (found.seller_account, found.unsubscribed_at, found.state) == ("", "", ACTIVE)


class _Port:
    """The sweep's port in memory: a version-checked write, like the DynamoDB one."""

    def __init__(self, *subscriptions: Subscription) -> None:
        self.stored = {s.id: s for s in subscriptions}
        self.events: list[SellerEvent] = []

    def closed_by(self, moment: str, page_size: int) -> list[Subscription]:
        return [s for s in self.stored.values() if "" < window_closes_at(s) <= moment]

    def mark_unsubscribed(
        self, before: Subscription, after: Subscription, event: SellerEvent, now: datetime
    ) -> bool:
        if self.stored[before.id].version != before.version:
            return False
        self.stored[before.id] = replace(after, version=before.version + 1)
        self.events.append(event)
        return True


def test_the_sweep_announces_each_closed_window_once() -> None:
    cancelled, _ = end(_active(), NOW)
    port = _Port(replace(cancelled, version=2))

    early = sweep(port, NOW + timedelta(hours=5))
    first = sweep(port, NOW + timedelta(hours=6))
    second = sweep(port, NOW + timedelta(hours=7))

    assert (early.announced, second.announced) == ((), ())
    assert first.announced == ("req-0000000000000001",)
    assert [e.key for e in port.events] == ["event#req-0000000000000001#unsubscribe-success"]
