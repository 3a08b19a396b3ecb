"""Subscriptions: what an approved purchase order turns a subscription request into.

A subscription is pending until every line of its request is approved by a purchase order
(`contract_payg` has two lines, which may arrive in one PO or two), then active; a deleted PO
withdraws a pending subscription or cancels an active one from that moment
(docs/PROTOCOL.md §6)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from functions import contracts
from functions.clock import iso
from functions.errors import Conflict
from functions.parties import PartyAddress
from functions.schedules import PERIOD_MONTHS
from functions.sessions import Requester
from functions.subscription_requests import SubscriptionRequest

_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']{1,190}\.[^@\s<>\"']{2,}$")
PENDING = "pending"
ACTIVE = "active"
CANCELLED = "cancelled"
WITHDRAWN = "withdrawn"
STATE_LABELS = {
    PENDING: "Waiting for approval",
    ACTIVE: "Active",
    CANCELLED: "Cancelled",
    WITHDRAWN: "Withdrawn",
}


@dataclass(frozen=True)
class LineApproval:
    """The purchase-order line that approved a request line: what invoices will reference."""

    order_id: str
    payload_id: str
    line_number: int
    quantity: Decimal
    order_version: int
    approved_at: str
    bill_to: PartyAddress | None = None
    """The PO's BillTo, which its invoices name as their billTo partner."""


@dataclass(frozen=True)
class SubscriptionLine:
    auxiliary_id: str
    kind: str  # "contract" | "usage" | "zero"
    supplier_part_id: str
    unit_price: Decimal
    currency: str
    unit_of_measure: str
    requested_quantity: Decimal
    approval: LineApproval | None = None


@dataclass(frozen=True)
class Subscription:
    id: str  # the request's id: one request, one subscription
    account_id: str
    integration_id: str
    integration_name: str
    product_id: str
    offer_id: str
    product_name: str
    offer_name: str
    pricing_model: str
    currency: str
    lines: tuple[SubscriptionLine, ...]
    state: str = PENDING
    test: bool = False
    requester: Requester = field(default_factory=Requester)
    usage_instructions: str = ""
    eula_url: str = ""
    support_contact: str = ""
    refund_policy: str = ""
    trial_days: int = 0
    rates: dict[str, dict[str, str]] = field(default_factory=dict)
    billing_schedule: str = "upfront"  # the offer's when requested (functions/schedules.py)
    fulfillment_url: str = ""  # the product's when requested (functions/handoff.py)
    created_at: str = ""
    activated_at: str = ""
    trial_ends_at: str = ""
    cancelled_at: str = ""
    version: int = 0
    seller_account: str = ""  # the product's when requested: its seller events' source
    unsubscribed_at: str = ""  # when the metering window after the cancellation closed

    @property
    def approved(self) -> bool:
        return all(line.approval is not None for line in self.lines)

    @property
    def state_label(self) -> str:
        """A test-mode subscription is never "Active": nothing was made available (the email
        says so), so it reads "Test" where a real one would be active."""
        if self.test and self.state == ACTIVE:
            return "Test"
        return STATE_LABELS.get(self.state, self.state)

    @property
    def waiting_for(self) -> tuple[SubscriptionLine, ...]:
        return tuple(line for line in self.lines if line.approval is None)

    @property
    def order_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(line.approval.order_id for line in self.lines if line.approval))

    @property
    def purchase_orders(self) -> tuple[str, ...]:
        """The purchase orders that approved lines (a pre-approval is none)."""
        return tuple(order for order in self.order_ids if order != PREAPPROVED_ORDER)

    @property
    def contract_ends_at(self) -> str:
        """When the contract's term ends (start + quantity of its period), or "" when there is
        no contract or it has not started. Nothing renews it: the subscription stays active."""
        line = next((x for x in self.lines if x.kind == "contract"), None)
        if line is None or not self.activated_at:
            return ""
        start = datetime.fromisoformat(self.activated_at)
        return iso(term_end(start, int(line.requested_quantity), line.unit_of_measure))


def term_end(start: datetime, count: int, period: str) -> datetime:
    """`start` plus `count` months or years (`month`/`year`, or their UOM `MON`/`ANN`), on the
    same day of the month (the last day when that month is shorter: 31 January + 1 month =
    28 February)."""
    months = count * PERIOD_MONTHS[period]
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    last = calendar.monthrange(year, month)[1]
    return start.replace(year=year, month=month, day=min(start.day, last))


def from_request(
    request: SubscriptionRequest, integration_name: str, account_id: str, test: bool, now: datetime
) -> Subscription:
    return Subscription(
        id=request.id,
        account_id=account_id,
        integration_id=request.integration_id,
        integration_name=integration_name,
        product_id=request.product_id,
        offer_id=request.offer_id,
        product_name=request.product_name,
        offer_name=request.offer_name,
        pricing_model=request.pricing_model,
        currency=request.currency,
        lines=tuple(
            SubscriptionLine(
                auxiliary_id=line.auxiliary_id,
                kind=line.kind,
                supplier_part_id=line.supplier_part_id,
                unit_price=line.unit_price,
                currency=line.currency,
                unit_of_measure=line.unit_of_measure,
                requested_quantity=line.quantity,
            )
            for line in request.lines
        ),
        test=test,
        requester=request.requester,
        usage_instructions=request.usage_instructions,
        eula_url=request.eula_url,
        support_contact=request.support_contact,
        refund_policy=request.refund_policy,
        trial_days=request.trial_days,
        rates=request.rates,
        billing_schedule=request.billing_schedule,
        fulfillment_url=request.fulfillment_url,
        created_at=iso(now),
        seller_account=request.seller_account,
    )


PREAPPROVED_ORDER = "preapproved"
"""The order reference of lines the integration pre-approves (free, BYOL): nothing to invoice."""


def preapproved(
    request: SubscriptionRequest, integration_name: str, account_id: str, test: bool, now: datetime
) -> Subscription:
    """Free and BYOL offers an integration pre-approves subscribe at once, with no PO."""
    subscription = from_request(request, integration_name, account_id, test, now)
    approvals: dict[str, LineApproval | None] = {
        line.auxiliary_id: LineApproval(
            order_id=PREAPPROVED_ORDER,
            payload_id="",
            line_number=number,
            quantity=line.requested_quantity,
            order_version=0,
            approved_at=iso(now),
        )
        for number, line in enumerate(subscription.lines, start=1)
    }
    active, _ = settle(with_approvals(subscription, approvals), now)
    return active


def preapproval_key(account_id: str, product_id: str, offer_id: str, test: bool) -> str:
    """An account holds at most one active pre-approved subscription per product offer (test
    ones apart, so a trial run in test mode never blocks the real subscription)."""
    key = f"preapproved#{account_id}#{product_id}#{offer_id}"
    return f"{key}#test" if test else key


class AlreadySubscribed(Conflict):
    """A second pre-approved subscription to the same offer for the same account."""

    def __init__(self, product_name: str, offer_name: str, account_id: str) -> None:
        super().__init__(
            f"Account {account_id} already has an active subscription to {product_name} "
            f"({offer_name}): nothing new was created. See Your subscriptions."
        )


def with_approvals(
    subscription: Subscription, approvals: dict[str, LineApproval | None]
) -> Subscription:
    """Set (or, with None, remove) the approval of the lines named by their aux IDs."""
    lines = tuple(
        replace(line, approval=approvals[line.auxiliary_id])
        if line.auxiliary_id in approvals
        else line
        for line in subscription.lines
    )
    return replace(subscription, lines=lines)


def settle(subscription: Subscription, now: datetime) -> tuple[Subscription, str | None]:
    """The state its approvals give it, and the event to announce ("ready", "cancelled").

    Pending becomes active once every line is approved. An update that takes an approved line
    away from an active subscription cancels it: the order no longer pays for it."""
    if subscription.state == PENDING and subscription.approved:
        trial_end = (
            iso(now + timedelta(days=subscription.trial_days)) if subscription.trial_days else ""
        )
        return (
            replace(subscription, state=ACTIVE, activated_at=iso(now), trial_ends_at=trial_end),
            "ready",
        )
    if subscription.state == ACTIVE and not subscription.approved:
        return replace(subscription, state=CANCELLED, cancelled_at=iso(now)), "cancelled"
    return subscription, None


def end(subscription: Subscription, now: datetime) -> tuple[Subscription, str | None]:
    """A deleted purchase order: a pending subscription is withdrawn, an active one cancelled
    from this moment; already ended ones stay as they are."""
    if subscription.state == PENDING:
        return replace(subscription, state=WITHDRAWN, cancelled_at=iso(now)), None
    if subscription.state == ACTIVE:
        return replace(subscription, state=CANCELLED, cancelled_at=iso(now)), "cancelled"
    return subscription, None


@dataclass(frozen=True)
class Mail:
    key: str  # outbox key: one mail per subscription and event, ever
    template: str
    recipients: tuple[str, ...]
    context: dict[str, Any]


def looks_like_email(text: str) -> bool:
    """A plausible single address (no display name, no list): what we mail or show as one."""
    return bool(_EMAIL.match(text))


def _recipients(account_email: str, subscription: Subscription) -> tuple[str, ...]:
    """The account's email, and the requester's when it looks like an address."""
    found = [account_email]
    requester = subscription.requester.email.strip()
    if _EMAIL.match(requester) and requester.lower() != account_email.lower():
        found.append(requester)
    return tuple(found)


def mail_recipients(account_email: str, subscription: Subscription) -> tuple[str, ...]:
    """Who hears about a subscription: the account, and the requester (`_recipients`)."""
    return _recipients(account_email, subscription)


def announce(
    event: str, subscription: Subscription, account_email: str, order_id: str, base_url: str
) -> Mail:
    """The outbox mail for a subscription event ("ready", "cancelled"): one per subscription
    and event, ever (its key is the outbox item's key). `order_id` is PREAPPROVED_ORDER for a
    subscription the integration pre-approved: the mail then names no purchase order."""
    preapproved = order_id == PREAPPROVED_ORDER
    return Mail(
        key=f"{contracts.OUTBOX_EMAIL_PREFIX}{subscription.id}#{event}",
        template=f"subscription_{event}",
        recipients=_recipients(account_email, subscription),
        context={
            "base_url": base_url,
            "account_id": subscription.account_id,
            "integration_name": subscription.integration_name,
            "product_name": subscription.product_name,
            "offer_name": subscription.offer_name,
            "order_id": "" if preapproved else order_id,
            "preapproved": preapproved,
            "subscription_id": subscription.id,
            "test": subscription.test,
            "usage_instructions": subscription.usage_instructions,
            "eula_url": subscription.eula_url,
            "support_contact": subscription.support_contact,
            "refund_policy": subscription.refund_policy,
            "activated_at": subscription.activated_at,
            "trial_ends_at": subscription.trial_ends_at,
            "ends_at": subscription.contract_ends_at,
            "requester_name": subscription.requester.display_name,
            "requester_email": subscription.requester.email,
            "cancelled_at": subscription.cancelled_at,
            "set_up_account": event == "ready" and bool(subscription.fulfillment_url),
        },
    )


# --- what invoicing needs to know of a subscription (kept here: the PO path asks it too) ---

CONTRACT_SUFFIX = "#contract"


def billable(subscription: Subscription) -> bool:
    """Never invoiced: test subscriptions, free trials, and pre-approved free/BYOL ones."""
    return not subscription.test and subscription.pricing_model not in (
        "free",
        "byol",
        "free_trial",
    )


def invoiced_line(subscription: Subscription, kind: str) -> SubscriptionLine | None:
    """The line of `kind` a real purchase order approved (pre-approved lines are not)."""
    line = next((x for x in subscription.lines if x.kind == kind), None)
    if line is None or line.approval is None or line.approval.order_id == PREAPPROVED_ORDER:
        return None
    return line


def owes_contract_invoice(subscription: Subscription) -> bool:
    """A billable subscription with a PO-approved contract line: invoiced once, on activation."""
    return billable(subscription) and invoiced_line(subscription, "contract") is not None


def contract_outbox_key(subscription_id: str) -> str:
    """The outbox item that asks for a subscription's contract invoice: one per subscription,
    ever, since the key is the item's key."""
    return f"{contracts.OUTBOX_CONTRACT_INVOICE_PREFIX}{subscription_id}{CONTRACT_SUFFIX}"


REFUND_SUFFIX = "#refund"


def owes_refund(before: Subscription, event: str | None) -> bool:
    """A subscription whose contract a PO approved (and was invoiced) just got cancelled."""
    return event == "cancelled" and owes_contract_invoice(before)


def refund_outbox_key(subscription_id: str) -> str:
    """The outbox item asking for a cancelled subscription's refund: written with the
    cancellation, in the PO's transaction; one per subscription, ever (a cancellation is
    final), routed to the billing worker like the contract invoice's item."""
    return f"{contracts.OUTBOX_CONTRACT_INVOICE_PREFIX}{subscription_id}{REFUND_SUFFIX}"


def refund_subscription_of(key: str) -> str | None:
    """The subscription an outbox key asks a refund for, or None (not a refund item)."""
    prefix = contracts.OUTBOX_CONTRACT_INVOICE_PREFIX
    if key.startswith(prefix) and key.endswith(REFUND_SUFFIX):
        return key[len(prefix) : -len(REFUND_SUFFIX)] or None
    return None
