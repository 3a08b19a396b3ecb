"""Subscription requests: what "Request approval" asks the buyer's procurement system to
approve, as cart lines (docs/PROTOCOL.md §5, §9).

One line per approval: a contract line, a usage line, or a $0.00 line (free, BYOL, free trial);
`contract_payg` makes two. Each line carries a SupplierPartAuxiliaryID that names the request
and the line, so the purchase order can be matched back to it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from functions import ids
from functions.clock import iso, now
from functions.errors import BadRequest
from functions.formatting import money, periods, sentence
from functions.money import to_cents
from functions.schedules import billed
from functions.sessions import PunchOutSession, Requester
from functions.units import PERIOD_UNITS

if TYPE_CHECKING:  # the PO path matches requests without loading the catalog
    from functions.catalog import Offer, Pricing, Product

DESCRIPTION_LIMIT = 255  # what survives on an Ariba PO
SHORT_NAME_LIMIT = 50
MAX_ESTIMATE = Decimal("1000000000")
_MARKS = {"\u2122": "(TM)", "\u00ae": "(R)", "\u00a9": "(C)"}  # Coupa refuses ™ ® ©

# States of a request, from the marketplace's side.
IN_CART = "in_cart"  # sent to the procurement cart; waiting for the purchase order
AWAITING_PUNCHOUT = "awaiting_punchout"  # Coupa user started here; next punchout picks it up
PREAPPROVED = "preapproved"  # free/BYOL the integration pre-approves: no round trip
ORDERED = "ordered"  # a purchase order approved at least one line: the lines are frozen
DISMISSED = "dismissed"  # a waiting request a punchout user set aside; never offered again

AWAITING_PUNCHOUT_KEPT = timedelta(days=7)
"""A request started on the marketplace is offered to the integration's punchouts for a week,
then TTL removes it (docs/PROTOCOL.md §9)."""
MAX_AWAITING = 10
"""Requests started on the marketplace waiting at once per account (its Coupa integration):
anyone who knows an account ID can start one, so their number is bounded."""
MAX_AWAITING_USAGE = Decimal("100000.00")
"""The most estimated usage (in the offer's currency) a request started on the marketplace
may carry: its author is not authenticated, so an estimate stays within what a punchout user
can sensibly review."""


def expires_at(request: SubscriptionRequest) -> datetime | None:
    """When TTL removes a request: waiting (or dismissed) ones a week after they were
    started; requests in a cart never (their purchase order may come later)."""
    if request.state not in (AWAITING_PUNCHOUT, DISMISSED) or not request.created_at:
        return None
    return datetime.fromisoformat(request.created_at) + AWAITING_PUNCHOUT_KEPT


@dataclass(frozen=True)
class CartLine:
    line_number: int
    kind: str  # "contract" | "usage" | "zero"
    supplier_part_id: str
    auxiliary_id: str
    quantity: Decimal
    unit_price: Decimal
    currency: str
    unit_of_measure: str
    unspsc: str
    description: str
    short_name: str

    @property
    def extended(self) -> Decimal:
        return to_cents(self.quantity * self.unit_price)


@dataclass(frozen=True)
class SubscriptionRequest:
    id: str
    integration_id: str
    product_id: str
    offer_id: str
    product_name: str
    offer_name: str
    pricing_model: str
    currency: str
    lines: tuple[CartLine, ...]
    state: str
    requester: Requester = field(default_factory=Requester)
    estimates: dict[str, Decimal] = field(default_factory=dict)
    session_digest: str = ""
    buyer_cookie: str = ""
    deployment_mode: str = "production"
    created_at: str = ""
    updated_at: str = ""
    version: int = 0
    usage_instructions: str = ""  # copied from the product: the order path reads no product
    eula_url: str = ""  # and the commitments the buyer was shown, for the confirmation mail
    support_contact: str = ""
    refund_policy: str = ""
    trial_days: int = 0
    rates: dict[str, dict[str, str]] = field(default_factory=dict)
    """Usage dimensions as priced when requested: key -> name, unit, unit_price (invoicing)."""
    billing_schedule: str = "upfront"  # the contract's, as offered when requested
    fulfillment_url: str = ""  # the product's when requested: the success mail's Set up link
    seller_account: str = ""  # the product's: its seller events' source, with no product read

    @property
    def total(self) -> Decimal:
        return sum((line.extended for line in self.lines), Decimal("0.00"))

    def line_for(self, auxiliary_id: str) -> CartLine | None:
        return next((line for line in self.lines if line.auxiliary_id == auxiliary_id), None)


def clean_text(text: str, limit: int) -> str:
    """Procurement-safe text: no ™ ® © (Coupa refuses them), one line, cut at `limit`."""
    for mark, spelled in _MARKS.items():
        text = text.replace(mark, spelled)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


REQUEST_ID = re.compile(r"^req-[0-9a-f]{16}\Z")


def request_id_of(auxiliary_id: str) -> str | None:
    """`req-1a2b…-2` → `req-1a2b…`: the request a cart or PO line belongs to."""
    found = re.match(r"^(req-[0-9a-f]{16})-\d{1,2}\Z", auxiliary_id or "")
    return found.group(1) if found else None


def parse_estimates(offer: Offer, form: Mapping[str, str]) -> dict[str, Decimal]:
    """The user's estimated usage per dimension (`estimate.<key>` form fields)."""
    estimates: dict[str, Decimal] = {}
    pricing = offer.pricing
    for dimension in pricing.dimensions if pricing.has_usage else ():
        name = f"estimate.{dimension.key}"
        raw = (form.get(name) or "").strip()  # "1,2" is ambiguous (1.2 or 12): refused
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise BadRequest(
                f"Enter your estimated {dimension.name} usage (in {dimension.estimate_unit}) as "
                "a number.",
                field=name,
            ) from None
        if not value.is_finite() or value <= 0 or value > MAX_ESTIMATE:
            raise BadRequest(
                f"The estimated {dimension.name} usage must be more than 0 and at most "
                f"{MAX_ESTIMATE:,}.",
                field=name,
            )
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -4:
            raise BadRequest(f"Use at most 4 decimals for {dimension.name}.", field=name)
        estimates[dimension.key] = value
    return estimates


def _label(product: Product, offer: Offer) -> str:
    return f"{product.name} / {offer.name}"


def _sold_by(product: Product) -> str:
    return sentence(f"Sold by {product.seller}")


def _billed(pricing: Pricing, currency: str) -> str:
    """ ", billed monthly: 12 instalments of 299.00 USD" for a scheduled contract, else ""."""
    assert pricing.price is not None and pricing.period
    words = billed(pricing.schedule, pricing.price, pricing.period, pricing.term, currency)
    return f", {words}" if words else ""


def cart_lines(
    request_id: str, product: Product, offer: Offer, estimates: Mapping[str, Decimal]
) -> tuple[CartLine, ...]:
    pricing = offer.pricing
    part = f"{product.id}/{offer.id}"
    lines: list[CartLine] = []

    def add(kind: str, quantity: Decimal, price: Decimal, uom: str, text: str, short: str) -> None:
        number = len(lines) + 1
        lines.append(
            CartLine(
                line_number=number,
                kind=kind,
                supplier_part_id=part,
                auxiliary_id=f"{request_id}-{number}",
                quantity=quantity,
                unit_price=price,
                currency=offer.currency,
                unit_of_measure=uom,
                unspsc=product.unspsc,
                description=clean_text(text, DESCRIPTION_LIMIT),
                short_name=clean_text(short, SHORT_NAME_LIMIT),
            )
        )

    if pricing.is_zero_priced:
        add(
            "zero",
            Decimal(1),
            Decimal("0.00"),
            "EA",
            f"{_label(product, offer)}: {offer.summary}. {_sold_by(product)}",
            product.name,
        )
        return tuple(lines)
    if pricing.has_contract and pricing.price is not None and pricing.period:
        add(
            "contract",
            Decimal(pricing.term),
            pricing.price,
            PERIOD_UNITS[pricing.period],
            f"{_label(product, offer)}: contract, {money(pricing.price, offer.currency)} per "
            f"{pricing.period} for {periods(pricing.term, pricing.period)}"
            f"{_billed(pricing, offer.currency)}. {_sold_by(product)}",
            f"{product.name} contract",
        )
    if pricing.has_usage:
        rates = ", ".join(d.rate(offer.currency) for d in pricing.dimensions)
        if len(pricing.dimensions) == 1:
            (dimension,) = pricing.dimensions
            quantity = estimates[dimension.key]
            add(
                "usage",
                quantity,
                dimension.unit_price,
                dimension.unit,
                f"{_label(product, offer)}: pay-as-you-go usage at {rates}; approved budget "
                f"{dimension.amount(quantity)}.",
                f"{product.name} usage",
            )
        else:
            # Several rates cannot share one unit price: the line is a budget in currency
            # units (quantity x 1.00), the rates are in its description.
            budget = to_cents(
                sum((estimates[d.key] * d.unit_price for d in pricing.dimensions), Decimal(0))
            )
            add(
                "usage",
                max(budget, Decimal("0.01")),
                Decimal("1.00"),
                "EA",
                f"{_label(product, offer)}: pay-as-you-go usage budget at {rates}.",
                f"{product.name} usage",
            )
    return tuple(lines)


def new_request(
    product: Product,
    offer: Offer,
    form: Mapping[str, str],
    *,
    integration_id: str,
    session: PunchOutSession | None,
    state: str,
    previous: SubscriptionRequest | None = None,
) -> SubscriptionRequest:
    """A request for `offer`; when `previous` is given (an edit), the same id, hence the same
    auxiliary IDs, so the buyer's cart lines stay matched. A new request takes the form's
    `request_key` (minted with the page) as its id, so a double submit is the same request."""
    estimates = parse_estimates(offer, form)
    key = form.get("request_key", "")
    fresh = key if REQUEST_ID.match(key) else ids.slug_id("req")
    request_id = previous.id if previous else fresh
    stamp = iso(now())
    request = SubscriptionRequest(
        id=request_id,
        integration_id=integration_id,
        product_id=product.id,
        offer_id=offer.id,
        product_name=product.name,
        offer_name=offer.name,
        pricing_model=offer.pricing.model,
        currency=offer.currency,
        lines=cart_lines(request_id, product, offer, estimates),
        state=state,
        requester=session.requester if session else Requester(),
        estimates=estimates,
        session_digest=session.token_digest if session else "",
        buyer_cookie=session.buyer_cookie if session else "",
        deployment_mode=session.deployment_mode if session else "production",
        created_at=previous.created_at if previous else stamp,
        updated_at=stamp,
        version=previous.version if previous else 0,
        usage_instructions=product.usage_instructions,
        eula_url=product.eula_url,
        support_contact=product.support_contact,
        refund_policy=product.refund_policy,
        trial_days=offer.pricing.trial_days,
        rates={
            d.key: {"name": d.name, "unit": d.unit, "unit_price": str(d.unit_price)}
            for d in (offer.pricing.dimensions if offer.pricing.has_usage else ())
        },
        billing_schedule=offer.pricing.schedule,
        fulfillment_url=product.fulfillment_url,
        seller_account=product.seller_account,
    )
    return request


def same_terms(before: SubscriptionRequest, after: SubscriptionRequest) -> bool:
    """Whether a re-submitted request orders exactly what it did: the same product and offer
    and, line by line, the same part, aux ID, kind, quantity, unit price and currency."""

    def terms(request: SubscriptionRequest) -> tuple[object, ...]:
        return (
            request.product_id,
            request.offer_id,
            tuple(
                (x.supplier_part_id, x.auxiliary_id, x.kind, x.quantity, x.unit_price, x.currency)
                for x in request.lines
            ),
        )

    return terms(before) == terms(after)


def usage_budget_change(before: SubscriptionRequest, after: SubscriptionRequest) -> bool:
    """Whether a re-submitted ordered request changes only its usage budget (the usage lines'
    quantities): what a PO `update` may change, e.g. to release usage held awaiting budget."""

    def terms(request: SubscriptionRequest) -> tuple[object, ...]:
        return (
            request.product_id,
            request.offer_id,
            tuple(
                (x.supplier_part_id, x.auxiliary_id, x.kind, x.unit_price, x.currency,
                 x.quantity if x.kind != "usage" else None)
                for x in request.lines
            ),
        )  # fmt: skip

    return terms(before) == terms(after) and not same_terms(before, after)


def with_state(request: SubscriptionRequest, state: str) -> SubscriptionRequest:
    return replace(request, state=state, updated_at=iso(now()))
