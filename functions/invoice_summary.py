"""The JSON summary stored beside every invoice and credit memo (`billing.summary_json`), read
back as the domain's values: corrections work from it alone, since it holds every line as
invoiced, so a correction never needs the subscription as it is now."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from functions.billing import CREDIT, CreditLine, Invoice, InvoiceLine
from functions.taxes import TaxRule


def summary_lines(summary: Mapping[str, Any]) -> list[InvoiceLine]:
    """The lines of a stored invoice, as invoiced."""
    return [
        InvoiceLine(
            invoice_line_number=int(line["invoice_line_number"]),
            po_line_number=int(line["po_line_number"]),
            supplier_part_id=str(line["supplier_part_id"]),
            auxiliary_id=str(line["auxiliary_id"]),
            description=str(line["description"]),
            quantity=Decimal(line["quantity"]),
            unit_price=Decimal(line["unit_price"]),
            unit_of_measure=str(line["unit_of_measure"]),
            dimension=str(line.get("dimension") or ""),
        )
        for line in summary.get("lines") or []
    ]


def invoice_of_summary(summary: Mapping[str, Any]) -> Invoice:
    """A stored invoice (or credit memo) back as the domain's `Invoice`, amounts as stored."""
    lines = summary_lines(summary)
    if summary.get("kind") == CREDIT:
        numbers = summary.get("credited_lines") or [0] * len(lines)
        lines = [
            CreditLine(**{**line.__dict__, "credited_line": int(number)})
            for line, number in zip(lines, numbers, strict=False)
        ]
    subtotal, tax = Decimal(summary["subtotal"]), Decimal(summary["tax"])
    return Invoice(
        invoice_id=str(summary["invoice_id"]),
        kind=str(summary["kind"]),
        subscription_id=str(summary["subscription_id"]),
        integration_id=str(summary["integration_id"]),
        account_id=str(summary["account_id"]),
        period=str(summary["period"]),
        invoice_date=str(summary["invoice_date"]),
        order_id=str(summary["order_id"]),
        order_payload_id=str(summary["order_payload_id"]),
        currency=str(summary["currency"]),
        lines=tuple(lines),
        tax_rule=_stored_tax_rule(summary, tax / subtotal if subtotal else Decimal(0)),
        product_name=str(summary.get("product_name") or ""),
        offer_name=str(summary.get("offer_name") or ""),
        purpose=str(summary.get("purpose") or "standard"),
    )


def _stored_tax_rule(summary: Mapping[str, Any], fallback_rate: Decimal) -> TaxRule:
    """The tax rule an invoice was issued under, as its summary keeps it (summaries written
    before tax details were kept: the rate its amounts imply, zero-rated wording)."""
    detail = summary.get("tax_detail")
    if not isinstance(detail, dict):
        return TaxRule(rate=fallback_rate)
    rate = Decimal(str(detail.get("percentage_rate") or "0")) / 100
    return TaxRule(
        rate=rate,
        category=str(detail.get("category") or "sales"),
        description=str(detail.get("description") or ""),
        location=str(detail.get("location") or ""),
        exemption=str(detail.get("exemption") or "zeroRated"),
        exemption_reason=str(detail.get("description") or "") if rate == 0 else "",
    )
