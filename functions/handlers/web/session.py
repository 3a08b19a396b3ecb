"""The storefront inside a punchout session (`/s/<token>/...`): the token is the credential,
and the action is Request approval (or Subscribe, for offers the integration pre-approves)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, NamedTuple

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from functions import ids, storefront
from functions.catalog import Offer, Product
from functions.clock import iso, now
from functions.errors import BadRequest, Forbidden, NotFound
from functions.handlers import html_edge
from functions.handlers.http import form_fields, query_params
from functions.handlers.page_links import Links, event_of, links_of
from functions.handlers.web.pages import (
    cart_return,
    catalog,
    page,
    product_page,
    redirect,
    stores,
    subscribe,
)
from functions.handlers.web.subscriptions import subscriptions_page
from functions.observability import logger
from functions.sessions import IntegrationDisabled, PunchOutSession
from functions.subscription_requests import (
    AWAITING_PUNCHOUT_KEPT,
    ORDERED,
    PREAPPROVED,
    SubscriptionRequest,
    usage_budget_change,
)

router = Router()

_TOKEN = re.compile(r"^(?:([A-Za-z0-9_-]{1,64})\.)?[A-Za-z0-9_-]{43}$")
"""`<integration id>.<random>` (`ids.session_token`), or the random part alone (older tokens)."""


class SessionKey(NamedTuple):
    """What a session URL's token names: the session's stored digest, and its integration."""

    digest: str
    integration_id: str | None
    token: str


class SessionEnded(Exception):
    """The page's session has ended (or was never known): `session` when it ended recently
    enough to be remembered (SESSION_REMEMBERED), for its frame and Return button."""

    def __init__(self, session: PunchOutSession | None = None) -> None:
        super().__init__("session ended")
        self.session = session


def _session_gone(token: str, ended: PunchOutSession | None) -> Response:
    """An ended session's page, in the procurement system's frame: with its session bar and
    Return button when the session is remembered, else framable by any host."""
    system = ended.system_label if ended else "your procurement system (Coupa or SAP Ariba)"
    return html_edge.error_page(
        404,
        "Your shopping session has ended",
        "Shopping sessions end after a set time: this link's session is over, or the link is "
        "not valid. Nothing more can be added to its cart.",
        f"Return to {system} and open the marketplace again from there.",
        html_edge.PageFrame(ended, _links(token), ended=True) if ended else None,
    )


def _records(
    key: SessionKey,
    product_id: str | None = None,
    request_id: str | None = None,
    *,
    ended: bool = False,
) -> tuple[PunchOutSession, Product | None, SubscriptionRequest | None]:
    """The page's session, product and request, in one BatchGetItem with the session's
    integration: a disabled integration stops its sessions at once. Raises SessionEnded for
    an unknown or ended session (unless `ended` is allowed: the Return button). From here on,
    an error raised by the page shows in the session's frame."""
    found = stores().page_records(key.digest, product_id, request_id, key.integration_id)
    session, product, request = found
    moment = now()
    if session is None or not session.is_remembered(moment):
        raise SessionEnded()
    if session.is_expired(moment) and not ended:
        raise SessionEnded(session)
    router.append_context(**{html_edge.PAGE_FRAME: html_edge.PageFrame(session, _links(key.token))})
    return session, product, request


def _with_session(view: Callable[..., Response]) -> Callable[..., Response]:
    """Session pages: an invalid or expired token, or a disabled integration, is a clear page,
    before any other work."""

    @wraps(view)
    def checked(token: str, **path: str) -> Response:
        found = _TOKEN.match(token)
        if not found:
            return _session_gone(token, None)
        try:
            return view(token, SessionKey(ids.digest(token), found.group(1), token), **path)
        except SessionEnded as gone:
            return _session_gone(token, gone.session)
        except IntegrationDisabled as disabled:
            return html_edge.error_page(
                403,
                "This integration is disabled",
                disabled.message,
                "Nothing was added to your cart and no subscription was created.",
                frame=html_edge.PageFrame(disabled.session, _links(token), ended=True)
                if disabled.session is not None
                else None,
            )

    return checked


def _links(token: str) -> Links:
    return links_of(event_of(router), token)


@router.get("/s/<token>")
@_with_session
def start_page(token: str, key: SessionKey) -> Response:
    """Where the StartPage lands: the selected product (level 2), the request being edited or
    inspected, or the catalog (with requests started on the marketplace, for Coupa)."""
    session, _, _ = _records(key)
    links = _links(token)
    in_cart = sorted(storefront.request_ids_in_cart(session))
    if session.operation in ("edit", "inspect") and in_cart:
        return redirect(links.request(in_cart[0]))
    if session.selected_item is not None:
        # Our SupplierPartIDs are `<product>/<offer>`; a level-2 punchout may name either.
        product_id = session.selected_item.supplier_part_id.split("/")[0]
        return redirect(links.product(product_id))
    pending: list[SubscriptionRequest] = []
    if session.operation == "create" and session.system == "coupa":
        # A Coupa user who started on the marketplace finds the request here (PROTOCOL.md §9).
        since = iso(now() - AWAITING_PUNCHOUT_KEPT)
        pending = stores().requests.awaiting_punchout(session.integration_id, since)
    return catalog(event_of(router), session, links, pending)


@router.get("/s/<token>/catalog")
@_with_session
def session_catalog(token: str, key: SessionKey) -> Response:
    session, _, _ = _records(key)
    return catalog(event_of(router), session, _links(token))


@router.get("/s/<token>/products/<product_id>")
@_with_session
def session_product(token: str, key: SessionKey, product_id: str) -> Response:
    session, product, _ = _records(key, product_id)
    return product_page(session, _links(token), product)


@router.get("/s/<token>/products/<product_id>/subscribe")
@_with_session
def session_subscribe(token: str, key: SessionKey, product_id: str) -> Response:
    session, product, _ = _records(key, product_id)
    offer_id = query_params(event_of(router)).get("offer", "")
    found, offer = storefront.offer_of(product, offer_id)
    already = _already_subscribed(session, found, offer)
    return subscribe(session, _links(token), found, offer, already=already)


@router.get("/s/<token>/requests/<request_id>")
@_with_session
def session_request(token: str, key: SessionKey, request_id: str) -> Response:
    """Reopen a request: for change (edit), read-only (inspect), or one a Coupa user started
    on the marketplace, to send it to the cart now."""
    session, _, request = _records(key, None, request_id)
    if request is None or not storefront.may_view(session, request):
        raise NotFound("This request is not part of your procurement session.")
    product = stores().products.get(request.product_id)
    found, offer = storefront.offer_of(product, request.offer_id)
    suggested = _suggested_estimates(request) if session.operation == "edit" else {}
    return subscribe(session, _links(token), found, offer, request=request, suggested=suggested)


def _suggested_estimates(request: SubscriptionRequest) -> dict[str, Any]:
    """For an ordered request whose usage is held awaiting budget, the higher estimates to
    offer (`functions.budgets`): one read of its budget ledger."""
    if request.state != ORDERED or not request.estimates:
        return {}
    from functions import budgets
    from functions.store.budget_ledger import ledgers_for

    ledger = ledgers_for([request.id]).get(request.id)
    return budgets.suggested_estimates(ledger) if budgets.holds(ledger) and ledger else {}


@router.post("/s/<token>/requests")
@_with_session
def request_approval(token: str, key: SessionKey) -> Response:
    """Request approval: store the request, answer the auto-submitting cart return. Two
    DynamoDB calls: one BatchGetItem (session, integration, product, reopened request), one
    PutItem."""
    form = form_fields(event_of(router))
    reopened = form.get("request_id") or None
    session, product, found_request = _records(
        key, form.get("product_id") or None, reopened or form.get("request_key") or None
    )
    links = _links(token)
    if found_request is not None and reopened is None:
        # The page's request key is taken: a double submit of this session's own request
        # answers what the first one did, and creates nothing.
        if found_request.session_digest != session.token_digest:
            raise Forbidden("This request does not belong to your procurement session.")
        if found_request.state == PREAPPROVED:
            return page("subscribed.html", session=session, links=links, request=found_request,
                        usage_instructions=found_request.usage_instructions)  # fmt: skip
        return cart_return(session, links, found_request)
    previous = found_request
    try:
        request = storefront.request_approval(session, product, form, previous)
    except BadRequest as problem:
        found, offer = storefront.offer_of(product, form.get("offer_id", ""))
        return subscribe(session, links, found, offer, error=problem.message,
                         error_field=problem.field, form=form, status=400)  # fmt: skip
    except storefront.RequestFrozen as frozen:
        return html_edge.error_page(
            409, "This request was already ordered", frozen.message, frozen.advice
        )
    if previous is not None and previous.state == ORDERED:
        # unchanged, or only its usage budget changed (for a PO update): not saved
        return cart_return(
            session, links, request if usage_budget_change(previous, request) else previous
        )
    if request.state == PREAPPROVED:
        return _subscribe_at_once(session, links, request, product)
    stored = stores().requests.save(request)
    logger.info(
        "subscription request",
        extra={"request_id": stored.id, "state": stored.state, "lines": len(stored.lines)},
    )
    return cart_return(session, links, stored)


def _save_preapproved(
    request: SubscriptionRequest, subscription: Any, mail: Any, moment: datetime
) -> None:
    from functions.store.orders import OUTBOX_KEPT
    from functions.store.subscriptions import save_preapproved

    save_preapproved(request, subscription, mail, moment + OUTBOX_KEPT)


def _subscribe_at_once(
    session: PunchOutSession, links: Links, request: SubscriptionRequest, product: Product | None
) -> Response:
    """Pre-approved free/BYOL: an active subscription now (or the page saying the account
    holds it already)."""
    from functions.storefront_subscriptions import subscribe_at_once
    from functions.subscriptions import AlreadySubscribed

    try:
        subscription = subscribe_at_once(session, request, links.root, _save_preapproved, now)
    except AlreadySubscribed as held:
        found, offer = storefront.offer_of(product, request.offer_id)
        return subscribe(session, links, found, offer, already=held.message, status=409)
    logger.info("pre-approved subscription", extra={"subscription_id": subscription.id})
    return page(
        "subscribed.html",
        session=session,
        links=links,
        request=request,
        usage_instructions=product.usage_instructions if product else "",
    )


def _already_subscribed(session: PunchOutSession, product: Product, offer: Offer) -> str:
    from functions.store.subscriptions import preapproved_holder
    from functions.storefront_subscriptions import already_subscribed

    return already_subscribed(session, product, offer, preapproved_holder)


@router.post("/s/<token>/requests/<request_id>/dismiss")
@_with_session
def dismiss_request(token: str, key: SessionKey, request_id: str) -> Response:
    """Set aside a request someone started on the marketplace for this integration: it is not
    offered to this or any later punchout. One BatchGetItem, one conditional PutItem."""
    session, _, request = _records(key, None, request_id)
    dismissed = stores().requests.save(storefront.dismiss(session, request))
    logger.info("pending request dismissed", extra={"request_id": dismissed.id})
    return redirect(_links(token).prefix)


@router.post("/s/<token>/cancel")
@_with_session
def cancel(token: str, key: SessionKey) -> Response:
    """Return to the procurement system without change (Status 204), also when the session
    has ended or its integration was disabled: an empty cart changes nothing."""
    try:
        session, _, _ = _records(key, ended=True)
    except IntegrationDisabled as disabled:
        if disabled.session is None:
            raise
        session = disabled.session
    return cart_return(session, _links(token), None)


@router.get("/s/<token>/subscriptions")
@_with_session
def session_subscriptions(token: str, key: SessionKey) -> Response:
    """The account's subscriptions, reached from inside a punchout session."""
    session, _, _ = _records(key)
    params = query_params(event_of(router))
    return subscriptions_page(params, session, _links(token), session.integration.account_id)
