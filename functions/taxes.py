"""The tax on an invoice, as accounts payable reads it: one `TaxDetail` per line and the
invoice's total (docs/INVOICING.md "Tax and parties").

Pure. An integration has one tax rule (rate, category, location, exemption). The rule for
money: each line's tax is its taxable amount times the rate, rounded half up to the cent; the
invoice's tax is the sum of its lines' taxes (never recomputed from the subtotal, so the lines
always add up to the summary, as the DTD asks). A zero rate is written as an explicit
zero-rated or exempt detail with its reason, never left out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from functions.money import to_cents

CATEGORIES = ("sales", "vat", "gst")
"""The `TaxDetail category` values the DTD defines for these taxes (InvoiceDetail.dtd)."""
EXEMPTIONS = ("zeroRated", "exempt")
"""`TaxDetail exemptDetail`: why a zero amount is zero (InvoiceDetail.dtd)."""
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class TaxRule:
    """How one integration's invoices are taxed. `rate` is a fraction ("0.20" is 20 %);
    `location` an ISO 3166 country, optionally with a region (`US-CA`); `exemption` and
    `exemption_reason` apply when the rate is zero."""

    rate: Decimal = Decimal("0")
    category: str = "sales"
    description: str = "Zero-rated"
    location: str = ""
    exemption: str = "zeroRated"
    exemption_reason: str = ""

    @property
    def exempt(self) -> bool:
        return self.rate == 0

    @property
    def percentage_rate(self) -> str:
        """`percentageRate` as the DTD writes it: a number of percent ("20", "8.25", "0")."""
        percent = (self.rate * 100).normalize()
        return f"{percent:f}" if percent else "0"

    @property
    def detail_description(self) -> str:
        """The `TaxDetail` Description: the exemption reason on a zero-rated or exempt detail
        (Coupa requires one there), else the tax's own description."""
        if self.exempt:
            return self.exemption_reason or self.description or _EXEMPTION_TEXT[self.exemption]
        return self.description


_EXEMPTION_TEXT = {"zeroRated": "Zero-rated", "exempt": "Exempt"}


@dataclass(frozen=True)
class TaxDetail:
    """The tax on an amount under one rule: what a `TaxDetail` element says."""

    taxable: Decimal
    amount: Decimal
    rule: TaxRule


def line_tax(taxable: Decimal, rule: TaxRule) -> TaxDetail:
    """One line's tax: rounded half up to the cent on its own."""
    return TaxDetail(taxable, to_cents(taxable * rule.rate), rule)


def total_tax(details: Sequence[TaxDetail], rule: TaxRule) -> TaxDetail:
    """The invoice's tax: the sums of its lines' taxable amounts and taxes."""
    return TaxDetail(
        sum((d.taxable for d in details), ZERO), sum((d.amount for d in details), ZERO), rule
    )
