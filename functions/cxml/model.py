"""cXML values, pure: what the parser produces and the domain and store consume. No XML
library is imported here, so code that only stores or shows these values stays light."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

CART_FIELDS = ("cxml-base64", "cxml-urlencoded")
"""The form fields a cart can travel in to the BrowserFormPost URL (docs/PROTOCOL.md §5): the
choice is an integration setting, base64 by default."""


def normalize(value: str | None) -> str:
    """Trim and collapse whitespace: real documents pad values with newlines and spaces."""
    return " ".join((value or "").split())


def credential_key(domain: str, identity: str) -> str:
    """How a party is recognised: domain and identity, trimmed, case-insensitive."""
    return f"{normalize(domain).casefold()}#{normalize(identity).casefold()}"


@dataclass(frozen=True)
class Credential:
    domain: str
    identity: str
    shared_secret: str | None = None

    @property
    def key(self) -> str:
        return credential_key(self.domain, self.identity)


@dataclass(frozen=True)
class Header:
    from_credentials: tuple[Credential, ...]
    to_credentials: tuple[Credential, ...]
    sender_credentials: tuple[Credential, ...]
    user_agent: str

    @property
    def sender_secrets(self) -> tuple[str, ...]:
        return tuple(c.shared_secret for c in self.sender_credentials if c.shared_secret)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class ItemRef:
    supplier_part_id: str
    supplier_part_auxiliary_id: str | None = None


@dataclass(frozen=True)
class ItemOut:
    """A line the buyer sends back to us (edit/inspect carts, purchase orders)."""

    quantity: Decimal
    item: ItemRef
    line_number: str | None = None
    unit_price: Money | None = None
    description: str = ""
    short_name: str = ""
    unit_of_measure: str = ""
    classification: str = ""
    classification_domain: str = ""
