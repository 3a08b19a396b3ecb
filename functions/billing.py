"""Invoices: what a subscription owes, as documents that match the purchase order
(docs/PROTOCOL.md §8).

Pure. A contract is invoiced once, when its subscription activates, against the contract PO
line; usage is invoiced once per subscription and billing period (a calendar month, UTC)
against the usage PO line, one invoice line per dimension. Free, BYOL, free trials, test
subscriptions and periods without usage give no invoice. Invoice IDs are derived from what is
invoiced (subscription, kind, period), so a re-run can only meet the same ID again."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from functions import taxes
from functions.clock import iso
from functions.cxml.model import Credential
from functions.errors import BadRequest
from functions.instalments import contract_instalments
from functions.money import to_cents
from functions.parties import InvoicePartner, PartyAddress
from functions.schedules import UPFRONT
from functions.subscriptions import (
    Subscription,
    billable,
    invoiced_line,
)
from functions.taxes import TaxDetail, TaxRule

ZERO_RATED = TaxRule()
"""The rule of an invoice not yet issued: zero-rated (the billing run sets the integration's)."""
CONTRACT = "contract"
USAGE = "usage"
CREDIT = "credit"  # a credit memo (functions/corrections.py)
ALL_TIME = "all"
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])\Z")


@dataclass(frozen=True)
class InvoiceLine:
    invoice_line_number: int
    po_line_number: int
    supplier_part_id: str
    auxiliary_id: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    unit_of_measure: str
    dimension: str = ""  # usage lines: the dimension key

    @property
    def amount(self) -> Decimal:
        return to_cents(self.quantity * self.unit_price)


@dataclass(frozen=True)
class CreditLine(InvoiceLine):
    """A credit memo line: quantity and unit price as on the line credited (positive, as
    Coupa asks), the amount negative (the DTD's credit memo DueAmount is negative)."""

    credited_line: int = 0  # the invoiceLineNumber of the original line it credits

    @property
    def amount(self) -> Decimal:
        return -to_cents(self.quantity * self.unit_price)


@dataclass(frozen=True)
class Invoice:
    invoice_id: str
    kind: str  # CONTRACT | USAGE
    subscription_id: str
    integration_id: str
    account_id: str
    period: str  # "2026-11"; for a contract invoice, the month it was issued
    invoice_date: str
    order_id: str
    order_payload_id: str
    currency: str
    lines: tuple[InvoiceLine, ...]
    tax_rule: TaxRule = ZERO_RATED  # the integration's, set when issued
    bill_to: PartyAddress | None = None  # the PO's BillTo, from the approval cited
    partners: tuple[InvoicePartner, ...] = ()  # set when issued (`functions.parties`)
    approved_budget: Decimal | None = None  # usage: the PO line quantity
    used_to_date: Decimal | None = None  # usage: all usage so far, in the same unit
    invoiced_to_date: Decimal | None = None  # usage: all invoiced against the line, this one too
    held: tuple[tuple[str, Decimal], ...] = ()  # usage: (dimension, quantity) awaiting budget
    held_amount: Decimal = Decimal("0.00")  # usage: the held quantities at the rates
    product_name: str = ""
    offer_name: str = ""
    purpose: str = "standard"  # "creditMemo" for a credit memo (CREDIT)
    original_invoice_id: str = ""  # a credit memo: the invoice it credits
    original_invoice_date: str = ""
    original_payload_id: str = ""
    reason: str = ""  # a credit memo: why, as the admin or the refund rule said
    credit_key: str = ""  # a credit memo: its idempotency key (client's, or of its content)
    instalment: tuple[int, int] | None = None  # scheduled contract: (number, of how many)
    service_start: str = ""  # contract: when the periods it charges begin (refunds count from it)

    @property
    def subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def line_taxes(self) -> tuple[TaxDetail, ...]:
        """Each line's tax, rounded on its own (`functions.taxes`)."""
        return tuple(taxes.line_tax(line.amount, self.tax_rule) for line in self.lines)

    @property
    def total_tax(self) -> TaxDetail:
        return taxes.total_tax(self.line_taxes, self.tax_rule)

    @property
    def tax(self) -> Decimal:
        """The sum of the lines' taxes."""
        return self.total_tax.amount

    @property
    def net(self) -> Decimal:
        return self.subtotal + self.tax

    @property
    def due(self) -> Decimal:
        return self.net

    @property
    def awaiting_budget(self) -> bool:
        """Usage beyond the PO line's budget is held, not in this invoice (`functions.budgets`):
        the admin API and the subscription page say so."""
        return bool(self.held)


def period_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def parse_period(raw: object) -> str:
    """A billing period as admins and the API write it: `YYYY-MM`."""
    if not isinstance(raw, str) or not _PERIOD.match(raw.strip()):
        raise BadRequest("'period' must be a month like 2026-11.", field="period")
    return raw.strip()


def previous_period(moment: datetime) -> str:
    """The month before `moment`'s: what the monthly run (early in a month) invoices."""
    year, month = moment.astimezone(UTC).year, moment.astimezone(UTC).month
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def invoice_id(subscription_id: str, kind: str, period: str) -> str:
    """Unique forever and the same on every re-run: `INV-U-202611-1A2B3C4D5E6F`."""
    digest = hashlib.sha256(f"{subscription_id}|{kind}|{period}".encode()).hexdigest()[:12]
    tag = "C" if kind == CONTRACT else "U"
    compact = period.replace("-", "") if kind == USAGE else "ONCE"
    return f"INV-{tag}-{compact}-{digest.upper()}"


def contract_invoice_id(subscription_id: str, schedule: str, instalment: int) -> str:
    """An upfront contract's one invoice keeps the id it always had (`INV-C-ONCE-…`); an
    instalment's is unique per (subscription, instalment number): `INV-C-I02-…`."""
    if schedule == UPFRONT:
        return invoice_id(subscription_id, CONTRACT, "")
    digest = hashlib.sha256(f"{subscription_id}|{CONTRACT}|{instalment}".encode()).hexdigest()
    return f"INV-C-I{instalment:02d}-{digest[:12].upper()}"


def contract_invoice(
    subscription: Subscription, start: datetime, instalment: int = 1
) -> Invoice | None:
    """Instalment `instalment` of the contract that started at `start` (its activation), dated
    when its interval starts, against the contract PO line: the whole line when upfront."""
    line = invoiced_line(subscription, CONTRACT)
    parts = contract_instalments(subscription, start)
    if line is None or line.approval is None or not 1 <= instalment <= len(parts):
        return None
    approval, part = line.approval, parts[instalment - 1]
    schedule = subscription.billing_schedule
    what = "contract" if part.of == 1 else f"contract instalment {part.number} of {part.of}"
    return Invoice(
        invoice_id=contract_invoice_id(subscription.id, schedule, instalment),
        kind=CONTRACT,
        subscription_id=subscription.id,
        integration_id=subscription.integration_id,
        account_id=subscription.account_id,
        period=period_of(part.due),
        invoice_date=iso(part.due),
        order_id=approval.order_id,
        order_payload_id=approval.payload_id,
        currency=line.currency,
        lines=(
            InvoiceLine(
                invoice_line_number=1,
                po_line_number=approval.line_number,
                supplier_part_id=line.supplier_part_id,
                auxiliary_id=line.auxiliary_id,
                description=f"{subscription.product_name} / {subscription.offer_name}: {what}",
                quantity=part.quantity,
                unit_price=line.unit_price,
                unit_of_measure=line.unit_of_measure,
            ),
        ),
        bill_to=approval.bill_to,
        product_name=subscription.product_name,
        offer_name=subscription.offer_name,
        instalment=(part.number, part.of) if schedule != UPFRONT else None,
        service_start=iso(part.due),
    )


def usage_invoice(
    subscription: Subscription,
    period: str,
    usage: dict[str, Decimal],
    used_to_date: dict[str, Decimal],
    now: datetime,
) -> Invoice | None:
    """The period's usage, one line per dimension used, at the rates requested, against the
    usage PO line. `usage` is the period's quantity per dimension; `used_to_date` everything
    metered so far (for the budget check)."""
    line = invoiced_line(subscription, USAGE)
    if line is None or line.approval is None or not billable(subscription):
        return None
    approval = line.approval
    lines: list[InvoiceLine] = []
    for key, quantity in sorted(usage.items()):
        rate = subscription.rates.get(key)
        if rate is None or quantity <= 0:
            continue
        lines.append(
            InvoiceLine(
                invoice_line_number=len(lines) + 1,
                po_line_number=approval.line_number,
                supplier_part_id=line.supplier_part_id,
                auxiliary_id=line.auxiliary_id,
                description=f"{subscription.product_name}: {rate['name']} usage, {period}",
                quantity=quantity,
                unit_price=Decimal(rate["unit_price"]),
                unit_of_measure=rate["unit"],
                dimension=key,
            )
        )
    if not lines:
        return None
    used = usage_against_budget(subscription, used_to_date)
    return Invoice(
        invoice_id=invoice_id(subscription.id, USAGE, period),
        kind=USAGE,
        subscription_id=subscription.id,
        integration_id=subscription.integration_id,
        account_id=subscription.account_id,
        period=period,
        invoice_date=iso(now),
        order_id=approval.order_id,
        order_payload_id=approval.payload_id,
        currency=line.currency,
        lines=tuple(lines),
        approved_budget=approval.quantity,
        used_to_date=used,
        bill_to=approval.bill_to,
        product_name=subscription.product_name,
        offer_name=subscription.offer_name,
    )


def invoice_document(
    invoice: Invoice,
    *,
    supplier: Credential,
    buyer: Credential,
    sender: Credential,
    sender_secret: str | None = None,
    operation: str = "new",
) -> bytes:
    """The cXML InvoiceDetailRequest for `invoice`, valid against InvoiceDetail.dtd; with
    `operation="delete"`, the document cancelling it (functions/corrections.py)."""
    from functions.cxml import build

    original = (
        build.OriginalInvoice(
            invoice.original_invoice_id, invoice.original_invoice_date, invoice.original_payload_id
        )
        if invoice.original_invoice_id
        else None
    )
    return build.invoice_detail_request(
        invoice,
        supplier=supplier,
        buyer=buyer,
        sender=sender,
        sender_secret=sender_secret,
        purpose=invoice.purpose,
        operation=operation,
        original=original,
    )


def summary_json(invoice: Invoice) -> dict[str, object]:
    """The JSON summary stored beside the cXML document (and shown by the admin API)."""
    summary: dict[str, object] = {
        "invoice_id": invoice.invoice_id,
        "kind": invoice.kind,
        "subscription_id": invoice.subscription_id,
        "integration_id": invoice.integration_id,
        "account_id": invoice.account_id,
        "period": invoice.period,
        "invoice_date": invoice.invoice_date,
        "order_id": invoice.order_id,
        "order_payload_id": invoice.order_payload_id,
        "product_name": invoice.product_name,
        "offer_name": invoice.offer_name,
        "currency": invoice.currency,
        "lines": [
            {
                "invoice_line_number": line.invoice_line_number,
                "po_line_number": line.po_line_number,
                "supplier_part_id": line.supplier_part_id,
                "auxiliary_id": line.auxiliary_id,
                "dimension": line.dimension,
                "description": line.description,
                "quantity": str(line.quantity),
                "unit_price": str(line.unit_price),
                "unit_of_measure": line.unit_of_measure,
                "amount": str(line.amount),
            }
            for line in invoice.lines
        ],
        "subtotal": str(invoice.subtotal),
        "tax": str(invoice.tax),
        "tax_detail": {
            "category": invoice.tax_rule.category,
            "percentage_rate": invoice.tax_rule.percentage_rate,
            "location": invoice.tax_rule.location,
            "exemption": invoice.tax_rule.exemption if invoice.tax_rule.exempt else None,
            "description": invoice.tax_rule.detail_description,
        },
        "partners": [p.role for p in invoice.partners],
        "net": str(invoice.net),
        "due": str(invoice.due),
        "approved_budget": str(invoice.approved_budget)
        if invoice.approved_budget is not None
        else None,
        "used_to_date": str(invoice.used_to_date) if invoice.used_to_date is not None else None,
        "invoiced_to_date": _optional(invoice.invoiced_to_date),
        "awaiting_budget": {dimension: str(quantity) for dimension, quantity in invoice.held},
        "awaiting_budget_amount": str(invoice.held_amount) if invoice.held else None,
        "instalment": list(invoice.instalment) if invoice.instalment else None,
        "service_start": invoice.service_start or None,
    }
    if invoice.kind == CREDIT:
        summary.update(
            purpose=invoice.purpose,
            original_invoice_id=invoice.original_invoice_id,
            original_invoice_date=invoice.original_invoice_date,
            reason=invoice.reason,
            credit_key=invoice.credit_key,
            credited_lines=[getattr(line, "credited_line", 0) for line in invoice.lines],
        )
    return summary


def _optional(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def usage_against_budget(subscription: Subscription, used_to_date: dict[str, Decimal]) -> Decimal:
    """All usage so far in the unit of the usage PO line's quantity (the approved budget): the
    dimension's unit for a single-dimension offer, money for a multi-dimension budget line."""
    if len(subscription.rates) == 1:
        return sum(used_to_date.values(), Decimal(0))
    return sum(
        (q * Decimal(subscription.rates[k]["unit_price"]) for k, q in used_to_date.items()
         if k in subscription.rates),
        Decimal(0),
    )  # fmt: skip


def budget_status(
    subscription: Subscription, used_to_date: dict[str, Decimal]
) -> tuple[Decimal, Decimal] | None:
    """(used, approved) for a subscription whose usage a PO approved, else None."""
    line = invoiced_line(subscription, USAGE)
    if line is None or line.approval is None:
        return None
    return usage_against_budget(subscription, used_to_date), line.approval.quantity
