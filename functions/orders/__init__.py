"""Purchase orders: an approved OrderRequest completes the subscriptions it pays for, with no
action from the requester (docs/PROTOCOL.md §6, §9). Plain Python, in four parts:

- `model`: the order as we keep it, cut to fit its DynamoDB item, and its JSON;
- `checks`: what a PO must pass, its envelope before anything is read and each line;
- `reuse`: fingerprints, telling a retry from a conflicting reuse of a payloadID or orderID;
- `decision`: `process`, what a PO (new, update or delete) changes.

The use case receiving a PO (authenticate, decide, save, retry on a race) is
`functions/order_intake.py`."""

from functions.orders.checks import (
    MAX_AMOUNT,
    MAX_ID_CHARS,
    MAX_NUMBER_CHARS,
    MAX_REQUESTS_PER_ORDER,
    check_envelope,
    request_ids,
)
from functions.orders.decision import OrderContext, OrderOutcome, PreconditionFailed, process
from functions.orders.model import (
    INLINE_DOCUMENT_BYTES,
    MAX_PAYLOAD_ID,
    ORDER_ITEM_BUDGET,
    ORDER_OBJECT_PREFIX,
    StoredOrder,
    order_json,
    order_of,
    request_ids_of,
)
from functions.orders.reuse import (
    ORDER_ITEM,
    PAYLOAD_MARKER,
    SEEN_MARKER,
    Fingerprint,
    answer_to_reuse,
    differences,
    fingerprint,
)

__all__ = [
    "INLINE_DOCUMENT_BYTES",
    "MAX_AMOUNT",
    "MAX_ID_CHARS",
    "MAX_NUMBER_CHARS",
    "MAX_PAYLOAD_ID",
    "MAX_REQUESTS_PER_ORDER",
    "ORDER_ITEM",
    "ORDER_ITEM_BUDGET",
    "ORDER_OBJECT_PREFIX",
    "PAYLOAD_MARKER",
    "SEEN_MARKER",
    "Fingerprint",
    "OrderContext",
    "OrderOutcome",
    "PreconditionFailed",
    "StoredOrder",
    "answer_to_reuse",
    "check_envelope",
    "differences",
    "fingerprint",
    "order_json",
    "order_of",
    "process",
    "request_ids",
    "request_ids_of",
]
