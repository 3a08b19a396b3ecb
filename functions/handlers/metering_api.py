"""Lambda: `POST /metering/batch-meter-usage`, where sellers report pay-as-you-go usage, and
the seller APIs ResolveCustomer and GetEntitlements (functions/handlers/marketplace_api.py).

Deployed, API Gateway checks IAM (SigV4) and the caller's account must be the product's seller
(the marketplace's own account may meter any product); locally a bearer token stands in: the
admin token, or a seller's token from SELLER_TOKENS. Imports only what metering needs: no
templates, no XML."""

from __future__ import annotations

from collections import Counter
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import metering, observability, store
from functions.clock import now
from functions.config import settings
from functions.handlers import json_edge, marketplace_api
from functions.handlers.seller_auth import seller_caller
from functions.observability import logger
from functions.store.catalog import DynamoProductStore
from functions.store.subscriptions import DynamoSubscriptionStore
from functions.store.usage import DynamoUsageStore, usage_store

app = APIGatewayRestResolver()
json_edge.install(app)
app.include_router(marketplace_api.router)


@cache
def _stores() -> tuple[DynamoProductStore, DynamoSubscriptionStore, DynamoUsageStore]:
    store.bind(settings())
    return DynamoProductStore(), DynamoSubscriptionStore(), usage_store()


@app.post("/metering/batch-meter-usage")
def batch_meter_usage() -> Response:
    caller = seller_caller(app.current_event)
    products, subscriptions, usage = _stores()
    answer = metering.batch_meter_usage(
        json_edge.json_body(app),
        caller,
        now(),
        products=products,
        subscriptions=subscriptions,
        usage=usage,
    )
    for status, records in Counter(r["Status"] for r in answer["Results"]).items():
        observability.count(observability.METERING_RECORDS, records, result=status)
    logger.info(
        "usage metered",
        extra={
            "seller_account": caller.seller_account or "marketplace",
            "statuses": [result["Status"] for result in answer["Results"]],
        },
    )
    return json_edge.json_reply(answer)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
