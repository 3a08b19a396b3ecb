"""GetEntitlements' read: one Query of the `entitlement#<product>` partition of the sparse
`lifecycle` index of the subscriptions table per page (functions/entitlements.py says what is
in it)."""

from __future__ import annotations

from typing import Any

from functions.entitlements import (
    EntitlementsQuery,
    PageStart,
    customer_prefix,
    entitlement_partition,
)
from functions.store.errors import storage_errors
from functions.store.models import SubscriptionRecord
from functions.store.subscriptions import subscription_of
from functions.subscriptions import Subscription


class DynamoEntitlements:
    def page(
        self, query: EntitlementsQuery, start: PageStart | None, seller: str | None
    ) -> tuple[list[Subscription], PageStart | None]:
        """At most `query.max_results` entitled subscriptions of the product, by customer, and
        where the next page starts; `seller` keeps only those it sold (None: all). Exactly one
        Query: with a filter, a page may hold fewer than MaxResults (even none) and still have
        a next one, as AWS's pages may."""
        partition = entitlement_partition(query.product_code)
        key_condition: Any = None
        filters: Any = None
        if seller is not None:
            filters = SubscriptionRecord.lifecycle_seller == seller
        if len(query.customers) == 1:
            key_condition = SubscriptionRecord.lifecycle_sort.startswith(
                customer_prefix(query.customers[0])
            )
        elif query.customers:
            by_customer = SubscriptionRecord.account_id.is_in(*query.customers)
            filters = by_customer if filters is None else filters & by_customer
        if query.dimensions:
            by_dimension = SubscriptionRecord.entitled_dimension.is_in(*query.dimensions)
            filters = by_dimension if filters is None else filters & by_dimension
        exclusive_start = None
        if start is not None:
            exclusive_start = {
                "pk": {"S": start.subscription_id},
                "lifecycle_key": {"S": partition},
                "lifecycle_sort": {"S": start.entitlement_key},
            }
        with storage_errors("reading the product's entitlements"):
            results = SubscriptionRecord.by_lifecycle.query(
                partition,
                range_key_condition=key_condition,
                filter_condition=filters,
                page_size=query.max_results,
                last_evaluated_key=exclusive_start,
            )
            raw = next(results.page_iter)
            last = results.page_iter.last_evaluated_key
        found = [
            subscription_of(SubscriptionRecord.from_raw_data(item)) for item in raw.get("Items", [])
        ]
        if not last:
            return found, None
        return found, PageStart(last["pk"]["S"], last["lifecycle_sort"]["S"])
