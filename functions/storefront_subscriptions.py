"""The storefront's subscription use cases: subscribing at once to an offer the integration
pre-approves, and one page of an account's subscriptions with their budgets.

Plain Python over injected ports (the web handler wires the DynamoDB ones); the web handler
imports this module only on the paths that use it, so the catalog pages do not pay for it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from functions import budgets
from functions.billing import budget_status, period_of
from functions.budgets import Ledger
from functions.catalog import Offer, Product
from functions.sessions import PunchOutSession
from functions.storefront import is_preapproved
from functions.subscription_requests import SubscriptionRequest
from functions.subscriptions import (
    PREAPPROVED_ORDER,
    AlreadySubscribed,
    Mail,
    Subscription,
    announce,
    preapproval_key,
    preapproved,
)


def subscribe_at_once(
    session: PunchOutSession,
    request: SubscriptionRequest,
    public_url: str,
    save: Callable[[SubscriptionRequest, Subscription, Mail, datetime], None],
    clock: Callable[[], datetime],
) -> Subscription:
    """Pre-approved free/BYOL: an active subscription now, announced by mail like any other.
    `save` stores the request, the subscription and the mail together (raises
    AlreadySubscribed when the account holds the offer already)."""
    moment = clock()
    snapshot = session.integration
    subscription = preapproved(
        request, session.integration_name, snapshot.account_id, session.test_mode, clock()
    )
    mail = announce("ready", subscription, snapshot.account_email, PREAPPROVED_ORDER, public_url)
    save(request, subscription, mail, moment)
    return subscription


def already_subscribed(
    session: PunchOutSession,
    product: Product,
    offer: Offer,
    holder_of: Callable[[str], str | None],
) -> str:
    """What the subscribe page says when the account holds this pre-approved offer already
    (one lookup, on pre-approved offers only); empty otherwise."""
    if session.read_only or not is_preapproved(offer, session):
        return ""
    account_id = session.integration.account_id
    key = preapproval_key(account_id, product.id, offer.id, session.test_mode)
    if holder_of(key) is None:
        return ""
    return AlreadySubscribed(product.name, offer.name, account_id).message


class SubscriptionPorts(Protocol):
    def page_of_account(self, account_id: str, cursor: Any) -> Any:
        """One page (`subscriptions`, `more_before`, `more_after`), newest first."""
        ...

    def usage_for(
        self, subscription_ids: Iterable[str], period: str
    ) -> dict[str, tuple[dict[str, Decimal], dict[str, Decimal]]]: ...

    def ledgers(self, subscription_ids: Iterable[str]) -> dict[str, Ledger]:
        """The budget ledgers billing keeps (`functions.budgets`)."""
        ...


@dataclass(frozen=True)
class BudgetView:
    """A usage budget as the buyer reads it, all in the usage line's unit (units, or money):
    used so far, approved, invoiced, held awaiting budget, and the budget to ask for."""

    used: Decimal
    approved: Decimal
    invoiced: Decimal
    held: Decimal
    suggested: Decimal


def budget_view(
    subscription: Subscription, used_to_date: dict[str, Decimal], ledger: Ledger
) -> BudgetView | None:
    status = budget_status(subscription, used_to_date)
    if status is None:
        return None
    held = sum(
        (budgets.cost(subscription, d, q)
         for d, q in ledger.held.items() if d in subscription.rates),
        Decimal(0),
    )  # fmt: skip
    suggested = budgets.suggested_budget(subscription, ledger) if held else status[1]
    return BudgetView(status[0], status[1], ledger.invoiced_to_date, held, suggested)


@dataclass(frozen=True)
class AccountSubscriptions:
    subscriptions: list[Subscription]
    budgets: dict[str, BudgetView]
    more_before: bool
    more_after: bool


def account_subscriptions(
    account_id: str, cursor: Any, ports: SubscriptionPorts, moment: datetime
) -> AccountSubscriptions:
    """One page of the account's subscriptions, with the budget of those whose usage a PO
    approved (usage and ledgers read for metered ones only)."""
    page = ports.page_of_account(account_id, cursor) if account_id else None
    found = list(page.subscriptions) if page else []
    return AccountSubscriptions(
        found,
        subscription_budgets(found, ports, moment),
        bool(page and page.more_before),
        bool(page and page.more_after),
    )


def subscription_budgets(
    found: list[Subscription], ports: SubscriptionPorts, moment: datetime
) -> dict[str, BudgetView]:
    """The budgets of those of `found` whose usage a PO approved, by subscription id (usage
    and ledgers read for metered ones only): a page of them, or the console's one."""
    metered = [s.id for s in found if any(line.kind == "usage" for line in s.lines)]
    totals = ports.usage_for(metered, period_of(moment)) if metered else {}
    ledgers = ports.ledgers(metered) if metered else {}
    return {
        s.id: view
        for s in found
        if s.id in totals
        and (view := budget_view(s, totals[s.id][1], ledgers.get(s.id) or Ledger())) is not None
    }
