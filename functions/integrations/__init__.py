"""Integrations: what a buyer's admin sets up so one Coupa or Ariba instance can punch out to us.

Plain Python, in three parts: the model and its views (`model`), validation of admin input
(`admin`), and authentication of cXML requests against an integration (`auth`,
docs/PROTOCOL.md §4). Where a Coupa instance takes our invoices: docs/PROTOCOL.md §8.
"""

from typing import TYPE_CHECKING, Any

from functions.integrations.auth import NOT_AUTHENTICATED, Authenticated, authenticate, describe
from functions.integrations.model import (
    SECRET_SHOWN,
    BuyerIdentity,
    Endpoints,
    Integration,
    InvoiceDelivery,
    SealedSecret,
    SecretBox,
    SecretUnreadable,
    System,
    purchase_information,
)

if TYPE_CHECKING:  # at run time, on first use: see __getattr__
    from functions.integrations.admin import (
        CART_FIELDS,
        LOOPBACK_HOSTS,
        delivery_url_problem,
        new_integration,
        patched,
        with_enabled,
        with_new_secret,
    )

_ADMIN = frozenset(
    {
        "CART_FIELDS",
        "LOOPBACK_HOSTS",
        "delivery_url_problem",
        "new_integration",
        "patched",
        "with_enabled",
        "with_new_secret",
    }
)
"""Names from `admin`, loaded when first asked for: validating an admin's input brings the
account, tax and URL rules, which the functions that only read integrations (cXML, orders,
billing) never run."""

if not TYPE_CHECKING:  # mypy reads the imports above, and still flags a name that is not here

    def __getattr__(name: str) -> Any:
        if name in _ADMIN:
            from functions.integrations import admin

            return getattr(admin, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CART_FIELDS",
    "LOOPBACK_HOSTS",
    "NOT_AUTHENTICATED",
    "SECRET_SHOWN",
    "Authenticated",
    "BuyerIdentity",
    "Endpoints",
    "Integration",
    "InvoiceDelivery",
    "SealedSecret",
    "SecretBox",
    "SecretUnreadable",
    "System",
    "authenticate",
    "delivery_url_problem",
    "describe",
    "new_integration",
    "patched",
    "purchase_information",
    "with_enabled",
    "with_new_secret",
]
