"""The catalog: products, their offers, and how each offer is priced.

The value types are NamedTuples (immutable, compared by value), not dataclasses: every page
imports them at cold start, and a NamedTuple is several times cheaper to create.

Plain Python. Admin input is validated here (a 400 naming the field); the UNSPSC code and the
cart lines an offer produces are decided here too (docs/PROTOCOL.md §5, §9)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple, TypeGuard

from functions import fields, ids
from functions.clock import iso, now
from functions.errors import BadRequest
from functions.money import display_money
from functions.units import COUNT_UNITS, PERIOD_UNITS, UNITS

PRODUCT_TYPES = {
    "saas": ("SaaS", "81162000"),
    "ami": ("Machine image", "43232701"),
    "container": ("Container", "43230000"),
    "other": ("Other software", "43230000"),
}
"""Product type → (label, UNSPSC): SaaS, machine images, other software (docs/PROTOCOL.md §9)."""

PRICING_MODELS = {
    "free": "Free",
    "byol": "Bring your own license",
    "free_trial": "Free trial",
    "payg": "Pay as you go",
    "contract": "Contract",
    "contract_payg": "Contract + pay as you go",
}
TRIAL_CONVERTS_TO = ("payg", "contract", "contract_payg")

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}\Z")
_CURRENCY = re.compile(r"^[A-Z]{3}\Z")
MAX_PRICE = Decimal("10000000")


class Dimension(NamedTuple):
    """A usage dimension of a pay-as-you-go price: a rate per unit."""

    key: str
    name: str
    unit: str
    unit_price: Decimal

    @property
    def unit_label(self) -> str:
        return UNITS[self.unit]

    @property
    def counted(self) -> bool:
        """A plain count (EA, C62): the dimension's own name is the unit ("per 1M requests")."""
        return self.unit in COUNT_UNITS

    def rate(self, currency: str) -> str:
        """ "0.08 USD per hour (Broker hours)", or "0.60 USD each (Million requests)"."""
        price = f"{display_money(self.unit_price)} {currency}"
        if self.counted:
            return f"{price} each ({self.name})"
        return f"{price} per {self.unit_label} ({self.name})"

    def amount(self, quantity: Decimal) -> str:
        """ "1,000 hours", or "25 Million requests"."""
        count = f"{quantity.normalize():,f}"
        return f"{count} {self.name}" if self.counted else f"{count} {self.unit_label}s"


class Pricing(NamedTuple):
    model: str
    price: Decimal | None = None  # contract price per period
    period: str | None = None  # "month" | "year"
    term: int = 1  # number of periods the contract runs
    dimensions: tuple[Dimension, ...] = ()
    trial_days: int = 0
    then: Pricing | None = None  # what a free trial converts to

    @property
    def label(self) -> str:
        return PRICING_MODELS[self.model]

    @property
    def is_zero_priced(self) -> bool:
        return self.model in ("free", "byol", "free_trial")

    @property
    def has_contract(self) -> bool:
        return self.model in ("contract", "contract_payg")

    @property
    def has_usage(self) -> bool:
        return self.model in ("payg", "contract_payg")

    def dimension(self, key: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.key == key), None)

    def summary(self, currency: str) -> str:
        """One line a buyer reads: "12,000.00 USD per year + 0.12 USD per hour (Hours)"."""
        if self.model == "free":
            return "Free"
        if self.model == "byol":
            return "Bring your own license (no charge here)"
        if self.model == "free_trial":
            after = self.then.summary(currency) if self.then else ""
            return f"Free for {self.trial_days} days, then {after}"
        parts = []
        if self.has_contract and self.price is not None and self.period:
            term = f" for {self.term} {self.period}s" if self.term > 1 else ""
            parts.append(f"{display_money(self.price)} {currency} per {self.period}{term}")
        parts.extend(d.rate(currency) for d in self.dimensions)
        return " + ".join(parts)


class Offer(NamedTuple):
    id: str
    name: str
    currency: str
    pricing: Pricing
    description: str = ""

    @property
    def summary(self) -> str:
        return self.pricing.summary(self.currency)


class Product(NamedTuple):
    id: str
    name: str
    seller: str
    short_description: str
    long_description: str
    product_type: str
    offers: tuple[Offer, ...]
    usage_instructions: str = ""
    seller_account: str = ""
    listed: bool = True
    created_at: str = ""
    updated_at: str = ""
    version: int = 0

    @property
    def unspsc(self) -> str:
        return PRODUCT_TYPES[self.product_type][1]

    @property
    def type_label(self) -> str:
        return PRODUCT_TYPES[self.product_type][0]

    @property
    def pricing_models(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(o.pricing.model for o in self.offers))

    def offer(self, offer_id: str) -> Offer | None:
        return next((o for o in self.offers if o.id == offer_id), None)

    def matches(self, query: str, product_type: str = "", model: str = "") -> bool:
        if product_type and self.product_type != product_type:
            return False
        if model and model not in self.pricing_models:
            return False
        words = query.casefold().split()
        haystack = f"{self.name} {self.seller} {self.short_description} {self.long_description}"
        return all(word in haystack.casefold() for word in words)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "seller": self.seller,
            "seller_account": self.seller_account,
            "short_description": self.short_description,
            "long_description": self.long_description,
            "usage_instructions": self.usage_instructions,
            "product_type": self.product_type,
            "listed": self.listed,
            "offers": [offer_json(o) for o in self.offers],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


# --- serialization (also what the admin API shows) -----------------------------------------


def pricing_json(pricing: Pricing) -> dict[str, Any]:
    data: dict[str, Any] = {"model": pricing.model}
    if pricing.has_contract:
        data.update(price=str(pricing.price), period=pricing.period, term=pricing.term)
    if pricing.has_usage:
        data["dimensions"] = [
            {"key": d.key, "name": d.name, "unit": d.unit, "unit_price": str(d.unit_price)}
            for d in pricing.dimensions
        ]
    if pricing.model == "free_trial" and pricing.then is not None:
        data.update(trial_days=pricing.trial_days, then=pricing_json(pricing.then))
    return data


def offer_json(offer: Offer) -> dict[str, Any]:
    return {
        "id": offer.id,
        "name": offer.name,
        "description": offer.description,
        "currency": offer.currency,
        "pricing": pricing_json(offer.pricing),
    }


# --- validation of admin input -------------------------------------------------------------


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
    "contract": {"model", "price", "period", "term"},
    "contract_payg": {"model", "price", "period", "term", "dimensions"},
}
OFFER_KEYS = {"id", "name", "description", "currency", "pricing"}
DIMENSION_KEYS = {"key", "name", "unit", "unit_price"}


def _only(data: Mapping[str, Any], allowed: set[str], path: str) -> None:
    """A misspelt key ("trem": 3) must not silently change a price: refuse unknown keys."""
    for name in data:
        if name not in allowed:
            raise BadRequest(
                f"'{path}{name}' is not a field here; expected {', '.join(sorted(allowed))}.",
                field=f"{path}{name}",
            )


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
        if not isinstance(item, Mapping):
            raise BadRequest(f"'{where[:-1]}' must be an object.", field=where[:-1])
        _only(item, DIMENSION_KEYS, where)
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
    _only(data, PRICING_KEYS[model], path)
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
    if model in ("contract", "contract_payg"):
        price = _amount(data, "price", path, places=2)
        period = data.get("period")
        if not _is_one_of(period, PERIOD_UNITS):
            raise BadRequest(f"'{path}period' must be 'month' or 'year'.", field=f"{path}period")
        term = _integer(data, "term", path, 1, 60) if "term" in data else 1
    dimensions = _dimensions(data, path) if model in ("payg", "contract_payg") else ()
    return Pricing(model, price=price, period=period, term=term, dimensions=dimensions)


def _offers(raw: Any) -> tuple[Offer, ...]:
    if not isinstance(raw, list) or not raw or len(raw) > 10:
        raise BadRequest("'offers' must list 1 to 10 offers.", field="offers")
    offers = []
    for index, item in enumerate(raw):
        path = f"offers[{index}]."
        if not isinstance(item, Mapping):
            raise BadRequest(f"'offers[{index}]' must be an object.", field=f"offers[{index}]")
        _only(item, OFFER_KEYS, path)
        currency = item.get("currency", "USD")
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


PRODUCT_FIELDS = {
    "id", "name", "seller", "seller_account", "short_description", "long_description",
    "usage_instructions", "product_type", "offers", "listed",
}  # fmt: skip


def product_from_json(payload: Any, base: Product | None = None) -> Product:
    """A validated product from admin JSON: a full product, or a patch over `base`."""
    if not isinstance(payload, Mapping) or (base is not None and not payload):
        raise BadRequest("The body must be a JSON object describing the product.")
    for name in payload:
        if name not in PRODUCT_FIELDS:
            raise BadRequest(f"'{name}' is not a field of a product.", field=str(name))
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
        product_type=product_type,
        offers=_offers(data.get("offers")),
        listed=listed,
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
