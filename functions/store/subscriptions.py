"""Subscriptions in DynamoDB: one item per subscription, keyed by its request's id; an
account's subscriptions are one Query on the sparse-free `by-account` index."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, replace
from decimal import Decimal
from typing import Any

from functions.sessions import Requester
from functions.store.errors import storage_errors
from functions.store.models import SubscriptionRecord
from functions.subscriptions import (
    PREAPPROVED_ORDER,
    LineApproval,
    Mail,
    Subscription,
    SubscriptionLine,
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
                **{**approval, "quantity": Decimal(approval["quantity"])}
            )
        lines.append(SubscriptionLine(**line))
    data["lines"] = tuple(lines)
    data["requester"] = Requester(**data.get("requester", {}))
    data["version"] = int(record.version)
    return Subscription(**data)


BILLING_SHARDS = 16
"""A billing run starts one page walk per shard: 16 in parallel, each through the queue."""


def billing_shard(subscription: Subscription) -> str | None:
    """The shard of a subscription whose usage may be invoiced, or None (kept out of the
    billable index): test subscriptions and those without a PO-approved usage line."""
    usage = next((line for line in subscription.lines if line.kind == "usage"), None)
    if subscription.test or usage is None or usage.approval is None:
        return None
    if usage.approval.order_id == PREAPPROVED_ORDER:
        return None
    return str(int(hashlib.sha256(subscription.id.encode()).hexdigest()[:8], 16) % BILLING_SHARDS)


def subscription_record(subscription: Subscription) -> SubscriptionRecord:
    return SubscriptionRecord(
        subscription.id,
        account_id=subscription.account_id,
        integration_id=subscription.integration_id,
        state=subscription.state,
        created_at=subscription.created_at,
        document=subscription_json(subscription),
        version=subscription.version,
        billing_shard=billing_shard(subscription),
    )


class DynamoSubscriptionStore:
    def get(self, subscription_id: str) -> Subscription | None:
        with storage_errors("reading the subscription"):
            try:
                return subscription_of(SubscriptionRecord.get(subscription_id))
            except SubscriptionRecord.DoesNotExist:
                return None

    def of_account(self, account_id: str, limit: int = 200) -> list[Subscription]:
        """The account's subscriptions, newest first."""
        with storage_errors("listing the account's subscriptions"):
            records = SubscriptionRecord.by_account.query(
                account_id, scan_index_forward=False, limit=limit
            )
            return [subscription_of(r) for r in records]


def save_preapproved(request: Any, subscription: Subscription, mail: Mail, expires: Any) -> None:
    """A pre-approved request, its active subscription and the mail announcing it: one
    transaction, so a retry of the same request cannot subscribe twice."""
    from pynamodb.transactions import TransactWrite

    from functions.store.models import OutboxRecord, RequestRecord
    from functions.store.requests import record_of

    request_item = record_of(replace(request, version=request.version + 1))
    connection = SubscriptionRecord._get_connection().connection
    with storage_errors("saving the subscription"), TransactWrite(connection=connection) as tx:
        tx.save(
            request_item,
            condition=RequestRecord.pk.does_not_exist()
            if request.version == 0
            else RequestRecord.version == request.version,
        )
        tx.save(
            subscription_record(replace(subscription, version=1)),
            condition=SubscriptionRecord.pk.does_not_exist(),
        )
        tx.save(
            OutboxRecord(
                mail.key,
                template=mail.template,
                recipients=list(mail.recipients),
                context=mail.context,
                status="pending",
                created_at=subscription.created_at,
                expires_at=expires,
            ),
            condition=OutboxRecord.pk.does_not_exist(),
        )
