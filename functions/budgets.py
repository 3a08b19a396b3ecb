"""Usage stays within what the purchase order approved (docs/INVOICING.md, "Usage within the
PO"): a usage invoice never bills more than the PO line's remaining approved amount; what is
beyond it is held "awaiting budget" until a PO update raises the line's quantity.

Pure. Per subscription, a `Ledger` says how much usage billing has accounted for (invoiced or
held), how much of it was invoiced, what that cost against the budget, which periods it has
taken in and at which budget levels the buyer was told usage is held. A billing run reads the
ledger, `decide`s, and writes the invoice and the new ledger in one transaction conditioned on
the ledger's version: a re-run or a concurrent duplicate cannot count anything twice.

The budget is the usage line's approved quantity: in the dimension's unit for a
single-dimension offer, in money for a multi-dimension one (`billing.usage_against_budget`).
Held usage is released dimension by dimension, in key order, in whole units."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

from functions import billing, contracts
from functions.billing import Invoice
from functions.formatting import money, usage_amount
from functions.money import to_cents
from functions.subscriptions import (
    Mail,
    Subscription,
    billable,
    invoiced_line,
    mail_recipients,
)

if TYPE_CHECKING:
    from functions.integrations import Integration

USAGE = "usage"
ZERO = Decimal(0)
BUDGET_HELD = "budget_held"
"""The outbox mail template telling the account and the requester that usage is held."""
HEADROOM = Decimal("1.25")
"""The suggested estimate: the usage accounted so far plus a quarter, in whole units."""


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"


def _quantities(raw: Any) -> dict[str, Decimal]:
    return {str(k): Decimal(str(v)) for k, v in dict(raw or {}).items()}


@dataclass(frozen=True)
class Ledger:
    """What billing has done with a subscription's usage so far (absent: nothing yet)."""

    accounted: Mapping[str, Decimal] = field(default_factory=dict)
    """Usage per dimension billing took in (invoiced or held), period by period."""
    invoiced: Mapping[str, Decimal] = field(default_factory=dict)
    invoiced_to_date: Decimal = ZERO
    """What the invoices cost against the budget (units, or money for a money budget)."""
    periods: tuple[str, ...] = ()
    notified: tuple[str, ...] = ()
    """The budget levels (approved quantities) at which the buyer was told usage is held."""
    version: int = 0

    @property
    def held(self) -> dict[str, Decimal]:
        """Usage awaiting budget, per dimension."""
        found = {d: q - self.invoiced.get(d, ZERO) for d, q in self.accounted.items()}
        return {d: q for d, q in sorted(found.items()) if q > 0}

    def to_json(self) -> dict[str, Any]:
        return {
            "accounted": {d: _plain(q) for d, q in sorted(self.accounted.items())},
            "invoiced": {d: _plain(q) for d, q in sorted(self.invoiced.items())},
            "invoiced_to_date": _plain(self.invoiced_to_date),
            "periods": list(self.periods),
            "notified": list(self.notified),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None, version: int) -> Ledger:
        raw = raw or {}
        return cls(
            accounted=_quantities(raw.get("accounted")),
            invoiced=_quantities(raw.get("invoiced")),
            invoiced_to_date=Decimal(str(raw.get("invoiced_to_date") or "0")),
            periods=tuple(str(p) for p in raw.get("periods") or ()),
            notified=tuple(str(n) for n in raw.get("notified") or ()),
            version=version,
        )


@dataclass(frozen=True)
class UsageDecision:
    """What a billing run does with one subscription's usage in one period."""

    subscription_id: str
    period: str
    bill: dict[str, Decimal]  # quantity to invoice now, per dimension
    approved: Decimal  # the usage line's approved quantity (the budget)
    before: Ledger
    after: Ledger
    notify: bool  # usage became held at this budget level: tell the buyer (once)

    @property
    def held(self) -> dict[str, Decimal]:
        return self.after.held

    @property
    def changed(self) -> bool:
        return self.after != self.before


def budget_level(approved: Decimal) -> str:
    """The approved quantity as it names a budget level (`1000`, `1250.5`)."""
    return _plain(approved)


def money_budget(subscription: Subscription) -> bool:
    """A multi-dimension offer's usage line approves money, a single dimension's units."""
    return len(subscription.rates) != 1


def cost(subscription: Subscription, dimension: str, quantity: Decimal) -> Decimal:
    """What `quantity` of `dimension` costs against the budget."""
    if not money_budget(subscription):
        return quantity
    return to_cents(quantity * Decimal(subscription.rates[dimension]["unit_price"]))


def held_amount(subscription: Subscription, held: Mapping[str, Decimal]) -> Decimal:
    """Held usage in money, at the subscription's rates."""
    return sum(
        (to_cents(q * Decimal(subscription.rates[d]["unit_price"]))
         for d, q in held.items() if d in subscription.rates),
        Decimal("0.00"),
    )  # fmt: skip


def approved_budget(subscription: Subscription) -> Decimal | None:
    """The usage line's approved quantity, when a real purchase order approved one."""
    line = invoiced_line(subscription, USAGE)
    return line.approval.quantity if line is not None and line.approval is not None else None


def _allowed(subscription: Subscription, dimension: str, remaining: Decimal) -> Decimal:
    """The most of `dimension` the remaining budget pays for, in whole units."""
    if not money_budget(subscription):
        return remaining.to_integral_value(rounding=ROUND_FLOOR)
    price = Decimal(subscription.rates[dimension]["unit_price"])
    if price <= 0:
        return Decimal("Infinity")
    return (remaining / price).to_integral_value(rounding=ROUND_FLOOR)


def decide(
    subscription: Subscription,
    period: str,
    period_usage: Mapping[str, Decimal],
    ledger: Ledger,
    *,
    notify: bool = True,
) -> UsageDecision | None:
    """Take in `period`'s usage (once: a period already taken in adds nothing) and bill what the
    remaining budget allows of everything not yet invoiced; the rest stays held. None for a
    subscription that is never invoiced usage (test, free, no PO-approved usage line).
    `notify=False` (no site to link to) leaves the buyer untold, to be told on a later run."""
    approved = approved_budget(subscription)
    if approved is None or not billable(subscription):
        return None
    rates = subscription.rates
    fresh = period not in ledger.periods
    new = {d: q for d, q in period_usage.items() if fresh and d in rates and q > 0}
    candidate = dict(ledger.held)
    for dimension, quantity in new.items():
        candidate[dimension] = candidate.get(dimension, ZERO) + quantity
    remaining = max(approved - ledger.invoiced_to_date, ZERO)  # a lowered budget: nothing more
    bill: dict[str, Decimal] = {}
    spent = ZERO
    for dimension in sorted(candidate):
        if dimension not in rates:
            continue
        take = min(candidate[dimension], max(_allowed(subscription, dimension, remaining), ZERO))
        if take <= 0:
            continue
        bill[dimension] = take
        price = cost(subscription, dimension, take)
        remaining -= price
        spent += price
    accounted = dict(ledger.accounted)
    for dimension, quantity in new.items():
        accounted[dimension] = accounted.get(dimension, ZERO) + quantity
    invoiced = dict(ledger.invoiced)
    for dimension, quantity in bill.items():
        invoiced[dimension] = invoiced.get(dimension, ZERO) + quantity
    after = replace(
        ledger,
        accounted=accounted,
        invoiced=invoiced,
        invoiced_to_date=ledger.invoiced_to_date + spent,
        periods=ledger.periods if not fresh else (*ledger.periods, period),
    )
    level = budget_level(approved)
    notify = notify and bool(after.held) and level not in ledger.notified
    if notify:
        after = replace(after, notified=(*after.notified, level))
    return UsageDecision(subscription.id, period, bill, approved, ledger, after, notify)


def suggested_estimates(ledger: Ledger) -> dict[str, Decimal]:
    """The estimate per dimension to suggest when usage is held: what billing has accounted
    for so far plus a quarter, rounded up to whole units."""
    return {
        d: (q * HEADROOM).to_integral_value(rounding=ROUND_CEILING)
        for d, q in sorted(ledger.accounted.items())
        if q > 0
    }


def suggested_budget(subscription: Subscription, ledger: Ledger) -> Decimal:
    """The usage line quantity the suggested estimates make (units, or money)."""
    estimates = suggested_estimates(ledger)
    if not money_budget(subscription):
        return sum(estimates.values(), ZERO)
    return sum(
        (to_cents(q * Decimal(subscription.rates[d]["unit_price"]))
         for d, q in estimates.items() if d in subscription.rates),
        Decimal("0.00"),
    )  # fmt: skip


def _amount(subscription: Subscription, value: Decimal) -> str:
    """A budget figure as the buyer reads it: `1,000 hours`, or `1,250.00 USD` of usage."""
    if money_budget(subscription):
        return money(value, subscription.currency)
    ((only),) = subscription.rates.values()
    return usage_amount(value, only["name"], only["unit"])


def budget_mail(
    subscription: Subscription,
    decision: UsageDecision,
    recipients: tuple[str, ...],
    base_url: str,
) -> Mail:
    """The mail telling the account and the requester that usage waits for a higher budget:
    one per subscription and budget level, ever (the outbox key says which)."""
    line = invoiced_line(subscription, USAGE)
    order_id = line.approval.order_id if line is not None and line.approval is not None else ""
    held = decision.held
    return Mail(
        key=f"{contracts.OUTBOX_EMAIL_PREFIX}{subscription.id}#budget#{budget_level(decision.approved)}",
        template=BUDGET_HELD,
        recipients=recipients,
        context={
            "base_url": base_url,
            "account_id": subscription.account_id,
            "integration_name": subscription.integration_name,
            "product_name": subscription.product_name,
            "offer_name": subscription.offer_name,
            "order_id": order_id,
            "subscription_id": subscription.id,
            "test": subscription.test,
            "requester_name": subscription.requester.display_name,
            "requester_email": subscription.requester.email,
            "budget": {
                "approved": _amount(subscription, decision.approved),
                "invoiced": _amount(subscription, decision.after.invoiced_to_date),
                "held": [
                    usage_amount(q, subscription.rates[d]["name"], subscription.rates[d]["unit"])
                    for d, q in held.items()
                    if d in subscription.rates
                ],
                "held_amount": money(held_amount(subscription, held), subscription.currency),
                "suggested": _amount(subscription, suggested_budget(subscription, decision.after)),
            },
        },
    )


def holds(ledger: Ledger | None) -> bool:
    """Usage awaits budget: the subscription is billed even in a period without usage."""
    return ledger is not None and bool(ledger.held)


def usage_within_budget(
    subscription: Subscription,
    period: str,
    totals: tuple[dict[str, Decimal], dict[str, Decimal]] | None,
    ledger: Ledger,
    now: datetime,
    *,
    notify: bool = True,
) -> tuple[UsageDecision | None, Invoice | None]:
    """The decision for `period`, and the usage invoice of what it bills (None: nothing to
    invoice), its summary stating the budget and what stays held."""
    period_usage, used_to_date = totals or ({}, {})
    decision = decide(subscription, period, period_usage, ledger, notify=notify)
    if decision is None or not decision.bill:
        return decision, None
    invoice = billing.usage_invoice(subscription, period, decision.bill, used_to_date, now)
    if invoice is None:
        return decision, None
    held = decision.held
    return decision, replace(
        invoice,
        invoiced_to_date=decision.after.invoiced_to_date,
        held=tuple(held.items()),
        held_amount=held_amount(subscription, held),
    )


def mail_for(
    subscription: Subscription,
    decision: UsageDecision,
    integrations: Mapping[str, Integration],
    base_url: str,
) -> Mail | None:
    """The budget mail a decision calls for, to the integration's account and the requester."""
    integration = integrations.get(subscription.integration_id)
    if not decision.notify or integration is None or not base_url:
        return None
    recipients = mail_recipients(integration.account_email, subscription)
    return budget_mail(subscription, decision, recipients, base_url)
