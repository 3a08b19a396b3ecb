"""The unsubscribe sweep's port in DynamoDB (`functions.unsubscribes`): one Query of the
`unsubscribing` partition of the sparse `lifecycle` index, and per subscription one
TransactWriteItems that marks it unsubscribed (so it leaves the index) and writes its
`unsubscribe-success` outbox item."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from functions.clock import iso
from functions.seller_events import SellerEvent
from functions.store.batch import connection_of
from functions.store.errors import storage_errors
from functions.store.event_outbox import event_record
from functions.store.models import OutboxRecord, SubscriptionRecord
from functions.store.subscriptions import UNSUBSCRIBING, subscription_of, subscription_record
from functions.subscriptions import Subscription

OUTBOX_KEPT = timedelta(days=30)
"""As long as the PO path keeps its outbox items (`functions.store.orders.OUTBOX_KEPT`)."""


class DynamoUnsubscribes:
    def closed_by(self, moment: str, page_size: int) -> list[Subscription]:
        with storage_errors("looking up cancelled subscriptions"):
            records = SubscriptionRecord.by_lifecycle.query(
                UNSUBSCRIBING,
                SubscriptionRecord.lifecycle_sort <= moment,
                page_size=page_size,
            )
            return [subscription_of(record) for record in records]

    def mark_unsubscribed(
        self, before: Subscription, after: Subscription, event: SellerEvent, now: datetime
    ) -> bool:
        """False when the version read is no longer the stored one (another sweep marked it:
        the index is eventually consistent, the condition is not)."""
        stored = replace(after, version=before.version + 1)
        with storage_errors("marking the subscription unsubscribed"):
            try:
                with TransactWrite(connection=connection_of(SubscriptionRecord)) as tx:
                    tx.save(
                        subscription_record(stored),
                        condition=SubscriptionRecord.version == before.version,
                    )
                    tx.save(
                        event_record(event, iso(now), now + OUTBOX_KEPT),
                        condition=OutboxRecord.pk.does_not_exist(),
                    )
            except TransactWriteError as exc:
                reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
                if "ConditionalCheckFailed" in reasons or "TransactionConflict" in reasons:
                    return False
                raise
        return True
