"""The billing run's messages (`functions.billing_run` does the work): what travels on the
billing queue, checked on the way in, and what a page of a shard sends on.

- a shard message: one of the 16 shards of the `billable` index, and where its previous page
  ended (opaque, DynamoDB's LastEvaluatedKey).
- a batch message: up to one page of subscription ids to invoice for the period.
- the outbox item `invoice#<subscription id>#contract` (written by the PO transaction when a
  subscription with a PO-approved contract line activates) asks for a contract invoice.

Plain data: a message that is not one of ours is `UnreadableMessage` (retrying cannot help)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from functions import billing, contracts
from functions.errors import BadRequest
from functions.subscriptions import CONTRACT_SUFFIX

SHARD = "shard"
BATCH = "batch"
SHARDS = contracts.BILLING_SHARDS
PAGE_SIZE = 100
"""Subscription ids per page and per batch message (BatchGetItem reads 100 keys a call)."""

Cursor = dict[str, str]


class UnreadableMessage(Exception):
    """A billing queue message that is not one of ours: retrying cannot help (→ DLQ)."""


@dataclass(frozen=True)
class ShardMessage:
    period: str
    shard: str
    cursor: Cursor | None = None
    """Where the previous page of this shard ended (the index's LastEvaluatedKey): opaque."""

    def body(self) -> dict[str, Any]:
        return {"kind": SHARD, "period": self.period, "shard": self.shard, "cursor": self.cursor}


@dataclass(frozen=True)
class BatchMessage:
    period: str
    subscription_ids: tuple[str, ...]

    def body(self) -> dict[str, Any]:
        return {
            "kind": BATCH,
            "period": self.period,
            "subscription_ids": list(self.subscription_ids),
        }


Message = ShardMessage | BatchMessage


def run_messages(period: str) -> list[ShardMessage]:
    """The messages that start a run: the first page of every shard."""
    checked = billing.parse_period(period)
    return [ShardMessage(checked, str(shard)) for shard in range(SHARDS)]


def message_of(body: str | Mapping[str, Any]) -> Message:
    """A billing queue message body, checked."""
    try:
        data = json.loads(body) if isinstance(body, str) else dict(body)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        period = billing.parse_period(data.get("period"))
        kind = data.get("kind")
        if kind == SHARD:
            shard, cursor = data.get("shard"), data.get("cursor")
            if shard not in {str(n) for n in range(SHARDS)}:
                raise ValueError(f"no shard {shard!r}")
            if cursor is not None and not (
                isinstance(cursor, dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in cursor.items())
            ):
                raise ValueError("the cursor is not a map of strings")
            return ShardMessage(period, str(shard), dict(cursor) if cursor else None)
        if kind == BATCH:
            ids = data.get("subscription_ids")
            if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
                raise ValueError("subscription_ids is not a list of ids")
            if len(ids) > PAGE_SIZE:
                raise ValueError(f"more than {PAGE_SIZE} subscription ids")
            return BatchMessage(period, tuple(ids))
        raise ValueError(f"unknown kind {kind!r}")
    except (ValueError, TypeError, BadRequest) as exc:
        raise UnreadableMessage(f"Not a billing message ({exc}): {str(body)[:200]}") from exc


def after_page(message: ShardMessage, ids: Sequence[str], cursor: Cursor | None) -> list[Message]:
    """What one page of a shard sends on: its ids as a batch (none if the page is empty: the
    index's last page may be), and the next page while there is one."""
    follow: list[Message] = []
    if ids:
        follow.append(BatchMessage(message.period, tuple(ids)))
    if cursor:
        follow.append(ShardMessage(message.period, message.shard, cursor))
    return follow


def delivery_message(invoice_id: str) -> dict[str, Any]:
    """The delivery queue's message body."""
    return {"invoice_id": invoice_id}


def contract_subscription_of(key: str) -> str | None:
    """The subscription an outbox key asks a contract invoice for, or None (not ours)."""
    if key.startswith(contracts.OUTBOX_CONTRACT_INVOICE_PREFIX) and key.endswith(CONTRACT_SUFFIX):
        return key[len(contracts.OUTBOX_CONTRACT_INVOICE_PREFIX) : -len(CONTRACT_SUFFIX)] or None
    return None
