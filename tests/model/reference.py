"""The reference model of the purchase-order state machine: what each answer must be and what
must be stored after it, in plain Python (no moto, no handlers), so its rules read on their own.

- a subscription is active iff each of its lines is approved by exactly one live PO line whose
  part, price, currency and quantity rules match the line as requested;
- an update replaces every line of the version before; a delete ends what the PO approved
  (a pending subscription is withdrawn, an active one cancelled);
- one mail per activation and per cancellation; a contract invoice for each activation with a
  contract line, never more than the PO line approving it allows; a refund asked for when such
  a subscription is cancelled (once: the outbox key is the subscription's).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

AUX = re.compile(r"^(req-[0-9a-f]{16})-\d+$")
PENDING, ACTIVE, CANCELLED, WITHDRAWN = "pending", "active", "cancelled", "withdrawn"
ENDED = (CANCELLED, WITHDRAWN)
USAGE_OFFERS = {"datastream-pro": ("contract_payg",), "mailrelay": ("payg",)}
"""The offers (keys of `support.OFFERS`) whose requests have a usage line, per metered product."""
SEEN: Counter[str] = Counter()
"""What the runs exercised (printed with `pytest -s`): examples, steps, answers, activations."""


@dataclass
class Line:
    """A request line as the cart gave it to the procurement system."""

    aux: str
    part: str
    price: Decimal
    currency: str
    quantity: Decimal
    kind: str  # contract | usage | zero
    element: Any  # the cart's ItemIn, to send back in an edit punchout or a PO


@dataclass
class Request:
    id: str
    offer: str
    lines: list[Line]
    ordered: bool = False  # some accepted PO named one of its lines: its lines are frozen


@dataclass
class Subscription:
    state: str = PENDING
    approvals: dict[str, tuple[str, int]] = field(default_factory=dict)  # aux -> (order, line)
    mails: set[str] = field(default_factory=set)
    contract_invoice: bool = False
    contract_approved: Decimal | None = None  # what the PO line approving the contract allows
    refund: bool = False  # cancelled after its contract was invoiced: a refund is asked for


@dataclass
class PoLine:
    line: Line
    number: int
    price: Decimal
    quantity: Decimal

    @property
    def signature(self) -> tuple[str, str, int, str, str]:
        return (self.line.part, self.line.aux, self.number, str(self.price), str(self.quantity))


@dataclass
class Order:
    order_id: str
    version: int
    order_type: str
    payload_id: str
    lines: list[PoLine]
    live: bool = True  # not deleted
    sent: dict[str, str] = field(default_factory=dict)  # payloadID -> its document
    markers: dict[tuple[str, int], tuple[Any, ...]] = field(default_factory=dict)
    """(type, version) -> the content that version was accepted with."""


def content(order: Order) -> tuple[Any, ...]:
    """What makes two documents of one order "the same" (a retry, not a conflicting reuse)."""
    return tuple(sorted(x.signature for x in order.lines))


class ReferenceModel:
    """The requests, subscriptions and orders as they must be, changed by each accepted step."""

    def __init__(self) -> None:
        self.requests: dict[str, Request] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.orders: dict[str, Order] = {}
        self.metered: Counter[str] = Counter()
        self.enabled = True
        self._applying: Order | None = None

    def request_of_line(self, line: Line) -> Request:
        return next(r for r in self.requests.values() if line in r.lines)

    def refusal(self, order: Order, previous: Order | None) -> str | None:
        """Why the model refuses these lines under this order, or None to accept them."""
        if not self.enabled:
            return "integration disabled"
        seen: set[str] = set()
        for po_line in order.lines:
            line = po_line.line
            if line.aux in seen:
                return f"{line.aux} twice"
            seen.add(line.aux)
            if po_line.price != line.price:
                return f"{line.aux}: price"
            if line.kind != "usage" and po_line.quantity != line.quantity:
                return f"{line.aux}: quantity"
            request = self.request_of_line(line)
            subscription = self.subscriptions.get(request.id)
            if subscription is None:
                continue
            if subscription.state in ENDED:
                return f"{request.id}: subscription ended"
            approval = subscription.approvals.get(line.aux)
            if approval is not None and approval[0] != order.order_id:
                return f"{line.aux}: already approved by {approval[0]}"
        return None

    @property
    def order_lines(self) -> dict[str, list[PoLine]]:
        lines = {order_id: order.lines for order_id, order in self.orders.items()}
        if self._applying is not None:
            lines[self._applying.order_id] = self._applying.lines
        return lines

    def apply(self, order: Order, previous: Order | None) -> None:
        """What an accepted new or update order does to the model."""
        self._applying = order
        if previous is not None:
            for po_line in previous.lines:
                request = self.request_of_line(po_line.line)
                subscription = self.subscriptions[request.id]
                if subscription.approvals.get(po_line.line.aux, ("",))[0] == order.order_id:
                    del subscription.approvals[po_line.line.aux]
        for po_line in order.lines:
            request = self.request_of_line(po_line.line)
            request.ordered = True
            subscription = self.subscriptions.setdefault(request.id, Subscription())
            subscription.approvals[po_line.line.aux] = (order.order_id, po_line.number)
        touched = {self.request_of_line(x.line).id for x in order.lines}
        if previous is not None:
            touched |= {self.request_of_line(x.line).id for x in previous.lines}
        for request_id in touched:
            self.settle(request_id)

    def settle(self, request_id: str) -> None:
        request = self.requests[request_id]
        subscription = self.subscriptions[request_id]
        approved = all(line.aux in subscription.approvals for line in request.lines)
        if subscription.state == PENDING and approved:
            SEEN["activations"] += 1
            subscription.state = ACTIVE
            subscription.mails.add("ready")
            contract = next((x for x in request.lines if x.kind == "contract"), None)
            if contract is not None:
                subscription.contract_invoice = True
                order_id, number = subscription.approvals[contract.aux]
                (po_line,) = [x for x in self.order_lines[order_id] if x.number == number]
                subscription.contract_approved = po_line.price * po_line.quantity
        elif subscription.state == ACTIVE and not approved:
            subscription.state = CANCELLED
            subscription.mails.add("cancelled")
            subscription.refund = subscription.contract_invoice

    def meterable(self, request_id: str, product: str) -> bool:
        """Usage may be metered against a subscription whose usage line a PO approves while it
        is active, and after a cancellation for usage from before it (every record here is at
        least 5 minutes old, older than any cancellation within one example)."""
        request = self.requests[request_id]
        subscription = self.subscriptions[request_id]
        if request.offer not in USAGE_OFFERS[product]:
            return False
        usage = next(line for line in request.lines if line.kind == "usage")
        return usage.aux in subscription.approvals and subscription.state in (ACTIVE, CANCELLED)

    def delete(self, order: Order, previous: Order) -> None:
        """What an accepted delete does: a deleted PO ends every subscription it approved a
        line of."""
        for subscription in self.subscriptions.values():
            if order.order_id in {approval[0] for approval in subscription.approvals.values()}:
                if subscription.state == PENDING:
                    subscription.state = WITHDRAWN
                elif subscription.state == ACTIVE:
                    subscription.state = CANCELLED
                    subscription.mails.add("cancelled")
                    subscription.refund = subscription.contract_invoice
        order.live = False
        order.markers = previous.markers | {("delete", order.version): content(order)}
        order.sent = previous.sent | order.sent
        self.orders[order.order_id] = order
