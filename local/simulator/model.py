"""The simulator's values: the buyer accounts, the punchouts it sent, the carts it received and
the purchase orders it posted. Plain data; nothing here talks HTTP."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

SYSTEM_LABELS = {"coupa": "Coupa", "ariba": "SAP Ariba"}
_SECRET = re.compile(r"(<SharedSecret>).*?(</SharedSecret>)", re.S)


@dataclass(frozen=True)
class BuyerAccount:
    """One seeded integration, as the procurement system is configured for it."""

    id: str
    name: str
    system: str
    buyer_domain: str
    buyer_identity: str
    supplier_domain: str
    supplier_identity: str
    shared_secret: str  # Coupa: the integration's own; Ariba: the marketplace's Ariba secret
    account_id: str = ""  # the marketplace account: whose "Your subscriptions" to link to

    @property
    def label(self) -> str:
        return SYSTEM_LABELS.get(self.system, self.system)


@dataclass(frozen=True)
class BuyerUser:
    first_name: str
    last_name: str
    email: str


@dataclass(frozen=True)
class Punchout:
    """What one PunchOutSetupRequest sent: the cart that comes back must echo its cookie."""

    id: str
    account: BuyerAccount
    operation: str
    buyer_cookie: str
    user: BuyerUser


@dataclass(frozen=True)
class CartLine:
    """One ItemIn, every value as the document spelled it."""

    supplier_part_id: str
    supplier_part_auxiliary_id: str
    quantity: str
    unit_price: str
    currency: str
    unit_of_measure: str
    unspsc: str
    description: str
    short_name: str


@dataclass(frozen=True)
class OrderMessage:
    """What a PunchOutOrderMessage says: a missing Status means 200 (a cart to import)."""

    buyer_cookie: str
    status_code: int
    status_text: str
    status_message: str
    operation_allowed: str
    total: str
    currency: str
    lines: tuple[CartLine, ...]


@dataclass(frozen=True)
class ReceivedCart:
    index: int
    punchout: Punchout
    field: str
    document: str
    order: OrderMessage

    def as_json(self) -> dict[str, Any]:
        """Flat, for tests; never the shared secret."""
        return {
            "index": self.index,
            "punchout_id": self.punchout.id,
            "integration_id": self.punchout.account.id,
            "integration": self.punchout.account.name,
            "system": self.punchout.account.system,
            "operation": self.punchout.operation,
            "sent_buyer_cookie": self.punchout.buyer_cookie,
            "field": self.field,
            **asdict(self.order),
            "document": self.document,
        }

    @property
    def approvable(self) -> bool:
        """A cart to import (Status 200) with lines: what an approval can turn into a PO."""
        return self.order.status_code == 200 and bool(self.order.lines)


@dataclass(frozen=True)
class SentOrder:
    """One OrderRequest the simulator posted, and the marketplace's answer."""

    index: int
    cart_index: int
    account: BuyerAccount
    order_id: str
    order_type: str
    order_version: int
    payload_id: str
    previous_payload_id: str
    lines: tuple[tuple[int, CartLine], ...]  # (lineNumber, the cart line it echoes)
    total: str
    currency: str
    document: bytes  # as posted, shared secret included: never shown as is
    resend: bool
    sent_at: str
    http_status: int
    status_code: int  # 0: the answer was not cXML with a Status
    status_text: str
    status_message: str
    answer: str

    @property
    def accepted(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def shown_document(self) -> str:
        """The document as sent, the shared secret masked."""
        text = self.document.decode("utf-8", errors="replace")
        return _SECRET.sub(r"\1(hidden)\2", text)

    def as_json(self) -> dict[str, Any]:
        """Flat, for tests; never the shared secret."""
        return {
            "index": self.index,
            "cart_index": self.cart_index,
            "integration_id": self.account.id,
            "system": self.account.system,
            "order_id": self.order_id,
            "order_type": self.order_type,
            "order_version": self.order_version,
            "payload_id": self.payload_id,
            "previous_payload_id": self.previous_payload_id,
            "resend": self.resend,
            "lines": [_line_json(number, line) for number, line in self.lines],
            "total": self.total,
            "currency": self.currency,
            "sent_at": self.sent_at,
            "http_status": self.http_status,
            "status_code": self.status_code,
            "status_text": self.status_text,
            "status_message": self.status_message,
            "document": self.shown_document,
            "answer": self.answer,
        }


def _line_json(number: int, line: CartLine) -> dict[str, Any]:
    return {
        "line_number": number,
        "supplier_part_id": line.supplier_part_id,
        "supplier_part_auxiliary_id": line.supplier_part_auxiliary_id,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "currency": line.currency,
    }


class Refused(Exception):
    """Something the buyer's system would reject; the message says what."""


def accounts_from_seed(
    seeded: Sequence[Mapping[str, Any]], ariba_secret: str
) -> tuple[BuyerAccount, ...]:
    """The seed's return value (with Coupa's secret) plus the marketplace Ariba secret."""
    accounts = []
    for integration in seeded:
        info = integration["purchase_information"]
        secret = ariba_secret if integration["system"] == "ariba" else info["shared_secret"]
        accounts.append(
            BuyerAccount(
                id=integration["id"],
                name=integration["name"],
                system=integration["system"],
                buyer_domain=info["buyer_domain"],
                buyer_identity=info["buyer_identity"],
                supplier_domain=info["supplier_domain"],
                supplier_identity=info["supplier_identity"],
                shared_secret=secret,
                account_id=str(integration.get("account_id", "")),
            )
        )
    return tuple(accounts)
