"""One invoice delivery through in-memory ports (the ledger, the stored document, the
integrations, the HTTP sender), as the delivery unit tests drive `functions.delivery`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from functions import delivery, integrations
from functions.billing import contract_invoice
from functions.cxml.build import response
from functions.delivery import CREATED, DELIVERED, DeliveryLog, PendingInvoice, Ports
from functions.delivery_transport import Answer, EndpointRefused, Send, Unanswered
from functions.integrations import Integration
from tests.billing_support import acme_document, subscription
from tests.support import INVOICE_DELIVERY, coupa_integration

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
FRESH = DeliveryLog()
LOST = DeliveryLog(attempts=1, unanswered=1)


def cxml_answer(code: int, message: str = "") -> Answer:
    return Answer(code, response(code, message))


def with_setting(**overrides: Any) -> Integration:
    integration, _ = integrations.new_integration(
        coupa_integration(invoice_delivery={**INVOICE_DELIVERY, **overrides})
    )
    return integration


def stored_document() -> bytes:
    invoice = contract_invoice(subscription(), NOW)
    assert invoice is not None
    return acme_document(invoice)


@dataclass
class Ledger:
    invoices: dict[str, PendingInvoice]
    recorded: list[tuple[str, str]] = field(default_factory=list)

    def pending(self, invoice_id: str) -> PendingInvoice | None:
        return self.invoices.get(invoice_id)

    def record(self, invoice_id: str, state: str, log: DeliveryLog, expected: str) -> bool:
        if self.invoices[invoice_id].state != expected:
            return False
        self.invoices[invoice_id] = replace(self.invoices[invoice_id], state=state, delivery=log)
        self.recorded.append((invoice_id, state))
        return True


@dataclass
class Documents:
    stored: bytes

    def read(self, key: str) -> bytes:
        assert key == "invoices/int_1/2026-12/INV-1.xml"
        return self.stored


@dataclass
class Integrations:
    integration: Integration | None

    def get(self, integration_id: str) -> Integration | None:
        return self.integration


@dataclass
class Sender:
    replies: list[Answer | Unanswered | EndpointRefused]
    sent: list[Send] = field(default_factory=list)

    def post(self, send: Send) -> Answer:
        self.sent.append(send)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def delivery_ports(
    *replies: Answer | Unanswered | EndpointRefused,
    state: str = CREATED,
    integration: Integration | None = None,
) -> tuple[Ports, Ledger, Sender]:
    if integration is None:
        integration = with_setting()
    ledger = Ledger({"INV-1": PendingInvoice(
        "INV-1", "int_1", state, "invoices/int_1/2026-12/INV-1.xml",
        DeliveryLog(delivered_at=NOW.isoformat()) if state == DELIVERED else DeliveryLog(),
    )})  # fmt: skip
    sender = Sender(list(replies))
    return (
        Ports(ledger, Documents(stored_document()), Integrations(integration), sender),
        ledger,
        sender,
    )


def deliver_invoice(ports: Ports, receive_count: int = 1, force: bool = False) -> delivery.Outcome:
    return delivery.deliver("INV-1", receive_count=receive_count, force=force, ports=ports, now=NOW)
