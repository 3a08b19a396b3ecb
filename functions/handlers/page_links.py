"""Absolute links of the storefront's pages and the request being resolved: what both web
functions (the storefront and the console) need, in a module that loads neither one's app (the
console importing `functions.handlers.web` would build the whole storefront at its cold
start)."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import quote, urlencode

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import (
    APIGatewayProxyEvent,
)

from functions.config import settings
from functions.handlers.http import base_url


def _segment(value: str) -> str:
    """One path segment, URL-encoded: ids come from outside (a SelectedItem `€uro`), and a raw
    byte beyond ASCII in a Location header breaks HTTP servers and clients."""
    return quote(value, safe="")


class Links:
    """Absolute links (API Gateway puts a stage in front of every path), inside a session or
    on the public catalog."""

    def __init__(self, root: str, token: str | None = None) -> None:
        self.root = root
        self.token = token

    @property
    def prefix(self) -> str:
        return f"{self.root}/s/{_segment(self.token)}" if self.token else f"{self.root}/catalog"

    def catalog(self, **params: Any) -> str:
        target = f"{self.prefix}/catalog" if self.token else self.prefix
        kept = {k: v for k, v in params.items() if v not in ("", None) and (k, v) != ("page", 1)}
        return f"{target}?{urlencode(kept)}" if kept else target

    def product(self, product_id: str) -> str:
        return f"{self.prefix}/products/{_segment(product_id)}"

    def subscribe(self, product_id: str, offer_id: str) -> str:
        return f"{self.prefix}/products/{_segment(product_id)}/subscribe?" + urlencode(
            {"offer": offer_id}
        )

    def requests(self) -> str:
        return f"{self.prefix}/requests"

    def request(self, request_id: str) -> str:
        return f"{self.prefix}/requests/{_segment(request_id)}"

    def dismiss(self, request_id: str) -> str:
        return f"{self.prefix}/requests/{_segment(request_id)}/dismiss"

    def cancel(self) -> str:
        return f"{self.prefix}/cancel"

    def subscriptions(self) -> str:
        return f"{self.prefix}/subscriptions"


def event_of(router: Router) -> APIGatewayProxyEvent:
    """The request being resolved (the web function's resolver is a REST API one)."""
    return cast(APIGatewayProxyEvent, router.current_event)


def links_of(event: APIGatewayProxyEvent, token: str | None = None) -> Links:
    return Links(base_url(event, settings()), token)
