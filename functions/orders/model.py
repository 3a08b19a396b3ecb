"""The purchase order as we keep it: its shape, cut to fit its DynamoDB item, and its JSON.

Invoices reference the kept orderID, payloadID and lineNumber; matching, invoicing and
de-duplication read only its essential fields, which are never cut. The original document
(credentials removed) is kept inline when small, else in S3 under `document_key`."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from functions import contracts
from functions.clock import iso
from functions.cxml.parse import PurchaseOrder
from functions.subscription_requests import request_id_of

INLINE_DOCUMENT_BYTES = 60_000
"""The original document (credentials removed, compressed) is kept in the order item up to
this size; a larger one goes to S3 (`document_key`) and the item keeps only its key."""
ORDER_ITEM_BUDGET = 300_000
"""What the kept order may take in its DynamoDB item (the limit is 400 KB): free text (line
descriptions, extrinsics, accounting, addresses) is cut until it fits; the full text stays
in the original document."""
MAX_PAYLOAD_ID = 250  # a payloadID is part of a de-duplication key; checks.py refuses longer
ORDER_OBJECT_PREFIX = contracts.ORDER_OBJECT_PREFIX
"""Large originals in the invoice bucket: `orders/<integration>/<sha256>.xml` (infra grants
OrdersFunction s3:PutObject on this prefix only)."""


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


def request_ids_of(order: StoredOrder) -> list[str]:
    """The requests a kept order approved lines of: an update or delete must read them even
    when the new document no longer names them."""
    found = (request_id_of(aux) for aux in sorted(order.auxiliary_ids))
    return list(dict.fromkeys(rid for rid in found if rid))


def kept_order(
    po: PurchaseOrder,
    *,
    integration_id: str,
    payload_id: str,
    test: bool,
    document: bytes,
    now: datetime,
) -> tuple[StoredOrder, bytes]:
    """(order, archive): the order to keep, fitted to its item, and the original to put at
    `order.document_key` before the commit (empty when the original is kept inline)."""
    inline, key, archive = _original(document, integration_id)
    order = _fitted(
        StoredOrder(
            integration_id=integration_id,
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
    return order, archive


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


def order_json(order: StoredOrder) -> dict[str, Any]:
    return asdict(order)


def order_of(data: dict[str, Any]) -> StoredOrder:
    values = dict(data)
    values["lines"] = tuple(values.get("lines", ()))
    return StoredOrder(**values)
