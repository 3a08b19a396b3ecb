"""The local stack stands in for API Gateway: its routes and binary media types must be the
deployed ones, or `make run` would show behaviour a deployment does not have."""

from __future__ import annotations

import pytest

from infra import constants
from local import events, routes
from tests.infra.test_stack import Synthesized, built_layer, stack  # noqa: F401 (fixtures)
from tests.infra.test_stack import routes as deployed_routes

HANDLER_OF_MODULE = {
    routes.CXML: constants.CXML_HANDLER,
    routes.ADMIN: constants.ADMIN_HANDLER,
    routes.WEB: constants.WEB_HANDLER,
}


def test_local_routes_are_the_deployed_routes(stack: Synthesized) -> None:  # noqa: F811
    deployed = {
        (path, method): route.function_id
        for (path, method), route in deployed_routes(stack).items()
    }
    local = {
        (path, method): stack.function_id(HANDLER_OF_MODULE[module])
        for method, path, module in routes.ROUTES
    }
    assert local == deployed


def test_local_binary_media_types_are_the_deployed_ones() -> None:
    assert set(events.BINARY_MEDIA_TYPES) == set(constants.BINARY_MEDIA_TYPES)


@pytest.mark.parametrize(
    ("method", "path", "resource"),
    [
        ("POST", "/cxml/punchout", "/cxml/punchout"),
        ("GET", "/cxml/punchout", "/cxml/punchout"),
        ("POST", "/cxml/orders", "/cxml/{proxy+}"),
        ("GET", "/s/abc", "/s/{token}"),
        ("POST", "/s/abc/cart/return", "/s/{token}/{proxy+}"),
        ("POST", "/admin/integrations/int_1/secret", "/admin/integrations/{id}/secret"),
    ],
)
def test_local_matching_follows_api_gateway_precedence(
    method: str, path: str, resource: str
) -> None:
    found = routes.match(method, path)
    assert found is not None and found.resource == resource


def test_unrouted_paths_and_methods_do_not_match() -> None:
    assert routes.match("DELETE", "/admin/integrations") is None
    assert routes.match("GET", "/nowhere") is None
