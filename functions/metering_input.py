"""Metering's input: a BatchMeterUsage batch as a seller sends it, checked whole before anything
is recorded (`functions.metering` records it; docs/PROTOCOL.md §9).

A batch names one product and 1 to 25 records; a record is a customer account, a dimension of
the product, a timestamp (ISO 8601 with an offset, or epoch seconds) and a whole quantity.
Anything malformed, any dimension the product does not price, or any timestamp outside the
window (older than 6 hours, or in the future beyond a little clock skew) refuses the whole
batch with a 400 naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from functions import contracts, fields
from functions.catalog import Pricing, Product
from functions.clock import iso
from functions.errors import BadRequest

MAX_RECORDS = 25
WINDOW = timedelta(hours=contracts.METERING_WINDOW_HOURS)
"""Usage older than this is refused (AWS Marketplace's rule, docs/PROTOCOL.md §9)."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a seller's clock may run before its records are refused."""
MAX_QUANTITY = 2_147_483_647  # AWS's Quantity is a 32-bit integer
MAX_TEXT = 64


BATCH_FIELDS = ("ProductCode", "UsageRecords")
RECORD_FIELDS = ("Timestamp", "CustomerIdentifier", "Dimension", "Quantity")


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
    fields.only(payload, BATCH_FIELDS)
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
        raw = fields.entry(raw, RECORD_FIELDS, name=path[:-1])
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
