"""Usage in DynamoDB, keyed as docs/INVOICING.md fixes it (the billing worker relies on it):

- hourly record: `pk = "usage#<subscription id>"`, `sk = "<dimension>#<hour ISO, +00:00>"`;
- totals: same `pk`, `sk = "total#<YYYY-MM>"` and `sk = "total#all"`, one `q_<dimension>` number
  per dimension.

Each accepted record is one TransactWriteItems: the hourly item, put only if absent, and
`ADD q_<dimension>` on both totals. A retry, or a concurrent duplicate, fails the condition as a
whole and counts nothing twice; the hourly item then says whether it was the same record."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from functions.clock import iso
from functions.config import settings
from functions.errors import Transient
from functions.metering import HourlyUsage, Recorded
from functions.store.errors import storage_errors

ALL_TIME = "total#all"
BATCH_KEYS = 100  # BatchGetItem's limit
ATTEMPTS = 5
"""For a transaction that conflicts with a concurrent one on the same totals, and for keys
BatchGetItem leaves unprocessed: retried with a short jittered pause, then a retryable 500."""

Totals = dict[str, Decimal]


def usage_key(subscription_id: str) -> str:
    return f"usage#{subscription_id}"


def hourly_sort_key(dimension: str, hour: datetime) -> str:
    return f"{dimension}#{iso(hour)}"


def period_sort_key(period: str) -> str:
    return f"total#{period}"


def quantity_attribute(dimension: str) -> str:
    return f"q_{dimension}"


def _pause(attempt: int) -> None:
    """Jittered exponential backoff (DynamoDB's advice for conflicts and unprocessed keys)."""
    time.sleep(random.uniform(0, 0.025 * 2**attempt))  # noqa: S311 (not a secret)


def _quantities(item: dict[str, Any] | None) -> Totals:
    return {
        name[2:]: Decimal(value["N"])
        for name, value in (item or {}).items()
        if name.startswith("q_") and "N" in value
    }


class DynamoUsageStore:
    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self.client = client

    def record(self, usage: HourlyUsage) -> Recorded:
        """Store one hour of one dimension and add it to the totals, once; what the hour holds
        afterwards (this quantity, or the different one recorded before)."""
        key = {"pk": {"S": usage_key(usage.subscription_id)}}
        hourly_key = {**key, "sk": {"S": hourly_sort_key(usage.dimension, usage.hour)}}
        amount = {":n": {"N": str(usage.quantity)}}
        names = {"#q": quantity_attribute(usage.dimension)}
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        **hourly_key,
                        "quantity": {"N": str(usage.quantity)},
                        "customer": {"S": usage.customer},
                        "product_code": {"S": usage.product_code},
                        "metering_record_id": {"S": usage.metering_record_id},
                        "recorded_at": {"S": usage.recorded_at},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            *(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": {**key, "sk": {"S": total}},
                        "UpdateExpression": "ADD #q :n",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": amount,
                    }
                }
                for total in (period_sort_key(usage.period), ALL_TIME)
            ),
        ]
        with storage_errors("recording usage"):
            for attempt in range(ATTEMPTS):
                try:
                    self.client.transact_write_items(TransactItems=items)
                    return Recorded(usage.metering_record_id, usage.quantity)
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                        raise
                    reasons = exc.response.get("CancellationReasons") or [{}]
                    if reasons[0].get("Code") == "ConditionalCheckFailed":
                        stored = self._hourly(hourly_key)
                        if stored is not None:
                            return stored
                # A conflict with a concurrent transaction on the same totals: try again.
                _pause(attempt)
        raise Transient("Usage storage is busy; please retry the batch (it is safe to).")

    def _hourly(self, key: dict[str, Any]) -> Recorded | None:
        answer = self.client.get_item(
            TableName=self.table,
            Key=key,
            ConsistentRead=True,
            ProjectionExpression="quantity, metering_record_id",
        )
        item = answer.get("Item")
        if item is None:
            return None
        return Recorded(item["metering_record_id"]["S"], int(item["quantity"]["N"]))

    def usage_for(
        self, subscription_ids: Iterable[str], period: str
    ) -> dict[str, tuple[Totals, Totals]]:
        """Per subscription, the period's and the all-time quantity per dimension (empty when
        nothing was metered): BatchGetItem of the two totals, 100 keys a call."""
        wanted = list(dict.fromkeys(subscription_ids))
        keys = [
            {"pk": {"S": usage_key(sid)}, "sk": {"S": sk}}
            for sid in wanted
            for sk in (period_sort_key(period), ALL_TIME)
        ]
        found: dict[tuple[str, str], dict[str, Any]] = {}
        with storage_errors("reading usage totals"):
            for start in range(0, len(keys), BATCH_KEYS):
                found.update(self._batch_get(keys[start : start + BATCH_KEYS]))
        return {
            sid: (
                _quantities(found.get((usage_key(sid), period_sort_key(period)))),
                _quantities(found.get((usage_key(sid), ALL_TIME))),
            )
            for sid in wanted
        }

    def _batch_get(self, keys: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
        for attempt in range(ATTEMPTS):
            answer = self.client.batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(self.table, []):
                found[(item["pk"]["S"], item["sk"]["S"])] = item
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                return found
            _pause(attempt)
        raise Transient("Usage storage is busy; please retry.")


@cache
def usage_store() -> DynamoUsageStore:
    """The store on the configured table, with pynamodb's client settings (timeouts, retries)."""
    from pynamodb.connection import Connection

    config = settings()
    return DynamoUsageStore(config.usage_table, Connection(region=config.region).client)


def usage_for(subscription_ids: Iterable[str], period: str) -> dict[str, tuple[Totals, Totals]]:
    """What the billing worker reads: `{id: (period totals, all-time totals)}`, each
    `{dimension key: Decimal}` (docs/INVOICING.md)."""
    return usage_store().usage_for(subscription_ids, period)
