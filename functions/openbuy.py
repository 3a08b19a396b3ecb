"""Coupa Open Buy: the JSON API Coupa calls, server to server, so its users can search our
catalog from inside Coupa and land on a product in the punchout (docs/PROTOCOL.md §9).

Plain Python: the request bodies, who may hold a token and for how long, and the search, detail
and checkout answers built from catalog values. The handler stores and reads; this decides."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from functions import fields, ids
from functions.catalog import Offer, Pricing, Product
from functions.clock import now
from functions.errors import BadRequest, Forbidden, NotFound, Unauthenticated
from functions.integrations import Endpoints, Integration
from functions.money import format_money
from functions.units import PERIOD_UNITS, UNITS

TOKEN_LIFETIME = timedelta(minutes=15)
PAGE_SIZE = 20
MAX_PAGE_NUMBER = 100_000
MAX_QUERY = 200
MAX_PART_NUM = 100
MAX_TOKEN = 256
ZERO = Decimal("0.00")
ZERO_UOM = "EA"  # what zero-priced cart lines carry too

BAD_CREDENTIALS = (
    "The username and credentials do not match a Coupa integration: use the integration id "
    "and the shared secret from the integration's purchase information."
)
ARIBA_REFUSED = "Open Buy is a Coupa feature; Ariba users start from Ariba."
AUTHENTICATE_AGAIN = (
    "The token is missing, unknown or expired: authenticate again at "
    "/openbuy/authentication/v1.0.0 and send 'Authorization: Bearer <token>'."
)


# --- request bodies -------------------------------------------------------------------------


def _object(payload: Any) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise BadRequest("The body must be a JSON object.")
    return payload


@dataclass(frozen=True)
class Credentials:
    """What Coupa sends to authenticate: our integration id and its Coupa shared secret."""

    integration_id: str
    secret: str
    email: str = ""


def credentials_from_json(payload: Any) -> Credentials:
    """A malformed field is a 400 naming it; missing credentials are a 401 like wrong ones."""
    data = _object(payload)
    integration_id = fields.text(data, "username", limit=100, required=True)
    secret = data.get("credentials")
    if secret is not None and not isinstance(secret, str):
        raise BadRequest("'credentials' must be a string.", field="credentials")
    email = fields.text(data, "email", limit=254, required=False)
    if not secret or len(secret) > MAX_TOKEN:
        raise Unauthenticated(BAD_CREDENTIALS)
    return Credentials(integration_id, secret, email)


@dataclass(frozen=True)
class SearchRequest:
    query: str
    page_number: int = 1


def search_request_from_json(payload: Any) -> SearchRequest:
    data = _object(payload)
    query = fields.text(data, "query", limit=MAX_QUERY, required=True)
    raw = data.get("page_number")
    if raw is None:
        return SearchRequest(query)
    if isinstance(raw, str):
        raw = fields.ascii_digits(raw.strip(), 6)  # lenient: "2" is as clear as 2
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_PAGE_NUMBER:
        raise BadRequest(
            f"'page_number' must be a whole number from 1 to {MAX_PAGE_NUMBER}.",
            field="page_number",
        )
    return SearchRequest(query, raw)


def part_number_from_json(payload: Any) -> str:
    return fields.text(_object(payload), "source_part_num", limit=MAX_PART_NUM, required=True)


def checkout_from_json(payload: Any) -> tuple[str, str]:
    """(product id, offer id or "")."""
    data = _object(payload)
    return (
        fields.text(data, "source_part_num", limit=MAX_PART_NUM, required=True),
        fields.text(data, "offer_id", limit=MAX_PART_NUM, required=False),
    )


# --- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenBuyToken:
    """A bearer token Coupa holds for one integration; we keep only its digest."""

    token_digest: str
    integration_id: str
    email: str
    created_at: datetime
    expires_at: datetime

    def is_expired(self, at: datetime) -> bool:
        return at >= self.expires_at


def authenticate(credentials: Credentials, integration: Integration | None) -> Integration:
    """Unknown integration and wrong secret read the same (no enumeration of ids); the secret
    check is constant-time. Ariba has no per-integration secret and no Open Buy."""
    if integration is None:
        raise Unauthenticated(BAD_CREDENTIALS)
    if integration.system != "coupa":
        raise Forbidden(ARIBA_REFUSED)
    if not ids.matches_digest(credentials.secret, integration.secret_digest):
        raise Unauthenticated(BAD_CREDENTIALS)
    return _enabled(integration)


def _enabled(integration: Integration) -> Integration:
    if not integration.enabled:
        raise Forbidden(
            f"Integration '{integration.name}' is disabled: ask the marketplace admin to enable it."
        )
    return integration


def issue_token(integration: Integration, email: str) -> tuple[str, OpenBuyToken]:
    """The token Coupa receives (256 random bits) and what we store: its digest only."""
    token = ids.session_token()
    issued = now()
    return token, OpenBuyToken(
        token_digest=ids.digest(token),
        integration_id=integration.id,
        email=email,
        created_at=issued,
        expires_at=issued + TOKEN_LIFETIME,
    )


def token_reply(token: str) -> dict[str, Any]:
    return {
        "token": token,
        "token_type": "Bearer",
        "expires_in": int(TOKEN_LIFETIME.total_seconds()),
    }


def bearer_token(authorization: str | None) -> str:
    token = fields.bearer_token(authorization, limit=MAX_TOKEN)
    if token is None:
        raise Unauthenticated(AUTHENTICATE_AGAIN)
    return token


def live_token(token: OpenBuyToken | None, at: datetime) -> OpenBuyToken:
    """Expiry is checked on every read: DynamoDB's TTL deletes expired items only eventually."""
    if token is None or token.is_expired(at):
        raise Unauthenticated(AUTHENTICATE_AGAIN)
    return token


def token_integration(token: OpenBuyToken, integration: Integration | None) -> Integration:
    """The integration a live token acts for, as it is now: disabling it stops its tokens."""
    if integration is None or integration.id != token.integration_id:
        raise Unauthenticated(AUTHENTICATE_AGAIN)
    if integration.system != "coupa":
        raise Forbidden(ARIBA_REFUSED)
    return _enabled(integration)


# --- answers ----------------------------------------------------------------------------------


def product_url(endpoints: Endpoints, product_id: str) -> str:
    return f"{endpoints.base_url}/catalog/products/{quote(product_id, safe='')}"


def entry_price(pricing: Pricing) -> tuple[Decimal, str]:
    """The price a buyer first pays and its UN/CEFACT unit: the contract price per period, else
    the lowest usage rate; zero-priced offers (free, BYOL, a trial) are 0.00 each."""
    if pricing.is_zero_priced:
        return ZERO, ZERO_UOM
    if pricing.has_contract and pricing.price is not None and pricing.period:
        return pricing.price, PERIOD_UNITS[pricing.period]
    if pricing.dimensions:
        rate = min(pricing.dimensions, key=lambda d: d.unit_price)
        return rate.unit_price, rate.unit
    return ZERO, ZERO_UOM


def entry_offer(product: Product) -> Offer | None:
    """The offer with the lowest entry price (first listed wins a tie): the "from" price."""
    return min(product.offers, key=lambda o: entry_price(o.pricing)[0], default=None)


def listed_product(product: Product | None, product_id: str) -> Product:
    """Unlisted products do not exist for buyers: same 404 as an unknown id."""
    if product is None or not product.listed:
        raise NotFound(f"No product with source_part_num {product_id!r} in the catalog.")
    return product


def _result(product: Product, endpoints: Endpoints) -> dict[str, Any]:
    offer = entry_offer(product)
    price, uom = entry_price(offer.pricing) if offer else (ZERO, ZERO_UOM)
    return {
        "source_part_num": product.id,
        "name": product.name,
        "description": product.short_description,
        "supplier": product.seller,
        "product_type": product.product_type,
        "pricing_models": list(product.pricing_models),
        "price_summary": offer.summary if offer else "",
        "currency": offer.currency if offer else None,
        "unit_price": format_money(price),
        "uom": uom,
        "image_url": None,
        "url": product_url(endpoints, product.id),
        "punchout": {"url": endpoints.punchout_url, "selected_item": product.id},
    }


def search(
    products: Iterable[Product], request: SearchRequest, endpoints: Endpoints
) -> dict[str, Any]:
    """One page of listed products matching the query, by name. A page past the end is empty
    but still tells Coupa the total."""
    found = sorted(
        (p for p in products if p.listed and p.matches(request.query)),
        key=lambda p: (p.name.casefold(), p.id),
    )
    start = (request.page_number - 1) * PAGE_SIZE
    page = found[start : start + PAGE_SIZE]
    return {
        "count": len(page),
        "total_count": len(found),
        "page_number": request.page_number,
        "page_size": PAGE_SIZE,
        "results": [_result(p, endpoints) for p in page],
    }


def _components(pricing: Pricing) -> dict[str, Any]:
    """What is charged, amounts as decimal strings (never floats). A trial shows what it
    converts to."""
    charged = pricing.then if pricing.model == "free_trial" and pricing.then else pricing
    contract = None
    if charged.has_contract and charged.price is not None and charged.period:
        contract = {
            "price": format_money(charged.price),
            "period": charged.period,
            "term": charged.term,
            "uom": PERIOD_UNITS[charged.period],
        }
    dimensions = [
        {
            "key": d.key,
            "name": d.name,
            "unit": d.unit,
            "unit_label": UNITS[d.unit],
            "unit_price": format_money(d.unit_price),
        }
        for d in (charged.dimensions if charged.has_usage else ())
    ]
    return {
        "trial_days": pricing.trial_days if pricing.model == "free_trial" else 0,
        "converts_to": charged.model if charged is not pricing else None,
        "contract": contract,
        "dimensions": dimensions,
    }


def _offer(offer: Offer) -> dict[str, Any]:
    price, uom = entry_price(offer.pricing)
    return {
        "id": offer.id,
        "name": offer.name,
        "description": offer.description,
        "currency": offer.currency,
        "model": offer.pricing.model,
        "model_label": offer.pricing.label,
        "summary": offer.summary,
        "unit_price": format_money(price),
        "uom": uom,
        **_components(offer.pricing),
    }


def detail(product: Product, endpoints: Endpoints) -> dict[str, Any]:
    return {
        "source_part_num": product.id,
        "name": product.name,
        "supplier": product.seller,
        "description": product.short_description,
        "long_description": product.long_description,
        "usage_instructions": product.usage_instructions,
        "product_type": product.product_type,
        "product_type_label": product.type_label,
        "unspsc": product.unspsc,
        "image_url": None,
        "url": product_url(endpoints, product.id),
        "punchout": {"url": endpoints.punchout_url, "selected_item": product.id},
        "offers": [_offer(o) for o in product.offers],
    }


def checkout(product: Product, offer_id: str, endpoints: Endpoints) -> dict[str, Any]:
    """Checkout hands Coupa a level-2 punchout (SelectedItem = the product), not a priced cart
    line: a subscription needs the buyer to choose an offer and, for usage pricing, estimate
    usage, and those choices are made on the product page, where the buyer presses Request
    approval and the priced lines come back through the punchout cart (docs/PROTOCOL.md §4, §5)."""
    offer = product.offer(offer_id) if offer_id else None
    if offer_id and offer is None:
        raise NotFound(f"Product {product.id!r} has no offer {offer_id!r}.")
    chosen = f" ({offer.name})" if offer else ""
    return {
        "source_part_num": product.id,
        "offer_id": offer.id if offer else None,
        "punchout": {
            "url": endpoints.punchout_url,
            "operation": "create",
            "selected_item": {"supplier_part_id": product.id},
        },
        "message": (
            f"Open {product.name}{chosen} in the marketplace punchout to choose the offer and "
            "usage estimate, then press Request approval: the priced lines return to your cart."
        ),
    }
