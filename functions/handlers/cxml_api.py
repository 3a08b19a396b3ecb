"""Lambda: the cXML endpoints procurement systems call server to server."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import activity, observability, punchout, store
from functions.clock import now
from functions.config import settings
from functions.cxml.parse import parse_request
from functions.errors import GatewayError
from functions.handlers import cxml_edge
from functions.handlers.http import base_url
from functions.integrations import Endpoints
from functions.observability import logger, metrics
from functions.store.activity import DynamoActivityLog, SessionsWithActivity
from functions.store.integrations import DynamoIntegrationStore
from functions.store.secrets import AribaSecret

app = APIGatewayRestResolver()
cxml_edge.install(app)


@cache
def _wiring() -> tuple[DynamoIntegrationStore, SessionsWithActivity, AribaSecret]:
    store.bind(settings())
    return DynamoIntegrationStore(), SessionsWithActivity(), AribaSecret(settings())


@app.post("/cxml/punchout")
def punchout_request() -> Response:
    integrations, sessions, ariba_secret = _wiring()
    config = settings()
    request = parse_request(cxml_edge.document_bytes(app))
    # From outside and not yet authenticated: clipped (a 200 KB payloadID is a 200 KB log line).
    logger.append_keys(payload_id=request.payload_id[:120], request_name=request.request_name[:60])
    system = observability.buyer_system(request.header.user_agent)
    try:
        document = punchout.answer(
            request,
            integrations,
            sessions,
            ariba_secret,
            Endpoints(
                base_url(app.current_event, config),
                config.supplier_domain,
                config.supplier_identity,
            ),
            timedelta(seconds=config.session_ttl_seconds),
            DynamoActivityLog(),
        )
    except GatewayError as refusal:
        observability.count(observability.PUNCHOUTS, system=system, outcome=str(refusal.status))
        refused = activity.refused(request, refusal, now())
        if refused is not None:  # a sender naming no integration is recorded nowhere
            DynamoActivityLog().record(refused)
        raise
    observability.count(observability.PUNCHOUTS, system=system, outcome="200")
    return cxml_edge.cxml_reply(document)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
