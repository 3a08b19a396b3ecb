"""Tax arithmetic: rounded per line, half up to the cent, and summed for the invoice; the rate
as the DTD's percentageRate; the reason written on a zero-rated or exempt detail."""

from __future__ import annotations

from decimal import Decimal

import pytest

from functions.taxes import TaxRule, line_tax, total_tax

VAT_20 = TaxRule(Decimal("0.2"), "vat", "VAT 20%", "GB")


def test_each_line_is_rounded_on_its_own_and_the_invoice_tax_is_their_sum() -> None:
    # Given three lines of 0.03 at 20 %: each 0.006 of tax, rounded half up to 0.01
    lines = [line_tax(Decimal("0.03"), VAT_20) for _ in range(3)]

    # When the invoice's tax is taken
    total = total_tax(lines, VAT_20)

    # Then it is the sum of the rounded lines (0.03), not 20 % of the subtotal (0.018 → 0.02)
    assert [line.amount for line in lines] == [Decimal("0.01")] * 3
    assert (total.taxable, total.amount) == (Decimal("0.09"), Decimal("0.03"))


def test_half_cents_round_away_from_zero_for_credits_as_for_charges() -> None:
    rule = TaxRule(Decimal("0.05"), "sales", "Sales tax 5%")

    assert line_tax(Decimal("0.10"), rule).amount == Decimal("0.01")  # 0.005 → 0.01
    assert line_tax(Decimal("-0.10"), rule).amount == Decimal("-0.01")


@pytest.mark.parametrize(
    ("rate", "written"),
    [("0.2", "20"), ("0.0825", "8.25"), ("0.07", "7"), ("0", "0"), ("0.1", "10")],
)
def test_the_rate_is_written_as_a_plain_percentage(rate: str, written: str) -> None:
    assert TaxRule(Decimal(rate)).percentage_rate == written


def test_a_zero_rate_is_an_exemption_with_its_reason() -> None:
    exempt = TaxRule(Decimal("0"), "vat", "VAT", exemption="exempt",
                     exemption_reason="Reverse charge: Article 196")  # fmt: skip
    plain = TaxRule()

    assert exempt.exempt and exempt.detail_description == "Reverse charge: Article 196"
    assert plain.exempt and plain.detail_description == "Zero-rated"
    assert not VAT_20.exempt and VAT_20.detail_description == "VAT 20%"
    assert line_tax(Decimal("15000.00"), exempt).amount == Decimal("0.00")
