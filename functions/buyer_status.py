"""Status coming back: a buyer's StatusUpdateRequest recorded on our invoice or order, as a use
case over ports (the adapter is `functions.store.buyer_status`).

Rules (docs/INVOICING.md, "Status updates and order confirmations"):
- Authenticated exactly as purchase orders are (`integrations.authenticate`, the same batch
  read of the From credentials): Coupa's per-integration secret, Ariba's marketplace secret.
- An invoice is named by `InvoiceIDInfo invoiceID`; it must be one of this integration's
  invoices. Another integration's invoice gets the same 417 as an unknown one (nothing tells
  a buyer it exists). An order is named by `DocumentInfo documentID` (its orderID) or by
  `DocumentReference payloadID` (the OrderRequest's payloadID).
- Each document keeps its current buyer status and the last `MAX_HISTORY` updates.
- `paid` and `canceled` are final: a later, different invoice status is refused (409).
- A payloadID is recorded once, with the update's fingerprint, in the same transaction as the
  status: the same document again answers 200 and changes nothing; the payloadID reused with
  other content is refused (409) naming it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from functions.clock import iso, now
from functions.cxml.parse import CxmlRequest
from functions.cxml.status_update import INVOICE, ORDER, StatusUpdate, parse_status_update
from functions.errors import Conflict, GatewayError, Transient
from functions.integrations import Integration, authenticate

MAX_HISTORY = 20
"""Updates kept per document, newest last (a status changes a handful of times)."""
FINAL_INVOICE_STATUSES = ("paid", "canceled")
ATTEMPTS = 3


class UnknownDocument(GatewayError):
    """cXML 417: the reference names no document of this integration (docs/PROTOCOL.md §3)."""

    status = 417


@dataclass(frozen=True)
class TrackedDocument:
    """An invoice or order as a status update needs it: whose it is and its buyer status."""

    subject: str  # INVOICE | ORDER
    key: str  # the invoice id, or the order id
    integration_id: str
    buyer_status: Mapping[str, Any] = field(default_factory=dict)


class AlreadyRecorded:
    """The save found this payloadID recorded before, with `fingerprint`."""

    def __init__(self, fingerprint: str | None) -> None:
        self.fingerprint = fingerprint


class Raced:
    """The document's status changed between our read and our write: read again."""


RACED = Raced()
SaveResult = AlreadyRecorded | Raced | None


class StatusPorts(Protocol):
    def integrations(self, buyer_keys: list[str]) -> dict[str, Integration]:
        """The integrations for these From credential keys (as for a purchase order)."""
        ...

    def invoice(self, invoice_id: str) -> TrackedDocument | None: ...

    def order(self, integration_id: str, order_id: str) -> TrackedDocument | None: ...

    def order_id_of_payload(self, integration_id: str, payload_id: str) -> str | None:
        """The orderID of the OrderRequest this integration sent with `payload_id`."""
        ...

    def recorded_before(self, integration_id: str, payload_id: str) -> str | bool | None:
        """The fingerprint recorded with this payloadID; False when never recorded."""
        ...

    def save(
        self,
        integration_id: str,
        update: StatusUpdate,
        target: TrackedDocument,
        buyer_status: dict[str, Any],
    ) -> SaveResult:
        """Record the payloadID and set the document's status if it is still
        `target.buyer_status`, all or nothing."""
        ...


@dataclass(frozen=True)
class Recorded:
    """The Status 200 message; `update` and `target` None for a duplicate answered again."""

    message: str
    integration: Integration
    update: StatusUpdate | None = None
    target: TrackedDocument | None = None


def receive(
    request: CxmlRequest,
    ports: StatusPorts,
    ariba_secret: Callable[[], str | None],
    clock: Callable[[], datetime] = now,
) -> Recorded:
    """Record one StatusUpdateRequest; a Recorded, or a GatewayError for the buyer."""
    keys = list(dict.fromkeys(c.key for c in request.header.from_credentials[:10]))
    integration = authenticate(request.header, ports.integrations(keys), ariba_secret).integration
    try:
        return _record(request, integration, ports, clock)
    except GatewayError as refusal:  # its activity shows it (functions/activity.py)
        refusal.integration_id = refusal.integration_id or integration.id
        raise


def _record(
    request: CxmlRequest,
    integration: Integration,
    ports: StatusPorts,
    clock: Callable[[], datetime],
) -> Recorded:
    update = parse_status_update(request)
    for _ in range(ATTEMPTS):
        kept = ports.recorded_before(integration.id, update.payload_id)
        if kept is not False:
            return Recorded(_answer_to_reuse(kept, update), integration)
        target = _target(update, integration, ports)
        status = after(target, update, iso(clock()))
        saved = ports.save(integration.id, update, target, status)
        if isinstance(saved, AlreadyRecorded):
            return Recorded(_answer_to_reuse(saved.fingerprint, update), integration)
        if isinstance(saved, Raced):
            continue
        return Recorded(_recorded_message(update, target), integration, update, target)
    raise Transient("The status could not be saved because of concurrent updates; please retry.")


def _target(update: StatusUpdate, integration: Integration, ports: StatusPorts) -> TrackedDocument:
    if update.subject == INVOICE:
        found = ports.invoice(update.reference)
        if found is None or found.integration_id != integration.id:
            raise UnknownDocument(
                f"No invoice {update.reference!r} was sent to integration '{integration.name}': "
                "check the invoiceID in InvoiceIDInfo."
            )
        return found
    order_id = update.reference or ports.order_id_of_payload(
        integration.id, update.document_payload_id
    )
    order = ports.order(integration.id, order_id) if order_id else None
    if order is None:
        named = (
            f"orderID {update.reference!r}"
            if update.reference
            else f"DocumentReference payloadID {update.document_payload_id!r}"
        )
        raise UnknownDocument(
            f"No purchase order with {named} was received from integration '{integration.name}'."
        )
    return order


def after(target: TrackedDocument, update: StatusUpdate, at: str) -> dict[str, Any]:
    """The document's buyer status once `update` is recorded (or Conflict for a bad state)."""
    current = dict(target.buyer_status.get("current") or {})
    was = str(current.get("status") or "")
    if target.subject == INVOICE and was in FINAL_INVOICE_STATUSES and update.status != was:
        raise Conflict(
            f"Invoice {target.key} is already {was}: a later status '{update.status}' is "
            "refused. Send a credit memo or a new invoice instead."
        )
    entry = {
        "status": update.status,
        "code": update.code,
        "text": update.text,
        "message": update.message,
        "comments": update.comments,
        "payload_id": update.payload_id,
        "received_at": at,
    }
    if update.partial_amount:
        entry["partial_amount"] = {
            "amount": update.partial_amount,
            "currency": update.partial_currency,
        }
    history = [*list(target.buyer_status.get("history") or []), entry][-MAX_HISTORY:]
    return {
        "current": entry,
        "history": history,
        "updates": int(target.buyer_status.get("updates") or 0) + 1,
    }


def _recorded_message(update: StatusUpdate, target: TrackedDocument) -> str:
    what = "Invoice" if target.subject == INVOICE else "Order"
    return f"{what} {target.key} status '{update.status}' recorded."


def _answer_to_reuse(kept: str | bool | None, update: StatusUpdate) -> str:
    if kept == update.fingerprint():
        return "Status update already recorded; nothing changed."
    raise Conflict(
        f"payloadID {update.payload_id[:120]!r} was already used for another status update: "
        "a new status needs a new payloadID."
    )


def view(buyer_status: Mapping[str, Any] | None) -> dict[str, Any]:
    """The buyer status as the admin API shows it: current status (None before any update),
    when it came, and the history, newest last."""
    data = dict(buyer_status or {})
    current = data.get("current") or {}
    return {
        "status": current.get("status"),
        "comments": current.get("comments", ""),
        "received_at": current.get("received_at"),
        "history": list(data.get("history") or []),
        "updates": int(data.get("updates") or 0),
    }


__all__ = ["INVOICE", "MAX_HISTORY", "ORDER", "Recorded", "StatusPorts", "receive", "view"]
