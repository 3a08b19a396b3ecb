"""API Gateway's routing, locally: the same resources and methods as infra/api.py (a test
checks the two agree), matched with API Gateway's precedence."""

from __future__ import annotations

import re
from dataclasses import dataclass

CXML = "functions.handlers.cxml_api"
ADMIN = "functions.handlers.admin_api"
WEB = "functions.handlers.web"
CONSOLE = "functions.handlers.console"
OPENBUY = "functions.handlers.openbuy_api"
ORDERS = "functions.handlers.orders_api"
METERING = "functions.handlers.metering_api"

ROUTES: tuple[tuple[str, str, str], ...] = (
    ("ANY", "/cxml", CXML),
    ("POST", "/cxml/punchout", CXML),
    ("ANY", "/cxml/punchout", CXML),
    ("POST", "/cxml/orders", ORDERS),
    ("ANY", "/cxml/orders", ORDERS),
    ("ANY", "/cxml/{proxy+}", CXML),
    ("GET", "/admin/integrations", ADMIN),
    ("POST", "/admin/integrations", ADMIN),
    ("GET", "/admin/integrations/{id}", ADMIN),
    ("PATCH", "/admin/integrations/{id}", ADMIN),
    ("POST", "/admin/integrations/{id}/secret", ADMIN),
    ("POST", "/admin/integrations/{id}/disable", ADMIN),
    ("POST", "/admin/integrations/{id}/enable", ADMIN),
    ("GET", "/admin/integrations/{id}/orders/{order_id}", ADMIN),
    ("GET", "/admin/subscriptions/{id}", ADMIN),
    ("GET", "/admin/accounts", ADMIN),
    ("POST", "/admin/accounts", ADMIN),
    ("GET", "/admin/accounts/{id}", ADMIN),
    ("POST", "/admin/accounts/{id}/users", ADMIN),
    ("DELETE", "/admin/accounts/{id}/users/{username}", ADMIN),
    ("GET", "/admin/products", ADMIN),
    ("POST", "/admin/products", ADMIN),
    ("GET", "/admin/products/{id}", ADMIN),
    ("PATCH", "/admin/products/{id}", ADMIN),
    ("DELETE", "/admin/products/{id}", ADMIN),
    ("GET", "/admin/invoices", ADMIN),
    ("GET", "/admin/invoices/{id}", ADMIN),
    ("POST", "/admin/invoices/{id}/deliver", ADMIN),
    ("POST", "/admin/invoices/{id}/credit-memos", ADMIN),
    ("POST", "/admin/invoices/{id}/cancel", ADMIN),
    ("POST", "/admin/billing-runs", ADMIN),
    ("POST", "/metering/batch-meter-usage", METERING),
    ("POST", "/marketplace/resolve-customer", METERING),
    ("POST", "/marketplace/entitlements", METERING),
    ("GET", "/health", WEB),
    ("GET", "/catalog", WEB),
    ("ANY", "/catalog/{proxy+}", WEB),
    ("GET", "/s/{token}", WEB),
    ("ANY", "/s/{token}/{proxy+}", WEB),
    ("GET", "/subscriptions/{account_id}", WEB),
    ("ANY", "/console", CONSOLE),
    ("ANY", "/console/{proxy+}", CONSOLE),
    ("POST", "/openbuy/authentication/v1.0.0", OPENBUY),
    ("POST", "/openbuy/search/v1.0.0", OPENBUY),
    ("POST", "/openbuy/detail/v1.0.0", OPENBUY),
    ("POST", "/openbuy/checkout/v1.0.0", OPENBUY),
)


@dataclass(frozen=True)
class Match:
    resource: str
    module: str
    path_parameters: dict[str, str]


def _pattern(resource: str) -> re.Pattern[str]:
    parts = []
    for segment in resource.strip("/").split("/"):
        if segment.endswith("+}"):
            parts.append(f"(?P<{segment[1:-2]}>.+)")
        elif segment.startswith("{"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "$")


def _specificity(resource: str) -> tuple[int, int]:
    """API Gateway prefers literal segments, then {param}, then {proxy+}."""
    segments = resource.strip("/").split("/")
    greedy = sum(s.endswith("+}") for s in segments)
    params = sum(s.startswith("{") for s in segments)
    return (greedy, params)


_COMPILED = sorted(
    ((method, resource, module, _pattern(resource)) for method, resource, module in ROUTES),
    key=lambda route: _specificity(route[1]),
)


def match(method: str, path: str) -> Match | None:
    for route_method, resource, module, pattern in _COMPILED:
        found = pattern.match(path)
        if found and route_method in (method, "ANY"):
            return Match(resource, module, found.groupdict())
    return None
