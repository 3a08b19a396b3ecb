"""The catalog: products, their offers, and how each offer is priced.

The value types are NamedTuples (immutable, compared by value), not dataclasses: every page
imports them at cold start, and a NamedTuple is several times cheaper to create.

Plain Python. The UNSPSC code an offer's cart lines carry is decided here (docs/PROTOCOL.md §9);
admin input becomes these values in catalog_input.py (a 400 naming the field)."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any, NamedTuple

from functions import formatting
from functions.formatting import in_sentence, periods, unit_name
from functions.money import display_money
from functions.units import COUNT_UNITS

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


def folded(text: str) -> str:
    """Text as search compares it: case and accents ignored ("zurich" finds "Zürich",
    "strasse" finds "Straße")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class Dimension(NamedTuple):
    """A usage dimension of a pay-as-you-go price: a rate per unit."""

    key: str
    name: str
    unit: str
    unit_price: Decimal

    @property
    def counted(self) -> bool:
        """A plain count (EA, C62): the dimension's own name is the unit ("per 1M requests")."""
        return self.unit in COUNT_UNITS

    @property
    def estimate_unit(self) -> str:
        """What an estimate is counted in: `hours`, `GB`, or the count's own name
        (`million inspected requests`)."""
        return in_sentence(self.name) if self.counted else unit_name(self.unit, 2)

    def rate(self, currency: str) -> str:
        """ "0.08 USD per hour (Broker hours)", or "0.60 USD per million requests"."""
        return formatting.rate(self.name, self.unit, self.unit_price, currency)

    def amount(self, quantity: Decimal) -> str:
        """ "1,000 hours", or "25 million requests"."""
        return formatting.usage_amount(quantity, self.name, self.unit)


class Pricing(NamedTuple):
    model: str
    price: Decimal | None = None  # contract price per period
    period: str | None = None  # "month" | "year"
    term: int = 1  # number of periods the contract runs
    dimensions: tuple[Dimension, ...] = ()
    trial_days: int = 0
    then: Pricing | None = None  # what a free trial converts to
    schedule: str = "upfront"  # contracts: when the price is invoiced (functions/schedules.py)

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
            term = f" for {periods(self.term, self.period)}" if self.term > 1 else ""
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
    eula_url: str = ""  # https: the end-user licence the buyer accepts by subscribing
    support_contact: str = ""
    refund_policy: str = ""
    listed: bool = True
    fulfillment_url: str = ""  # the seller's registration page (functions/handoff.py), or none
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
        words = folded(query).split()
        haystack = folded(
            f"{self.name} {self.seller} {self.short_description} {self.long_description}"
        )
        return all(word in haystack for word in words)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "seller": self.seller,
            "seller_account": self.seller_account,
            "short_description": self.short_description,
            "long_description": self.long_description,
            "usage_instructions": self.usage_instructions,
            "eula_url": self.eula_url,
            "support_contact": self.support_contact,
            "refund_policy": self.refund_policy,
            "product_type": self.product_type,
            "listed": self.listed,
            "fulfillment_url": self.fulfillment_url,
            "offers": [offer_json(o) for o in self.offers],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


# --- serialization (also what the admin API shows) -----------------------------------------


def pricing_json(pricing: Pricing) -> dict[str, Any]:
    data: dict[str, Any] = {"model": pricing.model}
    if pricing.has_contract:
        data.update(
            price=str(pricing.price),
            period=pricing.period,
            term=pricing.term,
            schedule=pricing.schedule,
        )
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
