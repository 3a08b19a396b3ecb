"""What the purchase-order state machine needs around its reference model: the products and
offers it requests, cart and PO builders, and moto helpers reading and emptying the tables
directly (the model reads everything after every step; moto's API would be most of the run)."""

from __future__ import annotations

import hashlib
import itertools
import json
from decimal import Decimal
from typing import Any

from tests.model.reference import AUX, Line, Order, Request
from tests.order_support import order_request

CONTRACT_ONLY = {
    "id": "vaultguard",
    "name": "VaultGuard",
    "seller": "Keepsafe Ltd",
    "short_description": "Secrets vault.",
    "product_type": "saas",
    "offers": [
        {
            "id": "monthly",
            "name": "3 months billed monthly",
            "currency": "USD",
            "pricing": {
                "model": "contract",
                "price": "100.00",
                "period": "month",
                "term": 3,
                "schedule": "monthly",
            },  # instalments: issue 13 part 2
        }
    ],
}
PAY_AS_YOU_GO = {
    "id": "mailrelay",
    "name": "MailRelay",
    "seller": "Postbox Inc",
    "short_description": "SMTP relay.",
    "product_type": "saas",
    "offers": [
        {
            "id": "volume",
            "name": "Volume",
            "currency": "USD",
            "pricing": {
                "model": "payg",
                "dimensions": [
                    {"key": "emails", "name": "Thousand emails", "unit": "EA", "unit_price": "0.90"}
                ],
            },
        }
    ],
}
OFFERS: dict[str, tuple[str, str, dict[str, str]]] = {
    "contract_payg": ("datastream-pro", "annual", {"estimate.hours": "1000"}),
    "contract": ("vaultguard", "monthly", {}),
    "payg": ("mailrelay", "volume", {"estimate.emails": "300"}),
    "free_trial": ("sentinel-siem-trial", "trial", {}),
}
KINDS = {
    "contract_payg": ("contract", "usage"),
    "contract": ("contract",),
    "payg": ("usage",),
    "free_trial": ("zero",),
}
"""The kind of each cart line an offer's pricing model gives."""
BUYER = ("DUNS", "acme-coupa")
SELLER = "309876543210"  # a demo seller account (local/demo_catalog.json) with a local token
METERED = {"datastream-pro": "hours", "mailrelay": "emails"}
"""The products metered in the model, and their dimension."""
TABLES = ("requests", "orders", "subscriptions", "outbox", "invoices", "usage")
"""The tables a purchase order or a request may change."""

_ORDER_IDS = itertools.count(1)
_PAYLOADS = itertools.count(1)


def next_order_id() -> str:
    return f"PO-{next(_ORDER_IDS)}"


def next_payload_id() -> str:
    return f"model-{next(_PAYLOADS)}@coupa.example"


# --- carts and purchase orders ----------------------------------------------------------------


def request_of_cart(cart: Any, offer: str) -> Request:
    """The model's request for the cart a Request approval returned."""
    kinds = KINDS[offer]
    assert len(kinds) == len(cart.lines), (offer, len(cart.lines))
    lines = [line_of(element, kind) for element, kind in zip(cart.lines, kinds, strict=True)]
    (request_id,) = {AUX.match(line.aux).group(1) for line in lines}  # type: ignore[union-attr]
    return Request(request_id, offer, lines)


def line_of(element: Any, kind: str) -> Line:
    price = element.find("ItemDetail/UnitPrice/Money")
    aux = element.findtext("ItemID/SupplierPartAuxiliaryID")
    return Line(
        aux,
        element.findtext("ItemID/SupplierPartID"),
        Decimal(price.text),
        price.get("currency"),
        Decimal(element.get("quantity")),
        kind,
        element,
    )


def item_out(lines: list[Line]) -> str:
    return "".join(
        f'<ItemOut quantity="{line.quantity}" lineNumber="{number}"><ItemID>'
        f"<SupplierPartID>{line.part}</SupplierPartID>"
        f"<SupplierPartAuxiliaryID>{line.aux}</SupplierPartAuxiliaryID></ItemID>"
        f'<ItemDetail><UnitPrice><Money currency="{line.currency}">{line.price}</Money>'
        '</UnitPrice><Description xml:lang="en">x</Description><UnitOfMeasure>EA'
        '</UnitOfMeasure><Classification domain="UNSPSC">unknown</Classification></ItemDetail>'
        "</ItemOut>"
        for number, line in enumerate(lines, start=1)
    )


def po_document(order: Order, secret: str) -> str:
    """The OrderRequest a procurement system sends for the model's `order`."""
    return order_request(
        [po_line.line.element for po_line in order.lines],
        buyer=BUYER,
        secret=secret,
        order_id=order.order_id,
        order_type=order.order_type,
        version=order.version,
        payload_id=order.payload_id,
        quantities={i: str(x.quantity) for i, x in enumerate(order.lines)},
        prices={i: str(x.price) for i, x in enumerate(order.lines)},
        line_numbers=[x.number for x in order.lines],
    )


# --- moto's backend, read directly --------------------------------------------------------------


def moto_tables() -> dict[str, Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables  # type: ignore[no-any-return]


def moto_sent_mail() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages  # type: ignore[no-any-return]


def empty_tables(keep: tuple[str, ...]) -> None:
    """A fresh start for each example, in microseconds: tables emptied in moto's backend (its
    indexes are computed from the items), instead of created and deleted through the API."""
    for name, table in moto_tables().items():
        if name.removeprefix("local-") not in keep:
            table.items.clear()
            if table.stream_shard is not None:
                table.stream_shard.items.clear()
    del moto_sent_mail()[:]


def items(table: str) -> list[dict[str, Any]]:
    """A table's items as DynamoDB JSON, read from moto's backend directly: the model reads
    everything after every step, and moto's response serializer would be most of the run."""
    found = moto_tables()[f"local-{table}"]
    return [item.to_json()["Attributes"] for item in found.all_items()]


def digest(markers: bool = True) -> str:
    """Everything stored that a purchase order or a request may change; without the
    orders' exactly-once markers when `markers` is False."""
    content = {
        table: sorted(
            json.dumps(item, sort_keys=True)
            for item in items(table)
            if markers or not item["pk"]["S"].startswith(("payload#", "seen#"))
        )
        for table in TABLES
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def stored_subscriptions() -> dict[str, dict[str, Any]]:
    found = {}
    for item in items("subscriptions"):
        if "document" in item:
            document = json.loads(item["document"]["S"])
            found[document["id"]] = document
    return found
