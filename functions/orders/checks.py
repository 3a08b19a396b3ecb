"""The checks a purchase order must pass: its envelope before anything is read (keys that fit
DynamoDB, amounts, currencies, one transaction), and each line against the subscription line
it approves."""

from __future__ import annotations

from decimal import Decimal

from functions.cxml.parse import OrderLine, PurchaseOrder
from functions.errors import BadRequest, Conflict
from functions.orders.model import MAX_PAYLOAD_ID
from functions.subscription_requests import request_id_of
from functions.subscriptions import CANCELLED, PREAPPROVED_ORDER, WITHDRAWN, Subscription
from functions.unit_mapping import UnitMapping

MAX_ID_CHARS = 100  # SupplierPartID, SupplierPartAuxiliaryID (ours are at most 81)
MAX_AMOUNT = Decimal(10) ** 12
MAX_NUMBER_CHARS = 32
MAX_REQUESTS_PER_ORDER = 19
"""One PO is one transaction (at most 100 items): 3 order items, a confirmation and the
integration's activity entry plus, per request, its subscription, the request, a mail, a
contract-invoice request and a seller event (5 + 5 x 19 = 100)."""


def request_ids(po: PurchaseOrder) -> list[str]:
    """The requests a PO's lines name through their aux IDs (others are reported later)."""
    found = (request_id_of(line.item.supplier_part_auxiliary_id or "") for line in po.lines)
    return list(dict.fromkeys(rid for rid in found if rid))


def check_envelope(po: PurchaseOrder, payload_id: str) -> None:
    """What must hold before anything is read: keys that fit DynamoDB, one transaction."""
    if not payload_id or len(payload_id) > MAX_PAYLOAD_ID:
        raise BadRequest(f"The payloadID must have 1 to {MAX_PAYLOAD_ID} characters.")
    for line in po.lines:
        item = line.item
        if (
            len(item.supplier_part_id) > MAX_ID_CHARS
            or len(item.supplier_part_auxiliary_id or "") > MAX_ID_CHARS
        ):
            raise BadRequest(
                f"Line {line.line_number}: SupplierPartID and SupplierPartAuxiliaryID may have "
                f"at most {MAX_ID_CHARS} characters."
            )
        amounts = [("quantity", line.quantity)]
        amounts += [("unit price", line.unit_price.amount)] if line.unit_price else []
        for what, value in amounts:
            _check_amount(f"Line {line.line_number}: the {what}", value)
        if line.unit_price is not None:
            _check_currency(f"Line {line.line_number}", line.unit_price.currency)
    if po.total is not None:
        _check_amount("The order Total", po.total.amount)
        _check_currency("The order Total", po.total.currency)
    if len(request_ids(po)) > MAX_REQUESTS_PER_ORDER:
        raise BadRequest(
            f"This order names {len(request_ids(po))} marketplace requests; one order may "
            f"approve at most {MAX_REQUESTS_PER_ORDER}. Split it into several orders."
        )


def _check_amount(what: str, value: Decimal) -> None:
    if abs(value) >= MAX_AMOUNT or len(str(value)) > MAX_NUMBER_CHARS:
        raise BadRequest(
            f"{what} must be below 10^12, written in at most {MAX_NUMBER_CHARS} characters."
        )


def _check_currency(what: str, currency: str) -> None:
    if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        raise BadRequest(f"{what}: currency {currency[:20]!r} is not a 3-letter ISO 4217 code.")


def describe(line: OrderLine) -> str:
    return f"Line {line.line_number} ({line.item.supplier_part_id})"


def check_line(
    line: OrderLine,
    aux: str,
    subscription: Subscription,
    order_id: str,
    units: UnitMapping | None = None,
) -> None:
    """A PO line approves one line of the subscription as it was first ordered (never the
    request as it stands now: an ordered line is frozen): same part, unit price and currency;
    the same quantity unless it is a usage budget; and no other PO may have approved it. When
    the integration maps the line's unit (`units`), the PO names it in their code or ours."""
    wanted = next((x for x in subscription.lines if x.auxiliary_id == aux), None)
    if wanted is None:
        raise BadRequest(f"{describe(line)}: request {subscription.id} has no line {aux!r}.")
    if ended(subscription):
        raise Conflict(
            f"{describe(line)}: the subscription of request {subscription.id} is "
            f"{subscription.state}; an ended subscription never restarts. Request approval "
            "again from the marketplace."
        )
    approval = wanted.approval
    if approval is not None and approval.order_id != order_id:
        by = (
            "pre-approved by the integration"
            if approval.order_id == PREAPPROVED_ORDER
            else f"approved by PO {approval.order_id}"
        )
        raise Conflict(
            f"{describe(line)}: line {aux} is already {by}; only an update or delete of "
            f"PO {approval.order_id} may change it."
        )
    if line.item.supplier_part_id != wanted.supplier_part_id:
        raise Conflict(
            f"{describe(line)}: part {line.item.supplier_part_id!r} differs from "
            f"{wanted.supplier_part_id!r} requested in {aux}."
        )
    price = line.unit_price
    if price is None or price.currency != wanted.currency or price.amount != wanted.unit_price:
        sent = f"{price.amount} {price.currency}" if price else "no price"
        raise Conflict(
            f"{describe(line)}: unit price {sent} differs from the requested "
            f"{wanted.unit_price} {wanted.currency}; send the price from the cart."
        )
    sent_unit = line.unit_of_measure
    if units is not None and not units.accepts(wanted.unit_of_measure, sent_unit):
        raise Conflict(
            f"{describe(line)}: unit {sent_unit[:20]!r} differs from the requested "
            f"{units.theirs(wanted.unit_of_measure)!r} (ours: {wanted.unit_of_measure!r})."
        )
    if line.quantity <= 0:
        raise BadRequest(f"{describe(line)}: quantity must be more than 0.")
    if wanted.kind != "usage" and line.quantity != wanted.requested_quantity:
        raise Conflict(
            f"{describe(line)}: quantity {line.quantity} differs from the requested "
            f"{wanted.requested_quantity} (only a usage budget may change)."
        )


def ended(subscription: Subscription) -> bool:
    return subscription.state in (CANCELLED, WITHDRAWN)
