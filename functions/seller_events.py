"""Subscription lifecycle events for sellers, shaped like AWS Marketplace's SaaS notifications
(`subscribe-success`, `subscribe-fail`, `unsubscribe-pending`, `unsubscribe-success`,
`entitlement-updated`), published on the marketplace's EventBridge bus (docs/decisions.md).

An event is an outbox item (`event#...`) written in the same transaction as the state change it
announces: it is never lost, and never announces what did not happen. Its key makes it once per
subscription and action (`entitlement-updated` once per purchase-order version that changed the
contract). The notification worker publishes it and marks it sent.

Plain Python: this module says what an event is; the PO path, the pre-approval path and the
unsubscribe sweep decide when one is due."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from functions import contracts

if TYPE_CHECKING:  # a type only: the email worker publishes events without the model (cold start)
    from functions.subscriptions import Subscription

SUBSCRIBE_SUCCESS = "subscribe-success"
"""Pending → active (a PO approved every line, or the integration pre-approved free/BYOL)."""
SUBSCRIBE_FAIL = "subscribe-fail"
"""Pending → withdrawn (the PO was deleted before the subscription became active)."""
UNSUBSCRIBE_PENDING = "unsubscribe-pending"
"""Active → cancelled: usage up to the cancellation is still accepted for the metering window."""
UNSUBSCRIBE_SUCCESS = "unsubscribe-success"
"""The metering window after a cancellation has closed: no more usage will be accepted."""
ENTITLEMENT_UPDATED = "entitlement-updated"
"""A PO update changed an active subscription's contract line (quantity, term)."""
ACTIONS = (
    SUBSCRIBE_SUCCESS,
    SUBSCRIBE_FAIL,
    UNSUBSCRIBE_PENDING,
    UNSUBSCRIBE_SUCCESS,
    ENTITLEMENT_UPDATED,
)

SOURCE_PREFIX = "procurement-gateway."
"""An event's EventBridge `source` is this plus the seller's account (`marketplace` for products
with no seller account): the bus policy lets each seller's account create rules only for its
own source, so no seller sees another's customers."""
DETAIL_TYPE = "Marketplace Subscription Event"
TEMPLATE = "seller_event"
"""The outbox item's `template`: what the notification worker publishes instead of mailing."""


@dataclass(frozen=True)
class SellerEvent:
    key: str  # the outbox item's key: one event per subscription and action (and PO version)
    source: str
    detail_type: str
    detail: dict[str, Any]


def source_for(seller_account: str) -> str:
    return SOURCE_PREFIX + (seller_account or "marketplace")


def event_key(subscription_id: str, action: str, change: str = "") -> str:
    """`event#<subscription>#<action>`, with `#<change>` for `entitlement-updated` (the PO id
    and version that changed the entitlement)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown seller event {action!r}")
    key = f"{contracts.OUTBOX_EVENT_PREFIX}{subscription_id}#{action}"
    return f"{key}#{change}" if change else key


def subscription_event(
    action: str, subscription: Subscription, seller_account: str, occurred_at: str, change: str = ""
) -> SellerEvent:
    """The event for `subscription`, as a seller reads it: AWS's SaaS notification keys
    (`action`, `customer-identifier`, `product-code`, `offer-identifier`,
    `isFreeTrialTermPresent`), plus `subscription-id`, `test` and `occurred-at`."""
    return SellerEvent(
        key=event_key(subscription.id, action, change),
        source=source_for(seller_account),
        detail_type=DETAIL_TYPE,
        detail={
            "action": action,
            "customer-identifier": subscription.account_id,
            "product-code": subscription.product_id,
            "offer-identifier": subscription.offer_id,
            "isFreeTrialTermPresent": "true" if subscription.trial_days else "false",
            "subscription-id": subscription.id,
            "test": subscription.test,
            "occurred-at": occurred_at,
        },
    )
