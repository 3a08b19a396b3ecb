"""The correction use cases' ports (`functions.invoice_corrections.CorrectionPorts`) on
DynamoDB, S3 and SQS: credit memos are stored as invoices are (`functions.store.invoices`);
an invoice's credits are read by id (`CM-...-1`, `-2`, ... consistent GetItems until one is
missing: never a stale index); a cancellation keeps its document at
`invoices/<integration>/<YYYY-MM>/<invoice id>.cancel.xml` and marks the record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from functions import contracts, corrections, store
from functions.billing import CONTRACT, Invoice
from functions.billing_messages import delivery_message
from functions.config import Settings, settings
from functions.integrations import Integration
from functions.store import invoice_files, invoices, queues
from functions.store.invoices import StoredInvoice
from functions.store.subscriptions import DynamoSubscriptionStore
from functions.subscriptions import Subscription

MAX_CREDITS = 1000
"""Credits read per invoice at most (an invoice is credited a handful of times)."""


def cancellation_key(invoice: StoredInvoice) -> str:
    return invoice.s3_key.removesuffix(".xml") + ".cancel.xml"


@dataclass(frozen=True)
class DynamoCorrectionPorts:
    delivery_queue_url: str
    integrations: Any  # an integration store with get(id) (functions.store.integrations)

    def invoice(self, invoice_id: str) -> StoredInvoice | None:
        return invoices.get(invoice_id, consistent=True)

    def credits(self, invoice_id: str) -> list[StoredInvoice]:
        found: list[StoredInvoice] = []
        for sequence in range(1, MAX_CREDITS + 1):
            credit = invoices.get(corrections.credit_memo_id(invoice_id, sequence), consistent=True)
            if credit is None:
                break
            found.append(credit)
        return found

    def payload_id(self, invoice: Any) -> str:
        from functions.cxml.parse import parse_invoice_document

        return str(parse_invoice_document(invoices.document(invoice)).get("payloadID") or "")

    def integration(self, integration_id: str) -> Integration | None:
        return self.integrations.get(integration_id)

    def create(self, invoice: Invoice, document: bytes, summary: dict[str, Any]) -> bool:
        return invoices.create(invoice, document, summary)

    def announce(self, invoice_id: str) -> None:
        queues.send(self.delivery_queue_url, [delivery_message(invoice_id)])

    def cancel(self, invoice: Any, document: bytes) -> bool:
        invoice_files.put(cancellation_key(invoice), document, invoice_files.XML_TYPE)
        return invoices.mark(
            invoice.invoice_id,
            contracts.INVOICE_CANCELLED,
            invoice.delivery,
            expected=invoice.state,
        )

    def subscription(self, subscription_id: str) -> Subscription | None:
        return DynamoSubscriptionStore().get(subscription_id)

    def contract_invoices(self, subscription_id: str) -> list[StoredInvoice]:
        return [i for i in invoices.list_for_subscription(subscription_id) if i.kind == CONTRACT]


def ports_for(config: Settings, integrations: Any) -> DynamoCorrectionPorts:
    return DynamoCorrectionPorts(config.delivery_queue_url, integrations)


def configured_ports() -> DynamoCorrectionPorts:
    """As deployed, store bound: the billing worker's refunds."""
    from functions.store.integrations import DynamoIntegrationStore

    config = settings()
    store.bind(config)
    return ports_for(config, DynamoIntegrationStore())
