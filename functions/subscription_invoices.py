"""A subscription's invoices as the people of its account read them (the console): the list,
newest first, each with its credit memos, and one invoice as an accounts-payable clerk reads
it. Pure: built from the stored records (`functions.store.invoices.StoredInvoice`) and the
tree of the stored cXML (`functions.cxml.invoice_reading`).

Nothing is computed here that billing decided: quantities, prices, line amounts, tax and
totals are shown exactly as the invoice's JSON summary (`billing.summary_json`) recorded them
when it was issued; the document gives the parties and payment terms as it named them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from xml.etree.ElementTree import Element

from functions import contracts
from functions.billing import CONTRACT, CREDIT, USAGE
from functions.cxml.invoice_reading import (
    DocumentParty,
    PaymentTerm,
    document_parties,
    payment_terms,
)

KIND_LABELS = {CONTRACT: "Contract", USAGE: "Usage", CREDIT: "Credit memo"}

STATE_LABELS = {
    contracts.INVOICE_CREATED: "Issued, being delivered to your procurement system",
    contracts.INVOICE_DELIVERED: "Delivered to your procurement system",
    contracts.INVOICE_REJECTED: "Rejected by your procurement system",
    contracts.INVOICE_FAILED: "Not delivered yet: the marketplace is looking into it",
    contracts.INVOICE_STORED: "Issued (your procurement system does not take invoices by cXML)",
    contracts.INVOICE_CANCELLED: "Cancelled before it reached you: nothing is due",
}
"""What each stored delivery state means to the buyer (`contracts.INVOICE_STATES`)."""

BUYER_STATUS_LABELS = {
    "processing": "Processing",
    "canceled": "Cancelled by your company",
    "reconciled": "Reconciled",
    "rejected": "Rejected by your company",
    "paying": "Being paid",
    "paid": "Paid",
}
"""What the buyer's own system last reported (StatusUpdateRequest InvoiceStatus types)."""

PARTY_LABELS = {
    "from": "From (seller)",
    "soldTo": "Sold to",
    "billTo": "Bill to",
    "remitTo": "Remit to (pay)",
}
REFERENCE_LABELS = {
    "vatID": "VAT number",
    "gstID": "GST number",
    "federalTaxID": "Tax ID",
    "taxPrefix": "Tax number prefix",
    "taxNumber": "Tax number",
    "remitToCode": "Remit-to code",
}


class InvoiceRecordLike(Protocol):
    """What the views read of a stored invoice (`functions.store.invoices.StoredInvoice`)."""

    @property
    def invoice_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def subscription_id(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def summary(self) -> dict[str, Any]: ...
    @property
    def awaiting_budget(self) -> bool: ...
    @property
    def buyer_status(self) -> dict[str, Any]: ...
    @property
    def created_at(self) -> str: ...


def _amount(raw: Any) -> Decimal | None:
    """A stored amount string back as a Decimal (never recomputed); None when absent."""
    if raw is None or raw == "":
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None


def period_label(period: str) -> str:
    """`2026-11` → `November 2026` (a usage invoice's month; a contract's month of issue)."""
    try:
        return datetime.strptime(period, "%Y-%m").strftime("%B %Y")
    except ValueError:
        return period


def buyer_status_label(buyer_status: Mapping[str, Any] | None) -> str:
    current = (buyer_status or {}).get("current") or {}
    status = str(current.get("status") or "")
    return BUYER_STATUS_LABELS.get(status, status)


@dataclass(frozen=True)
class InvoiceEntry:
    """One row of a subscription's invoices: what it is, for when, its state, what is due."""

    invoice_id: str
    kind: str
    kind_label: str
    period: str
    period_label: str
    invoice_date: str
    state: str
    state_label: str
    buyer_status: str
    due: Decimal | None
    currency: str
    awaiting_budget: bool
    reason: str
    original_invoice_id: str
    credit_memos: tuple[InvoiceEntry, ...] = ()


def invoice_entry(
    invoice: InvoiceRecordLike, credit_memos: tuple[InvoiceEntry, ...] = ()
) -> InvoiceEntry:
    summary = invoice.summary
    return InvoiceEntry(
        invoice_id=invoice.invoice_id,
        kind=invoice.kind,
        kind_label=KIND_LABELS.get(invoice.kind, invoice.kind),
        period=invoice.period,
        period_label=period_label(invoice.period),
        invoice_date=str(summary.get("invoice_date") or invoice.created_at),
        state=invoice.state,
        state_label=STATE_LABELS.get(invoice.state, invoice.state),
        buyer_status=buyer_status_label(invoice.buyer_status),
        due=_amount(summary.get("due")),
        currency=str(summary.get("currency") or ""),
        awaiting_budget=invoice.awaiting_budget,
        reason=str(summary.get("reason") or ""),
        original_invoice_id=str(summary.get("original_invoice_id") or ""),
        credit_memos=credit_memos,
    )


def subscription_invoices(found: Iterable[InvoiceRecordLike]) -> list[InvoiceEntry]:
    """A subscription's invoices, newest first, each credit memo under the invoice it credits
    (the by-subscription index returns both kinds; a memo whose invoice is not among them is
    listed on its own)."""
    newest_first = sorted(found, key=lambda i: (i.created_at, i.invoice_id), reverse=True)
    invoice_ids = {i.invoice_id for i in newest_first if i.kind != CREDIT}
    memos: dict[str, list[InvoiceEntry]] = {}
    for invoice in newest_first:
        original = str(invoice.summary.get("original_invoice_id") or "")
        if invoice.kind == CREDIT and original in invoice_ids:
            memos.setdefault(original, []).append(invoice_entry(invoice))
    return [
        invoice_entry(invoice, tuple(memos.get(invoice.invoice_id, ())))
        for invoice in newest_first
        if invoice.kind != CREDIT
        or str(invoice.summary.get("original_invoice_id") or "") not in invoice_ids
    ]


@dataclass(frozen=True)
class ReadableLine:
    number: int
    po_line_number: int
    description: str
    part_id: str
    quantity: Decimal | None
    unit: str
    unit_price: Decimal | None
    amount: Decimal | None


@dataclass(frozen=True)
class ReadableParty:
    label: str
    name: str
    address_id: str
    address_lines: tuple[str, ...]
    email: str
    references: tuple[tuple[str, str], ...]  # (label, identifier)


@dataclass(frozen=True)
class ReadableInvoice:
    """An invoice or credit memo as a clerk reads it, every amount as invoiced."""

    entry: InvoiceEntry
    title: str
    product_name: str
    offer_name: str
    order_id: str
    parties: tuple[ReadableParty, ...]
    payment_terms: tuple[str, ...]
    lines: tuple[ReadableLine, ...]
    subtotal: Decimal | None
    tax: Decimal | None
    tax_label: str
    tax_note: str
    net: Decimal | None
    due: Decimal | None
    service_start: str
    instalment: str
    original_invoice_id: str
    original_invoice_date: str
    reason: str
    awaiting_budget_amount: Decimal | None


def _party(party: DocumentParty) -> ReadableParty:
    return ReadableParty(
        label=PARTY_LABELS.get(party.role, party.role),
        name=party.name,
        address_id=party.address_id,
        address_lines=party.address_lines,
        email=party.email,
        references=tuple(
            (REFERENCE_LABELS.get(domain, domain), identifier)
            for domain, identifier in party.references
        ),
    )


def _term(term: PaymentTerm) -> str:
    due = "on receipt" if term.days == 0 else f"within {term.days} days"
    discount = f" ({term.discount_percent}% discount)" if term.discount_percent else ""
    return f"Pay {due}{discount}"


def _tax_label(summary: Mapping[str, Any]) -> tuple[str, str]:
    """The tax line's label (`Sales tax (8.25%)`) and its note (exemption, location)."""
    detail = summary.get("tax_detail")
    if not isinstance(detail, dict):
        return "Tax", ""
    category = str(detail.get("category") or "")
    name = {"vat": "VAT", "gst": "GST", "sales": "Sales tax"}.get(category, "Tax")
    rate = str(detail.get("percentage_rate") or "")
    label = f"{name} ({rate}%)" if rate else name
    notes = [str(detail.get("description") or "")] if detail.get("exemption") else []
    if detail.get("location"):
        notes.append(f"Tax location: {detail['location']}")
    return label, ". ".join(note for note in notes if note)


def _line(raw: Mapping[str, Any]) -> ReadableLine:
    return ReadableLine(
        number=int(raw.get("invoice_line_number") or 0),
        po_line_number=int(raw.get("po_line_number") or 0),
        description=str(raw.get("description") or ""),
        part_id=str(raw.get("supplier_part_id") or ""),
        quantity=_amount(raw.get("quantity")),
        unit=str(raw.get("unit_of_measure") or ""),
        unit_price=_amount(raw.get("unit_price")),
        amount=_amount(raw.get("amount")),
    )


def readable_invoice(invoice: InvoiceRecordLike, document: Element) -> ReadableInvoice:
    """The invoice from its record's summary (lines, tax, totals) and its stored document
    (parties, payment terms)."""
    summary = invoice.summary
    tax_label, tax_note = _tax_label(summary)
    instalment = summary.get("instalment")
    return ReadableInvoice(
        entry=invoice_entry(invoice),
        title="Credit memo" if invoice.kind == CREDIT else "Invoice",
        product_name=str(summary.get("product_name") or ""),
        offer_name=str(summary.get("offer_name") or ""),
        order_id=str(summary.get("order_id") or ""),
        parties=tuple(_party(p) for p in document_parties(document)),
        payment_terms=tuple(_term(t) for t in payment_terms(document)),
        lines=tuple(_line(raw) for raw in summary.get("lines") or ()),
        subtotal=_amount(summary.get("subtotal")),
        tax=_amount(summary.get("tax")),
        tax_label=tax_label,
        tax_note=tax_note,
        net=_amount(summary.get("net")),
        due=_amount(summary.get("due")),
        service_start=str(summary.get("service_start") or ""),
        instalment=(
            f"Instalment {instalment[0]} of {instalment[1]}"
            if isinstance(instalment, list) and len(instalment) == 2
            else ""
        ),
        original_invoice_id=str(summary.get("original_invoice_id") or ""),
        original_invoice_date=str(summary.get("original_invoice_date") or ""),
        reason=str(summary.get("reason") or ""),
        awaiting_budget_amount=_amount(summary.get("awaiting_budget_amount")),
    )
