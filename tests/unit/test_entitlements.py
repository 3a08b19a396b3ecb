"""Entitlements and the seller APIs' rules, in memory: which subscriptions are entitled, the
answer's shape, NextTokens, and who may ask."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from functions import entitlements, seller_api
from functions.catalog import Product
from functions.entitlements import EntitlementsQuery, PageStart
from functions.errors import MarketplaceError
from functions.metering import Caller
from functions.store.subscriptions import subscription_record
from functions.subscriptions import CANCELLED, PENDING, Subscription
from tests.billing_support import subscription

KEY = b"link-signing-key-for-tests"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SELLER = Caller(seller_account="309876543210")
QUERY = EntitlementsQuery("datastream-pro", (), (), 1, None)


def _active() -> Subscription:
    return replace(subscription(), activated_at="2026-10-01T00:00:00+00:00")


def test_only_an_active_subscription_with_an_approved_contract_line_is_indexed() -> None:
    active = replace(_active(), seller_account=SELLER.seller_account)
    record = subscription_record(active)

    assert entitlements.index_entry(active) == (
        f"entitlement#{active.product_id}",
        f"{active.account_id}#{active.id}",
        active.offer_id,
        SELLER.seller_account,
    )
    assert (record.lifecycle_key, record.lifecycle_seller) == (
        f"entitlement#{active.product_id}", SELLER.seller_account,
    )  # fmt: skip
    for ended in (replace(active, state=CANCELLED), replace(active, state=PENDING)):
        assert entitlements.index_entry(ended) is None
        assert not (subscription_record(ended).lifecycle_key or "").startswith("entitlement#")
    usage_only = replace(active, lines=tuple(x for x in active.lines if x.kind != "contract"))
    assert entitlements.index_entry(usage_only) is None


def test_one_lifecycle_index_holds_entitled_and_unsubscribing_subscriptions_apart() -> None:
    # Given one subscription active, then cancelled, then announced unsubscribed
    active = replace(_active(), seller_account=SELLER.seller_account)
    cancelled = replace(active, state=CANCELLED, cancelled_at="2026-11-02T09:00:00+00:00")
    announced = replace(cancelled, unsubscribed_at="2026-11-02T16:00:00+00:00")

    # When each is stored, Then it is in the index at most once, under its state's partition
    records = [subscription_record(s) for s in (active, cancelled, announced)]

    assert [(r.lifecycle_key, r.lifecycle_sort) for r in records] == [
        (f"entitlement#{active.product_id}", f"{active.account_id}#{active.id}"),
        ("unsubscribing", "2026-11-02T15:00:00+00:00"),
        (None, None),
    ]
    assert [r.lifecycle_seller for r in records] == [SELLER.seller_account, None, None]
    assert [r.entitled_dimension for r in records] == [active.offer_id, None, None]


def test_an_entitlement_reads_as_get_entitlements_shows_it() -> None:
    active = _active()

    assert entitlements.entitlement_json(replace(active, test=True)) == {
        "ProductCode": active.product_id,
        "Dimension": active.offer_id,
        "CustomerIdentifier": active.account_id,
        "CustomerAWSAccountId": active.account_id,
        "Value": {"IntegerValue": 1},
        "ExpirationDate": active.contract_ends_at,
        "Test": True,
    }
    assert entitlements._value(Decimal("1.5")) == {"StringValue": "1.5"}


def test_a_next_token_round_trips_only_for_its_caller_product_and_filter() -> None:
    start = PageStart("req-1", "111122223333#req-1")
    query = QUERY._replace(next_token=entitlements.next_token(KEY, "seller:1", QUERY, start, NOW))

    assert entitlements.page_start(KEY, "seller:1", query, NOW) == start
    assert entitlements.page_start(KEY, "seller:1", query._replace(max_results=5), NOW) == start
    for caller, other in (
        ("seller:2", query),
        ("seller:1", query._replace(product_code="other")),
        ("seller:1", query._replace(dimensions=("annual",))),
    ):
        with pytest.raises(MarketplaceError) as refused:
            entitlements.page_start(KEY, caller, other, NOW)
        assert refused.value.code == "InvalidParameterException"
    with pytest.raises(MarketplaceError, match="expired"):
        entitlements.page_start(KEY, "seller:1", query, NOW + entitlements.NEXT_TOKEN_LIFETIME)
    with pytest.raises(MarketplaceError):
        entitlements.page_start(b"another key", "seller:1", query, NOW)


class _Products:
    def __init__(self, *products: Product) -> None:
        self._products = {p.id: p for p in products}

    def get(self, product_id: str) -> Product | None:
        return self._products.get(product_id)


def _product(seller: str) -> Product:
    return Product("datastream-pro", "DataStream Pro", "Streamline", "", "", "saas", (),
                   seller_account=seller)  # fmt: skip


def test_a_seller_asks_only_about_its_own_products_the_admin_about_any() -> None:
    assert seller_api.sells(SELLER, _product("309876543210"))
    assert not seller_api.sells(SELLER, _product("210987654321"))
    assert not seller_api.sells(SELLER, _product(""))
    assert not seller_api.sells(SELLER, None)
    assert seller_api.sells(Caller(admin=True), _product(""))


class _Pages:
    def __init__(self) -> None:
        self.asked: list[tuple[PageStart | None, str | None]] = []

    def page(
        self, query: EntitlementsQuery, start: PageStart | None, seller: str | None
    ) -> tuple[list[Subscription], PageStart | None]:
        self.asked.append((start, seller))
        return [_active()], PageStart("req-9", "1#req-9") if start is None else None


def test_every_page_is_the_index_alone_filtered_to_the_sellers_own() -> None:
    pages = _Pages()

    ask = {"pages": pages, "link_key": KEY}
    first = seller_api.get_entitlements({"ProductCode": "datastream-pro"}, SELLER, NOW, **ask)
    body = {"ProductCode": "datastream-pro", "NextToken": first["NextToken"]}
    second = seller_api.get_entitlements(body, SELLER, NOW + timedelta(minutes=1), **ask)
    seller_api.get_entitlements({"ProductCode": "datastream-pro"}, Caller(admin=True), NOW, **ask)

    assert pages.asked == [
        (None, SELLER.seller_account),
        (PageStart("req-9", "1#req-9"), SELLER.seller_account),
        (None, None),  # the admin: every seller's
    ]
    assert "NextToken" not in second and len(second["Entitlements"]) == 1


def test_a_caller_neither_admin_nor_seller_is_refused_without_a_read() -> None:
    pages = _Pages()

    with pytest.raises(MarketplaceError) as refused:
        seller_api.get_entitlements(
            {"ProductCode": "datastream-pro"}, Caller(), NOW, pages=pages, link_key=KEY
        )

    assert (refused.value.code, pages.asked) == ("AccessDeniedException", [])
