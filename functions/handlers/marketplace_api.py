"""`POST /marketplace/resolve-customer` and `POST /marketplace/entitlements`: the seller APIs
served by the metering Lambda (functions/handlers/metering_api.py includes this router), with
the same caller check. Their logic is `functions.seller_api`; the link-signing key (tokens and
NextTokens are signed with keys derived from it) is read only when a request needs it."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from functions import seller_api
from functions.clock import now
from functions.config import settings
from functions.handlers import json_edge
from functions.handlers.seller_auth import seller_caller
from functions.observability import logger
from functions.store.catalog import DynamoProductStore
from functions.store.entitlements import DynamoEntitlements

router = Router()


@cache
def _link_key() -> Callable[[], bytes]:
    from functions.store.secrets import LinkSigningKey

    return LinkSigningKey(settings())


@cache
def _stores() -> tuple[DynamoProductStore, DynamoEntitlements]:
    from functions import store

    store.bind(settings())
    return DynamoProductStore(), DynamoEntitlements()


@router.post("/marketplace/resolve-customer")
def resolve_customer() -> Response:
    caller = seller_caller(router.current_event)
    products, _ = _stores()
    body = json_edge.json_body_of(router.current_event)
    answer = seller_api.resolve_customer(
        body, caller, now(), products=products, link_key=_link_key()()
    )
    logger.info(
        "customer resolved",
        extra={"seller_account": caller.seller_account or "marketplace", "test": answer["Test"]},
    )
    return json_edge.json_reply(answer)


@router.post("/marketplace/entitlements")
def get_entitlements() -> Response:
    caller = seller_caller(router.current_event)
    _, pages = _stores()
    body = json_edge.json_body_of(router.current_event)
    answer = seller_api.get_entitlements(body, caller, now(), pages=pages, link_key=_link_key()())
    return json_edge.json_reply(answer)
