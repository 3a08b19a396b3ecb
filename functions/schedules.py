"""Contract billing schedules: when a contract's price is invoiced (docs/INVOICING.md,
"Contract billing schedules").

`upfront` invoices the whole contract when it activates. `monthly`, `quarterly` and `annual`
invoice it in instalments: the first when it activates, instalment n when its interval starts
(activation + (n - 1) intervals). Each instalment is a quantity of the contract line's own unit
(MON, ANN) at the unit price the PO approved, since three-way matching compares unit prices: a
quarterly instalment of a month-priced line is quantity 3. The instalments never add up to more
than the PO line approved: the last one is what remains.

Plain Python: the catalog validates with it, the billing run and the storefront read it."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from typing import NamedTuple

from functions.formatting import money
from functions.money import to_cents
from functions.subscriptions import (
    ACTIVE,
    CANCELLED,
    PERIOD_MONTHS,
    Subscription,
    billable,
    invoiced_line,
    term_end,
)

UPFRONT = "upfront"
EVERY = {UPFRONT: 0, "monthly": 1, "quarterly": 3, "annual": 12}
"""Schedule → months per instalment (0: the whole contract at once)."""
ADVERB = {"monthly": "monthly", "quarterly": "quarterly", "annual": "yearly"}


def allowed(period: str) -> tuple[str, ...]:
    """The schedules of a contract priced per `period` (`month` | `year`): upfront, and those
    whose interval is a whole number of priced periods (a year-priced contract cannot be
    invoiced monthly at its yearly unit price)."""
    months = PERIOD_MONTHS[period]
    return tuple(name for name, every in EVERY.items() if every % months == 0)


class Instalment(NamedTuple):
    number: int  # 1-based
    of: int  # how many instalments in all
    quantity: Decimal  # in the contract line's unit (MON, ANN)
    due: datetime  # when its interval starts


def instalments(schedule: str, start: datetime, quantity: Decimal, uom: str) -> list[Instalment]:
    """Every instalment of a contract line of `quantity` `uom` (MON/ANN) starting at `start`:
    one (the whole line) when upfront; else the line cut into intervals, the last holding what
    remains (a 10-month line billed quarterly: 3, 3, 3, 1)."""
    every = EVERY.get(schedule, 0)
    unit_months = PERIOD_MONTHS.get(uom, 0)
    if every == 0 or unit_months == 0 or every % unit_months or quantity <= 0:
        return [Instalment(1, 1, quantity, start)]
    step = Decimal(every // unit_months)
    count = int((quantity / step).to_integral_value(rounding=ROUND_CEILING))
    return [
        Instalment(
            n, count, min(step, quantity - step * (n - 1)), term_end(start, (n - 1) * every, "MON")
        )
        for n in range(1, count + 1)
    ]


def _started(subscription: Subscription) -> datetime | None:
    try:
        return datetime.fromisoformat(subscription.activated_at)
    except ValueError:
        return None


def contract_instalments(subscription: Subscription, start: datetime) -> list[Instalment]:
    """The instalments of a billable subscription's PO-approved contract line from `start`
    (its activation); none when there is nothing to invoice (test, free, trial, no PO)."""
    line = invoiced_line(subscription, "contract")
    if line is None or line.approval is None or not billable(subscription):
        return []
    schedule = subscription.billing_schedule
    return instalments(schedule, start, line.approval.quantity, line.unit_of_measure)


def due_in(subscription: Subscription, period: str, now: datetime) -> list[Instalment]:
    """The instalments the monthly run for `period` (`YYYY-MM`, UTC) issues: those of a
    scheduled (not upfront) contract whose interval starts in that month, by `now`, and before
    the subscription was cancelled (none after). Instalment 1 is also issued on activation;
    both paths give the same invoice id, so it is issued once."""
    if subscription.billing_schedule == UPFRONT or subscription.state not in (ACTIVE, CANCELLED):
        return []
    start = _started(subscription) if subscription.activated_at else None
    if start is None:
        return []
    ended = datetime.fromisoformat(subscription.cancelled_at) if subscription.cancelled_at else None
    return [
        instalment
        for instalment in contract_instalments(subscription, start)
        if instalment.due.strftime("%Y-%m") == period
        and instalment.due <= now
        and (ended is None or instalment.due < ended)
    ]


def has_instalments(subscription: Subscription) -> bool:
    """Whether the monthly run must look at the subscription for contract instalments."""
    if subscription.billing_schedule == UPFRONT or not billable(subscription):
        return False
    return invoiced_line(subscription, "contract") is not None


def billed(schedule: str, price: Decimal, period: str, term: int, currency: str) -> str:
    """How a contract of `term` `period`s at `price` is invoiced, in words a buyer reads:
    "billed monthly: 12 instalments of 299.00 USD" (upfront: "")."""
    uom = {"month": "MON", "year": "ANN"}[period]
    parts = instalments(schedule, datetime(2000, 1, 1), Decimal(term), uom)
    if len(parts) == 1 and schedule == UPFRONT:
        return ""
    first, last, count = parts[0], parts[-1], len(parts)
    adverb = ADVERB.get(schedule, schedule)
    each = money(to_cents(first.quantity * price), currency)
    if count == 1:
        return f"billed {adverb}: one instalment of {each}"
    if last.quantity == first.quantity:
        return f"billed {adverb}: {count} instalments of {each}"
    rest = money(to_cents(last.quantity * price), currency)
    return f"billed {adverb}: {count} instalments, {count - 1} of {each} and a last one of {rest}"
