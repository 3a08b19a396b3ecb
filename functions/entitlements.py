"""Contract entitlements, as AWS Marketplace's GetEntitlements shows them to a seller
(docs/FULFILLMENT.md, "ResolveCustomer and GetEntitlements").

An entitlement is an active subscription's contract line a purchase order approved: its
`Dimension` is the offer id (what the seller's catalog calls the contract), its `Value` the
approved quantity (periods of the term), its `ExpirationDate` the term's end. Test
subscriptions are included, marked `"Test": true`, so a seller can try its integration.

The subscriptions table keeps them in its sparse `lifecycle` index (`index_entry`), written in
the same transaction as every state change: a page is one Query, a cancellation drops out at
once. Each entry carries the seller the subscription was sold by (`Subscription.seller_account`),
so a seller's Query filters on it and reads no product: a seller sees only its own products by
construction, and a foreign or unknown product is an empty page.
`NextToken` is the page's LastEvaluatedKey signed (HMAC) and bound to the caller, the product
and the filter: a tampered or borrowed token is a 400, never a read of someone else's data.

Plain Python."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from functions.errors import MarketplaceError
from functions.subscriptions import ACTIVE, Subscription, SubscriptionLine

INVALID_PARAMETER = "InvalidParameterException"
MAX_RESULTS = 25
MAX_FILTER_VALUES = 25
MAX_VALUE_LENGTH = 255
MAX_NEXT_TOKEN_LENGTH = 2048
NEXT_TOKEN_LIFETIME = timedelta(minutes=15)
"""A NextToken's life: a walk older than this starts again (AWS's tokens expire too)."""
CUSTOMER_FILTER = "CUSTOMER_IDENTIFIER"
DIMENSION_FILTER = "DIMENSION"
_PURPOSE = b"procurement-gateway entitlements next token v1"
_TEXT = re.compile(r"[^\x00-\x1f\x7f#]{1,255}")
_PART = re.compile(r"[A-Za-z0-9_-]{1,1800}")


ENTITLEMENT_PARTITION = "entitlement#"
"""The `lifecycle` index partitions of entitlements: `entitlement#<ProductCode>` (a ProductCode
holds no `#`, `parse_query`), never the sweep's `unsubscribing`."""


def entitlement_partition(product_code: str) -> str:
    return f"{ENTITLEMENT_PARTITION}{product_code}"


class IndexEntry(NamedTuple):
    """The `lifecycle` index attributes of an entitled subscription item."""

    partition: str  # `entitlement#<ProductCode>`
    key: str  # sort: `<customer>#<subscription>`, so one customer is a key condition
    dimension: str
    seller: str  # the seller account it was sold by: a seller's filter


class EntitlementsQuery(NamedTuple):
    product_code: str
    customers: tuple[str, ...]
    dimensions: tuple[str, ...]
    max_results: int
    next_token: str | None


class PageStart(NamedTuple):
    """Where a page starts (the index's LastEvaluatedKey), as the NextToken carried it."""

    subscription_id: str
    entitlement_key: str


def contract_line(subscription: Subscription) -> SubscriptionLine | None:
    """The approved contract line of an active subscription, or None (no entitlement)."""
    if subscription.state != ACTIVE:
        return None
    line = next((x for x in subscription.lines if x.kind == "contract"), None)
    return line if line is not None and line.approval is not None else None


def index_entry(subscription: Subscription) -> IndexEntry | None:
    if contract_line(subscription) is None:
        return None
    key = f"{subscription.account_id}#{subscription.id}"
    return IndexEntry(
        entitlement_partition(subscription.product_id), key, subscription.offer_id,
        subscription.seller_account,
    )  # fmt: skip


def customer_prefix(customer: str) -> str:
    return f"{customer}#"


def entitlement_json(subscription: Subscription) -> dict[str, Any]:
    """One entry of `Entitlements`, in GetEntitlements' shape, plus `Test`."""
    line = contract_line(subscription)
    assert line is not None and line.approval is not None  # only indexed ones are read
    return {
        "ProductCode": subscription.product_id,
        "Dimension": subscription.offer_id,
        "CustomerIdentifier": subscription.account_id,
        "CustomerAWSAccountId": subscription.account_id,
        "Value": _value(line.approval.quantity),
        "ExpirationDate": subscription.contract_ends_at,
        "Test": subscription.test,
    }


def _value(quantity: Decimal) -> dict[str, Any]:
    """AWS's EntitlementValue: `IntegerValue` when whole, else the exact decimal as text."""
    if quantity == quantity.to_integral_value():
        return {"IntegerValue": int(quantity)}
    return {"StringValue": str(quantity)}


# --- the request ------------------------------------------------------------------------------


def _refuse(message: str) -> MarketplaceError:
    return MarketplaceError(INVALID_PARAMETER, message)


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not _TEXT.fullmatch(value):
        raise _refuse(f"{name} must be a string of 1 to {MAX_VALUE_LENGTH} printable characters.")
    return value


def parse_query(body: object) -> EntitlementsQuery:
    """GetEntitlements' request, checked whole: anything else is InvalidParameterException."""
    if not isinstance(body, dict):
        raise _refuse("The body must be a JSON object with a ProductCode.")
    product = _text(body.get("ProductCode"), "ProductCode")
    filters = body.get("Filter", {})
    if filters is None:
        filters = {}
    if not isinstance(filters, dict) or set(filters) - {CUSTOMER_FILTER, DIMENSION_FILTER}:
        raise _refuse(
            f"Filter must be an object keyed by {CUSTOMER_FILTER} and/or {DIMENSION_FILTER}."
        )
    chosen = {name: _values(filters[name], name) for name in filters}
    size = body.get("MaxResults", MAX_RESULTS)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_RESULTS:
        raise _refuse(f"MaxResults must be a whole number from 1 to {MAX_RESULTS}.")
    token = body.get("NextToken")
    if token is not None and (not isinstance(token, str) or not token):
        raise _refuse("NextToken must be the NextToken of the previous answer.")
    return EntitlementsQuery(
        product, chosen.get(CUSTOMER_FILTER, ()), chosen.get(DIMENSION_FILTER, ()), size, token
    )


def _values(values: object, name: str) -> tuple[str, ...]:
    if not isinstance(values, list) or not 1 <= len(values) <= MAX_FILTER_VALUES:
        raise _refuse(f"Filter {name} must be a list of 1 to {MAX_FILTER_VALUES} strings.")
    return tuple(dict.fromkeys(_text(value, f"Filter {name}") for value in values))


# --- NextToken ------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _binding(caller: str, query: EntitlementsQuery) -> str:
    """What a token is valid for: this caller, product and filter (not MaxResults)."""
    scope = json.dumps([caller, query.product_code, sorted(query.customers),
                        sorted(query.dimensions)])  # fmt: skip
    return hashlib.sha256(scope.encode("utf-8")).hexdigest()[:32]


def _mac(link_key: bytes, body: str) -> bytes:
    if not link_key:
        raise ValueError("the link-signing key is empty: NextTokens would be forgeable")
    key = hmac.new(link_key, _PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()


def next_token(
    link_key: bytes, caller: str, query: EntitlementsQuery, start: PageStart, now: datetime
) -> str:
    claims = {
        "b": _binding(caller, query),
        "s": start.subscription_id,
        "k": start.entitlement_key,
        "e": int((now + NEXT_TOKEN_LIFETIME).timestamp()),
    }
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{body}.{_b64(_mac(link_key, body))}"


def page_start(
    link_key: bytes, caller: str, query: EntitlementsQuery, now: datetime
) -> PageStart | None:
    """The start the query's NextToken names (None without one); InvalidParameterException
    when it is not one we issued for this caller, product and filter, or has expired."""
    token = query.next_token
    if token is None:
        return None
    refused = _refuse("NextToken is not valid for this request: start again without it.")
    parts = token.split(".")
    if len(token) > MAX_NEXT_TOKEN_LENGTH or len(parts) != 2:
        raise refused
    if not all(_PART.fullmatch(part) for part in parts):
        raise refused
    try:
        presented = _unb64(parts[1])
        claims = json.loads(_unb64(parts[0]))
    except (binascii.Error, ValueError) as exc:
        raise refused from exc
    if not hmac.compare_digest(_mac(link_key, parts[0]), presented):
        raise refused
    if not isinstance(claims, dict) or claims.get("b") != _binding(caller, query):
        raise refused
    start = PageStart(claims.get("s"), claims.get("k"))  # type: ignore[arg-type]
    expires = claims.get("e")
    if not all(isinstance(x, str) and x for x in start) or not isinstance(expires, int):
        raise refused
    if now.timestamp() >= expires:
        raise _refuse("NextToken has expired: start again without it.")
    return start
