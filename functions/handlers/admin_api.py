"""Lambda: the admin JSON API where a buyer's admin sets up integrations, and follows and
re-delivers their invoices.

Deployed, API Gateway checks IAM (SigV4) before we run; locally a bearer token stands in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import catalog_input, fields, ids, integrations, store
from functions.catalog import Product
from functions.config import settings
from functions.errors import BadRequest, Forbidden, NotFound, Unauthenticated
from functions.handlers import admin_accounts, admin_corrections, admin_views, json_edge
from functions.handlers.http import base_url, query_params
from functions.integrations import Endpoints, Integration
from functions.integrations.advice import warnings
from functions.observability import logger
from functions.store.catalog import DynamoProductStore
from functions.store.integrations import DynamoIntegrationStore
from functions.store.kms import KmsSecretBox

if TYPE_CHECKING:  # invoice modules load on the invoice routes only (cold start)
    from functions.store.invoices import StoredInvoice


app = APIGatewayRestResolver()
json_edge.install(app)
app.include_router(admin_corrections.router)  # credit memos and cancellations
app.include_router(admin_views.router)  # a subscription, an order
app.include_router(admin_accounts.router)  # buyer accounts and their users


@dataclass(frozen=True)
class _Adapters:
    integrations: DynamoIntegrationStore
    products: DynamoProductStore


@cache
def _adapters() -> _Adapters:
    """This function's composition root: binds the tables once and builds the adapters the
    routes use (the invoice ones in `_invoicing`, on first use)."""
    config = settings()
    store.bind(config)
    secrets = KmsSecretBox(config.invoice_secret_key, config.region)  # its client on first use
    return _Adapters(DynamoIntegrationStore(secrets), DynamoProductStore())


def _store() -> DynamoIntegrationStore:
    return _adapters().integrations


def _products() -> DynamoProductStore:
    return _adapters().products


def _authorize(app: APIGatewayRestResolver, next_middleware: Callable[..., Response]) -> Response:
    config = settings()
    event = app.current_event
    if config.admin_auth == "iam":
        identity = event.request_context.identity
        if not (identity.user_arn or identity.access_key):
            raise Forbidden("The admin API requires IAM (SigV4) authentication.")
        # Sellers of other accounts may be allowed to call the API (metering): never /admin.
        if identity.account_id != event.request_context.account_id:
            raise Forbidden("The admin API is for the marketplace's own AWS account.")
    else:
        token = fields.bearer_token(event.headers.get("authorization"))
        if token is None:
            raise Unauthenticated("Send 'Authorization: Bearer <ADMIN_TOKEN>'.")
        if not ids.same_secret(token, config.admin_token):
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
    integration, secret = integrations.new_integration(
        json_edge.json_body(app), allow_local_http=settings().invoice_delivery_local_http
    )
    stored = _store().create(integration)
    logger.info("integration created", extra={"integration_id": stored.id})
    return json_edge.json_reply({**_view(stored, secret), "warnings": warnings(stored)}, 201)


@app.get("/admin/integrations")
def list_integrations() -> Response:
    return json_edge.json_reply({"integrations": [i.public_view() for i in _store().list()]})


@app.get("/admin/integrations/<integration_id>")
def get_integration(integration_id: str) -> Response:
    return json_edge.json_reply(_view(_existing(integration_id)))


@app.patch("/admin/integrations/<integration_id>")
def patch_integration(integration_id: str) -> Response:
    current = _existing(integration_id)
    updated = integrations.patched(
        current, json_edge.json_body(app), allow_local_http=settings().invoice_delivery_local_http
    )
    stored = _store().replace(current, updated)
    return json_edge.json_reply({**_view(stored), "warnings": warnings(stored)})


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
    product = catalog_input.product_from_json(
        json_edge.json_body(app), allow_local_http=settings().fulfillment_local_http
    )
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
    updated = catalog_input.product_from_json(
        json_edge.json_body(app), base=current, allow_local_http=settings().fulfillment_local_http
    )
    stored = _products().save(updated, expected_version=current.version)
    return json_edge.json_reply({"product": stored.to_json()})


@app.delete("/admin/products/<product_id>")
def delete_product(product_id: str) -> Response:
    if not _products().delete(product_id):
        raise NotFound(f"No product with id {product_id!r}.")
    return json_edge.json_reply({"deleted": product_id})


# --- invoices ---------------------------------------------------------------------------------


class _Invoicing:
    """The invoice modules and adapters, imported on first use: most admin calls never need
    them."""

    def __init__(self, adapters: _Adapters) -> None:
        from functions import billing, buyer_status, delivery
        from functions.store import invoices
        from functions.store.redelivery import DynamoRedelivery

        self.billing: ModuleType = billing
        self.buyer_status: ModuleType = buyer_status
        self.delivery: ModuleType = delivery
        self.invoices: ModuleType = invoices
        self.redelivery = DynamoRedelivery(adapters.integrations, settings().delivery_queue_url)

    def start_billing_run(self, period: str) -> int:
        from functions.store.billing_ports import start_billing_run

        return start_billing_run(period)


@cache
def _invoicing() -> _Invoicing:
    return _Invoicing(_adapters())


_BUDGET_FIELDS = (
    "approved_budget", "invoiced_to_date", "awaiting_budget", "awaiting_budget_amount"
)  # fmt: skip
"""A usage invoice's budget as its summary states it (`billing.summary_json`)."""


def _invoice_view(invoice: StoredInvoice, *, detail: bool = False) -> dict[str, Any]:
    """An invoice as the admin follows it: state, where the document is, what it asks for,
    what usage is held awaiting a higher budget, and how delivery went."""
    bucket = settings().invoice_bucket
    summary = invoice.summary
    view: dict[str, Any] = {
        "invoice_id": invoice.invoice_id,
        "kind": invoice.kind,
        "subscription_id": invoice.subscription_id,
        "integration_id": invoice.integration_id,
        "account_id": invoice.account_id,
        "period": invoice.period,
        "state": invoice.state,
        "location": f"s3://{bucket}/{invoice.s3_key}",
        "order_id": summary.get("order_id"),
        "currency": summary.get("currency"),
        "totals": {k: summary.get(k) for k in ("subtotal", "tax", "net", "due")},
        "awaiting_budget": invoice.awaiting_budget,
        "budget": {k: summary.get(k) for k in _BUDGET_FIELDS} if invoice.kind == "usage" else None,
        "delivery": _invoicing().delivery.DeliveryLog.from_json(invoice.delivery).to_json(),
        "buyer_status": _invoicing().buyer_status.view(invoice.buyer_status),
        "created_at": invoice.created_at,
        "updated_at": invoice.updated_at,
    }
    if invoice.kind == "credit":
        view["original_invoice_id"] = summary.get("original_invoice_id")
        view["reason"] = summary.get("reason")
    if detail:
        view["summary_location"] = f"s3://{bucket}/{invoice.summary_key}"
        view["summary"] = summary
        if invoice.kind != "credit":
            view["credit_memos"] = admin_corrections.credit_memo_views(invoice.invoice_id)
    return view


def _existing_invoice(invoice_id: str) -> StoredInvoice:
    found = _invoicing().invoices.get(invoice_id, consistent=True)
    if found is None:
        raise NotFound(f"No invoice with id {invoice_id!r}.")
    return found


def _flag_param(params: dict[str, str], name: str) -> bool:
    value = params.get(name, "false").strip().lower()
    if value not in ("true", "false", "1", "0", ""):
        raise BadRequest(f"'{name}' must be true or false.", field=name)
    return value in ("true", "1")


@app.get("/admin/invoices")
def list_invoices() -> Response:
    """An integration's invoices, newest period first; optionally one period's, or one
    subscription's (a Query on an index either way, never a scan)."""
    params = query_params(app.current_event)
    integration_id = params.get("integration_id", "").strip()
    if not integration_id:
        raise BadRequest("'integration_id' is required.", field="integration_id")
    raw_period = params.get("period")
    period = _invoicing().billing.parse_period(raw_period) if raw_period else None
    subscription_id = params.get("subscription_id", "").strip()
    _existing(integration_id)
    if subscription_id:
        found = [
            i
            for i in _invoicing().invoices.list_for_subscription(subscription_id)
            if i.integration_id == integration_id and period in (None, i.period)
        ]
    else:
        found = _invoicing().invoices.list_for_integration(integration_id, period)
    return json_edge.json_reply({"invoices": [_invoice_view(i) for i in found]})


admin_corrections.wire(
    admin_corrections.Wiring(
        app, _store, lambda invoice_id: _invoice_view(_existing_invoice(invoice_id), detail=True)
    )
)


admin_views.wire(admin_views.Wiring(_existing, _invoice_view))


@app.get("/admin/invoices/<invoice_id>")
def get_invoice(invoice_id: str) -> Response:
    return json_edge.json_reply(
        {"invoice": _invoice_view(_existing_invoice(invoice_id), detail=True)}
    )


@app.post("/admin/invoices/<invoice_id>/deliver")
def deliver_invoice(invoice_id: str) -> Response:
    """Queue the invoice for delivery again (the rules: `functions/redelivery.py`)."""
    from functions import redelivery

    force = _flag_param(query_params(app.current_event), "force")
    redelivery.redeliver(invoice_id, force=force, ports=_invoicing().redelivery)
    logger.info("invoice queued for delivery", extra={"invoice_id": invoice_id, "force": force})
    return json_edge.json_reply(
        {"invoice": _invoice_view(_existing_invoice(invoice_id)), "queued": True}, 202
    )


@app.post("/admin/billing-runs")
def start_billing_run() -> Response:
    """Invoice a period now (the monthly schedule does the same): 202 with the number of shard
    messages sent; the invoices appear as the billing queue is worked through."""
    body = json_edge.json_body(app)
    if not isinstance(body, dict):
        raise BadRequest('The body must be a JSON object like {"period": "2026-11"}.')
    fields.only(body, ("period",))
    period = _invoicing().billing.parse_period(body.get("period"))
    shards = _invoicing().start_billing_run(period)
    logger.info("billing run started", extra={"period": period, "shards": shards})
    return json_edge.json_reply({"period": period, "shards": shards}, 202)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
