"""The seller APIs beside metering, in AWS Marketplace's shapes: ResolveCustomer (a
registration token → the customer) and GetEntitlements (a product's contract entitlements).

Who calls is decided as for metering (`metering.Caller`): the marketplace's admin may ask about
any product, a seller only about its own. ResolveCustomer judges against the product's seller
now; GetEntitlements lists only the entitlements a seller sold (the seller snapshot each indexed
subscription carries), so it reads no product: a foreign or unknown product is an empty page,
exactly like a product of its own nobody holds. Refusals are `MarketplaceError`s named as AWS
names them; a token of another seller is refused exactly like a forged one, so the answer tells
nothing about that seller.

Plain Python: the stores and the link-signing key are passed in."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any, Protocol

from functions import entitlements, registration
from functions.catalog import Product
from functions.errors import MarketplaceError
from functions.metering import Caller
from functions.subscriptions import Subscription

INVALID_TOKEN = "InvalidTokenException"  # noqa: S105 (an AWS exception name)
EXPIRED_TOKEN = "ExpiredTokenException"  # noqa: S105 (an AWS exception name)
ACCESS_DENIED = "AccessDeniedException"


class ProductLookup(Protocol):
    def get(self, product_id: str) -> Product | None: ...


class EntitlementPages(Protocol):
    def page(
        self,
        query: entitlements.EntitlementsQuery,
        start: entitlements.PageStart | None,
        seller: str | None,
    ) -> tuple[list[Subscription], entitlements.PageStart | None]:
        """`seller`: only the entitlements it sold; None (the admin): every one."""
        ...


def sells(caller: Caller, product: Product | None) -> bool:
    """May `caller` ask about `product`? The admin: any existing product; a seller: its own."""
    if product is None:
        return False
    if caller.admin:
        return True
    seller = product.seller_account
    return bool(seller) and hmac.compare_digest(caller.seller_account.encode(), seller.encode())


def resolve_customer(
    body: object, caller: Caller, now: datetime, *, products: ProductLookup, link_key: bytes
) -> dict[str, Any]:
    """ResolveCustomer: the token's customer and product (and `Test`), after one product read
    (the rest is in the signed token)."""
    token = body.get("RegistrationToken") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise MarketplaceError(
            INVALID_TOKEN, "RegistrationToken is required: the x-amzn-marketplace-token posted "
            "to your fulfillment URL.",
        )  # fmt: skip
    try:
        found = registration.verify(link_key, token, now)
    except registration.ExpiredToken as exc:
        raise MarketplaceError(EXPIRED_TOKEN, str(exc)) from None
    except registration.InvalidToken as exc:
        raise MarketplaceError(INVALID_TOKEN, str(exc)) from None
    if not sells(caller, products.get(found.product_id)):
        raise MarketplaceError(INVALID_TOKEN, "The registration token is invalid.")
    return {
        "CustomerIdentifier": found.account_id,
        "CustomerAWSAccountId": found.account_id,
        "ProductCode": found.product_id,
        "Test": found.test,
    }


def caller_name(caller: Caller) -> str:
    return "admin" if caller.admin else f"seller:{caller.seller_account}"


def get_entitlements(
    body: object,
    caller: Caller,
    now: datetime,
    *,
    pages: EntitlementPages,
    link_key: bytes,
) -> dict[str, Any]:
    """GetEntitlements: one page, one index Query, every page alike. A seller's Query keeps
    only what it sold (no product read); a NextToken is signed for this caller, product and
    filter. A caller that is neither the admin nor a seller is refused without a read."""
    query = entitlements.parse_query(body)
    if not caller.admin and not caller.seller_account:
        raise MarketplaceError(
            ACCESS_DENIED, "Only a seller or the marketplace's admin may ask.", status=403
        )
    name = caller_name(caller)
    start = entitlements.page_start(link_key, name, query, now)
    seller = None if caller.admin else caller.seller_account
    found, following = pages.page(query, start, seller)
    answer: dict[str, Any] = {
        "Entitlements": [entitlements.entitlement_json(subscription) for subscription in found]
    }
    if following is not None:
        answer["NextToken"] = entitlements.next_token(link_key, name, query, following, now)
    return answer
