"""What a purchase order changes: an approved OrderRequest completes the subscriptions it pays
for, with no action from the requester (docs/PROTOCOL.md §6, §9); an update replaces the
whole order; a delete ends what it approved.

Pure: given the PO, the integration and what is stored about its requests, decide what to
keep and what to announce. The store then writes it all in one transaction, guarded so a retry
or a concurrent duplicate changes nothing the second time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from functions.clock import iso
from functions.cxml.parse import OrderLine, PurchaseOrder
from functions.errors import BadRequest, Conflict, Forbidden, GatewayError
from functions.integrations import Integration
from functions.orders.checks import check_line, describe, ended, request_ids
from functions.orders.model import StoredOrder, kept_order
from functions.orders.reuse import Fingerprint, fingerprint
from functions.parties import address_of
from functions.seller_events import SellerEvent
from functions.subscription_events import events_for
from functions.subscription_requests import ORDERED, SubscriptionRequest, request_id_of
from functions.subscriptions import (
    ACTIVE,
    PENDING,
    LineApproval,
    Mail,
    Subscription,
    announce,
    contract_outbox_key,
    end,
    from_request,
    owes_contract_invoice,
    owes_refund,
    refund_outbox_key,
    settle,
    with_approvals,
)

if TYPE_CHECKING:
    from functions.order_confirmations import OrderConfirmation


class PreconditionFailed(GatewayError):
    """cXML 412: a change to an order we never received."""

    status = 412


@dataclass(frozen=True)
class OrderOutcome:
    order: StoredOrder
    subscriptions: tuple[Subscription, ...]
    requests: tuple[SubscriptionRequest, ...]
    mails: tuple[Mail, ...]
    message: str
    stale: bool = False  # an older version than the one kept: acknowledged, nothing written
    invoices: tuple[str, ...] = ()
    """Outbox keys asking for an out-of-cycle invoice: `invoice#<subscription>#contract` for
    each subscription that activated with a PO-approved contract line to bill."""
    fingerprint: Fingerprint | None = None
    archive: bytes = b""
    """The original (credentials removed) to put at `order.document_key` before the commit."""
    confirmation: OrderConfirmation | None = None
    """The ConfirmationRequest to send once committed (`functions.order_confirmations`)."""
    events: tuple[SellerEvent, ...] = ()
    """Seller events the changes announce (`functions.subscription_events`), outbox items."""


@dataclass(frozen=True)
class OrderContext:
    """What the store read for this PO (one batch read, plus the kept order on update/delete)."""

    integration: Integration
    requests: dict[str, SubscriptionRequest]
    subscriptions: dict[str, Subscription]
    previous: StoredOrder | None = None


def _request_of(line: OrderLine, context: OrderContext) -> tuple[SubscriptionRequest, str]:
    """The request this PO line names, or a 4xx the buyer's admin can act on."""
    aux = line.item.supplier_part_auxiliary_id or ""
    request_id = request_id_of(aux)
    request = context.requests.get(request_id or "")
    if request is None:
        raise BadRequest(
            f"{describe(line)}: SupplierPartAuxiliaryID {aux!r} does not name a request made "
            "on this marketplace; order only lines that came from its cart."
        )
    if request.integration_id != context.integration.id:
        raise Forbidden(
            f"{describe(line)}: request {request.id} belongs to another procurement integration."
        )
    return request, aux


def _subscriptions_of(
    requests: Iterable[SubscriptionRequest], context: OrderContext, test: bool, now: datetime
) -> dict[str, Subscription]:
    integration = context.integration
    found: dict[str, Subscription] = {}
    for request in requests:
        existing = context.subscriptions.get(request.id)
        found[request.id] = existing or from_request(
            request, integration.name, integration.account_id, test, now
        )
    return found


def process(
    po: PurchaseOrder,
    context: OrderContext,
    *,
    payload_id: str,
    deployment_mode: str,
    document: bytes,
    base_url: str,
    now: datetime,
) -> OrderOutcome:
    """Decide what a purchase order changes. Raises a GatewayError (4xx) for a PO we must
    refuse; the text says which line and why. `document` is the original with its
    credentials already removed (`parse.without_credentials`): it is what gets stored."""
    integration = context.integration
    test = integration.test_mode or deployment_mode == "test"
    previous = context.previous
    order, archive = kept_order(
        po,
        integration_id=integration.id,
        payload_id=payload_id,
        test=test,
        document=document,
        now=now,
    )
    sent = fingerprint(po)
    if previous is not None and po.order_version < previous.order_version:
        return OrderOutcome(
            order, (), (), (),
            f"Order {po.order_id} version {po.order_version} is older than version "
            f"{previous.order_version} already received; nothing changed.",
            stale=True, fingerprint=sent, archive=archive,
        )  # fmt: skip
    if po.order_type == "delete":
        return replace(
            _delete(po, order, context, base_url, now), fingerprint=sent, archive=archive
        )
    if previous is not None and previous.order_type == "delete":
        raise Conflict(
            f"Order {po.order_id} was deleted (version {previous.order_version}); a deleted "
            "order never changes again. Send the lines as a new order with a new orderID."
        )

    named = [_request_of(line, context) for line in po.lines]
    requests = {request.id: request for request, _ in named}
    seen: dict[str, int] = {}
    for (_, aux), line in zip(named, po.lines, strict=True):
        if aux in seen:
            raise BadRequest(
                f"{describe(line)}: line {aux} is already approved by line {seen[aux]} of "
                "this order; approve each requested line once."
            )
        seen[aux] = line.line_number
    subscriptions = _subscriptions_of(requests.values(), context, test, now)
    for (request, aux), line in zip(named, po.lines, strict=True):
        check_line(line, aux, subscriptions[request.id], po.order_id, integration.unit_mapping)
    if previous is not None:  # an update replaces the whole order: its old lines count too
        for aux in previous.auxiliary_ids:
            old = context.requests.get(request_id_of(aux) or "")
            if old is not None and old.integration_id == integration.id:
                requests.setdefault(old.id, old)
        subscriptions = {
            rid: s
            for rid, s in _subscriptions_of(requests.values(), context, test, now).items()
            if not ended(s)  # an ended subscription never changes again
        }
    approvals: dict[str, dict[str, LineApproval | None]] = {rid: {} for rid in subscriptions}
    if previous is not None:
        for aux in previous.auxiliary_ids:
            rid = request_id_of(aux) or ""
            lines = subscriptions[rid].lines if rid in subscriptions else ()
            current = next((x.approval for x in lines if x.auxiliary_id == aux), None)
            if current is not None and current.order_id == po.order_id:
                approvals[rid][aux] = None  # taken away unless this version approves it again
    for (request, aux), line in zip(named, po.lines, strict=True):
        approvals[request.id][aux] = LineApproval(
            order_id=po.order_id,
            payload_id=payload_id,
            line_number=line.line_number,
            quantity=line.quantity,
            order_version=po.order_version,
            approved_at=iso(now),
            bill_to=address_of(po.bill_to),
        )

    changed: list[Subscription] = []
    mails: list[Mail] = []
    invoices: list[str] = []
    notes: list[str] = []
    announced: list[SellerEvent] = []
    for rid, subscription in subscriptions.items():
        updated, event = settle(with_approvals(subscription, approvals[rid]), now)
        if updated != subscription or rid not in context.subscriptions:
            changed.append(updated)
        before = context.subscriptions.get(rid)
        announced += events_for(
            before, updated, now, order_id=po.order_id, order_version=po.order_version
        )
        if event is not None:
            mails.append(announce(event, updated, integration.account_email, po.order_id, base_url))
        if event == "ready" and owes_contract_invoice(updated):
            invoices.append(contract_outbox_key(updated.id))
        if owes_refund(subscription, event):
            invoices.append(refund_outbox_key(updated.id))
        notes.append(_note(updated, test=test))
    touched = tuple(
        replace(request, state=ORDERED, updated_at=iso(now))
        for request in requests.values()
        if request.state != ORDERED and request.id in subscriptions
    )
    prefix = "Test order recorded: no real subscription is created. " if test else ""
    return OrderOutcome(
        order, tuple(changed), touched, tuple(mails), prefix + " ".join(notes),
        invoices=tuple(invoices), fingerprint=sent, archive=archive, events=tuple(announced),
    )  # fmt: skip


def _note(subscription: Subscription, *, test: bool = False) -> str:
    if subscription.state == ACTIVE:
        if test:  # the buyer's pages call it "Test", never "Active"
            return f"{subscription.product_name}: test subscription recorded."
        return f"{subscription.product_name}: subscription active."
    if subscription.state != PENDING:
        return f"{subscription.product_name}: subscription {subscription.state}."
    waiting = ", ".join(line.auxiliary_id for line in subscription.waiting_for)
    if waiting:
        return (
            f"{subscription.product_name}: subscription pending until line(s) {waiting} "
            "are approved too."
        )
    return f"{subscription.product_name}: subscription {subscription.state}."


def _delete(
    po: PurchaseOrder, order: StoredOrder, context: OrderContext, base_url: str, now: datetime
) -> OrderOutcome:
    """A deleted PO ends every subscription it approved a line of."""
    integration = context.integration
    named = {
        request_id_of(aux) or ""
        for aux in (context.previous.auxiliary_ids if context.previous else set())
    }
    named.update(request_ids(po))
    affected = [
        s
        for rid in named
        if (s := context.subscriptions.get(rid)) is not None
        and s.integration_id == integration.id
        and po.order_id in s.order_ids
    ]
    if context.previous is None and not affected:
        raise PreconditionFailed(
            f"Order {po.order_id} was never received here: there is nothing to delete."
        )
    changed, mails, notes, refunds = [], [], [], []
    announced: list[SellerEvent] = []
    for subscription in affected:
        ended, event = end(subscription, now)
        if ended != subscription:
            changed.append(ended)
            announced += events_for(subscription, ended, now)
            notes.append(f"{subscription.product_name}: subscription {ended.state}.")
        if event is not None:
            mails.append(announce(event, ended, integration.account_email, po.order_id, base_url))
        if owes_refund(subscription, event):
            refunds.append(refund_outbox_key(subscription.id))
    message = " ".join(notes) or f"Order {po.order_id} deleted; nothing was active."
    return OrderOutcome(
        order, tuple(changed), (), tuple(mails), message,
        invoices=tuple(refunds), events=tuple(announced),
    )  # fmt: skip
