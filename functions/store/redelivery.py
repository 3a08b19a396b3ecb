"""The admin's "deliver again" use case (`functions/redelivery.py`) on DynamoDB and SQS: the
invoice ledger, the integrations and the delivery queue, as deployed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from functions import contracts
from functions.integrations import Integration
from functions.store import invoices, queues
from functions.store.integrations import DynamoIntegrationStore
from functions.store.invoices import StoredInvoice


@dataclass(frozen=True)
class DynamoRedelivery:
    integrations: DynamoIntegrationStore
    queue_url: str

    def invoice(self, invoice_id: str) -> StoredInvoice | None:
        return invoices.get(invoice_id, consistent=True)

    def integration(self, integration_id: str) -> Integration | None:
        return self.integrations.get(integration_id)

    def reopen(self, invoice_id: str, delivery: dict[str, Any], expected: str) -> bool:
        return invoices.mark(invoice_id, contracts.INVOICE_CREATED, delivery, expected=expected)

    def queue(self, message: dict[str, Any]) -> None:
        queues.send(self.queue_url, [message])
