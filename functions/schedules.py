"""Contract billing schedules, the offer's rule: when a contract's price is invoiced
(docs/INVOICING.md, "Contract billing schedules").

`upfront` invoices the whole contract when it activates. `monthly`, `quarterly` and `annual`
invoice it in instalments, each a whole number of the priced period (a quarterly instalment of
a month-priced line is 3 months at the monthly price: three-way matching compares unit prices);
the last is what remains, so they never add up to more than the PO line. A subscription's
instalments and when they fall due are `functions.instalments`.

Plain Python with no domain imports: the catalog, the cart and the subscription read it."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from functions.formatting import money, periods
from functions.money import to_cents

PERIOD_MONTHS = {"month": 1, "year": 12, "MON": 1, "ANN": 12}
"""A priced period (or its UOM) in months."""
UPFRONT = "upfront"
EVERY = {UPFRONT: 0, "monthly": 1, "quarterly": 3, "annual": 12}
"""Schedule → months per instalment (0: the whole contract at once)."""
ADVERB = {"monthly": "monthly", "quarterly": "quarterly", "annual": "yearly"}
EACH = {"monthly": "month", "quarterly": "quarter", "annual": "year"}


def allowed(period: str) -> tuple[str, ...]:
    """The schedules of a contract priced per `period` (`month` | `year`): upfront, and those
    whose interval is a whole number of priced periods (a year-priced contract cannot be
    invoiced monthly at its yearly unit price)."""
    months = PERIOD_MONTHS[period]
    return tuple(name for name, every in EVERY.items() if every % months == 0)


def cut(schedule: str, quantity: Decimal, uom: str) -> list[Decimal]:
    """A contract line of `quantity` `uom` (MON/ANN) cut into its instalments' quantities:
    the whole line when upfront; else one interval each, the last what remains (a 10-month
    line billed quarterly: 3, 3, 3, 1)."""
    every = EVERY.get(schedule, 0)
    unit_months = PERIOD_MONTHS.get(uom, 0)
    if every == 0 or unit_months == 0 or every % unit_months or quantity <= 0:
        return [quantity]
    step = Decimal(every // unit_months)
    count = int((quantity / step).to_integral_value(rounding=ROUND_CEILING))
    return [min(step, quantity - step * n) for n in range(count)]


def billed(schedule: str, price: Decimal, period: str, term: int, currency: str) -> str:
    """How a contract of `term` `period`s at `price` is invoiced, in words a buyer reads:
    "billed monthly: 12 instalments of 299.00 USD" (upfront: "")."""
    if schedule == UPFRONT:
        return ""
    parts = cut(schedule, Decimal(term), {"month": "MON", "year": "ANN"}[period])
    count, adverb = len(parts), ADVERB.get(schedule, schedule)
    each = money(to_cents(parts[0] * price), currency)
    if count == 1:
        return f"billed {adverb}: one instalment of {each}"
    if parts[-1] == parts[0]:
        return f"billed {adverb}: {count} instalments of {each}"
    rest = money(to_cents(parts[-1] * price), currency)
    return f"billed {adverb}: {count} instalments, {count - 1} of {each} and a last one of {rest}"


def sentence(schedule: str, price: Decimal, period: str, term: int, currency: str) -> str:
    """When a scheduled contract is invoiced, as the subscribe and product pages say it (""
    when upfront: `functions.commitments` words that)."""
    words = billed(schedule, price, period, term, currency)
    if not words:
        return ""
    total = money(to_cents(price * term), currency)
    said = f"{words[0].upper()}{words[1:]} ({total} for {periods(term, period)} in all)"
    if "one instalment" in words:
        return f"{said}, invoiced when your company's purchase order is accepted."
    return (
        f"{said}: the first when your company's purchase order is accepted, then one as each "
        f"{EACH[schedule]} of the term starts; none after a cancellation."
    )
