"""Lambda: the admin JSON API where a buyer's admin sets up integrations.

Deployed, API Gateway checks IAM (SigV4) before we run; locally a bearer token stands in."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import catalog, ids, integrations, store
from functions.catalog import Product
from functions.config import settings
from functions.errors import Forbidden, NotFound, Unauthenticated
from functions.handlers import json_edge
from functions.handlers.http import base_url
from functions.integrations import Endpoints, Integration
from functions.observability import logger
from functions.store.catalog import DynamoProductStore
from functions.store.integrations import DynamoIntegrationStore

app = APIGatewayRestResolver()
json_edge.install(app)


@cache
def _store() -> DynamoIntegrationStore:
    store.bind(settings())
    return DynamoIntegrationStore()


@cache
def _products() -> DynamoProductStore:
    store.bind(settings())
    return DynamoProductStore()


def _authorize(app: APIGatewayRestResolver, next_middleware: Callable[..., Response]) -> Response:
    config = settings()
    event = app.current_event
    if config.admin_auth == "iam":
        identity = event.request_context.identity
        if not (identity.user_arn or identity.access_key):
            raise Forbidden("The admin API requires IAM (SigV4) authentication.")
    else:
        header = event.headers.get("authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Send 'Authorization: Bearer <ADMIN_TOKEN>'.")
        if not ids.same_secret(token.strip(), config.admin_token):
            raise Forbidden("The admin token is not accepted.")
    return next_middleware(app)


app.use(middlewares=[_authorize])


def _endpoints() -> Endpoints:
    config = settings()
    return Endpoints(
        base_url(app.current_event, config), config.supplier_domain, config.supplier_identity
    )


def _view(integration: Integration, secret: str | None = None) -> dict[str, Any]:
    return {
        "id": integration.id,
        "integration": integration.public_view(),
        "purchase_information": integrations.purchase_information(
            integration, _endpoints(), secret
        ),
    }


def _existing(integration_id: str) -> Integration:
    found = _store().get(integration_id)
    if found is None:
        raise NotFound(f"No integration with id {integration_id!r}.")
    return found


@app.post("/admin/integrations")
def create_integration() -> Response:
    integration, secret = integrations.new_integration(json_edge.json_body(app))
    stored = _store().create(integration)
    logger.info("integration created", extra={"integration_id": stored.id})
    return json_edge.json_reply(_view(stored, secret), 201)


@app.get("/admin/integrations")
def list_integrations() -> Response:
    return json_edge.json_reply({"integrations": [i.public_view() for i in _store().list()]})


@app.get("/admin/integrations/<integration_id>")
def get_integration(integration_id: str) -> Response:
    return json_edge.json_reply(_view(_existing(integration_id)))


@app.patch("/admin/integrations/<integration_id>")
def patch_integration(integration_id: str) -> Response:
    current = _existing(integration_id)
    updated = integrations.patched(current, json_edge.json_body(app))
    return json_edge.json_reply(_view(_store().replace(current, updated)))


@app.post("/admin/integrations/<integration_id>/secret")
def rotate_secret(integration_id: str) -> Response:
    current = _existing(integration_id)
    updated, secret = integrations.with_new_secret(current)
    return json_edge.json_reply(_view(_store().replace(current, updated), secret))


@app.post("/admin/integrations/<integration_id>/disable")
def disable_integration(integration_id: str) -> Response:
    current = _existing(integration_id)
    return json_edge.json_reply(
        _view(_store().replace(current, integrations.with_enabled(current, False)))
    )


@app.post("/admin/integrations/<integration_id>/enable")
def enable_integration(integration_id: str) -> Response:
    current = _existing(integration_id)
    return json_edge.json_reply(
        _view(_store().replace(current, integrations.with_enabled(current, True)))
    )


def _existing_product(product_id: str) -> Product:
    found = _products().get(product_id)
    if found is None:
        raise NotFound(f"No product with id {product_id!r}.")
    return found


@app.post("/admin/products")
def create_product() -> Response:
    product = catalog.product_from_json(json_edge.json_body(app))
    stored = _products().save(product, expected_version=None)
    logger.info("product created", extra={"product_id": stored.id})
    return json_edge.json_reply({"product": stored.to_json()}, 201)


@app.get("/admin/products")
def list_products() -> Response:
    return json_edge.json_reply({"products": [p.to_json() for p in _products().all()]})


@app.get("/admin/products/<product_id>")
def get_product(product_id: str) -> Response:
    return json_edge.json_reply({"product": _existing_product(product_id).to_json()})


@app.patch("/admin/products/<product_id>")
def patch_product(product_id: str) -> Response:
    current = _existing_product(product_id)
    updated = catalog.product_from_json(json_edge.json_body(app), base=current)
    stored = _products().save(updated, expected_version=current.version)
    return json_edge.json_reply({"product": stored.to_json()})


@app.delete("/admin/products/<product_id>")
def delete_product(product_id: str) -> Response:
    if not _products().delete(product_id):
        raise NotFound(f"No product with id {product_id!r}.")
    return json_edge.json_reply({"deleted": product_id})


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
