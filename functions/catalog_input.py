"""Admin input to catalog values: every field validated, a 400 naming the field
(`offers[0].pricing.dimensions[1].unit_price`). Also reads stored products back, trusted.

Split from catalog.py along the seam between what a product is (and how a buyer reads it) and
what an admin may send."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeGuard

from functions import fields, ids, schedules
from functions.catalog import (
    PRICING_MODELS,
    PRODUCT_TYPES,
    TRIAL_CONVERTS_TO,
    Dimension,
    Offer,
    Pricing,
    Product,
)
from functions.clock import iso, now
from functions.errors import BadRequest
from functions.handoff import MAX_FULFILLMENT_URL_CHARS, fulfillment_url_problem
from functions.units import PERIOD_UNITS, UNITS
from functions.urls import MAX_URL_CHARS, BadUrl, parse_web_url

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}\Z")
_CURRENCY = re.compile(r"^[A-Z]{3}\Z")
MAX_PRICE = Decimal("10000000")


def _text(data: Mapping[str, Any], name: str, path: str, *, limit: int, required: bool) -> str:
    """Descriptions may run over several lines."""
    return fields.text(data, name, required=required, limit=limit, path=path, multiline=True)


def _slug(data: Mapping[str, Any], name: str, path: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not _SLUG.match(value):
        raise BadRequest(
            f"'{path}{name}' must be 2-40 characters: lowercase letters, digits and dashes.",
            field=f"{path}{name}",
        )
    return value


def _amount(data: Mapping[str, Any], name: str, path: str, *, places: int) -> Decimal:
    raw = data.get(name)
    where = f"{path}{name}"
    if isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal)):
        raise BadRequest(
            f"'{where}' must be a decimal number (a string like \"12.50\").", field=where
        )
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise BadRequest(f"'{where}' is not a number: {raw!r}.", field=where) from None
    if not value.is_finite() or value < 0 or value > MAX_PRICE:
        raise BadRequest(f"'{where}' must be between 0 and {MAX_PRICE}.", field=where)
    exponent = value.normalize().as_tuple().exponent  # "12.500" is 12.5: two places are fine
    if isinstance(exponent, int) and -exponent > places:
        raise BadRequest(f"'{where}' has more than {places} decimal places.", field=where)
    # Stored and shown in plain notation ("1E+3" is 1000, "-0" is 0).
    return Decimal(f"{abs(value) if value == 0 else value:f}")


def _integer(data: Mapping[str, Any], name: str, path: str, low: int, high: int) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(
            f"'{path}{name}' must be a whole number from {low} to {high}.", field=f"{path}{name}"
        )
    return value


PRICING_KEYS = {
    "free": {"model"},
    "byol": {"model"},
    "free_trial": {"model", "trial_days", "then"},
    "payg": {"model", "dimensions"},
    "contract": {"model", "price", "period", "term", "schedule"},
    "contract_payg": {"model", "price", "period", "term", "schedule", "dimensions"},
}
OFFER_KEYS = {"id", "name", "description", "currency", "pricing"}
DIMENSION_KEYS = {"key", "name", "unit", "unit_price"}


def _is_one_of(value: Any, choices: Mapping[str, Any] | tuple[str, ...]) -> TypeGuard[str]:
    """A membership test that an object or list sent for a code cannot turn into a TypeError
    (unhashable) and a 500."""
    return isinstance(value, str) and value in choices


def _dimensions(data: Mapping[str, Any], path: str) -> tuple[Dimension, ...]:
    raw = data.get("dimensions")
    if not isinstance(raw, list) or not raw or len(raw) > 10:
        raise BadRequest(
            f"'{path}dimensions' must list 1 to 10 usage dimensions.", field=f"{path}dimensions"
        )
    dimensions = []
    for index, item in enumerate(raw):
        where = f"{path}dimensions[{index}]."
        item = fields.entry(item, DIMENSION_KEYS, name=where[:-1])
        unit = item.get("unit")
        if not _is_one_of(unit, UNITS):
            raise BadRequest(
                f"'{where}unit' must be a UN/CEFACT unit code: {', '.join(UNITS)}.",
                field=f"{where}unit",
            )
        dimensions.append(
            Dimension(
                key=_slug(item, "key", where),
                name=_text(item, "name", where, limit=60, required=True),
                unit=unit,
                unit_price=_amount(item, "unit_price", where, places=6),
            )
        )
    if len({d.key for d in dimensions}) != len(dimensions):
        raise BadRequest(f"'{path}dimensions' keys must be unique.", field=f"{path}dimensions")
    return tuple(dimensions)


def _pricing(data: Any, path: str, *, nested: bool = False) -> Pricing:
    if not isinstance(data, Mapping):
        raise BadRequest(f"'{path[:-1]}' must be an object.", field=path[:-1])
    model = data.get("model")
    allowed = TRIAL_CONVERTS_TO if nested else tuple(PRICING_MODELS)
    if not _is_one_of(model, allowed):
        raise BadRequest(
            f"'{path}model' must be one of: {', '.join(allowed)}.", field=f"{path}model"
        )
    fields.only(data, PRICING_KEYS[model], path=path)
    if model in ("free", "byol"):
        return Pricing(model)
    if model == "free_trial":
        return Pricing(
            model,
            trial_days=_integer(data, "trial_days", path, 1, 365),
            then=_pricing(data.get("then"), f"{path}then.", nested=True),
        )
    price = period = None
    term = 1
    schedule = schedules.UPFRONT
    if model in ("contract", "contract_payg"):
        price = _amount(data, "price", path, places=2)
        period = data.get("period")
        if not _is_one_of(period, PERIOD_UNITS):
            raise BadRequest(f"'{path}period' must be 'month' or 'year'.", field=f"{path}period")
        term = _integer(data, "term", path, 1, 60) if "term" in data else 1
        schedule = data.get("schedule", schedules.UPFRONT)  # absent: as before schedules existed
        choices = schedules.allowed(period)
        if not _is_one_of(schedule, choices):
            raise BadRequest(
                f"'{path}schedule' must be one of: {', '.join(choices)} (a contract priced per "
                f"{period} is invoiced in whole {period}s).",
                field=f"{path}schedule",
            )
    dimensions = _dimensions(data, path) if model in ("payg", "contract_payg") else ()
    return Pricing(
        model, price=price, period=period, term=term, dimensions=dimensions, schedule=schedule
    )


def _offers(raw: Any) -> tuple[Offer, ...]:
    if not isinstance(raw, list) or not raw or len(raw) > 10:
        raise BadRequest("'offers' must list 1 to 10 offers.", field="offers")
    offers = []
    for index, item in enumerate(raw):
        path = f"offers[{index}]."
        item = fields.entry(item, OFFER_KEYS, name=path[:-1])
        currency = item.get("currency", "USD")
        if isinstance(currency, str) and currency.isascii():  # "usd" is USD, stored upper-case
            currency = currency.upper()
        if not isinstance(currency, str) or not _CURRENCY.match(currency):
            raise BadRequest(
                f"'{path}currency' must be an ISO 4217 code like USD.", field=f"{path}currency"
            )
        offers.append(
            Offer(
                id=_slug(item, "id", path),
                name=_text(item, "name", path, limit=80, required=True),
                description=_text(item, "description", path, limit=500, required=False),
                currency=currency,
                pricing=_pricing(item.get("pricing"), f"{path}pricing."),
            )
        )
    if len({o.id for o in offers}) != len(offers):
        raise BadRequest("'offers' ids must be unique within the product.", field="offers")
    return tuple(offers)


def _eula_url(data: Mapping[str, Any]) -> str:
    """The licence the buyer is shown before requesting: an https link, or none."""
    value = fields.text(data, "eula_url", required=False, limit=MAX_URL_CHARS)
    if value:
        try:
            parse_web_url(value)
        except BadUrl as problem:
            raise BadRequest(f"'eula_url' {problem}.", field="eula_url") from None
    return value


def _fulfillment_url(data: Mapping[str, Any], *, allow_local_http: bool) -> str:
    """The seller's registration page the buyer's browser posts the token to: https (plain
    http to loopback only where the local stack allows it), or none (null or "" removes it)."""
    value = fields.text(data, "fulfillment_url", required=False, limit=MAX_FULFILLMENT_URL_CHARS)
    if value:
        problem = fulfillment_url_problem(value, allow_local_http=allow_local_http)
        if problem:
            raise BadRequest(f"'fulfillment_url' {problem}.", field="fulfillment_url")
    return value


PRODUCT_FIELDS = {
    "id", "name", "seller", "seller_account", "short_description", "long_description",
    "usage_instructions", "eula_url", "support_contact", "refund_policy", "product_type",
    "offers", "listed", "fulfillment_url",
}  # fmt: skip


def product_from_json(
    payload: Any, base: Product | None = None, *, allow_local_http: bool = False
) -> Product:
    """A validated product from admin JSON: a full product, or a patch over `base`.
    `allow_local_http`: the local stack's FULFILLMENT_LOCAL_HTTP (`_fulfillment_url`)."""
    if not isinstance(payload, Mapping) or (base is not None and not payload):
        raise BadRequest("The body must be a JSON object describing the product.")
    fields.only(payload, PRODUCT_FIELDS)
    data: dict[str, Any] = dict(base.to_json()) if base is not None else {}
    if base is not None and "id" in payload and payload["id"] != base.id:
        raise BadRequest("'id' cannot change.", field="id")
    data.update(payload)
    product_type = data.get("product_type")
    if not _is_one_of(product_type, PRODUCT_TYPES):
        raise BadRequest(
            f"'product_type' must be one of: {', '.join(PRODUCT_TYPES)}.", field="product_type"
        )
    listed = data.get("listed", True)
    if not isinstance(listed, bool):
        raise BadRequest("'listed' must be true or false.", field="listed")
    stamp = iso(now())
    return Product(
        id=_slug(data, "id", "") if data.get("id") else ids.slug_id("prod"),
        name=_text(data, "name", "", limit=120, required=True),
        seller=_text(data, "seller", "", limit=120, required=True),
        seller_account=_text(data, "seller_account", "", limit=64, required=False),
        short_description=_text(data, "short_description", "", limit=300, required=True),
        long_description=_text(data, "long_description", "", limit=5000, required=False),
        usage_instructions=_text(data, "usage_instructions", "", limit=3000, required=False),
        eula_url=_eula_url(data),
        support_contact=fields.text(data, "support_contact", required=False, limit=200),
        refund_policy=_text(data, "refund_policy", "", limit=1000, required=False),
        product_type=product_type,
        offers=_offers(data.get("offers")),
        listed=listed,
        fulfillment_url=_fulfillment_url(data, allow_local_http=allow_local_http),
        created_at=base.created_at if base else stamp,
        updated_at=stamp,
        version=base.version if base else 0,
    )


def pricing_from_json(data: Any) -> Pricing:
    """Stored pricing back to values (trusted: it was validated on the way in)."""
    return _pricing(data, "pricing.")


def offer_from_json(data: Mapping[str, Any]) -> Offer:
    return Offer(
        id=data["id"],
        name=data["name"],
        description=data.get("description", ""),
        currency=data["currency"],
        pricing=pricing_from_json(data["pricing"]),
    )
