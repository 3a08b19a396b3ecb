"""Confirmations going out: after a purchase order is accepted, a cXML ConfirmationRequest
(Fulfill.dtd, `type="accept"`) to the buyer's system, when the integration enables it
(`order_confirmations`), through the same outbox and delivery machinery as invoices.

- The PO's transaction writes the outbox item `confirmation#<integration>#<orderID>#<type>#
  <version>` ("must not exist"): a crash never loses it, and one PO version gets one.
- Its stream record makes the billing worker (the outbox stream's invoicing reader) queue
  `{"confirmation": <key>}` on the delivery queue; the delivery worker sends it with the
  invoice rules (`functions.delivery.classify` / `after`, the queue's receives, the states
  created → delivered | rejected | failed | stored), each state change conditional on the
  state read, so a repeated stream record or message sends nothing twice.
- The document is built at each attempt from facts fixed when the PO was accepted (payloadID,
  timestamp, orderID, the OrderRequest's payloadID) with the endpoint's current credentials:
  the same document every time, and no secret in the outbox.
- Where it goes: `functions.delivery.endpoint_of(integration)`, the invoice endpoint (Coupa's
  cXML endpoint). Ariba integrations get what that returns for them (SAP Business Network once
  invoice delivery there lands; until then `stored`).

Not sent for test orders (test mode or `deploymentMode="test"`: no invoice either), stale
versions, or `delete` orders (nothing to accept)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from functions import contracts
from functions.clock import iso
from functions.ids import payload_id

PREFIX = contracts.OUTBOX_CONFIRMATION_PREFIX
TEMPLATE = "order_confirmation"
MESSAGE_FIELD = "confirmation"


@dataclass(frozen=True)
class OrderConfirmation:
    """What the outbox keeps of a confirmation to send: facts only, no credentials."""

    key: str
    integration_id: str
    order_id: str
    order_payload_id: str
    payload_id: str
    timestamp: str
    deployment_mode: str = "production"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrderConfirmation:
        return cls(**{name: str(data[name]) for name in cls.__dataclass_fields__})


class ConfirmableOrder(Protocol):
    """What a confirmation needs of the kept order (`functions.orders.StoredOrder`)."""

    @property
    def integration_id(self) -> str: ...
    @property
    def order_id(self) -> str: ...
    @property
    def order_type(self) -> str: ...
    @property
    def order_version(self) -> int: ...
    @property
    def payload_id(self) -> str: ...
    @property
    def test(self) -> bool: ...


def confirmation_key(order: ConfirmableOrder) -> str:
    return (
        f"{PREFIX}{order.integration_id}#{order.order_id}#{order.order_type}#{order.order_version}"
    )


def for_order(
    order: ConfirmableOrder, *, enabled: bool, stale: bool, moment: datetime
) -> OrderConfirmation | None:
    """The confirmation an accepted PO owes, or None (see the module docstring)."""
    if not enabled or stale or order.test or order.order_type == "delete":
        return None
    return OrderConfirmation(
        key=confirmation_key(order),
        integration_id=order.integration_id,
        order_id=order.order_id,
        order_payload_id=order.payload_id,
        payload_id=payload_id(),
        timestamp=iso(moment),
    )


def is_confirmation_key(key: str) -> bool:
    return key.startswith(PREFIX)


def delivery_message(key: str) -> dict[str, Any]:
    """The delivery queue's message body for a confirmation."""
    return {MESSAGE_FIELD: key}
