"""Lambda: the buyer console (`/console`), server-rendered pages for a buyer organization's
signed-in users (Cognito, cookie sessions). A function of its own, not the storefront's: its
role may change the account's integrations and users, which the public punchout pages must not
be able to do. Each part of the console is a Router; `kit` is what they are built with."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.handlers import html_edge
from functions.handlers.console import activity, integrations, members, sign_in
from functions.handlers.console import subscriptions as subscription_pages
from functions.observability import logger

app = APIGatewayRestResolver()
html_edge.install(app)
app.include_router(sign_in.router)  # sign-in, sign-out, the account's subscriptions
# Each further part of the console: its own Router module in this package, included below.
app.include_router(integrations.router)  # procurement integrations (admins)
app.include_router(members.router)  # admins: the account's users, invited, re-roled, removed
app.include_router(subscription_pages.router)  # a subscription's usage and invoices (everyone)
app.include_router(activity.router)  # an integration's cXML exchanges (admins)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
