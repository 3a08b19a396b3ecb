"""Purchase orders: an approved OrderRequest completes the subscriptions it pays for, with no
action from the requester (docs/PROTOCOL.md §6, §9).

Pure: given the PO, the integration and what is stored about its requests, decide what to
keep and what to announce. The store then writes it all in one transaction, guarded so a retry
or a concurrent duplicate changes nothing the second time."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from functions import contracts
from functions.clock import iso
from functions.cxml.parse import OrderLine, PurchaseOrder
from functions.errors import BadRequest, Conflict, Forbidden, GatewayError
from functions.integrations import Integration
from functions.subscription_requests import ORDERED, SubscriptionRequest, request_id_of
from functions.subscriptions import (
    ACTIVE,
    CANCELLED,
    PENDING,
    PREAPPROVED_ORDER,
    WITHDRAWN,
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

INLINE_DOCUMENT_BYTES = 60_000
"""The original document (credentials removed, compressed) is kept in the order item up to
this size; a larger one goes to S3 (`document_key`) and the item keeps only its key."""
ORDER_ITEM_BUDGET = 300_000
"""What the kept order may take in its DynamoDB item (the limit is 400 KB): free text (line
descriptions, extrinsics, accounting, addresses) is cut until it fits; the full text stays
in the original document."""
MAX_PAYLOAD_ID = 250
MAX_ID_CHARS = 100  # SupplierPartID, SupplierPartAuxiliaryID (ours are at most 81)
MAX_AMOUNT = Decimal(10) ** 12
MAX_NUMBER_CHARS = 32
MAX_REQUESTS_PER_ORDER = 20
"""One PO is one transaction (at most 100 items): 3 order items plus, per request, its
subscription, the request, a mail and a contract-invoice request."""
ORDER_OBJECT_PREFIX = contracts.ORDER_OBJECT_PREFIX
"""Large originals in the invoice bucket: `orders/<integration>/<sha256>.xml` (infra grants
OrdersFunction s3:PutObject on this prefix only)."""


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
    document: str = ""  # the original cXML without credentials, zlib + base64, when small
    document_key: str = ""  # else the S3 key of that original
    truncated: bool = False  # free text was cut to fit the item; the original has all of it

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
    fingerprint: Fingerprint | None = None
    archive: bytes = b""
    """The original (credentials removed) to put at `order.document_key` before the commit."""


@dataclass(frozen=True)
class OrderContext:
    """What the store read for this PO (one batch read, plus the kept order on update/delete)."""

    integration: Integration
    requests: dict[str, SubscriptionRequest]
    subscriptions: dict[str, Subscription]
    previous: StoredOrder | None = None


@dataclass(frozen=True)
class Fingerprint:
    """What makes two order documents "the same" for a retry: orderID, type, version and, per
    line, its number, part, aux ID, quantity, unit price and currency. Kept in both
    de-duplication markers, so telling a retry from a conflicting reuse reads nothing more."""

    order_id: str
    order_type: str
    order_version: int
    lines: tuple[str, ...]  # "<lineNumber>:<digest of the line's terms>"

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.as_json(), sort_keys=True).encode()).hexdigest()

    def as_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "order_type": self.order_type,
            "order_version": self.order_version,
            "lines": list(self.lines),
        }

    @classmethod
    def of_json(cls, data: dict[str, Any]) -> Fingerprint:
        return cls(
            str(data["order_id"]),
            str(data["order_type"]),
            int(data["order_version"]),
            tuple(str(x) for x in data["lines"]),
        )


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")  # 15000.00 and 15000 are the same price


def fingerprint(po: PurchaseOrder) -> Fingerprint:
    lines = []
    for line in po.lines:
        price = line.unit_price
        terms = "\x1f".join(
            (
                line.item.supplier_part_id,
                line.item.supplier_part_auxiliary_id or "",
                _number(line.quantity),
                _number(price.amount) if price else "",
                price.currency if price else "",
            )
        )
        lines.append(f"{line.line_number}:{hashlib.sha256(terms.encode()).hexdigest()[:16]}")
    return Fingerprint(po.order_id, po.order_type, po.order_version, tuple(lines))


def differences(kept: Fingerprint, sent: Fingerprint) -> str:
    """What differs between the document received before and this one, in words."""
    found = []
    if kept.order_id != sent.order_id:
        found.append(f"orderID {sent.order_id!r}, not {kept.order_id!r}")
    if kept.order_type != sent.order_type:
        found.append(f"type {sent.order_type!r}, not {kept.order_type!r}")
    if kept.order_version != sent.order_version:
        found.append(f"orderVersion {sent.order_version}, not {kept.order_version}")
    before = dict(x.split(":", 1) for x in kept.lines)
    now_ = dict(x.split(":", 1) for x in sent.lines)
    changed = [n for n in now_ if n in before and before[n] != now_[n]]
    added = [n for n in now_ if n not in before]
    removed = [n for n in before if n not in now_]
    if changed:
        found.append(
            f"line(s) {', '.join(changed)} differ in part, aux ID, quantity, price or currency"
        )
    if added:
        found.append(f"line(s) {', '.join(added)} are new")
    if removed:
        found.append(f"line(s) {', '.join(removed)} are missing")
    return "; ".join(found) or "the lines are in another order"


PAYLOAD_MARKER, SEEN_MARKER, ORDER_ITEM = "payload", "seen", "order"


def answer_to_reuse(
    marker: str, kept: Fingerprint | None, sent: Fingerprint, payload_id: str
) -> str:
    """A document reusing a payloadID, or an orderID/type/version, already received: the 200
    message of a true retry (the same fingerprint), or a Conflict naming what differs.
    Markers written before fingerprints were kept (`kept` None) count as retries."""
    if marker == ORDER_ITEM:
        raise Conflict(
            f"Order {sent.order_id} was already received; a new document for it must be "
            'type="update" (or "delete") with a higher orderVersion. Give a new order a new '
            "orderID."
        )
    if kept is None or kept.digest == sent.digest:
        return f"Order {sent.order_id} was already received; nothing changed."
    what = differences(kept, sent)
    if marker == PAYLOAD_MARKER:
        raise Conflict(
            f"payloadID {payload_id!r} was already received for order {kept.order_id} with "
            f"other content ({what}); nothing changed. A new document needs a new payloadID."
        )
    raise Conflict(
        f"Order {sent.order_id} type {sent.order_type!r} version {sent.order_version} was "
        f"already received with other content ({what}); nothing changed. Send the change as "
        f'type="update" with orderVersion {kept.order_version + 1} or higher.'
    )


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


def request_ids_of(order: StoredOrder) -> list[str]:
    """The requests a kept order approved lines of: an update or delete must read them even
    when the new document no longer names them."""
    found = (request_id_of(aux) for aux in sorted(order.auxiliary_ids))
    return list(dict.fromkeys(rid for rid in found if rid))


def _describe(line: OrderLine) -> str:
    return f"Line {line.line_number} ({line.item.supplier_part_id})"


def _request_of(line: OrderLine, context: OrderContext) -> tuple[SubscriptionRequest, str]:
    """The request this PO line names, or a 4xx the buyer's admin can act on."""
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
    return request, aux


def _check_line(line: OrderLine, aux: str, subscription: Subscription, order_id: str) -> None:
    """A PO line approves one line of the subscription as it was first ordered (never the
    request as it stands now: an ordered line is frozen): same part, unit price and currency;
    the same quantity unless it is a usage budget; and no other PO may have approved it."""
    wanted = next((x for x in subscription.lines if x.auxiliary_id == aux), None)
    if wanted is None:
        raise BadRequest(f"{_describe(line)}: request {subscription.id} has no line {aux!r}.")
    if _ended(subscription):
        raise Conflict(
            f"{_describe(line)}: the subscription of request {subscription.id} is "
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
            f"{_describe(line)}: line {aux} is already {by}; only an update or delete of "
            f"PO {approval.order_id} may change it."
        )
    if line.item.supplier_part_id != wanted.supplier_part_id:
        raise Conflict(
            f"{_describe(line)}: part {line.item.supplier_part_id!r} differs from "
            f"{wanted.supplier_part_id!r} requested in {aux}."
        )
    price = line.unit_price
    if price is None or price.currency != wanted.currency or price.amount != wanted.unit_price:
        sent = f"{price.amount} {price.currency}" if price else "no price"
        raise Conflict(
            f"{_describe(line)}: unit price {sent} differs from the requested "
            f"{wanted.unit_price} {wanted.currency}; send the price from the cart."
        )
    if line.quantity <= 0:
        raise BadRequest(f"{_describe(line)}: quantity must be more than 0.")
    if wanted.kind != "usage" and line.quantity != wanted.requested_quantity:
        raise Conflict(
            f"{_describe(line)}: quantity {line.quantity} differs from the requested "
            f"{wanted.requested_quantity} (only a usage budget may change)."
        )


_ESSENTIAL = frozenset(
    {"line_number", "supplier_part_id", "auxiliary_id", "request_id", "quantity", "unit_price",
     "currency", "unit_of_measure"}
)  # fmt: skip
_CUTS: tuple[tuple[int | None, int | None], ...] = (
    (None, None), (500, 50), (100, 10), (20, 2), (0, 0),
)  # fmt: skip
"""(characters per text, items per list or map; None: uncut), tried in turn until the kept
order fits."""


def _bounded(value: Any, chars: int | None, items: int | None) -> Any:
    if chars is None:
        return value
    if isinstance(value, str):
        return value[:chars]
    if isinstance(value, dict):
        return {str(k)[:chars]: _bounded(v, chars, items) for k, v in list(value.items())[:items]}
    if isinstance(value, list | tuple):
        return [_bounded(v, chars, items) for v in list(value)[:items]]
    return value


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
            "unit_of_measure": line.unit_of_measure[:32],
            "description": line.description,
            "classification": line.classification,
            "extrinsics": line.extrinsics,
            "accounting": list(line.accounting),
        }
        for line in po.lines
    )


def _fitted(order: StoredOrder) -> StoredOrder:
    """The order with its free text cut until the whole item fits ORDER_ITEM_BUDGET. Matching,
    invoicing and de-duplication use only the essential fields, which are never cut."""
    candidate = order
    for chars, items in _CUTS:
        candidate = replace(
            order,
            order_date=order.order_date[:64],
            previous_payload_id=order.previous_payload_id[:MAX_PAYLOAD_ID],
            bill_to=_bounded(order.bill_to, chars, items),
            ship_to=_bounded(order.ship_to, chars, items),
            extrinsics=_bounded(order.extrinsics, chars, items),
            lines=tuple(_bounded_line(line, chars, items) for line in order.lines),
            truncated=chars is not None,
        )
        if len(json.dumps(order_json(candidate))) <= ORDER_ITEM_BUDGET:
            return candidate
    return candidate  # the essential fields alone: at most 500 bounded lines


def _bounded_line(line: dict[str, Any], chars: int | None, items: int | None) -> dict[str, Any]:
    return {k: v if k in _ESSENTIAL else _bounded(v, chars, items) for k, v in line.items()}


def _original(document: bytes, integration_id: str) -> tuple[str, str, bytes]:
    """(inline, key, archive): the credential-free original, inline when small, else in S3
    under a key named by its content (a retry puts the same object again)."""
    packed = base64.b64encode(zlib.compress(document, 6)).decode("ascii")
    if len(packed) <= INLINE_DOCUMENT_BYTES:
        return packed, "", b""
    digest = hashlib.sha256(document).hexdigest()
    return "", f"{ORDER_OBJECT_PREFIX}{integration_id}/{digest}.xml", document


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


def _ended(subscription: Subscription) -> bool:
    return subscription.state in (CANCELLED, WITHDRAWN)


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
    inline, key, archive = _original(document, integration.id)
    order = _fitted(
        StoredOrder(
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
            document=inline,
            document_key=key,
        )
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
                f"{_describe(line)}: line {aux} is already approved by line {seen[aux]} of "
                "this order; approve each requested line once."
            )
        seen[aux] = line.line_number
    subscriptions = _subscriptions_of(requests.values(), context, test, now)
    for (request, aux), line in zip(named, po.lines, strict=True):
        _check_line(line, aux, subscriptions[request.id], po.order_id)
    if previous is not None:  # an update replaces the whole order: its old lines count too
        for aux in previous.auxiliary_ids:
            old = context.requests.get(request_id_of(aux) or "")
            if old is not None and old.integration_id == integration.id:
                requests.setdefault(old.id, old)
        subscriptions = {
            rid: s
            for rid, s in _subscriptions_of(requests.values(), context, test, now).items()
            if not _ended(s)  # an ended subscription never changes again
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
        if request.state != ORDERED and request.id in subscriptions
    )
    prefix = "Test order recorded: no real subscription is created. " if test else ""
    return OrderOutcome(
        order, tuple(changed), touched, tuple(mails), prefix + " ".join(notes),
        invoices=tuple(invoices), fingerprint=sent, archive=archive,
    )  # fmt: skip


def _note(subscription: Subscription) -> str:
    if subscription.state == ACTIVE:
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
