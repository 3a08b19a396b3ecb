"""Order confirmations in the outbox table, as the delivery worker uses them
(`functions.confirmation_delivery.ConfirmationLedger`): the item the PO transaction wrote
(`functions.store.orders.confirmation_request`), its status the delivery state, its
`delivery` the attempts. Every state change is one conditional UpdateItem."""

from __future__ import annotations

from pynamodb.exceptions import UpdateError

from functions.confirmation_delivery import PendingConfirmation
from functions.delivery_verdict import DeliveryLog
from functions.order_confirmations import OrderConfirmation, is_confirmation_key
from functions.store.errors import storage_errors
from functions.store.models import OutboxRecord


class DynamoConfirmationLedger:
    def pending(self, key: str) -> PendingConfirmation | None:
        if not is_confirmation_key(key):
            return None
        with storage_errors("reading the order confirmation"):
            try:
                record = OutboxRecord.get(key, consistent_read=True)
            except OutboxRecord.DoesNotExist:
                return None
        return PendingConfirmation(
            OrderConfirmation.from_json(record.context or {}),
            record.status,
            DeliveryLog.from_json(record.delivery),
        )

    def record(self, key: str, state: str, log: DeliveryLog, expected: str) -> bool:
        with storage_errors("updating the order confirmation"):
            try:
                OutboxRecord(key).update(
                    actions=[
                        OutboxRecord.status.set(state),
                        OutboxRecord.delivery.set(log.to_json()),
                        OutboxRecord.attempts.set(log.attempts),
                    ],
                    condition=OutboxRecord.pk.exists() & (OutboxRecord.status == expected),
                )
            except UpdateError as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    return False
                raise
        return True
