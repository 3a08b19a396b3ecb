"""The storefront's decisions, pure: what a catalog search shows, what Request approval
creates and sends back to the procurement cart, what happens outside a punchout session.

Pages call these with values the store read; the handler renders what comes back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, NamedTuple

from functions.catalog import PRICING_MODELS, PRODUCT_TYPES, Offer, Product
from functions.cxml.model import Credential
from functions.errors import BadRequest, Conflict, Forbidden, NotFound
from functions.money import display_money, to_cents
from functions.sessions import PunchOutSession, Requester
from functions.subscription_requests import (
    AWAITING_PUNCHOUT,
    DISMISSED,
    IN_CART,
    MAX_AWAITING,
    MAX_AWAITING_USAGE,
    MAX_ESTIMATE,
    ORDERED,
    PREAPPROVED,
    SubscriptionRequest,
    new_request,
    request_id_of,
    same_terms,
    usage_budget_change,
    with_state,
)
from functions.subscriptions import looks_like_email
from functions.unit_mapping import UnitMapping

if TYPE_CHECKING:  # pages that never leave the catalog need neither at run time
    from functions.integrations import Integration

PAGE_SIZE = 12
MAX_QUERY = 200


class CatalogQuery(NamedTuple):
    text: str = ""
    product_type: str = ""
    model: str = ""
    page: int = 1


class CatalogPage(NamedTuple):
    query: CatalogQuery
    products: tuple[Product, ...]
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def catalog_query(params: Mapping[str, str]) -> CatalogQuery:
    """Lenient with what a browser sends: unknown filters are ignored, not refused."""
    text = " ".join((params.get("q") or "").split())[:MAX_QUERY]
    product_type = params.get("type") or ""
    model = params.get("model") or ""
    try:
        page = max(1, min(int(params.get("page") or 1), 1000))
    except ValueError:
        page = 1
    return CatalogQuery(
        text=text,
        product_type=product_type if product_type in PRODUCT_TYPES else "",
        model=model if model in PRICING_MODELS else "",
        page=page,
    )


def search(products: Sequence[Product], query: CatalogQuery) -> CatalogPage:
    found = [p for p in products if p.matches(query.text, query.product_type, query.model)]
    start = (query.page - 1) * PAGE_SIZE
    return CatalogPage(query, tuple(found[start : start + PAGE_SIZE]), len(found))


class ProductUnavailable(NotFound):
    """A product or offer that is not, or no longer, in the catalog: a link kept from earlier,
    or a procurement system's SelectedItem naming a product since taken off the catalog."""

    advice = "Choose another product from the catalog."

    def __init__(self, message: str, heading: str = "This product is no longer available"):
        super().__init__(message)
        self.heading = heading


def offer_of(product: Product | None, offer_id: str) -> tuple[Product, Offer]:
    if product is None or not product.listed:
        raise ProductUnavailable(
            "It is not in the catalog: it was taken off, or the link is not valid."
        )
    offer = product.offer(offer_id) or (product.offers[0] if not offer_id else None)
    if offer is None:
        raise ProductUnavailable(
            f"{product.name} has no offer {offer_id!r}.", "This offer is no longer available"
        )
    return product, offer


class ApprovalPreview(NamedTuple):
    """What the subscription page shows the buyer will approve, before they press the button."""

    contract: Decimal
    usage: dict[str, Decimal | None]
    total: Decimal | None


def approval_preview(offer: Offer, estimates: Mapping[str, str]) -> ApprovalPreview:
    """Contract amount plus rate x estimate per usage dimension; the total only once every
    estimate is a usable number (the cart lines are rounded the same way)."""
    pricing = offer.pricing
    contract = Decimal("0.00")
    if pricing.has_contract and pricing.price is not None:
        contract = to_cents(pricing.price * pricing.term)
    usage: dict[str, Decimal | None] = {}
    for dimension in pricing.dimensions if pricing.has_usage else ():
        try:
            quantity = Decimal((estimates.get(dimension.key) or "").strip())
        except InvalidOperation:
            quantity = Decimal(-1)
        valid = quantity.is_finite() and 0 < quantity <= MAX_ESTIMATE
        usage[dimension.key] = to_cents(quantity * dimension.unit_price) if valid else None
    known = [amount for amount in usage.values() if amount is not None]
    total = contract + sum(known, Decimal("0.00")) if len(known) == len(usage) else None
    return ApprovalPreview(contract, usage, total)


def is_preapproved(offer: Offer, session: PunchOutSession) -> bool:
    """Free and BYOL offers skip the procurement round trip when the integration says so."""
    model = offer.pricing.model
    snapshot = session.integration
    return (model == "free" and snapshot.preapprove_free) or (
        model == "byol" and snapshot.preapprove_byol
    )


def request_ids_in_cart(session: PunchOutSession) -> set[str]:
    """The requests this (edit/inspect) session's ItemOut lines name: the only ones it may
    reopen. Another session's token never reaches a request it was not given."""
    return {
        rid
        for item in session.items_out
        if (rid := request_id_of(item.item.supplier_part_auxiliary_id or ""))
    }


def may_view(session: PunchOutSession, request: SubscriptionRequest | None) -> bool:
    if request is None or request.integration_id != session.integration_id:
        return False
    return (
        request.session_digest == session.token_digest
        or request.id in request_ids_in_cart(session)
        or request.state == AWAITING_PUNCHOUT
    )


def request_approval(
    session: PunchOutSession,
    product: Product | None,
    form: Mapping[str, str],
    previous: SubscriptionRequest | None,
) -> SubscriptionRequest:
    """The request a press on Request approval (or Subscribe, when pre-approved) creates. An
    edit session re-submits the request it reopened, keeping its id and so its aux IDs."""
    if session.read_only:
        raise Forbidden("This request is open for viewing only: it cannot be changed here.")
    product, offer = offer_of(product, form.get("offer_id", ""))
    if previous is not None and not (
        previous.integration_id == session.integration_id
        and (previous.id in request_ids_in_cart(session) or previous.state == AWAITING_PUNCHOUT)
    ):
        raise Forbidden("This request does not belong to your procurement session.")
    state = PREAPPROVED if is_preapproved(offer, session) else IN_CART
    request = new_request(
        product,
        offer,
        form,
        integration_id=session.integration_id,
        session=session,
        state=state,
        previous=previous,
    )
    if (
        previous is not None
        and previous.state == ORDERED
        and not same_terms(previous, request)
        and not usage_budget_change(previous, request)  # a PO update may change the budget
    ):
        raise RequestFrozen(
            f"A purchase order already approved this request ({previous.product_name}, "
            f"{previous.offer_name}), so its lines can no longer change: the product, offer, "
            "prices and quantities stay as ordered."
        )
    return request


class RequestFrozen(Conflict):
    """An edit that would change a request a purchase order has approved lines of (cXML and
    HTML 409). The ordered request stays as it is; nothing is saved."""

    advice = (
        "Return to your procurement system without changes. To buy something else, or more, "
        "start a new request from the marketplace catalog; a different usage budget for this "
        "subscription is an update of its purchase order."
    )


class CartReturn(NamedTuple):
    """An auto-submitting form the browser posts to the procurement system."""

    url: str
    field: str
    value: str
    system: str
    lines: int


def cart_return(
    session: PunchOutSession, supplier: Credential, request: SubscriptionRequest | None
) -> CartReturn:
    """The PunchOutOrderMessage for `request`, or, with no request, a return without change
    (Status 204: "Cancel" on any session, "Return" on an inspect session)."""
    from functions.cxml import build  # only the cart return builds cXML: catalog pages stay light

    if not session.browser_form_post_url:
        raise BadRequest(
            "This session has no cart to return to (the procurement system gave none)."
        )
    buyer = Credential(session.integration.buyer_domain, session.integration.buyer_identity)
    units = UnitMapping.from_json(session.integration.unit_mapping)
    lines = tuple(
        replace(line, unit_of_measure=units.theirs(line.unit_of_measure))
        for line in (request.lines if request is not None else ())
    )
    document = build.punchout_order_message(
        buyer_cookie=session.buyer_cookie,
        supplier=supplier,
        buyer=buyer,
        items=lines,
        currency=request.currency if request is not None else "USD",
        deployment_mode=session.deployment_mode,
        operation_allowed="edit",
        status=None if request is not None else (204, "Returned without changes."),
    )
    field = session.integration.cart_field
    return CartReturn(
        url=session.browser_form_post_url,
        field=field,
        value=build.cart_form_value(document, field),
        system=session.system,
        lines=len(lines),
    )


class OutsideDecision(NamedTuple):
    """What Request approval does for someone browsing without a punchout session."""

    integration: Integration | None
    redirect_url: str | None
    refusal: str | None


def outside_punchout(integrations: Sequence[Integration]) -> OutsideDecision:
    """docs/PROTOCOL.md §9: a Coupa user who starts here is sent to the integration's
    approval-request URL in Coupa; Ariba users must start from Ariba, always. An account with
    no integration is most likely a mistyped ID: BadRequest on `account_id`."""
    enabled = [i for i in integrations if i.enabled]
    coupa = [i for i in enabled if i.system == "coupa" and i.approval_redirect_url]
    if coupa:
        return OutsideDecision(coupa[0], coupa[0].approval_redirect_url, None)
    if any(i.system == "ariba" for i in enabled):
        return OutsideDecision(
            None,
            None,
            "Your company buys through SAP Ariba: purchases must start from Ariba. Open the "
            "marketplace from your Ariba catalog (punchout) and request approval there.",
        )
    if any(i.system == "coupa" for i in enabled):
        return OutsideDecision(
            None,
            None,
            "Your company's Coupa integration does not accept requests started on the "
            "marketplace. Open the marketplace from Coupa (Shop Online) and request approval "
            "there.",
        )
    raise BadRequest(
        "No procurement integration is set up for this marketplace account ID. Check the ID, "
        "or open the marketplace from your procurement system.",
        field="account_id",
    )


def pending_request(
    product: Product | None, form: Mapping[str, str], integration: Integration, waiting: int
) -> SubscriptionRequest:
    """A request started on the public storefront, to wait for the integration's next
    punchout. Its author is not authenticated, so: the id is ours (a caller-chosen one is
    refused), its author's email is recorded for the punchout user to see, its estimated usage
    is bounded, and an account has at most MAX_AWAITING of them waiting (`waiting` now)."""
    product, offer = offer_of(product, form.get("offer_id", ""))
    if form.get("request_key") or form.get("request_id"):
        raise BadRequest(
            "A request started on the marketplace gets its ID from the marketplace: remove "
            "request_key and request_id from the form.",
            field="request_key",
        )
    email = (form.get("email") or "").strip()
    if len(email) > 254 or not looks_like_email(email):
        raise BadRequest(
            "Enter your work email: your procurement colleagues see who started the request.",
            field="email",
        )
    if waiting >= MAX_AWAITING:
        raise Conflict(
            f"Your company already has {waiting} requests started on the marketplace waiting for "
            "approval. Open the marketplace from Coupa to send them to your cart or dismiss "
            "them, then start a new one."
        )
    request = new_request(
        product, offer, {k: v for k, v in form.items() if k != "request_key"},
        integration_id=integration.id, session=None, state=AWAITING_PUNCHOUT,
    )  # fmt: skip
    usage = sum((line.extended for line in request.lines if line.kind == "usage"), Decimal(0))
    if usage > MAX_AWAITING_USAGE:
        raise BadRequest(
            f"A request started on the marketplace may estimate at most "
            f"{display_money(MAX_AWAITING_USAGE)} {request.currency} of usage; this one comes to "
            f"{display_money(usage)} {request.currency}. Lower the estimate, or open the "
            "marketplace from Coupa to request more.",
            field=next((f"estimate.{key}" for key in request.estimates), None),
        )
    return replace(request, requester=Requester(email=email))


def dismiss(session: PunchOutSession, request: SubscriptionRequest | None) -> SubscriptionRequest:
    """A punchout user sets aside a request someone started on the marketplace for their
    integration: it is never offered again (TTL removes it with the others)."""
    if session.read_only:
        raise Forbidden("This session is open for viewing only: nothing can be dismissed here.")
    if (
        request is None
        or request.integration_id != session.integration_id
        or request.state != AWAITING_PUNCHOUT
    ):
        raise NotFound("This request is no longer waiting for your procurement system.")
    return with_state(request, DISMISSED)
