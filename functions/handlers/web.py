"""Lambda: the pages a punchout user's browser opens (StartPage, later the storefront)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import ids, store
from functions.clock import iso, now
from functions.config import settings
from functions.handlers import html_edge
from functions.observability import logger
from functions.store.sessions import DynamoSessionStore
from functions.web.render import render

app = APIGatewayRestResolver()
html_edge.install(app)

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
SYSTEM_LABELS = {"coupa": "Coupa", "ariba": "SAP Ariba"}
OPERATION_LABELS = {
    "create": "New request",
    "edit": "Editing an earlier request",
    "inspect": "Viewing an earlier request (read-only)",
}


@cache
def _sessions() -> DynamoSessionStore:
    store.bind(settings())
    return DynamoSessionStore()


@app.get("/health")
def health() -> Response:
    return Response(200, "application/json", '{"status":"ok"}', {"Cache-Control": "no-store"})


def _session_gone() -> Response:
    return html_edge.error_page(
        404,
        "This shopping session has ended",
        "The link has expired or is not valid.",
        "Go back to your procurement system (Coupa or Ariba) and open the marketplace again.",
    )


@app.get("/s/<token>")
def start_page(token: str) -> Response:
    if not _TOKEN.match(token):
        return _session_gone()
    session = _sessions().get(ids.digest(token))
    if session is None or session.is_expired(now()):
        return _session_gone()
    page = render(
        "landing.html",
        session=session,
        system_label=SYSTEM_LABELS.get(session.system, session.system),
        operation_label=OPERATION_LABELS.get(session.operation, session.operation),
        expires_iso=iso(session.expires_at),
    )
    return html_edge.html_reply(page, frame_ancestors=session.frame_ancestors)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
