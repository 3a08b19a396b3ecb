"""Metering, pure: the product a batch names, who may meter which product, which subscription
a record lands on, and the per-record results (the batch as sent: test_metering_input.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions import metering
from functions.catalog import Product
from functions.catalog_input import product_from_json
from functions.errors import BadRequest, Forbidden
from functions.metering import (
    DUPLICATE,
    NOT_SUBSCRIBED,
    SUCCESS,
    Caller,
    HourlyUsage,
    Recorded,
)
from functions.metering_input import UsageRecord, parse_batch
from functions.subscriptions import PREAPPROVED_ORDER, Subscription
from tests.billing_support import approval, subscription
from tests.metering_support import CUSTOMER, NOW, usage_batch, usage_record
from tests.storefront_support import CONTRACT_PAYG
from tests.support import SELLER


def _product(**overrides: Any) -> Product:
    return product_from_json({**CONTRACT_PAYG, "seller_account": SELLER, **overrides})


class Products:
    def __init__(self, *products: Product) -> None:
        self.products = {p.id: p for p in products}

    def get(self, product_id: str) -> Product | None:
        return self.products.get(product_id)


class Subscriptions:
    def __init__(self, *subscriptions: Subscription) -> None:
        self.subscriptions = subscriptions
        self.queried: list[str] = []

    def of_account_product(self, account_id: str, product_id: str) -> list[Subscription]:
        self.queried.append(account_id)
        return [
            s
            for s in self.subscriptions
            if s.account_id == account_id and s.product_id == product_id
        ]


class Usage:
    """An in-memory usage store with the real one's contract: one item per key, never replaced."""

    def __init__(self) -> None:
        self.hours: dict[tuple[str, str, datetime], HourlyUsage] = {}
        self.writes = 0

    def record(self, usage: HourlyUsage) -> Recorded:
        self.writes += 1
        stored = self.hours.setdefault((usage.subscription_id, usage.dimension, usage.hour), usage)
        return Recorded(stored.metering_record_id, stored.quantity)


ADMIN = Caller(admin=True)


def _meter(
    payload: Any, *subscriptions: Subscription, usage: Usage | None = None, caller: Caller = ADMIN
) -> dict[str, Any]:
    return metering.batch_meter_usage(
        payload,
        caller,
        NOW,
        products=Products(_product()),
        subscriptions=Subscriptions(*subscriptions),
        usage=usage if usage is not None else Usage(),
    )


# --- the product ------------------------------------------------------------------------------


def test_an_unknown_product_is_400_naming_it() -> None:
    with pytest.raises(BadRequest) as refused:
        _meter(usage_batch(product="no-such-product"))
    assert "'no-such-product'" in refused.value.message and refused.value.field == "ProductCode"


def test_a_dimension_the_product_does_not_price_is_400_naming_it() -> None:
    with pytest.raises(BadRequest) as refused:
        _meter(usage_batch(usage_record(), usage_record(Dimension="gigabytes")))
    assert "'gigabytes'" in refused.value.message and "hours" in refused.value.message
    assert refused.value.field == "UsageRecords[1].Dimension"


# --- who may meter ----------------------------------------------------------------------------


def test_tokens_name_the_admin_or_a_seller_and_nothing_else() -> None:
    sellers = (("309876543210", "seller-a-token"), ("210987654321", "seller-b-token"))

    assert metering.caller_from_token("admin-token", "admin-token", sellers) == Caller(admin=True)
    assert metering.caller_from_token("seller-b-token", "admin-token", sellers) == Caller(
        seller_account="210987654321"
    )
    assert metering.caller_from_token("guess", "admin-token", sellers) is None
    assert metering.caller_from_token("guess", None, ()) is None


def test_iam_the_apis_own_account_is_the_marketplace_any_other_a_seller() -> None:
    api_account = "123456789012"
    assert metering.caller_from_iam(api_account, api_account) == Caller(admin=True)
    assert metering.caller_from_iam(SELLER, api_account) == Caller(seller_account=SELLER)
    with pytest.raises(Forbidden, match="IAM"):
        metering.caller_from_iam(None, api_account)


def test_a_seller_meters_only_its_own_products() -> None:
    product = _product()
    metering.authorize(Caller(seller_account=SELLER), product)
    metering.authorize(Caller(admin=True), product)
    metering.authorize(Caller(admin=True), _product(seller_account=""))

    with pytest.raises(Forbidden, match="not the seller of product 'datastream-pro'"):
        metering.authorize(Caller(seller_account="210987654321"), product)
    with pytest.raises(Forbidden):
        metering.authorize(Caller(seller_account=""), _product(seller_account=""))


def test_a_seller_meters_nothing_of_another_seller_even_with_a_valid_batch() -> None:
    usage = Usage()
    with pytest.raises(Forbidden):
        _meter(usage_batch(), subscription(), usage=usage, caller=Caller(seller_account="2109"))
    assert usage.writes == 0


# --- which subscription a record lands on -----------------------------------------------------


def _one(**overrides: Any) -> UsageRecord:
    (record,) = parse_batch(usage_batch(usage_record(**overrides)), NOW).records
    return record


def test_an_active_subscription_with_a_po_approved_usage_line_is_meterable() -> None:
    record = _one()
    assert metering.meterable(subscription(), "datastream-pro", record)
    assert metering.meterable(subscription(test=True), "datastream-pro", record)


def test_a_cancelled_subscription_is_meterable_for_usage_before_its_cancellation() -> None:
    cancelled = subscription(state="cancelled", cancelled_at="2026-11-26T12:00:00+00:00")

    assert metering.meterable(cancelled, "datastream-pro", _one(Timestamp="2026-11-26T11:59:59Z"))
    assert not metering.meterable(
        cancelled, "datastream-pro", _one(Timestamp="2026-11-26T12:00:00Z")
    )


@pytest.mark.parametrize(
    "subscription",
    [
        subscription(state="pending"),
        subscription(state="withdrawn"),
        subscription(product_id="other-product"),
        subscription(rates={"queries": {"name": "Queries", "unit": "EA", "unit_price": "1"}}),
        subscription(lines=subscription().lines[:1]),  # contract only
        subscription(lines=(replace(subscription().lines[1], approval=None),)),
        subscription(
            lines=(
                replace(
                    subscription().lines[1],
                    approval=approval(1, "1000", order_id=PREAPPROVED_ORDER),
                ),
            )
        ),
    ],
    ids=[
        "pending",
        "withdrawn",
        "other-product",
        "other-dimension",
        "no-usage-line",
        "usage-not-approved",
        "preapproved",
    ],
)
def test_subscriptions_that_cannot_be_metered(subscription: Subscription) -> None:
    assert not metering.meterable(subscription, "datastream-pro", _one())


def test_real_before_test_then_the_oldest_so_a_retry_lands_where_the_first_did() -> None:
    old = subscription(id="req-old", created_at="2026-10-01T00:00:00+00:00")
    new = subscription(id="req-new", created_at="2026-11-20T00:00:00+00:00")
    test = subscription(id="req-test", test=True, created_at="2026-09-01T00:00:00+00:00")
    record = _one()

    assert metering.subscription_for([new, test, old], "datastream-pro", record) == old
    assert metering.subscription_for([test], "datastream-pro", record) == test
    assert metering.subscription_for([], "datastream-pro", record) is None


def test_the_metering_record_id_is_derived_from_subscription_dimension_and_hour() -> None:
    hour = datetime(2026, 11, 26, 12, tzinfo=UTC)
    first = metering.metering_record_id("req-1", "hours", hour)

    assert first == metering.metering_record_id("req-1", "hours", hour)
    assert first != metering.metering_record_id("req-1", "hours", hour + timedelta(hours=1))
    assert len(first) == 36 and first.count("-") == 4


# --- the results ------------------------------------------------------------------------------


def test_results_in_order_success_duplicate_and_not_subscribed() -> None:
    usage = Usage()
    other = "444455556666"
    payload = usage_batch(
        usage_record(Quantity=5),
        usage_record(Quantity=5, Timestamp="2026-11-26T12:45:00Z"),  # the same hour, again
        usage_record(Quantity=6),  # the same hour, another quantity
        usage_record(CustomerIdentifier=other),
        usage_record(Quantity=7, Timestamp="2026-11-26T11:00:00Z"),
    )
    subscriptions = Subscriptions(subscription())

    answer = metering.batch_meter_usage(
        payload,
        Caller(admin=True),
        NOW,
        products=Products(_product()),
        subscriptions=subscriptions,
        usage=usage,
    )

    statuses = [r["Status"] for r in answer["Results"]]
    assert statuses == [SUCCESS, SUCCESS, DUPLICATE, NOT_SUBSCRIBED, SUCCESS]
    assert [r["UsageRecord"] for r in answer["Results"]] == payload["UsageRecords"]
    ids = [r.get("MeteringRecordId") for r in answer["Results"]]
    assert ids[0] == ids[1] == ids[2] and ids[3] is None and ids[4] not in ids[:4]
    assert answer["UnprocessedRecords"] == []
    assert usage.writes == 2, "repeats within one batch are answered without another write"
    assert subscriptions.queried == [CUSTOMER, other], "one lookup per distinct customer"


def test_a_duplicate_of_an_earlier_batch_keeps_the_first_quantity() -> None:
    usage = Usage()
    _meter(usage_batch(usage_record(Quantity=5)), subscription(), usage=usage)

    again = _meter(usage_batch(usage_record(Quantity=5)), subscription(), usage=usage)
    other = _meter(usage_batch(usage_record(Quantity=9)), subscription(), usage=usage)

    assert again["Results"][0]["Status"] == SUCCESS
    assert other["Results"][0]["Status"] == DUPLICATE
    (stored,) = usage.hours.values()
    assert stored.quantity == 5 and stored.period == "2026-11"


def test_one_bad_timestamp_writes_nothing_of_the_batch() -> None:
    usage = Usage()
    too_old = (NOW - timedelta(hours=7)).isoformat()

    with pytest.raises(BadRequest):
        _meter(
            usage_batch(usage_record(), usage_record(Timestamp=too_old)),
            subscription(),
            usage=usage,
        )

    assert usage.writes == 0
