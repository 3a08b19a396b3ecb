"""How numbers, units, money, dates and text read for people: one module for the pages, the
emails and the cart descriptions (also installed as Jinja filters), so "3E+3 HUR" is
"3,000 hours" everywhere. Never used for cXML values (Money, quantity, UnitOfMeasure), which
keep their machine forms.

Plain Python, standard library only at import (markupsafe, for `paragraphs`, only when a
template renders): cheap on every cold path, metering and Open Buy included."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from functions.money import display_money
from functions.units import COUNT_UNITS

if TYPE_CHECKING:  # markupsafe is loaded with Jinja2 by the pages; metering and Open Buy never
    from markupsafe import Markup

UNIT_NAMES = {
    "HUR": ("hour", "hours"),
    "MIN": ("minute", "minutes"),
    "DAY": ("day", "days"),
    "MON": ("month", "months"),
    "ANN": ("year", "years"),
    "EA": ("item", "items"),
    "C62": ("unit", "units"),
    "E34": ("GB", "GB"),
    "E35": ("TB", "TB"),
}
"""UN/CEFACT Rec. 20 code → (singular, plural) as a buyer reads it (functions/units.py)."""

PERIOD_NAMES = {"month": ("month", "months"), "year": ("year", "years")}
_MULTIPLIERS = ("hundred", "thousand", "million", "billion")

LINE_LABELS = {"contract": "Contract", "usage": "Usage budget"}
ZERO_LINE_LABELS = {
    "free": "Free subscription",
    "byol": "Bring your own license",
    "free_trial": "Free trial",
}


def number(value: Decimal | int) -> str:
    """Grouped, in plain notation, no trailing zeros: `3E+3` → `3,000`, `1.50` → `1.5`."""
    amount = Decimal(value)
    if amount == amount.to_integral_value():
        return f"{amount.quantize(Decimal(1)):,f}"
    return f"{amount.normalize():,f}"


def unit_name(code: str, quantity: Decimal | int = 1) -> str:
    """`HUR` → `hour` (one) or `hours` (any other quantity); an unknown code stays as it is."""
    singular, plural = UNIT_NAMES.get(code, (code, code))
    return singular if Decimal(quantity) == 1 else plural


def quantity(value: Decimal | int, code: str) -> str:
    """`3E+3`, `HUR` → `3,000 hours`; `1`, `ANN` → `1 year`."""
    return f"{number(value)} {unit_name(code, value)}"


def per(code: str) -> str:
    """`ANN` → `per year`."""
    return f"per {unit_name(code)}"


def money(amount: Decimal, currency: str) -> str:
    """`15000` → `15,000.00 USD` (rates keep their extra decimals: `0.0045 USD`)."""
    return f"{display_money(amount)} {currency}"


def periods(count: int, period: str) -> str:
    """`12`, `month` → `12 months`; `1`, `year` → `1 year` (never "1 year(s)")."""
    singular, plural = PERIOD_NAMES.get(period, (period, f"{period}s"))
    return f"{count} {singular if count == 1 else plural}"


def in_sentence(name: str) -> str:
    """A label as it reads inside a sentence: `Million inspected requests` → `million
    inspected requests`; names starting with an acronym (`GPU hours`, `API calls`) keep it."""
    first, _, rest = name.partition(" ")
    if first[:1].isupper() and first[1:] == first[1:].lower():
        first = first.lower()
    return f"{first} {rest}" if rest else first


def counted_rate(price: str, name: str) -> str:
    """A rate for a plain count (EA, C62), where the dimension's name is the unit:
    `Million inspected requests` → `0.60 USD per million inspected requests`, `Image scans` →
    `0.05 USD per image scan`; a name that is neither stays in brackets after `each`."""
    words = in_sentence(name).split()
    if words and words[0] in _MULTIPLIERS:
        return f"{price} per {' '.join(words)}"
    last = words[-1] if words else ""
    if len(last) > 3 and last.endswith("s") and not last.endswith("ss"):
        return f"{price} per {' '.join([*words[:-1], last[:-1]])}"
    return f"{price} each ({name})"


def sentence(text: str) -> str:
    """Ends a sentence once: `Sold by Streamline Data Inc.` stays as it is (no "Inc..")."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def rate(name: str, unit: str, unit_price: Decimal, currency: str) -> str:
    """A usage rate: `0.08 USD per hour (Pipeline hours)`, `0.60 USD per million requests`."""
    price = money(unit_price, currency)
    if unit in COUNT_UNITS:
        return counted_rate(price, name)
    return f"{price} {per(unit)} ({name})"


def usage_amount(value: Decimal, name: str, unit: str) -> str:
    """`1,000 hours`, `25 GB`, or for a plain count its name: `260 million requests`."""
    if unit in COUNT_UNITS:
        return f"{number(value)} {in_sentence(name)}"
    return quantity(value, unit)


def line_price(
    kind: str, unit_price: Decimal, currency: str, unit: str, rates: Mapping[str, Mapping[str, str]]
) -> str:
    """The price of a cart or subscription line as a buyer reads it: a contract or one usage
    rate per its unit; a usage budget over several rates lists them; a $0.00 line is free."""
    if kind == "usage" and rates:
        return "; ".join(
            rate(r["name"], r["unit"], Decimal(r["unit_price"]), currency) for r in rates.values()
        )
    if kind not in LINE_LABELS:
        return "No charge"
    return f"{money(unit_price, currency)} {per(unit)}"


def line_amount(
    kind: str,
    value: Decimal,
    unit_price: Decimal,
    currency: str,
    unit: str,
    rates: Mapping[str, Mapping[str, str]],
) -> str:
    """A line's quantity (approved, requested, used) as a buyer reads it: `3,000 hours`,
    `1 year`, `260 million requests`; a budget over several rates (quantity x 1.00) as money."""
    if kind == "usage" and len(rates) > 1:
        return f"{money(value * unit_price, currency)} of usage"
    if kind == "usage" and len(rates) == 1:
        (only,) = rates.values()
        return usage_amount(value, only["name"], only["unit"])
    if kind not in LINE_LABELS:
        return "Included"
    return quantity(value, unit)


def day(value: str | datetime | None) -> str:
    """An instant as a date a reader writes, in UTC: `30 November 2026`; empty stays empty."""
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else _instant(value)
    if moment is None:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%B %Y}"


def _instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def line_label(kind: str, pricing_model: str = "") -> str:
    """What a subscription or cart line is, instead of its internal ID: `Contract`, `Usage
    budget`, or for a $0.00 line what it is (`Free trial`)."""
    if kind in LINE_LABELS:
        return LINE_LABELS[kind]
    return ZERO_LINE_LABELS.get(pricing_model, "No-charge subscription")


def paragraphs(text: str | None) -> Markup:
    """Text as HTML paragraphs, escaped: blank lines separate paragraphs, single line breaks
    are kept (numbered getting-started steps stay one per line)."""
    from markupsafe import Markup, escape  # only rendering calls this: see the imports

    normalized = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    blocks = [block.strip() for block in normalized.split("\n\n") if block.strip()]
    return Markup("").join(
        Markup("<p>{}</p>").format(
            Markup("<br>\n").join(escape(line) for line in block.split("\n"))
        )
        for block in blocks
    )


FILTERS = {
    "number": number,
    "unit_name": unit_name,
    "quantity": quantity,
    "per": per,
    "money": money,
    "periods": periods,
    "day": day,
    "line_label": line_label,
    "line_price": line_price,
    "line_amount": line_amount,
    "paragraphs": paragraphs,
}
"""Installed in both Jinja environments (HTML pages and mail; text parts)."""
