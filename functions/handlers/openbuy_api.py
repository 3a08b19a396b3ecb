"""Lambda: the Coupa Open Buy API, JSON that Coupa calls server to server (docs/PROTOCOL.md §9).

Authentication trades the integration's Coupa shared secret for a 15-minute bearer token;
search, detail and checkout need that token and lead the user into the punchout."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import ids, openbuy, store
from functions.clock import now
from functions.config import settings
from functions.handlers import json_edge
from functions.handlers.http import base_url
from functions.integrations import Endpoints, Integration
from functions.observability import logger
from functions.store.catalog import DynamoProductStore
from functions.store.integrations import DynamoIntegrationStore
from functions.store.openbuy import DynamoOpenBuyTokenStore

app = APIGatewayRestResolver()
json_edge.install(app)


@dataclass(frozen=True)
class _Adapters:
    tokens: DynamoOpenBuyTokenStore
    integrations: DynamoIntegrationStore
    products: DynamoProductStore


@cache
def _adapters() -> _Adapters:
    """This function's composition root: binds the tables once, on the first request (nothing
    at import: cold start), and builds the adapters the routes use."""
    store.bind(settings())
    return _Adapters(DynamoOpenBuyTokenStore(), DynamoIntegrationStore(), DynamoProductStore())


def _endpoints() -> Endpoints:
    config = settings()
    return Endpoints(
        base_url(app.current_event, config), config.supplier_domain, config.supplier_identity
    )


def _caller() -> Integration:
    """The integration the bearer token acts for, refused if the token is unknown or expired
    or the integration has been disabled since."""
    token = openbuy.bearer_token(app.current_event.headers.get("authorization"))
    record = openbuy.live_token(_adapters().tokens.get(ids.digest(token)), now())
    return openbuy.token_integration(record, _adapters().integrations.get(record.integration_id))


@app.post("/openbuy/authentication/v1.0.0")
def authenticate() -> Response:
    credentials = openbuy.credentials_from_json(json_edge.json_body(app))
    integration = openbuy.authenticate(
        credentials, _adapters().integrations.get(credentials.integration_id)
    )
    token, record = openbuy.issue_token(integration, credentials.email)
    _adapters().tokens.put(record)
    logger.info("open buy token issued", extra={"integration_id": integration.id})
    return json_edge.json_reply(openbuy.token_reply(token))


@app.post("/openbuy/search/v1.0.0")
def search() -> Response:
    _caller()
    request = openbuy.search_request_from_json(json_edge.json_body(app))
    return json_edge.json_reply(
        openbuy.search(_adapters().products.listed(), request, _endpoints())
    )


@app.post("/openbuy/detail/v1.0.0")
def detail() -> Response:
    _caller()
    product_id = openbuy.part_number_from_json(json_edge.json_body(app))
    product = openbuy.listed_product(_adapters().products.get(product_id), product_id)
    return json_edge.json_reply(openbuy.detail(product, _endpoints()))


@app.post("/openbuy/checkout/v1.0.0")
def checkout() -> Response:
    integration = _caller()
    product_id, offer_id = openbuy.checkout_from_json(json_edge.json_body(app))
    product = openbuy.listed_product(_adapters().products.get(product_id), product_id)
    answer = openbuy.checkout(product, offer_id, _endpoints())
    logger.info(
        "open buy checkout",
        extra={"integration_id": integration.id, "product_id": product.id},
    )
    return json_edge.json_reply(answer)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
