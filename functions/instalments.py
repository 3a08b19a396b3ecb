"""A subscription's contract instalments: how its PO-approved contract line is cut by the
billing schedule it was requested with (`functions.schedules`), when each falls due, and which
the monthly billing run for a period issues.

Instalment 1 falls due when the subscription activates, instalment n when its interval starts
(activation + (n - 1) intervals, on the same day of the month or the month's last). None falls
due after a cancellation; test, free, BYOL and free-trial subscriptions owe none.

Plain Python."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from functions.schedules import EVERY, UPFRONT, cut, sentence
from functions.subscriptions import (
    ACTIVE,
    CANCELLED,
    Subscription,
    billable,
    invoiced_line,
    term_end,
)


class Instalment(NamedTuple):
    number: int  # 1-based
    of: int  # how many instalments in all
    quantity: Decimal  # in the contract line's unit (MON, ANN)
    due: datetime  # when its interval starts


def instalments(schedule: str, start: datetime, quantity: Decimal, uom: str) -> list[Instalment]:
    """Every instalment of a contract line of `quantity` `uom` (MON/ANN) starting at `start`,
    cut as `functions.schedules.cut` says, each due when its interval starts."""
    parts = cut(schedule, quantity, uom)
    every = EVERY.get(schedule, 0) if len(parts) > 1 else 0
    return [
        Instalment(n, len(parts), part, term_end(start, (n - 1) * every, "MON"))
        for n, part in enumerate(parts, start=1)
    ]


def _started(subscription: Subscription) -> datetime | None:
    try:
        return datetime.fromisoformat(subscription.activated_at)
    except ValueError:
        return None


def contract_instalments(subscription: Subscription, start: datetime) -> list[Instalment]:
    """The instalments of a billable subscription's PO-approved contract line from `start`
    (its activation); none when there is nothing to invoice (test, free, trial, no PO) or the
    contract never started (pending or withdrawn: an approved line alone owes nothing)."""
    line = invoiced_line(subscription, "contract")
    if line is None or line.approval is None or not billable(subscription):
        return []
    if subscription.state not in (ACTIVE, CANCELLED) or not subscription.activated_at:
        return []
    schedule = subscription.billing_schedule
    return instalments(schedule, start, line.approval.quantity, line.unit_of_measure)


def due_in(subscription: Subscription, period: str, now: datetime) -> list[Instalment]:
    """The instalments the monthly run for `period` (`YYYY-MM`, UTC) issues: those of a
    scheduled (not upfront) contract whose interval starts in that month, by `now`, and before
    the subscription was cancelled (none after). Instalment 1 is also issued on activation;
    both paths give the same invoice id, so it is issued once."""
    start = _started(subscription) if subscription.activated_at else None
    if subscription.billing_schedule == UPFRONT or start is None:
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


def subscription_invoicing(subscription: Subscription) -> str:
    """What "Your subscriptions" says of a subscription's contract ("" without one)."""
    line = next((x for x in subscription.lines if x.kind == "contract"), None)
    period = {"MON": "month", "ANN": "year"}.get(line.unit_of_measure, "") if line else ""
    if line is None or not period:
        return ""
    schedule = subscription.billing_schedule
    term = int(line.requested_quantity)
    if schedule == UPFRONT:
        return "The whole contract, invoiced once when your company's purchase order arrives."
    return sentence(schedule, line.unit_price, period, term, line.currency)
