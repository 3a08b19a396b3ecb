"""When a subscription's change is announced to its seller: the seller events
(`functions.seller_events`) a state change is due, decided from the subscription before and
after it, so every path that changes a subscription (a PO, a pre-approval, the unsubscribe
sweep) asks the same rule.

Plain Python. The caller writes the events in the transaction of the change, each conditioned
on its key being new: a retried or duplicate change announces nothing twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from functions import contracts, seller_events
from functions.clock import iso
from functions.seller_events import SellerEvent
from functions.subscriptions import ACTIVE, CANCELLED, PENDING, WITHDRAWN, Subscription

METERING_WINDOW = timedelta(hours=contracts.METERING_WINDOW_HOURS)
"""Metering's window (`functions.metering_input.WINDOW`): usage timestamped before a
cancellation is accepted until it has passed."""

_TRANSITIONS = {
    (PENDING, ACTIVE): seller_events.SUBSCRIBE_SUCCESS,
    (PENDING, WITHDRAWN): seller_events.SUBSCRIBE_FAIL,
    (ACTIVE, CANCELLED): seller_events.UNSUBSCRIBE_PENDING,
}


def _entitled(subscription: Subscription) -> tuple[tuple[str, Decimal], ...]:
    """What the subscription's approvals entitle it to: each approved line's quantity."""
    return tuple(
        (line.auxiliary_id, line.approval.quantity)
        for line in subscription.lines
        if line.approval is not None
    )


def entitlement_change(order_id: str, order_version: int) -> str:
    """The `change` naming the PO version that changed an entitlement: one event per version."""
    return f"{order_id}#v{order_version}"


def events_for(
    before: Subscription | None,
    after: Subscription,
    now: datetime,
    *,
    order_id: str = "",
    order_version: int = 0,
) -> tuple[SellerEvent, ...]:
    """The seller events `before` → `after` announces (`before` None: a new subscription,
    pending until now). `entitlement-updated` when an active subscription stays active while
    a PO version changes what a line's approval grants (its quantity)."""
    state = before.state if before is not None else PENDING
    action = _TRANSITIONS.get((state, after.state))
    occurred = iso(now)
    if action is not None:
        return (seller_events.subscription_event(action, after, after.seller_account, occurred),)
    if (
        before is not None
        and state == ACTIVE
        and after.state == ACTIVE
        and order_id
        and _entitled(before) != _entitled(after)
    ):
        change = entitlement_change(order_id, order_version)
        event = seller_events.subscription_event(
            seller_events.ENTITLEMENT_UPDATED, after, after.seller_account, occurred, change
        )
        return (event,)
    return ()


def window_closes_at(subscription: Subscription) -> str:
    """When a cancelled subscription's metering window closes (metering accepts usage
    timestamped before the cancellation for `METERING_WINDOW`), or "" when it is not cancelled
    or was announced unsubscribed already: the `lifecycle` index's sort key (`unsubscribing`)."""
    if subscription.state != CANCELLED or not subscription.cancelled_at:
        return ""
    if subscription.unsubscribed_at:
        return ""
    return iso(datetime.fromisoformat(subscription.cancelled_at) + METERING_WINDOW)


def unsubscribed(subscription: Subscription, now: datetime) -> tuple[Subscription, SellerEvent]:
    """A cancelled subscription whose metering window has closed, marked so (it leaves the
    index), and its `unsubscribe-success` event."""
    occurred = iso(now)
    marked = replace(subscription, unsubscribed_at=occurred)
    event = seller_events.subscription_event(
        seller_events.UNSUBSCRIBE_SUCCESS, marked, marked.seller_account, occurred
    )
    return marked, event
