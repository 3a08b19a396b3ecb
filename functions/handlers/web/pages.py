"""What every storefront audience shares: the stores, links, and the pages built from domain
values (catalog, product, subscribe, cart return). No routes here."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from decimal import Decimal
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.api_gateway import Response
from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import (
    APIGatewayProxyEvent,
)

from functions import ids, observability, store, storefront
from functions.catalog import PRICING_MODELS, PRODUCT_TYPES, Offer, Product
from functions.clock import now
from functions.commitments import commitments
from functions.config import settings
from functions.cxml.model import Credential
from functions.handlers import html_edge
from functions.handlers.http import query_params
from functions.handlers.page_links import Links
from functions.money import display_money
from functions.sessions import PunchOutSession
from functions.store.catalog import DynamoProductStore
from functions.store.pages import page_records
from functions.store.requests import DynamoRequestStore
from functions.subscription_requests import AWAITING_PUNCHOUT, ORDERED, SubscriptionRequest
from functions.urls import origin_of
from functions.web.render import render

if TYPE_CHECKING:  # built on first use by the pages that need them (cold start)
    from functions.store.integrations import DynamoIntegrationStore
    from functions.store.subscriptions import DynamoSubscriptionStore


class Stores:
    """The adapters the web function's routes use. Built by `stores()`, which binds the tables
    first; the ones only some pages need are built (and imported) on first use: cold start."""

    def __init__(self) -> None:
        self.products = DynamoProductStore()
        self.requests = DynamoRequestStore()

    def page_records(
        self,
        session_digest: str,
        product_id: str | None = None,
        request_id: str | None = None,
        integration_id: str | None = None,
    ) -> tuple[PunchOutSession | None, Product | None, SubscriptionRequest | None]:
        """A session page's session, product and request, in one read (`store.pages`)."""
        return page_records(session_digest, product_id, request_id, integration_id)

    @cached_property
    def integrations(self) -> DynamoIntegrationStore:
        """Only a request started outside a punchout reads integrations."""
        from functions.store.integrations import DynamoIntegrationStore

        return DynamoIntegrationStore()

    @cached_property
    def subscriptions(self) -> DynamoSubscriptionStore:
        """Only the subscriptions pages list an account's subscriptions."""
        from functions.store.subscriptions import DynamoSubscriptionStore

        return DynamoSubscriptionStore()


@cache
def stores() -> Stores:
    """The composition root of the web function: binds the tables once, on the first request
    (nothing at import), and builds the adapters every route reaches through it."""
    store.bind(settings())
    return Stores()


def page(
    template: str,
    *,
    session: PunchOutSession | None,
    links: Links,
    status: int = 200,
    nonce: str | None = None,
    form_targets: tuple[str, ...] = (),
    **context: Any,
) -> Response:
    body = render(
        template,
        session=session,
        links=links,
        system_label=session.system_label if session else "",
        money=display_money,
        pricing_labels=PRICING_MODELS,
        nonce=nonce,
        **context,
    )
    return html_edge.html_reply(
        body,
        status,
        frame_ancestors=session.frame_ancestors if session else (),
        form_targets=form_targets,
        script_nonce=nonce,
    )


def redirect(url: str) -> Response:
    return Response(303, "text/plain", "", {"Location": url, "Cache-Control": "no-store"})


def catalog(
    event: APIGatewayProxyEvent,
    session: PunchOutSession | None,
    links: Links,
    pending: list[SubscriptionRequest] | None = None,
) -> Response:
    query = storefront.catalog_query(query_params(event))
    found = storefront.search(stores().products.listed(), query)
    return page(
        "catalog.html",
        session=session,
        links=links,
        page=found,
        search_text=query.text,
        pending=pending or [],
        product_types=[(k, v[0]) for k, v in PRODUCT_TYPES.items()],
        pricing_models=list(PRICING_MODELS.items()),
    )


def product_page(
    session: PunchOutSession | None, links: Links, product: Product | None
) -> Response:
    if product is None or not product.listed:
        raise storefront.ProductUnavailable(
            "It is not in the catalog: it was taken off, or the link is not valid."
        )
    today = now()
    return page(
        "product.html",
        session=session,
        links=links,
        product=product,
        terms_of=lambda offer: commitments(offer, today),
    )


def subscribe(
    session: PunchOutSession | None,
    links: Links,
    product: Product,
    offer: Offer,
    *,
    request: SubscriptionRequest | None = None,
    error: str = "",
    account_error: str = "",
    error_field: str | None = None,
    form: dict[str, str] | None = None,
    ariba_only: str | None = None,
    already: str = "",
    status: int = 200,
    suggested: Mapping[str, Decimal] | None = None,
) -> Response:
    """`suggested`: higher estimates for an ordered request whose usage awaits budget."""
    current = dict(request.estimates if request else {})
    for key, higher in (suggested or {}).items():
        current[key] = max(current.get(key, higher), higher)
    estimates: dict[str, str] = {k: f"{v.normalize():f}" for k, v in current.items()}
    for key, value in (form or {}).items():
        if key.startswith("estimate."):
            estimates[key.removeprefix("estimate.")] = value
    ordered = request is not None and request.state == ORDERED  # frozen: shown read-only
    request_id = (form or {}).get("request_id") or (request.id if request else "")
    if session is not None and session.operation != "edit" and request is not None:
        # Only an edit session or a request waiting for this punchout is re-submitted as is.
        request_id = request.id if request.state == AWAITING_PUNCHOUT else ""
    # An edit session may change an ordered request's usage budget only (a PO update).
    raising = ordered and bool(session and session.operation == "edit") and bool(estimates)
    read_only = bool(session and session.read_only) or (ordered and not raising)
    preapproved = bool(session and storefront.is_preapproved(offer, session))
    return page(
        "subscribe.html",
        session=session,
        links=links,
        status=status,
        product=product,
        offer=offer,
        other_offers=[o for o in product.offers if o.id != offer.id],
        estimates=estimates,
        request_id=request_id,
        error=error,
        account_error=account_error,
        error_field=error_field or "",
        read_only=read_only,
        ordered=ordered,
        raising=raising,
        raised=bool(suggested),
        outside=session is None,
        ariba_only=ariba_only,
        already=already,
        account_id=(form or {}).get("account_id", ""),
        email=(form or {}).get("email", ""),
        preapproved=preapproved,
        updating=bool(session and session.operation == "edit" and request_id and not read_only),
        terms=commitments(offer, now(), preapproved=preapproved),
        form_action=links.requests(),
        preview=storefront.approval_preview(offer, estimates),
        request_key=ids.slug_id("req"),
        nonce=secrets.token_urlsafe(16),
    )


def cart_return(
    session: PunchOutSession, links: Links, request: SubscriptionRequest | None
) -> Response:
    config = settings()
    cart = storefront.cart_return(
        session, Credential(config.supplier_domain, config.supplier_identity), request
    )
    origin = origin_of(cart.url)
    observability.count(observability.CARTS_RETURNED, system=session.system)
    return page(
        "cart_return.html",
        session=session,
        links=links,
        cart=cart,
        nonce=secrets.token_urlsafe(16),
        form_targets=(origin,) if origin else (),
    )
