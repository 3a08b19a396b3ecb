"""Telling a retry of a purchase order from a conflicting reuse of its payloadID or of its
orderID, type and version: the fingerprint kept with each de-duplication marker, and the
answer a reused document gets (a 200 again, or a Conflict naming what differs)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from functions.cxml.parse import PurchaseOrder
from functions.errors import Conflict


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
