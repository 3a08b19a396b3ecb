"""Integrations: what a buyer's admin sets up so one Coupa or Ariba instance can punch out to us.

Plain Python, in three parts: the model and its views (`model`), validation of admin input
(`admin`), and authentication of cXML requests against an integration (`auth`,
docs/PROTOCOL.md §4). Where a Coupa instance takes our invoices: docs/PROTOCOL.md §8.
"""

from functions.integrations.admin import (
    CART_FIELDS,
    LOOPBACK_HOSTS,
    delivery_url_problem,
    new_integration,
    patched,
    with_enabled,
    with_new_secret,
)
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
