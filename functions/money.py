"""Money is Decimal, never float, and its currency travels with it."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_cents(value: Decimal) -> Decimal:
    """Round to the cent, half up: what a buyer is asked to approve and later invoiced."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(value: Decimal) -> str:
    """At least two decimals (`12.50`), more only when a usage rate needs them (`0.0045`)."""
    if value == value.quantize(CENT):
        return f"{value.quantize(CENT):f}"
    return f"{value.normalize():f}"


def display_money(value: Decimal) -> str:
    """For people: thousands grouped (`15,000.00`), extra decimals kept for rates (`0.0045`).
    Never in cXML Money elements, which take plain numbers (`format_money`)."""
    if value == value.quantize(CENT):
        return f"{value.quantize(CENT):,f}"
    return f"{value.normalize():,f}"
