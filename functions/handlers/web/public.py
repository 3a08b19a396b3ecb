"""The public storefront (`/catalog/...`): anyone can browse; a Coupa user who asks for a
subscription here is sent to their Coupa to approve it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from functions import storefront
from functions.clock import iso, now
from functions.errors import BadRequest, Conflict
from functions.handlers.http import form_fields, query_params
from functions.handlers.page_links import event_of, links_of
from functions.handlers.web.pages import catalog, page, product_page, stores
from functions.handlers.web.pages import subscribe as subscribe_page
from functions.observability import logger
from functions.subscription_requests import AWAITING_PUNCHOUT_KEPT

router = Router()


def _integrations_of(account_id: str) -> list[Any]:
    return stores().integrations.by_account(account_id)


@router.get("/catalog")
def public_catalog() -> Response:
    return catalog(event_of(router), None, links_of(event_of(router)))


@router.get("/catalog/products/<product_id>")
def public_product(product_id: str) -> Response:
    return product_page(None, links_of(event_of(router)), stores().products.get(product_id))


@router.get("/catalog/products/<product_id>/subscribe")
def public_subscribe(product_id: str) -> Response:
    product, offer = storefront.offer_of(
        stores().products.get(product_id), query_params(event_of(router)).get("offer", "")
    )
    return subscribe_page(None, links_of(event_of(router)), product, offer)


@router.post("/catalog/requests")
def public_request() -> Response:
    """A Coupa user who starts here gets a page saying what happens next, with the way on to
    the integration's approval-request URL in Coupa; the request is kept for their next
    punchout. Ariba users are told to start from Ariba."""
    form = form_fields(event_of(router))
    links = links_of(event_of(router))
    product = stores().products.get(form.get("product_id", ""))
    found, offer = storefront.offer_of(product, form.get("offer_id", ""))
    account = " ".join(form.get("account_id", "").split())[:64]
    try:
        if not account:
            raise BadRequest("Enter your marketplace account ID.", field="account_id")
        decision = storefront.outside_punchout(_integrations_of(account))
    except BadRequest as problem:
        return subscribe_page(None, links, found, offer, account_error=problem.message, form=form,
                              status=400)  # fmt: skip
    if decision.integration is None or decision.redirect_url is None:
        return subscribe_page(None, links, found, offer, ariba_only=decision.refusal, form=form,
                              status=403)  # fmt: skip
    since = iso(now() - AWAITING_PUNCHOUT_KEPT)
    waiting = stores().requests.count_awaiting_punchout(decision.integration.id, since)
    try:
        request = storefront.pending_request(found, form, decision.integration, waiting)
    except Conflict as problem:
        return subscribe_page(None, links, found, offer, error=problem.message, form=form,
                              status=409)  # fmt: skip
    except BadRequest as problem:
        return subscribe_page(None, links, found, offer, error=problem.message, form=form,
                              error_field=problem.field, status=400)  # fmt: skip
    stored = stores().requests.save(request)
    logger.info("request awaiting punchout", extra={"request_id": stored.id})
    return page(
        "request_waiting.html",
        session=None,
        links=links,
        request=stored,
        continue_url=decision.redirect_url,
        kept_until=(now() + AWAITING_PUNCHOUT_KEPT).date().isoformat(),
    )
