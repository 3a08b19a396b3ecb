"""Metering: sellers report pay-as-you-go usage, shaped like AWS Marketplace BatchMeterUsage
(docs/PROTOCOL.md §9, docs/INVOICING.md).

Plain Python. A batch names one product and up to 25 records, checked whole before anything is
written (`functions.metering_input`: sizes, quantities, the 6-hour window, the product's
dimensions); each record counts for an hour (timestamps are truncated to the hour, UTC). Each
accepted record is stored once per subscription, dimension and hour: the same record again is a
`Success` that counts nothing twice, another quantity for that hour is a `DuplicateRecord`.

Which subscriptions accept usage (`meterable`): the product's, with a usage line a purchase
order approved, pricing the record's dimension, and either active (test subscriptions
included: the seller can try its metering, and test subscriptions are never invoiced) or
cancelled after the record's timestamp (usage up to the cancellation is still owed: a deleted
PO cancels "from that moment", and the billing run still invoices it). Pending, withdrawn and
pre-approved (free, BYOL) ones never do; free trials have no usage line."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from functions import ids
from functions.billing import period_of
from functions.catalog import Product
from functions.clock import iso
from functions.errors import BadRequest, Forbidden
from functions.metering_input import UsageRecord, check_dimensions, parse_batch
from functions.subscriptions import ACTIVE, CANCELLED, PREAPPROVED_ORDER, Subscription

SUCCESS = "Success"
NOT_SUBSCRIBED = "CustomerNotSubscribed"
DUPLICATE = "DuplicateRecord"

# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HourlyUsage:
    """What one accepted record stores: a subscription's usage in one dimension and hour."""

    subscription_id: str
    dimension: str
    hour: datetime
    quantity: int
    customer: str
    product_code: str
    metering_record_id: str
    recorded_at: str

    @property
    def period(self) -> str:
        """The billing period (calendar month, UTC) the hour belongs to: `2026-11`."""
        return period_of(self.hour)


@dataclass(frozen=True)
class Recorded:
    """What the usage store holds for a subscription, dimension and hour once asked to record
    one: this record's quantity (`Success`: new, or the same again) or an earlier, different one
    (`DuplicateRecord`)."""

    metering_record_id: str
    quantity: int


@dataclass(frozen=True)
class Caller:
    """Who meters: the marketplace's own admins (any product) or a seller account (its own)."""

    admin: bool = False
    seller_account: str = ""


class ProductLookup(Protocol):
    def get(self, product_id: str) -> Product | None: ...


class SubscriptionLookup(Protocol):
    def of_account_product(self, account_id: str, product_id: str) -> list[Subscription]:
        """Every subscription of the account to the product (not only the newest few)."""
        ...


class UsageWriter(Protocol):
    def record(self, usage: HourlyUsage) -> Recorded: ...


# --- who may meter --------------------------------------------------------------------------


def caller_from_token(
    token: str, admin_token: str | None, seller_tokens: tuple[tuple[str, str], ...]
) -> Caller | None:
    """Local mode: the admin token meters any product, a seller token its seller's products.
    Every token is compared, in constant time, so timing tells nothing about which matched."""
    admin = ids.same_secret(token, admin_token)
    seller = ""
    for account, expected in seller_tokens:
        if ids.same_secret(token, expected):
            seller = account
    if admin:
        return Caller(admin=True)
    return Caller(seller_account=seller) if seller else None


def caller_from_iam(caller_account: str | None, api_account: str | None) -> Caller:
    """Deployed: API Gateway has checked the SigV4 signature. A principal of the account that
    owns the API is the marketplace's own admin; any other account is a seller."""
    if not caller_account:
        raise Forbidden("Metering requires IAM (SigV4) authentication.")
    if api_account and hmac.compare_digest(caller_account.encode(), api_account.encode()):
        return Caller(admin=True)
    return Caller(seller_account=caller_account)


def authorize(caller: Caller, product: Product) -> None:
    if caller.admin:
        return
    seller = product.seller_account
    if not (seller and hmac.compare_digest(caller.seller_account.encode(), seller.encode())):
        raise Forbidden(
            f"Account {caller.seller_account} is not the seller of product {product.id!r}: "
            "a seller meters only its own products."
        )


# --- subscriptions ----------------------------------------------------------------------------


def meterable(subscription: Subscription, product_id: str, record: UsageRecord) -> bool:
    """May this record be metered against this subscription? (The rule: module docstring.)"""
    if subscription.product_id != product_id or record.dimension not in subscription.rates:
        return False
    usage = next((line for line in subscription.lines if line.kind == "usage"), None)
    if usage is None or usage.approval is None or usage.approval.order_id == PREAPPROVED_ORDER:
        return False
    if subscription.state == ACTIVE:
        return True
    if subscription.state == CANCELLED and subscription.cancelled_at:
        return record.timestamp < datetime.fromisoformat(subscription.cancelled_at)
    return False


def subscription_for(
    subscriptions: list[Subscription], product_id: str, record: UsageRecord
) -> Subscription | None:
    """The subscription a record is metered against: real before test, then the oldest, so a
    retry lands where the first attempt did even if the account subscribes again meanwhile."""
    candidates = [s for s in subscriptions if meterable(s, product_id, record)]
    return min(candidates, key=lambda s: (s.test, s.created_at, s.id), default=None)


def metering_record_id(subscription_id: str, dimension: str, hour: datetime) -> str:
    """Derived from what it identifies: the same record always gets the same id."""
    digest = hashlib.sha256(f"{subscription_id}|{dimension}|{iso(hour)}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16]))


# --- the operation --------------------------------------------------------------------------


def batch_meter_usage(
    payload: Any,
    caller: Caller,
    now: datetime,
    *,
    products: ProductLookup,
    subscriptions: SubscriptionLookup,
    usage: UsageWriter,
) -> dict[str, Any]:
    """Validate the whole batch, check the caller sells the product, then record each record
    (one transaction each); the answer lists a result per record, in order."""
    batch = parse_batch(payload, now)
    product = products.get(batch.product_code)
    if product is None:
        raise BadRequest(f"No product with code {batch.product_code!r}.", field="ProductCode")
    authorize(caller, product)
    check_dimensions(batch, product)
    customers = dict.fromkeys(record.customer for record in batch.records)
    held = {c: subscriptions.of_account_product(c, product.id) for c in customers}
    recorded_at = iso(now)
    done: dict[tuple[str, str, datetime], Recorded] = {}
    results = []
    for record in batch.records:
        subscription = subscription_for(held[record.customer], product.id, record)
        if subscription is None:
            results.append({"UsageRecord": record.sent, "Status": NOT_SUBSCRIBED})
            continue
        key = (subscription.id, record.dimension, record.hour)
        stored = done.get(key)
        if stored is None:
            stored = done[key] = usage.record(
                HourlyUsage(
                    subscription_id=subscription.id,
                    dimension=record.dimension,
                    hour=record.hour,
                    quantity=record.quantity,
                    customer=record.customer,
                    product_code=product.id,
                    metering_record_id=metering_record_id(*key),
                    recorded_at=recorded_at,
                )
            )
        results.append(
            {
                "UsageRecord": record.sent,
                "MeteringRecordId": stored.metering_record_id,
                "Status": SUCCESS if stored.quantity == record.quantity else DUPLICATE,
            }
        )
    return {"Results": results, "UnprocessedRecords": []}
