"""Delivering an invoice again, as a use case: the admin's "deliver again" (docs/INVOICING.md).

Which invoices may be queued again, and when: a rejected, failed or stored one goes back to
`created` first (its delivery log kept); a delivered one, or one still `created` (queued, or
stuck after its message went to the DLQ), only when forced, since a second message for an
invoice on its way would race the first. Plain Python behind `RedeliveryPorts`; the delivery
worker (`functions/delivery.py`) then sends only `created` invoices, or a delivered one whose
message says `"force": true`."""

from __future__ import annotations

from typing import Any, Protocol

from functions import contracts
from functions.delivery import endpoint_of
from functions.errors import Conflict, NotFound
from functions.integrations import Integration

FINISHED = (contracts.INVOICE_REJECTED, contracts.INVOICE_FAILED, contracts.INVOICE_STORED)
"""The states an invoice leaves for `created` when the admin delivers it again."""


class InvoiceOnRecord(Protocol):
    """What the rules read of a stored invoice."""

    @property
    def invoice_id(self) -> str: ...

    @property
    def integration_id(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def delivery(self) -> dict[str, Any]: ...


class RedeliveryPorts(Protocol):
    def invoice(self, invoice_id: str) -> InvoiceOnRecord | None:
        """The invoice as stored now (a consistent read), or None."""
        ...

    def integration(self, integration_id: str) -> Integration | None: ...

    def reopen(self, invoice_id: str, delivery: dict[str, Any], expected: str) -> bool:
        """Put the invoice back to `created`, its delivery log kept, if its state is still
        `expected`; False if it changed meanwhile."""
        ...

    def queue(self, message: dict[str, Any]) -> None:
        """Send one message to the delivery queue."""
        ...


def redeliver(invoice_id: str, *, force: bool, ports: RedeliveryPorts) -> None:
    """Queue the invoice for delivery again, or raise a NotFound or Conflict the admin can act
    on (nothing queued, nothing changed)."""
    invoice = ports.invoice(invoice_id)
    if invoice is None:
        raise NotFound(f"No invoice with id {invoice_id!r}.")
    integration = ports.integration(invoice.integration_id)
    # Ariba invoices go to SAP Business Network: whether the marketplace's ANID and secret are
    # set is the delivery worker's to check (it keeps the invoice `stored`, saying so, if not).
    network = integration is not None and integration.system == "ariba"
    if not network and endpoint_of(integration) is None:
        name = integration.name if integration else invoice.integration_id
        raise Conflict(
            f"Integration '{name}' has no invoice endpoint: set its 'invoice_delivery' first.",
            field="invoice_delivery",
        )
    if invoice.state == contracts.INVOICE_CANCELLED:
        raise Conflict(f"Invoice {invoice_id} is cancelled: a cancelled invoice is never sent.")
    if invoice.state == contracts.INVOICE_DELIVERED and not force:
        raise Conflict(
            f"Invoice {invoice_id} was delivered at {invoice.delivery.get('delivered_at')}: "
            "add ?force=true to send it again."
        )
    if invoice.state == contracts.INVOICE_CREATED and not force:
        raise Conflict(
            f"Invoice {invoice_id} is already on its way (state 'created'): a second message "
            "would race the first. Add ?force=true only if it is stuck."
        )
    if invoice.state in FINISHED and not ports.reopen(
        invoice_id, invoice.delivery, expected=invoice.state
    ):
        raise Conflict(f"Invoice {invoice_id} changed meanwhile; read it again and retry.")
    message: dict[str, Any] = {"invoice_id": invoice_id}
    if invoice.state == contracts.INVOICE_DELIVERED:
        message["force"] = True
    ports.queue(message)
