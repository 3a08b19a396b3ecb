"""Subscriptions in DynamoDB: one item per subscription, keyed by its request's id; an
account's subscriptions are one Query on the sparse-free `by-account` index."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from functions import contracts
from functions.entitlements import index_entry
from functions.instalments import has_instalments
from functions.parties import address_of
from functions.sessions import Requester
from functions.store.batch import connection_of
from functions.store.errors import storage_errors
from functions.store.models import SubscriptionRecord
from functions.subscription_events import events_for, window_closes_at
from functions.subscriptions import (
    LineApproval,
    Mail,
    Subscription,
    SubscriptionLine,
    invoiced_line,
)


def subscription_json(subscription: Subscription) -> dict[str, Any]:
    data = asdict(subscription)
    for line in data["lines"]:
        line["unit_price"] = str(line["unit_price"])
        line["requested_quantity"] = str(line["requested_quantity"])
        if line["approval"]:
            line["approval"]["quantity"] = str(line["approval"]["quantity"])
    return data


def subscription_of(record: SubscriptionRecord) -> Subscription:
    data = dict(record.document)
    lines = []
    for raw in data["lines"]:
        line = dict(raw)
        line["unit_price"] = Decimal(line["unit_price"])
        line["requested_quantity"] = Decimal(line["requested_quantity"])
        approval = line.get("approval")
        if approval:
            line["approval"] = LineApproval(
                **{**approval, "quantity": Decimal(approval["quantity"]),
                   "bill_to": address_of(approval.get("bill_to"))}
            )  # fmt: skip
        lines.append(SubscriptionLine(**line))
    data["lines"] = tuple(lines)
    data["requester"] = Requester(**data.get("requester", {}))
    data["version"] = int(record.version)
    return Subscription(**data)


PAGE_SIZE = 25
"""Subscriptions per "Your subscriptions" page."""


class SubscriptionsCursor(NamedTuple):
    """Where a page of "Your subscriptions" starts: after (`next`) or before (`previous`) the
    subscription named, in the account's newest-first order."""

    direction: str
    created_at: str
    subscription_id: str


class SubscriptionsPage(NamedTuple):
    subscriptions: tuple[Subscription, ...]
    more_before: bool  # newer subscriptions exist: a "previous" link
    more_after: bool  # older subscriptions exist: a "next" link


BILLING_SHARDS = contracts.BILLING_SHARDS
"""A billing run starts one page walk per shard, in parallel, each through the queue."""


def billing_shard(subscription: Subscription) -> str | None:
    """The shard of a subscription whose usage or contract instalments may be invoiced, or None
    (kept out of the billable index): test subscriptions, and those with neither a PO-approved
    usage line nor a contract billed in instalments."""
    if subscription.test or (
        invoiced_line(subscription, "usage") is None and not has_instalments(subscription)
    ):
        return None
    return str(int(hashlib.sha256(subscription.id.encode()).hexdigest()[:8], 16) % BILLING_SHARDS)


def account_product(account_id: str, product_id: str) -> str:
    """The `by-account-product` index key: metering's one Query."""
    return f"{account_id}#{product_id}"


UNSUBSCRIBING = "unsubscribing"
"""The `lifecycle` index partition of cancelled subscriptions: one is there until the sweep has
announced it unsubscribed (a handful an hour: one partition is plenty, no sharding)."""


class Lifecycle(NamedTuple):
    """A subscription's `lifecycle` index attributes (all None: not in the index)."""

    key: str | None = None
    sort: str | None = None
    seller: str | None = None
    dimension: str | None = None


def lifecycle_of(subscription: Subscription) -> Lifecycle:
    """Entitled (active) and unsubscribing (cancelled) exclude each other, so one index holds
    both; every write sets or drops the attributes, so the index is never stale."""
    entitled = index_entry(subscription)
    if entitled is not None:
        return Lifecycle(entitled.partition, entitled.key, entitled.seller, entitled.dimension)
    closes = window_closes_at(subscription)
    if closes:
        return Lifecycle(UNSUBSCRIBING, closes)
    return Lifecycle()


def subscription_record(subscription: Subscription) -> SubscriptionRecord:
    lifecycle = lifecycle_of(subscription)
    return SubscriptionRecord(
        subscription.id,
        account_id=subscription.account_id,
        integration_id=subscription.integration_id,
        state=subscription.state,
        created_at=subscription.created_at,
        document=subscription_json(subscription),
        version=subscription.version,
        billing_shard=billing_shard(subscription),
        account_product=account_product(subscription.account_id, subscription.product_id),
        lifecycle_key=lifecycle.key,
        lifecycle_sort=lifecycle.sort,
        lifecycle_seller=lifecycle.seller,
        entitled_dimension=lifecycle.dimension,
    )


class DynamoSubscriptionStore:
    def get(self, subscription_id: str) -> Subscription | None:
        with storage_errors("reading the subscription"):
            try:
                return subscription_of(SubscriptionRecord.get(subscription_id))
            except SubscriptionRecord.DoesNotExist:
                return None

    def of_account_product(self, account_id: str, product_id: str) -> list[Subscription]:
        """Every subscription of the account to the product, oldest first: the index's pages
        are read to the end (only that product's subscriptions are in this partition)."""
        with storage_errors("looking up the account's subscriptions to the product"):
            records = SubscriptionRecord.by_account_product.query(
                account_product(account_id, product_id)
            )
            return [subscription_of(r) for r in records]

    def page_of_account(
        self, account_id: str, cursor: SubscriptionsCursor | None, size: int = PAGE_SIZE
    ) -> SubscriptionsPage:
        """One page of the account's subscriptions, newest first: at most `size` items and
        one Query (plus one item to know whether another page follows). `cursor` names the
        item the page starts after (`next`) or before (`previous`)."""
        forward = cursor is not None and cursor.direction == "previous"
        start = None
        if cursor is not None:
            start = {
                "pk": {"S": cursor.subscription_id},
                "account_id": {"S": account_id},
                "created_at": {"S": cursor.created_at},
            }
        with storage_errors("listing the account's subscriptions"):
            records = list(
                SubscriptionRecord.by_account.query(
                    account_id,
                    scan_index_forward=forward,
                    limit=size + 1,
                    page_size=size + 1,
                    last_evaluated_key=start,
                )
            )
        found = [subscription_of(r) for r in records[:size]]
        more = len(records) > size
        if forward:  # read oldest-first from the cursor back: shown newest first
            found.reverse()
            return SubscriptionsPage(tuple(found), more_before=more, more_after=True)
        return SubscriptionsPage(tuple(found), more_before=cursor is not None, more_after=more)


def preapproved_holder(key: str) -> str | None:
    """The id of the active pre-approved subscription holding `key` (`preapproval_key`)."""
    from functions.store.models import PreapprovalRecord

    with storage_errors("reading the account's subscriptions"):
        try:
            return str(PreapprovalRecord.get(key).subscription_id)
        except PreapprovalRecord.DoesNotExist:
            return None


def save_preapproved(request: Any, subscription: Subscription, mail: Mail, expires: Any) -> None:
    """A pre-approved request, its active subscription, the mail and the seller event
    announcing it, and the marker that makes it the account's only one of this offer: one
    transaction, so neither a retry of the same request nor another press on Subscribe (even
    concurrent) subscribes twice.

    Raises AlreadySubscribed when the account holds the offer already, and Conflict when this
    very request was stored meanwhile (a concurrent double submit)."""
    from pynamodb.exceptions import TransactWriteError

    from functions.errors import Conflict
    from functions.store.requests import record_of
    from functions.subscriptions import AlreadySubscribed

    request_item = record_of(replace(request, version=request.version + 1))
    connection = connection_of(SubscriptionRecord)
    with storage_errors("saving the subscription"):
        try:
            _write_preapproved(request_item, subscription, mail, expires, connection)
        except TransactWriteError as exc:
            reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
            if reasons[3:4] == ["ConditionalCheckFailed"]:
                raise AlreadySubscribed(
                    subscription.product_name, subscription.offer_name, subscription.account_id
                ) from exc
            if "ConditionalCheckFailed" in reasons:
                raise Conflict("This request was submitted already; reload the page.") from exc
            raise


def _write_preapproved(
    request_item: Any, subscription: Subscription, mail: Mail, expires: Any, connection: Any
) -> None:
    from pynamodb.transactions import TransactWrite

    from functions.store.event_outbox import event_record
    from functions.store.models import OutboxRecord, PreapprovalRecord, RequestRecord
    from functions.subscriptions import preapproval_key

    version = request_item.version - 1
    with TransactWrite(connection=connection) as tx:
        tx.save(
            request_item,
            condition=RequestRecord.pk.does_not_exist()
            if version == 0
            else RequestRecord.version == version,
        )
        tx.save(
            subscription_record(replace(subscription, version=1)),
            condition=SubscriptionRecord.pk.does_not_exist(),
        )
        tx.save(
            OutboxRecord.pending(mail, subscription.created_at, expires),
            condition=OutboxRecord.pk.does_not_exist(),
        )
        tx.save(
            PreapprovalRecord(
                preapproval_key(
                    subscription.account_id,
                    subscription.product_id,
                    subscription.offer_id,
                    subscription.test,
                ),
                subscription_id=subscription.id,
                created_at=subscription.created_at,
            ),
            condition=PreapprovalRecord.pk.does_not_exist(),
        )
        for event in _announced(subscription):  # after the marker: reasons[3] stays its own
            tx.save(
                event_record(event, subscription.created_at, expires),
                condition=OutboxRecord.pk.does_not_exist(),
            )


def _announced(subscription: Subscription) -> tuple[Any, ...]:
    """The pre-approved subscription's `subscribe-success` (pending → active at once)."""
    moment = datetime.fromisoformat(subscription.activated_at or subscription.created_at)
    return events_for(None, subscription, moment)
