"""Lambda: the storefront pages, one resolver for three audiences, each a Router: inside a
punchout session (`session`, the token is the credential), the public catalog (`public`),
and the account's subscriptions (`subscriptions`, behind a signed email link); the buyer
console is a function of its own (`functions.handlers.console`). Shared page
building is in `pages`; the domain work in `functions.storefront` and
`functions.storefront_subscriptions`."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.handlers import html_edge
from functions.handlers.web import public, session, subscriptions
from functions.observability import logger

app = APIGatewayRestResolver()
html_edge.install(app)


@app.get("/health")
def health() -> Response:
    return Response(200, "application/json", '{"status":"ok"}', {"Cache-Control": "no-store"})


app.include_router(session.router)
app.include_router(subscriptions.router)
app.include_router(public.router)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
