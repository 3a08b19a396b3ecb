"""Purchase orders: an approved OrderRequest completes the subscriptions it pays for, with no
action from the requester (PROTOCOL.md §6, §9).

Pure: given the PO, the integration and what is stored about its requests, decide what to
keep and what to announce. The store then writes it all in one transaction, guarded so a retry
or a concurrent duplicate changes nothing the second time."""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from functions.clock import iso
from functions.cxml.parse import OrderLine, PurchaseOrder
from functions.errors import BadRequest, Conflict, Forbidden, GatewayError
from functions.integrations import Integration
from functions.subscription_requests import SubscriptionRequest, request_id_of
from functions.subscriptions import (
    ACTIVE,
    LineApproval,
    Mail,
    Subscription,
    announce,
    contract_outbox_key,
    end,
    from_request,
    owes_contract_invoice,
    settle,
    with_approvals,
)

ORDERED = "ordered"  # request state once a PO approved at least one of its lines
MAX_RAW_BYTES = 250_000  # what of the original document fits in the order item


class PreconditionFailed(GatewayError):
    """cXML 412: a change to an order we never received."""

    status = 412


@dataclass(frozen=True)
class StoredOrder:
    """The purchase order as we keep it: invoices reference orderID, payloadID, lineNumber."""

    integration_id: str
    order_id: str
    order_type: str
    order_version: int
    payload_id: str
    order_date: str
    received_at: str
    test: bool
    total: str
    currency: str
    lines: tuple[dict[str, Any], ...]
    bill_to: dict[str, Any] = field(default_factory=dict)
    ship_to: dict[str, Any] = field(default_factory=dict)
    extrinsics: dict[str, str] = field(default_factory=dict)
    previous_payload_id: str = ""
    document: str = ""  # the original cXML, zlib + base64, when small enough to keep here

    @property
    def auxiliary_ids(self) -> set[str]:
        return {line["auxiliary_id"] for line in self.lines if line.get("auxiliary_id")}


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


@dataclass(frozen=True)
class OrderContext:
    """What the store read for this PO (one batch read, plus the kept order on update/delete)."""

    integration: Integration
    requests: dict[str, SubscriptionRequest]
    subscriptions: dict[str, Subscription]
    previous: StoredOrder | None = None


def request_ids(po: PurchaseOrder) -> list[str]:
    """The requests a PO's lines name through their aux IDs (others are reported later)."""
    found = (request_id_of(line.item.supplier_part_auxiliary_id or "") for line in po.lines)
    return list(dict.fromkeys(rid for rid in found if rid))


def _describe(line: OrderLine) -> str:
    return f"Line {line.line_number} ({line.item.supplier_part_id})"


def _check_line(line: OrderLine, context: OrderContext) -> tuple[SubscriptionRequest, str]:
    """The request line this PO line approves, or a 4xx the buyer's admin can act on."""
    aux = line.item.supplier_part_auxiliary_id or ""
    request_id = request_id_of(aux)
    request = context.requests.get(request_id or "")
    if request is None:
        raise BadRequest(
            f"{_describe(line)}: SupplierPartAuxiliaryID {aux!r} does not name a request made "
            "on this marketplace; order only lines that came from its cart."
        )
    if request.integration_id != context.integration.id:
        raise Forbidden(
            f"{_describe(line)}: request {request.id} belongs to another procurement integration."
        )
    requested = request.line_for(aux)
    if requested is None:
        raise BadRequest(f"{_describe(line)}: request {request.id} has no line {aux!r}.")
    if line.item.supplier_part_id != requested.supplier_part_id:
        raise Conflict(
            f"{_describe(line)}: part {line.item.supplier_part_id!r} differs from "
            f"{requested.supplier_part_id!r} requested in {aux}."
        )
    price = line.unit_price
    if (
        price is None
        or price.currency != requested.currency
        or price.amount != requested.unit_price
    ):
        sent = f"{price.amount} {price.currency}" if price else "no price"
        raise Conflict(
            f"{_describe(line)}: unit price {sent} differs from the requested "
            f"{requested.unit_price} {requested.currency}; send the price from the cart."
        )
    if line.quantity <= 0:
        raise BadRequest(f"{_describe(line)}: quantity must be more than 0.")
    if requested.kind != "usage" and line.quantity != requested.quantity:
        raise Conflict(
            f"{_describe(line)}: quantity {line.quantity} differs from the requested "
            f"{requested.quantity} (only a usage budget may change)."
        )
    return request, aux


def _kept_lines(po: PurchaseOrder) -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "line_number": line.line_number,
            "supplier_part_id": line.item.supplier_part_id,
            "auxiliary_id": line.item.supplier_part_auxiliary_id or "",
            "request_id": request_id_of(line.item.supplier_part_auxiliary_id or "") or "",
            "quantity": str(line.quantity),
            "unit_price": str(line.unit_price.amount) if line.unit_price else "",
            "currency": line.unit_price.currency if line.unit_price else "",
            "unit_of_measure": line.unit_of_measure,
            "description": line.description,
            "classification": line.classification,
            "extrinsics": line.extrinsics,
            "accounting": list(line.accounting),
        }
        for line in po.lines
    )


def _raw(document: bytes) -> str:
    packed = base64.b64encode(zlib.compress(document, 6)).decode("ascii")
    return packed if len(packed) <= MAX_RAW_BYTES else ""


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
    refuse; the text says which line and why."""
    integration = context.integration
    test = integration.test_mode or deployment_mode == "test"
    previous = context.previous
    order = StoredOrder(
        integration_id=integration.id,
        order_id=po.order_id,
        order_type=po.order_type,
        order_version=po.order_version,
        payload_id=payload_id,
        order_date=po.order_date,
        received_at=iso(now),
        test=test,
        total=str(po.total.amount) if po.total else "",
        currency=po.total.currency if po.total else "",
        lines=_kept_lines(po),
        bill_to=po.bill_to,
        ship_to=po.ship_to,
        extrinsics=po.extrinsics,
        previous_payload_id=po.previous_payload_id,
        document=_raw(document),
    )
    if previous is not None and po.order_version < previous.order_version:
        return OrderOutcome(
            order, (), (), (),
            f"Order {po.order_id} version {po.order_version} is older than version "
            f"{previous.order_version} already received; nothing changed.",
            stale=True,
        )  # fmt: skip
    if po.order_type == "delete":
        return _delete(po, order, context, base_url, now)

    checked = [_check_line(line, context) for line in po.lines]
    requests = {request.id: request for request, _ in checked}
    if previous is not None:  # an update replaces the whole order: its old lines count too
        for aux in previous.auxiliary_ids:
            old = context.requests.get(request_id_of(aux) or "")
            if old is not None and old.integration_id == integration.id:
                requests.setdefault(old.id, old)
    subscriptions = _subscriptions_of(requests.values(), context, test, now)
    approvals: dict[str, dict[str, LineApproval | None]] = {rid: {} for rid in subscriptions}
    if previous is not None:
        for aux in previous.auxiliary_ids:
            rid = request_id_of(aux) or ""
            kept = subscriptions[rid].lines if rid in subscriptions else ()
            current = next((x.approval for x in kept if x.auxiliary_id == aux), None)
            if current is not None and current.order_id == po.order_id:
                approvals[rid][aux] = None  # taken away unless this version approves it again
    for (request, aux), line in zip(checked, po.lines, strict=True):
        approvals[request.id][aux] = LineApproval(
            order_id=po.order_id,
            payload_id=payload_id,
            line_number=line.line_number,
            quantity=line.quantity,
            order_version=po.order_version,
            approved_at=iso(now),
        )

    changed: list[Subscription] = []
    mails: list[Mail] = []
    invoices: list[str] = []
    notes: list[str] = []
    for rid, subscription in subscriptions.items():
        updated, event = settle(with_approvals(subscription, approvals[rid]), now)
        if updated != subscription or rid not in context.subscriptions:
            changed.append(updated)
        if event is not None:
            mails.append(announce(event, updated, integration.account_email, po.order_id, base_url))
        if event == "ready" and owes_contract_invoice(updated):
            invoices.append(contract_outbox_key(updated.id))
        notes.append(_note(updated))
    touched = tuple(
        replace(request, state=ORDERED, updated_at=iso(now))
        for request in requests.values()
        if request.state != ORDERED
    )
    prefix = "Test order recorded: no real subscription is created. " if test else ""
    return OrderOutcome(
        order, tuple(changed), touched, tuple(mails), prefix + " ".join(notes),
        invoices=tuple(invoices),
    )  # fmt: skip


def _note(subscription: Subscription) -> str:
    if subscription.state == ACTIVE:
        return f"{subscription.product_name}: subscription active."
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
    changed, mails, notes = [], [], []
    for subscription in affected:
        ended, event = end(subscription, now)
        if ended != subscription:
            changed.append(ended)
            notes.append(f"{subscription.product_name}: subscription {ended.state}.")
        if event is not None:
            mails.append(announce(event, ended, integration.account_email, po.order_id, base_url))
    message = " ".join(notes) or f"Order {po.order_id} deleted; nothing was active."
    return OrderOutcome(order, tuple(changed), (), tuple(mails), message)


def order_json(order: StoredOrder) -> dict[str, Any]:
    return asdict(order)


def order_of(data: dict[str, Any]) -> StoredOrder:
    values = dict(data)
    values["lines"] = tuple(values.get("lines", ()))
    return StoredOrder(**values)


def total_of(order: StoredOrder) -> Decimal | None:
    return Decimal(order.total) if order.total else None
