"""`functions.buyer_status.StatusPorts` on DynamoDB: the buyer's StatusUpdateRequests recorded
on the invoice record (`invoices` table) or the kept order (`orders` table).

One TransactWriteItems per update: the marker `status#<integration>#<payloadID>` (orders
table, "must not exist", holding the update's fingerprint) and the document's new
`buyer_status`, conditioned on the integration owning it and on the status read (a concurrent
update makes the loser read again). A retry meets the marker and changes nothing."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from functions.buyer_status import RACED, AlreadyRecorded, SaveResult, TrackedDocument
from functions.cxml.status_update import INVOICE, ORDER, StatusUpdate
from functions.integrations import Integration
from functions.store import orders as order_store
from functions.store.batch import connection_of
from functions.store.errors import storage_errors
from functions.store.invoices import record_key
from functions.store.models import InvoiceRecord, OrderRecord


def _marker_key(integration_id: str, payload_id: str) -> str:
    return f"status#{integration_id}#{payload_id}"


def _get(key: str) -> OrderRecord | None:
    try:
        return OrderRecord.get(key, consistent_read=True)
    except OrderRecord.DoesNotExist:
        return None


def _same_status(attribute: Any, kept: dict[str, Any]) -> Any:
    """The condition "the status is still what we read" (a JSON attribute compares as its
    serialized text, which a read and a write of the same value agree on)."""
    return attribute == kept if kept else attribute.does_not_exist()


class DynamoStatusLedger:
    def integrations(self, buyer_keys: list[str]) -> dict[str, Integration]:
        return order_store.read_for_order(buyer_keys, [])[0]

    def invoice(self, invoice_id: str) -> TrackedDocument | None:
        with storage_errors("reading the invoice"):
            try:
                record = InvoiceRecord.get(record_key(invoice_id), consistent_read=True)
            except InvoiceRecord.DoesNotExist:
                return None
        return TrackedDocument(
            INVOICE, record.invoice_id, record.integration_id, dict(record.buyer_status or {})
        )

    def order(self, integration_id: str, order_id: str) -> TrackedDocument | None:
        with storage_errors("reading the order"):
            record = _get(order_store.order_key(integration_id, order_id))
        if record is None or record.kind != "order":
            return None
        return TrackedDocument(
            ORDER, record.order_id, record.integration_id, dict(record.buyer_status or {})
        )

    def order_id_of_payload(self, integration_id: str, payload_id: str) -> str | None:
        with storage_errors("reading the order's payloadID"):
            record = _get(order_store.payload_key(integration_id, payload_id))
        return record.order_id if record is not None else None

    def recorded_before(self, integration_id: str, payload_id: str) -> str | bool | None:
        with storage_errors("reading the status update's payloadID"):
            record = _get(_marker_key(integration_id, payload_id))
        if record is None:
            return False
        return str((record.document or {}).get("fingerprint") or "") or None

    def save(
        self,
        integration_id: str,
        update: StatusUpdate,
        target: TrackedDocument,
        buyer_status: dict[str, Any],
    ) -> SaveResult:
        marker = OrderRecord(
            _marker_key(integration_id, update.payload_id),
            kind="status",
            integration_id=integration_id,
            order_id=target.key,
            document={"fingerprint": update.fingerprint(), "subject": target.subject},
            received_at=buyer_status["current"]["received_at"],
        )
        kept = dict(target.buyer_status)
        with storage_errors("recording the status update"):
            try:
                with TransactWrite(connection=connection_of(OrderRecord)) as tx:
                    tx.save(
                        marker, condition=OrderRecord.pk.does_not_exist(), return_values="ALL_OLD"
                    )
                    if target.subject == INVOICE:
                        tx.update(
                            InvoiceRecord(record_key(target.key)),
                            actions=[InvoiceRecord.buyer_status.set(buyer_status)],
                            condition=InvoiceRecord.pk.exists()
                            & (InvoiceRecord.integration_id == integration_id)
                            & _same_status(InvoiceRecord.buyer_status, kept),
                        )
                    else:
                        tx.update(
                            OrderRecord(order_store.order_key(integration_id, target.key)),
                            actions=[OrderRecord.buyer_status.set(buyer_status)],
                            condition=OrderRecord.pk.exists()
                            & _same_status(OrderRecord.buyer_status, kept),
                        )
            except TransactWriteError as exc:
                reasons = list(exc.cancellation_reasons or [])
                first = reasons[0] if reasons else None
                if first is not None and first.code == "ConditionalCheckFailed":
                    old = OrderRecord.from_raw_data(first.raw_item) if first.raw_item else None
                    fingerprint = (old.document or {}).get("fingerprint") if old else None
                    return AlreadyRecorded(str(fingerprint) if fingerprint else None)
                codes = [r.code if r else None for r in reasons]
                if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
                    return RACED
                raise
        return None
