"""Lambda: the storefront pages. Inside a punchout session (`/s/<token>/...`, the token is the
credential) the action is Request approval; outside (`/catalog/...`) anyone can browse."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import ids, observability, store, storefront
from functions.catalog import PRICING_MODELS, PRODUCT_TYPES, Offer, Product
from functions.clock import iso, now
from functions.config import settings
from functions.cxml.model import Credential
from functions.errors import BadRequest, Conflict, Forbidden, NotFound
from functions.handlers import html_edge
from functions.handlers.http import base_url, form_fields, query_params
from functions.money import display_money
from functions.observability import logger
from functions.sessions import IntegrationDisabled, PunchOutSession
from functions.store.catalog import DynamoProductStore
from functions.store.pages import page_records
from functions.store.requests import DynamoRequestStore
from functions.subscription_requests import (
    AWAITING_PUNCHOUT,
    AWAITING_PUNCHOUT_KEPT,
    ORDERED,
    PREAPPROVED,
    SubscriptionRequest,
)
from functions.urls import origin_of
from functions.web.render import render

app = APIGatewayRestResolver()
html_edge.install(app)

_TOKEN = re.compile(r"^(?:([A-Za-z0-9_-]{1,64})\.)?[A-Za-z0-9_-]{43}$")
"""`<integration id>.<random>` (`ids.session_token`), or the random part alone (older tokens)."""
SYSTEM_LABELS = {"coupa": "Coupa", "ariba": "SAP Ariba"}


class Stores:
    def __init__(self) -> None:
        store.bind(settings())
        self.products = DynamoProductStore()
        self.requests = DynamoRequestStore()


@cache
def _stores() -> Stores:
    return Stores()


def _integrations_of(account_id: str) -> list[Any]:
    """Only a request started outside a punchout reads integrations: imported on that path."""
    from functions.store.integrations import DynamoIntegrationStore

    _stores()
    return DynamoIntegrationStore().by_account(account_id)


def _segment(value: str) -> str:
    """One path segment, URL-encoded: ids come from outside (a SelectedItem `€uro`), and a raw
    byte beyond ASCII in a Location header breaks HTTP servers and clients."""
    return quote(value, safe="")


class Links:
    """Absolute links (API Gateway puts a stage in front of every path), inside a session or
    on the public catalog."""

    def __init__(self, root: str, token: str | None = None) -> None:
        self.root = root
        self.token = token

    @property
    def prefix(self) -> str:
        return f"{self.root}/s/{_segment(self.token)}" if self.token else f"{self.root}/catalog"

    def catalog(self, **params: Any) -> str:
        target = f"{self.prefix}/catalog" if self.token else self.prefix
        kept = {k: v for k, v in params.items() if v not in ("", None) and (k, v) != ("page", 1)}
        return f"{target}?{urlencode(kept)}" if kept else target

    def product(self, product_id: str) -> str:
        return f"{self.prefix}/products/{_segment(product_id)}"

    def subscribe(self, product_id: str, offer_id: str) -> str:
        return f"{self.prefix}/products/{_segment(product_id)}/subscribe?" + urlencode(
            {"offer": offer_id}
        )

    def requests(self) -> str:
        return f"{self.prefix}/requests"

    def request(self, request_id: str) -> str:
        return f"{self.prefix}/requests/{_segment(request_id)}"

    def dismiss(self, request_id: str) -> str:
        return f"{self.prefix}/requests/{_segment(request_id)}/dismiss"

    def cancel(self) -> str:
        return f"{self.prefix}/cancel"

    def subscriptions(self) -> str:
        return f"{self.prefix}/subscriptions"


def _links(token: str | None = None) -> Links:
    return Links(base_url(app.current_event, settings()), token)


def _page(
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
        system_label=SYSTEM_LABELS.get(session.system, session.system) if session else "",
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


def _session_gone() -> Response:
    return html_edge.error_page(
        404,
        "This shopping session has ended",
        "The link has expired or is not valid.",
        "Go back to your procurement system (Coupa or Ariba) and open the marketplace again.",
    )


def _live(session: PunchOutSession | None) -> PunchOutSession | None:
    return session if session is not None and not session.is_expired(now()) else None


class SessionKey(NamedTuple):
    """What a session URL's token names: the session's stored digest, and its integration."""

    digest: str
    integration_id: str | None


def _records(
    key: SessionKey, product_id: str | None = None, request_id: str | None = None
) -> tuple[PunchOutSession | None, Product | None, SubscriptionRequest | None]:
    """The page's session (None when expired), product and request, in one BatchGetItem with
    the session's integration: a disabled integration stops its sessions at once."""
    _stores()  # binds the tables
    session, product, request = page_records(key.digest, product_id, request_id, key.integration_id)
    return _live(session), product, request


def _with_session(
    view: Callable[..., Response],
) -> Callable[..., Response]:
    """Session pages: an invalid or expired token, or a disabled integration, is a clear page,
    before any other work."""

    def wrapper(token: str, **path: str) -> Response:
        found = _TOKEN.match(token)
        if not found:
            return _session_gone()
        try:
            return view(token, SessionKey(ids.digest(token), found.group(1)), **path)
        except IntegrationDisabled as disabled:
            return html_edge.error_page(
                403,
                "This integration is disabled",
                disabled.message,
                "Nothing was added to your cart and no subscription was created.",
            )

    wrapper.__name__ = view.__name__
    return wrapper


@app.get("/health")
def health() -> Response:
    return Response(200, "application/json", '{"status":"ok"}', {"Cache-Control": "no-store"})


# --- inside a punchout session --------------------------------------------------------------


@app.get("/s/<token>")
@_with_session
def start_page(token: str, key: SessionKey) -> Response:
    """Where the StartPage lands: the selected product (level 2), the request being edited or
    inspected, or the catalog (with requests started on the marketplace, for Coupa)."""
    session, _, _ = _records(key)
    if session is None:
        return _session_gone()
    links = _links(token)
    in_cart = sorted(storefront.request_ids_in_cart(session))
    if session.operation in ("edit", "inspect") and in_cart:
        return _redirect(links.request(in_cart[0]))
    if session.selected_item is not None:
        # Our SupplierPartIDs are `<product>/<offer>`; a level-2 punchout may name either.
        product_id = session.selected_item.supplier_part_id.split("/")[0]
        return _redirect(links.product(product_id))
    pending: list[SubscriptionRequest] = []
    if session.operation == "create" and session.system == "coupa":
        # A Coupa user who started on the marketplace finds the request here (PROTOCOL.md §9).
        since = iso(now() - AWAITING_PUNCHOUT_KEPT)
        pending = _stores().requests.awaiting_punchout(session.integration_id, since)
    return _catalog(session, links, pending)


@app.get("/s/<token>/catalog")
@_with_session
def session_catalog(token: str, key: SessionKey) -> Response:
    session, _, _ = _records(key)
    if session is None:
        return _session_gone()
    return _catalog(session, _links(token))


@app.get("/s/<token>/products/<product_id>")
@_with_session
def session_product(token: str, key: SessionKey, product_id: str) -> Response:
    session, product, _ = _records(key, product_id)
    if session is None:
        return _session_gone()
    return _product(session, _links(token), product)


@app.get("/s/<token>/products/<product_id>/subscribe")
@_with_session
def session_subscribe(token: str, key: SessionKey, product_id: str) -> Response:
    session, product, _ = _records(key, product_id)
    if session is None:
        return _session_gone()
    found, offer = storefront.offer_of(product, query_params(app.current_event).get("offer", ""))
    already = _already_subscribed(session, found, offer)
    return _subscribe(session, _links(token), found, offer, already=already)


@app.get("/s/<token>/requests/<request_id>")
@_with_session
def session_request(token: str, key: SessionKey, request_id: str) -> Response:
    """Reopen a request: for change (edit), read-only (inspect), or one a Coupa user started
    on the marketplace, to send it to the cart now."""
    session, _, request = _records(key, None, request_id)
    if session is None:
        return _session_gone()
    if request is None or not storefront.may_view(session, request):
        raise NotFound("This request is not part of your procurement session.")
    product = _stores().products.get(request.product_id)
    found, offer = storefront.offer_of(product, request.offer_id)
    return _subscribe(session, _links(token), found, offer, request=request)


@app.post("/s/<token>/requests")
@_with_session
def request_approval(token: str, key: SessionKey) -> Response:
    """Request approval: store the request, answer the auto-submitting cart return. Two
    DynamoDB calls: one BatchGetItem (session, integration, product, reopened request), one
    PutItem."""
    form = form_fields(app.current_event)
    reopened = form.get("request_id") or None
    session, product, found_request = _records(
        key, form.get("product_id") or None, reopened or form.get("request_key") or None
    )
    if session is None:
        return _session_gone()
    links = _links(token)
    if found_request is not None and reopened is None:
        # The page's request key is taken: a double submit of this session's own request
        # answers what the first one did, and creates nothing.
        if found_request.session_digest != session.token_digest:
            raise Forbidden("This request does not belong to your procurement session.")
        if found_request.state == PREAPPROVED:
            return _page("subscribed.html", session=session, links=links, request=found_request,
                         usage_instructions=found_request.usage_instructions)  # fmt: skip
        return _cart_return(session, links, found_request)
    previous = found_request
    try:
        request = storefront.request_approval(session, product, form, previous)
    except BadRequest as problem:
        found, offer = storefront.offer_of(product, form.get("offer_id", ""))
        return _subscribe(
            session, links, found, offer, error=problem.message, form=form, status=400
        )
    except storefront.RequestFrozen as frozen:
        return html_edge.error_page(
            409, "This request was already ordered", frozen.message, frozen.advice
        )
    if previous is not None and previous.state == ORDERED:
        return _cart_return(session, links, previous)  # unchanged (else refused): not saved
    if request.state == PREAPPROVED:
        return _subscribe_at_once(session, links, request, product)
    stored = _stores().requests.save(request)
    logger.info(
        "subscription request",
        extra={"request_id": stored.id, "state": stored.state, "lines": len(stored.lines)},
    )
    return _cart_return(session, links, stored)


def _subscribe_at_once(
    session: PunchOutSession, links: Links, request: SubscriptionRequest, product: Product | None
) -> Response:
    """Pre-approved free/BYOL: an active subscription now, announced by mail like any other."""
    from functions.store.orders import OUTBOX_KEPT
    from functions.store.subscriptions import save_preapproved
    from functions.subscriptions import PREAPPROVED_ORDER, AlreadySubscribed, announce

    moment = now()
    subscription = _preapproved_subscription(session, request)
    mail = announce(
        "ready", subscription, session.integration.account_email, PREAPPROVED_ORDER, links.root
    )
    try:
        save_preapproved(request, subscription, mail, moment + OUTBOX_KEPT)
    except AlreadySubscribed as held:
        found, offer = storefront.offer_of(product, request.offer_id)
        return _subscribe(session, links, found, offer, already=held.message, status=409)
    logger.info("pre-approved subscription", extra={"subscription_id": subscription.id})
    return _page(
        "subscribed.html",
        session=session,
        links=links,
        request=request,
        usage_instructions=product.usage_instructions if product else "",
    )


def _preapproved_subscription(session: PunchOutSession, request: SubscriptionRequest) -> Any:
    """The active subscription a pre-approved request makes for the session's account."""
    from functions.subscriptions import preapproved

    snapshot = session.integration
    test = snapshot.test_mode or session.deployment_mode == "test"  # as _already_subscribed
    return preapproved(request, session.integration_name, snapshot.account_id, test, now())


def _already_subscribed(session: PunchOutSession, product: Product, offer: Offer) -> str:
    """What the subscribe page says when the account holds this pre-approved offer already
    (one GetItem, on pre-approved offers only)."""
    from functions.store.subscriptions import preapproved_holder
    from functions.subscriptions import AlreadySubscribed, preapproval_key

    if session.read_only or not storefront.is_preapproved(offer, session):
        return ""
    snapshot = session.integration
    test = snapshot.test_mode or session.deployment_mode == "test"
    key = preapproval_key(snapshot.account_id, product.id, offer.id, test)
    if preapproved_holder(key) is None:
        return ""
    return AlreadySubscribed(product.name, offer.name, snapshot.account_id).message


@app.post("/s/<token>/requests/<request_id>/dismiss")
@_with_session
def dismiss_request(token: str, key: SessionKey, request_id: str) -> Response:
    """Set aside a request someone started on the marketplace for this integration: it is not
    offered to this or any later punchout. One BatchGetItem, one conditional PutItem."""
    session, _, request = _records(key, None, request_id)
    if session is None:
        return _session_gone()
    dismissed = _stores().requests.save(storefront.dismiss(session, request))
    logger.info("pending request dismissed", extra={"request_id": dismissed.id})
    return _redirect(_links(token).prefix)


@app.post("/s/<token>/cancel")
@_with_session
def cancel(token: str, key: SessionKey) -> Response:
    """Return to the procurement system without change (Status 204)."""
    session, _, _ = _records(key)
    if session is None:
        return _session_gone()
    return _cart_return(session, _links(token), None)


@app.get("/s/<token>/subscriptions")
@_with_session
def session_subscriptions(token: str, key: SessionKey) -> Response:
    """The account's subscriptions, reached from inside a punchout session."""
    session, _, _ = _records(key)
    if session is None:
        return _session_gone()
    return _subscriptions(session, _links(token), session.integration.account_id)


@app.get("/subscriptions/<account_id>")
def linked_subscriptions(account_id: str) -> Response:
    """The page the success email links to: the signed, expiring link is the credential."""
    from functions.links import verify_subscriptions_link
    from functions.store.secrets import LinkSigningKey

    params = query_params(app.current_event)
    key = _link_key(LinkSigningKey)()
    if not verify_subscriptions_link(
        key, account_id, params.get("expires"), params.get("signature"), now()
    ):
        return html_edge.error_page(
            403,
            "This link has expired or is not valid",
            "Links in our emails work for 30 days.",
            "Open the marketplace from your procurement system and choose Your subscriptions.",
        )
    signed = {name: params.get(name, "") for name in ("expires", "signature")}
    return _subscriptions(None, _links(), account_id, keep=signed)


@cache
def _link_key(provider: Callable[..., Any]) -> Callable[[], bytes]:
    key: Callable[[], bytes] = provider(settings())
    return key


# --- outside a punchout session -------------------------------------------------------------


@app.get("/catalog")
def public_catalog() -> Response:
    return _catalog(None, _links())


@app.get("/catalog/products/<product_id>")
def public_product(product_id: str) -> Response:
    return _product(None, _links(), _stores().products.get(product_id))


@app.get("/catalog/products/<product_id>/subscribe")
def public_subscribe(product_id: str) -> Response:
    product, offer = storefront.offer_of(
        _stores().products.get(product_id), query_params(app.current_event).get("offer", "")
    )
    return _subscribe(None, _links(), product, offer)


@app.post("/catalog/requests")
def public_request() -> Response:
    """A Coupa user who starts here is sent to the integration's approval-request URL in Coupa
    with the request kept for their next punchout; Ariba users are told to start from Ariba."""
    form = form_fields(app.current_event)
    links = _links()
    product = _stores().products.get(form.get("product_id", ""))
    found, offer = storefront.offer_of(product, form.get("offer_id", ""))
    account = " ".join(form.get("account_id", "").split())[:64]
    if not account:
        return _subscribe(None, links, found, offer, error="Enter your marketplace account ID.",
                          form=form, status=400)  # fmt: skip
    decision = storefront.outside_punchout(_integrations_of(account))
    if decision.integration is None or decision.redirect_url is None:
        return _subscribe(None, links, found, offer, ariba_only=decision.refusal, form=form,
                          status=403)  # fmt: skip
    since = iso(now() - AWAITING_PUNCHOUT_KEPT)
    waiting = _stores().requests.count_awaiting_punchout(decision.integration.id, since)
    try:
        request = storefront.pending_request(found, form, decision.integration, waiting)
    except Conflict as problem:
        return _subscribe(None, links, found, offer, error=problem.message, form=form, status=409)
    except BadRequest as problem:
        return _subscribe(None, links, found, offer, error=problem.message, form=form, status=400)
    stored = _stores().requests.save(request)
    logger.info("request awaiting punchout", extra={"request_id": stored.id})
    return _redirect(decision.redirect_url)


# --- shared page building -------------------------------------------------------------------


def _redirect(url: str) -> Response:
    return Response(303, "text/plain", "", {"Location": url, "Cache-Control": "no-store"})


def _catalog(
    session: PunchOutSession | None, links: Links, pending: list[SubscriptionRequest] | None = None
) -> Response:
    query = storefront.catalog_query(query_params(app.current_event))
    page = storefront.search(_stores().products.listed(), query)
    return _page(
        "catalog.html",
        session=session,
        links=links,
        page=page,
        search_text=query.text,
        pending=pending or [],
        product_types=[(k, v[0]) for k, v in PRODUCT_TYPES.items()],
        pricing_models=list(PRICING_MODELS.items()),
    )


def _product(session: PunchOutSession | None, links: Links, product: Product | None) -> Response:
    if product is None or not product.listed:
        raise NotFound("This product is not in the catalog.")
    return _page("product.html", session=session, links=links, product=product)


def _subscribe(
    session: PunchOutSession | None,
    links: Links,
    product: Product,
    offer: Offer,
    *,
    request: SubscriptionRequest | None = None,
    error: str = "",
    form: dict[str, str] | None = None,
    ariba_only: str | None = None,
    already: str = "",
    status: int = 200,
) -> Response:
    estimates: dict[str, str] = {
        k: f"{v.normalize():f}" for k, v in (request.estimates if request else {}).items()
    }
    for key, value in (form or {}).items():
        if key.startswith("estimate."):
            estimates[key.removeprefix("estimate.")] = value
    ordered = request is not None and request.state == ORDERED  # frozen: shown read-only
    request_id = (form or {}).get("request_id") or (request.id if request else "")
    if session is not None and session.operation != "edit" and request is not None:
        # Only an edit session or a request waiting for this punchout is re-submitted as is.
        request_id = request.id if request.state == AWAITING_PUNCHOUT else ""
    return _page(
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
        read_only=bool(session and session.read_only) or ordered,
        ordered=ordered,
        outside=session is None,
        ariba_only=ariba_only,
        already=already,
        account_id=(form or {}).get("account_id", ""),
        email=(form or {}).get("email", ""),
        preapproved=bool(session and storefront.is_preapproved(offer, session)),
        form_action=links.requests(),
        preview=storefront.approval_preview(offer, estimates),
        request_key=ids.slug_id("req"),
        nonce=secrets.token_urlsafe(16),
    )


_CURSOR = re.compile(r"^(\d{4}-\d\d-\d\dT[0-9:.+-]{8,32})~([A-Za-z0-9_-]{1,64})$")


def _subscriptions_cursor(params: dict[str, str]) -> Any:
    """`?after=` / `?before=` `<created_at>~<subscription id>`; anything else is page one."""
    from functions.store.subscriptions import SubscriptionsCursor

    for direction, name in (("next", "after"), ("previous", "before")):
        found = _CURSOR.match(params.get(name) or "")
        if found:
            return SubscriptionsCursor(direction, found.group(1), found.group(2))
    return None


def _subscriptions(
    session: PunchOutSession | None,
    links: Links,
    account_id: str,
    keep: dict[str, str] | None = None,
) -> Response:
    """One page of the account's subscriptions, newest first, with previous/next links that
    keep `keep` (the signed link's parameters)."""
    from functions.billing import budget_status, period_of
    from functions.store.subscriptions import DynamoSubscriptionStore
    from functions.store.usage import usage_for

    _stores()
    cursor = _subscriptions_cursor(query_params(app.current_event))
    page = DynamoSubscriptionStore().page_of_account(account_id, cursor) if account_id else None
    found = list(page.subscriptions) if page else []
    metered = [s.id for s in found if any(line.kind == "usage" for line in s.lines)]
    totals = usage_for(metered, period_of(now())) if metered else {}
    budgets = {
        s.id: status
        for s in found
        if s.id in totals and (status := budget_status(s, totals[s.id][1])) is not None
    }
    here = links.subscriptions() if session else f"{links.root}/subscriptions/{account_id}"

    def link(name: str, subscription: Any) -> str:
        params = {**(keep or {}), name: f"{subscription.created_at}~{subscription.id}"}
        return f"{here}?{urlencode(params)}"

    return _page(
        "subscriptions.html",
        session=session,
        links=links,
        account_id=account_id,
        subscriptions=found,
        budgets=budgets,
        previous_page=link("before", found[0]) if page and found and page.more_before else "",
        next_page=link("after", found[-1]) if page and found and page.more_after else "",
    )


def _cart_return(
    session: PunchOutSession, links: Links, request: SubscriptionRequest | None
) -> Response:
    config = settings()
    cart = storefront.cart_return(
        session, Credential(config.supplier_domain, config.supplier_identity), request
    )
    origin = origin_of(cart.url)
    observability.count(observability.CARTS_RETURNED, system=session.system)
    return _page(
        "cart_return.html",
        session=session,
        links=links,
        cart=cart,
        nonce=secrets.token_urlsafe(16),
        form_targets=(origin,) if origin else (),
    )


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
