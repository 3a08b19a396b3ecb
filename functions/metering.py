"""Metering: sellers report pay-as-you-go usage, shaped like AWS Marketplace BatchMeterUsage
(docs/PROTOCOL.md §9, docs/INVOICING.md).

Plain Python. A batch names one product and up to 25 records; a record is a customer account,
a dimension of the product, an hour (timestamps are truncated to the hour, UTC) and an integer
quantity. Anything malformed, or any timestamp outside the window (older than 6 hours, or in the
future beyond a little clock skew), refuses the whole batch before anything is written. Each
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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from functions import fields, ids
from functions.billing import period_of
from functions.catalog import Pricing, Product
from functions.clock import iso
from functions.errors import BadRequest, Forbidden
from functions.subscriptions import ACTIVE, CANCELLED, PREAPPROVED_ORDER, Subscription

MAX_RECORDS = 25
WINDOW = timedelta(hours=6)
"""Usage older than this is refused (AWS Marketplace's rule, docs/PROTOCOL.md §9)."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a seller's clock may run before its records are refused."""
MAX_QUANTITY = 2_147_483_647  # AWS's Quantity is a 32-bit integer
MAX_TEXT = 64

SUCCESS = "Success"
NOT_SUBSCRIBED = "CustomerNotSubscribed"
DUPLICATE = "DuplicateRecord"

BATCH_FIELDS = ("ProductCode", "UsageRecords")
RECORD_FIELDS = ("Timestamp", "CustomerIdentifier", "Dimension", "Quantity")


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageRecord:
    """One record of a batch, validated; `sent` is echoed in the answer as the seller sent it."""

    sent: dict[str, Any]
    timestamp: datetime  # aware, UTC
    customer: str
    dimension: str
    quantity: int

    @property
    def hour(self) -> datetime:
        return self.timestamp.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class MeteringBatch:
    product_code: str
    records: tuple[UsageRecord, ...]


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


# --- the batch as sent ----------------------------------------------------------------------


def _only(data: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> None:
    for name in data:
        if name not in allowed:
            raise BadRequest(
                f"'{path}{name}' is not supported; expected {', '.join(allowed)}.",
                field=f"{path}{name}",
            )


def _text(data: Mapping[str, Any], name: str, path: str) -> str:
    """A required identifier, kept as sent (the seller's records compare it as is)."""
    return fields.text(data, name, required=True, limit=MAX_TEXT, path=path, trim=False)


def parse_timestamp(value: Any, name: str) -> datetime:
    """ISO 8601 with an offset (`2026-11-26T10:15:00Z`, `...+01:00`) or epoch seconds."""
    if isinstance(value, bool):
        raise BadRequest(f"'{name}' must be ISO 8601 or epoch seconds.", field=name)
    if isinstance(value, int | Decimal):
        try:
            if isinstance(value, Decimal) and not value.is_finite():
                raise ValueError(value)
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            raise BadRequest(f"'{name}' {value} is not a valid epoch time.", field=name) from None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise BadRequest(
            f"'{name}' must be ISO 8601 (like 2026-11-26T10:15:00Z) or epoch seconds.",
            field=name,
        )
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(
            f"'{name}' {value!r} is not ISO 8601 (like 2026-11-26T10:15:00Z).", field=name
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise BadRequest(
            f"'{name}' {value!r} has no UTC offset: add 'Z' or '+hh:mm', or send epoch seconds.",
            field=name,
        )
    return moment.astimezone(UTC)


def _quantity(value: Any, name: str) -> int:
    """Checked on the value as sent, before any conversion: `1E+400000` arrives as a Decimal
    whose conversion to int costs seconds of CPU."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUANTITY:
        sent = repr(value) if isinstance(value, int | Decimal) else type(value).__name__
        raise BadRequest(
            f"'{name}' must be a whole number from 0 to {MAX_QUANTITY}; got {sent[:40]}.",
            field=name,
        )
    return value


def _echo(value: Any) -> Any:
    """JSON-safe: an epoch with decimals was parsed as Decimal (never float on the way in).
    Only validated values are echoed; a huge exponent is echoed as written, never expanded."""
    if isinstance(value, Decimal):
        if not value.is_finite() or value.adjusted() > 18:
            return str(value)
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _in_window(record: UsageRecord, name: str, now: datetime) -> None:
    refused = "no record of this batch was recorded"
    if record.timestamp < now - WINDOW:
        raise BadRequest(
            f"'{name}' {iso(record.timestamp)} is more than 6 hours old (now {iso(now)}): usage "
            f"must be metered within 6 hours; {refused}.",
            field=name,
        )
    if record.timestamp > now + CLOCK_SKEW:
        raise BadRequest(
            f"'{name}' {iso(record.timestamp)} is in the future (now {iso(now)}); {refused}.",
            field=name,
        )


def parse_batch(payload: Any, now: datetime) -> MeteringBatch:
    """The batch, validated whole: one bad record refuses it before anything is written."""
    if not isinstance(payload, Mapping):
        raise BadRequest("The body must be a JSON object with ProductCode and UsageRecords.")
    _only(payload, BATCH_FIELDS, "")
    product_code = _text(payload, "ProductCode", "")
    raw_records = payload.get("UsageRecords")
    if not isinstance(raw_records, list) or not 1 <= len(raw_records) <= MAX_RECORDS:
        count = len(raw_records) if isinstance(raw_records, list) else "no"
        raise BadRequest(
            f"'UsageRecords' must list 1 to {MAX_RECORDS} records; got {count}.",
            field="UsageRecords",
        )
    records = []
    for index, raw in enumerate(raw_records):
        path = f"UsageRecords[{index}]."
        if not isinstance(raw, Mapping):
            raise BadRequest(f"'{path[:-1]}' must be an object.", field=path[:-1])
        _only(raw, RECORD_FIELDS, path)
        quantity = _quantity(raw.get("Quantity"), f"{path}Quantity")
        timestamp = parse_timestamp(raw.get("Timestamp"), f"{path}Timestamp")
        record = UsageRecord(
            timestamp=timestamp,
            customer=_text(raw, "CustomerIdentifier", path),
            dimension=_text(raw, "Dimension", path),
            quantity=quantity,
            sent={name: _echo(raw[name]) for name in RECORD_FIELDS if name in raw},
        )
        _in_window(record, f"{path}Timestamp", now)
        records.append(record)
    return MeteringBatch(product_code, tuple(records))


def product_dimensions(product: Product) -> set[str]:
    """Every usage dimension an offer of the product prices, trial conversions included."""
    keys: set[str] = set()
    for offer in product.offers:
        pricing: Pricing | None = offer.pricing
        while pricing is not None:
            keys.update(d.key for d in pricing.dimensions)
            pricing = pricing.then
    return keys


def check_dimensions(batch: MeteringBatch, product: Product) -> None:
    known = product_dimensions(product)
    for index, record in enumerate(batch.records):
        if record.dimension not in known:
            expected = ", ".join(sorted(known)) or "none: the product has no usage pricing"
            raise BadRequest(
                f"Dimension {record.dimension!r} is not a usage dimension of product "
                f"{product.id!r} (its dimensions: {expected}).",
                field=f"UsageRecords[{index}].Dimension",
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
