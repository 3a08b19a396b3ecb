"""Correcting invoices, as use cases over ports: the admin's credit memo and cancellation, and
the refund credit of a subscription cancelled mid-term (the billing worker's
`invoice#<subscription>#refund` outbox item). The rules are `functions.corrections` and
`functions.refunds`; the adapters `functions.store.corrections`.

A credit memo is stored, summarised and announced exactly as an invoice is (the same record,
S3 layout, states, delivery queue and worker): `ports.create` writes its record only if its
id is new, and its id is the n-th credit of the invoice, so two credits racing never both
land, and a retry (same key) finds the first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from functions import billing, contracts, corrections, refunds
from functions.billing import Invoice
from functions.billing_run import document_of, parties_of
from functions.cxml.model import Credential
from functions.delivery_verdict import DeliveryLog
from functions.errors import Conflict, NotFound
from functions.integrations import Integration
from functions.invoice_summary import invoice_of_summary
from functions.invoice_terms import with_terms
from functions.parties import LegalEntity
from functions.redelivery import InvoiceOnRecord
from functions.subscriptions import Subscription

NO_ENTITY = LegalEntity()
"""No legal entity configured: corrections then name no from/remitTo partner."""


class StoredInvoiceView(InvoiceOnRecord, Protocol):
    """What the rules read of a stored invoice (`functions.store.invoices.StoredInvoice`):
    what re-delivery reads, and its kind and summary."""

    @property
    def kind(self) -> str: ...
    @property
    def summary(self) -> dict[str, Any]: ...


class CorrectionPorts(Protocol):
    def invoice(self, invoice_id: str) -> StoredInvoiceView | None:
        """The invoice as stored now (a consistent read), or None."""
        ...

    def credits(self, invoice_id: str) -> Sequence[StoredInvoiceView]:
        """Its credit memos, first to last (consistent reads)."""
        ...

    def payload_id(self, invoice: StoredInvoiceView) -> str:
        """The payloadID of the invoice's stored document (the same on every delivery)."""
        ...

    def integration(self, integration_id: str) -> Integration | None: ...

    def create(self, invoice: Invoice, document: bytes, summary: dict[str, Any]) -> bool:
        """Store it as an invoice is stored; False if its id exists (nothing written)."""
        ...

    def announce(self, invoice_id: str) -> None:
        """One delivery queue message."""
        ...

    def cancel(self, invoice: StoredInvoiceView, document: bytes) -> bool:
        """Keep the cancellation document beside the invoice and mark it cancelled if its
        state is still the one read; False if it changed meanwhile."""
        ...

    def subscription(self, subscription_id: str) -> Subscription | None: ...

    def contract_invoices(self, subscription_id: str) -> Sequence[StoredInvoiceView]: ...


@dataclass(frozen=True)
class Credited:
    invoice_id: str
    created: bool  # False: the request was a retry of this credit memo


def _existing(invoice_id: str, ports: CorrectionPorts) -> StoredInvoiceView:
    found = ports.invoice(invoice_id)
    if found is None:
        raise NotFound(f"No invoice with id {invoice_id!r}.")
    return found


def _integration(integration_id: str, ports: CorrectionPorts) -> Integration:
    integration = ports.integration(integration_id)
    if integration is None:
        raise Conflict(f"Integration {integration_id} no longer exists: nothing to send it to.")
    return integration


def _taxed(invoice: Invoice, integration: Integration, entity: LegalEntity) -> Invoice:
    """Taxed and addressed as the billing run does an invoice (`functions.invoice_terms`)."""
    return with_terms(invoice, integration, entity)


def issue_credit(
    invoice_id: str,
    request: corrections.CreditRequest,
    ports: CorrectionPorts,
    *,
    supplier: Credential,
    now: datetime,
    entity: LegalEntity = NO_ENTITY,
) -> Credited:
    """Issue the credit memo `request` asks for, or find the one it already made; raises a
    NotFound or Conflict the admin can act on (nothing written then)."""
    original = _existing(invoice_id, ports)
    every = ports.credits(invoice_id)
    found = corrections.existing_credit(request, [c.summary for c in every])
    if found is not None:
        return Credited(str(found["invoice_id"]), created=False)
    standing = [c.summary for c in every if c.state != contracts.INVOICE_CANCELLED]
    memo = corrections.credit_memo(
        original.summary, original.state, ports.payload_id(original), request, standing, now,
        sequence=len(every) + 1,
    )  # fmt: skip
    integration = _integration(memo.integration_id, ports)
    memo = _taxed(memo, integration, entity)
    summary = billing.summary_json(memo)
    summary["credit_content"] = request.content()
    document = document_of(memo, parties_of(integration, supplier), integration.unit_mapping)
    if not ports.create(memo, document, summary):
        again = corrections.existing_credit(request, [c.summary for c in ports.credits(invoice_id)])
        if again is not None:  # a concurrent copy of this request issued it
            return Credited(str(again["invoice_id"]), created=False)
        raise Conflict(
            f"Another credit of invoice {invoice_id} was issued meanwhile: read the invoice "
            "again and retry if something is still to be credited."
        )
    ports.announce(memo.invoice_id)
    return Credited(memo.invoice_id, created=True)


def cancel(
    invoice_id: str,
    ports: CorrectionPorts,
    *,
    supplier: Credential,
    entity: LegalEntity = NO_ENTITY,
) -> StoredInvoiceView:
    """Cancel an invoice that never reached the buyer; raises a Conflict saying why not."""
    invoice = _existing(invoice_id, ports)
    log = DeliveryLog.from_json(invoice.delivery)
    corrections.check_cancellable(invoice_id, invoice.state, log.may_have_arrived)
    integration = _integration(invoice.integration_id, ports)
    stored = invoice_of_summary(invoice.summary)
    itself = replace(
        stored,
        original_invoice_id=stored.invoice_id,
        original_invoice_date=stored.invoice_date,
        original_payload_id=ports.payload_id(invoice),
    )
    # the partners as the integration names them now, the tax as the invoice was issued
    itself = replace(with_terms(itself, integration, entity), tax_rule=itself.tax_rule)
    document = document_of(
        itself, parties_of(integration, supplier), integration.unit_mapping, operation="delete"
    )
    if not ports.cancel(invoice, document):
        raise Conflict(f"Invoice {invoice_id} changed meanwhile; read it again and retry.")
    return _existing(invoice_id, ports)


def refund(
    subscription_id: str,
    ports: CorrectionPorts,
    *,
    supplier: Credential,
    now: datetime,
    entity: LegalEntity = NO_ENTITY,
) -> list[Credited]:
    """The refund credits of a subscription cancelled mid-term (`functions.refunds`). A
    contract invoice not yet in the buyer's hands is left alone if cancelled, and waited for
    (raises, so the outbox record is retried) while it is still on its way."""
    subscription = ports.subscription(subscription_id)
    if subscription is None or not subscription.cancelled_at:
        return []
    done: list[Credited] = []
    for invoice in ports.contract_invoices(subscription_id):
        if invoice.state == contracts.INVOICE_CANCELLED:
            continue
        credits = ports.credits(invoice.invoice_id)
        key = refunds.refund_key(invoice.invoice_id)
        done_before = next((c for c in credits if c.summary.get("credit_key") == key), None)
        if done_before is not None:  # handled before: the same credit memo, nothing new
            done.append(Credited(done_before.invoice_id, created=False))
            continue
        standing = [c.summary for c in credits if c.state != contracts.INVOICE_CANCELLED]
        _, per_line = corrections.credited_so_far(standing)
        request = refunds.refund_request(subscription, invoice.summary, per_line)
        if request is None:
            continue
        if invoice.state not in corrections.CREDITABLE:
            raise Conflict(
                f"Contract invoice {invoice.invoice_id} is '{invoice.state}': its refund waits "
                "until it is delivered (or is cancelled by the admin)."
            )
        done.append(
            issue_credit(
                invoice.invoice_id, request, ports, supplier=supplier, now=now, entity=entity
            )
        )
    return done
