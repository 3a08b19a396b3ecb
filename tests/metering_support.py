"""What the metering tests share: a clock reading and a seller's usage record and batch as
BatchMeterUsage sends them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

NOW = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
CUSTOMER = "111122223333"


def usage_record(**overrides: Any) -> dict[str, Any]:
    record = {
        "Timestamp": "2026-11-26T12:10:00Z",
        "CustomerIdentifier": CUSTOMER,
        "Dimension": "hours",
        "Quantity": 5,
    }
    record.update(overrides)
    return record


def usage_batch(*records: dict[str, Any], product: str = "datastream-pro") -> dict[str, Any]:
    return {"ProductCode": product, "UsageRecords": list(records) or [usage_record()]}
