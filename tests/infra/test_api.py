"""The REST API: routes, who may call them, the stage and the gateway's own answers."""

from typing import Any

import pytest
from lxml import etree

from infra import constants
from tests.infra.support import (
    CXML_DTD,
    Route,
    Synthesized,
    routes,
)


def test_cxml_routes_reach_the_cxml_function_without_an_authorizer(stack: Synthesized) -> None:
    cxml = stack.function_id(constants.CXML_HANDLER)
    table = routes(stack)

    assert table[("/cxml/punchout", "POST")] == Route("NONE", cxml)
    assert table[("/cxml/{proxy+}", "ANY")] == Route("NONE", cxml)
    # Every method under /cxml answers with cXML: none falls through to API Gateway's JSON.
    under_cxml = {
        k: v
        for k, v in table.items()
        if k[0].startswith("/cxml") and not k[0].startswith("/cxml/orders")
    }
    assert set(under_cxml.values()) == {Route("NONE", cxml)}


def test_purchase_orders_reach_the_orders_function_without_an_authorizer(
    stack: Synthesized,
) -> None:
    orders = stack.function_id(constants.ORDERS_HANDLER)

    reaching_orders = {k: v for k, v in routes(stack).items() if v.function_id == orders}

    # POST is the order; ANY answers every other method in cXML (no gateway JSON fallback).
    assert reaching_orders == {
        ("/cxml/orders", "POST"): Route("NONE", orders),
        ("/cxml/orders", "ANY"): Route("NONE", orders),
    }


def test_every_admin_method_requires_iam_and_reaches_the_admin_function(
    stack: Synthesized,
) -> None:
    admin = stack.function_id(constants.ADMIN_HANDLER)
    expected = {
        ("/admin/integrations", "GET"),
        ("/admin/integrations", "POST"),
        ("/admin/integrations/{id}", "GET"),
        ("/admin/integrations/{id}", "PATCH"),
        ("/admin/integrations/{id}/secret", "POST"),
        ("/admin/integrations/{id}/disable", "POST"),
        ("/admin/integrations/{id}/enable", "POST"),
        ("/admin/integrations/{id}/orders/{order_id}", "GET"),
        ("/admin/subscriptions/{id}", "GET"),
        ("/admin/products", "GET"),
        ("/admin/products", "POST"),
        ("/admin/products/{id}", "GET"),
        ("/admin/products/{id}", "PATCH"),
        ("/admin/products/{id}", "DELETE"),
        ("/admin/invoices", "GET"),
        ("/admin/invoices/{id}", "GET"),
        ("/admin/invoices/{id}/deliver", "POST"),
        ("/admin/invoices/{id}/credit-memos", "POST"),
        ("/admin/invoices/{id}/cancel", "POST"),
        ("/admin/billing-runs", "POST"),
        ("/admin/accounts", "GET"),
        ("/admin/accounts", "POST"),
        ("/admin/accounts/{id}", "GET"),
        ("/admin/accounts/{id}/users", "POST"),
        ("/admin/accounts/{id}/users/{username}", "DELETE"),
    }

    under_admin = {k: v for k, v in routes(stack).items() if k[0].startswith("/admin")}

    assert set(under_admin) == expected
    assert set(under_admin.values()) == {Route("AWS_IAM", admin)}


def test_health_catalog_and_storefront_routes_reach_the_web_function_without_an_authorizer(
    stack: Synthesized,
) -> None:
    web = stack.function_id(constants.WEB_HANDLER)
    table = routes(stack)
    expected = {
        ("/health", "GET"),
        ("/catalog", "GET"),
        ("/catalog/{proxy+}", "ANY"),
        ("/s/{token}", "GET"),
        ("/s/{token}/{proxy+}", "ANY"),
        ("/subscriptions/{account_id}", "GET"),  # the signed link is the credential
    }

    reaching_web = {k for k, v in table.items() if v.function_id == web}

    assert reaching_web == expected
    assert {table[route] for route in expected} == {Route("NONE", web)}


def test_the_console_routes_reach_the_console_function_alone_without_an_authorizer(
    stack: Synthesized,
) -> None:
    # The Cognito ID token cookie is verified by the function; the storefront's function
    # serves none of the console (its role cannot change integrations or users).
    console = stack.function_id(constants.CONSOLE_HANDLER)
    table = routes(stack)
    expected = {("/console", "ANY"), ("/console/{proxy+}", "ANY")}

    assert {k for k, v in table.items() if v.function_id == console} == expected
    assert {table[route] for route in expected} == {Route("NONE", console)}


def test_open_buy_operations_are_post_only_and_reach_the_open_buy_function(
    stack: Synthesized,
) -> None:
    openbuy = stack.function_id(constants.OPENBUY_HANDLER)
    expected = {
        (f"/openbuy/{operation}/v1.0.0", "POST")
        for operation in ("authentication", "search", "detail", "checkout")
    }

    under_openbuy = {k: v for k, v in routes(stack).items() if k[0].startswith("/openbuy")}

    assert set(under_openbuy) == expected
    # No API Gateway authorizer: Coupa presents the token /openbuy/authentication issued.
    assert set(under_openbuy.values()) == {Route("NONE", openbuy)}


def test_the_seller_apis_are_three_post_routes_requiring_iam_to_the_metering_function(
    stack: Synthesized,
) -> None:
    metering = stack.function_id(constants.METERING_HANDLER)

    reaching_metering = {k: v for k, v in routes(stack).items() if v.function_id == metering}
    under_seller_apis = {
        k: v for k, v in routes(stack).items() if k[0].startswith(("/metering", "/marketplace"))
    }

    # Sellers sign with SigV4, as for AWS Marketplace's BatchMeterUsage, ResolveCustomer and
    # GetEntitlements.
    expected = {
        (path, "POST"): Route("AWS_IAM", metering)
        for path in (
            "/metering/batch-meter-usage",
            "/marketplace/resolve-customer",
            "/marketplace/entitlements",
        )
    }
    assert reaching_metering == expected
    assert under_seller_apis == expected


def test_every_route_is_under_a_known_prefix(stack: Synthesized) -> None:
    prefixes = (
        "/cxml",
        "/admin/",
        "/health",
        "/catalog",
        "/s/",
        "/subscriptions/",
        "/console",
        "/openbuy/",
        "/metering/",
        "/marketplace/",
    )

    assert [path for path, _ in routes(stack) if not path.startswith(prefixes)] == []


def test_api_is_a_rest_api_with_form_posts_as_binary_and_a_logged_traced_throttled_stage(
    stack: Synthesized,
) -> None:
    (api,) = stack.of_type("AWS::ApiGateway::RestApi").values()
    (stage,) = stack.of_type("AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]
    (settings,) = [s for s in properties["MethodSettings"] if s["ResourcePath"] == "/*"]

    assert set(api["Properties"]["BinaryMediaTypes"]) == {
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "text/xml",
        "application/xml",
    }
    assert properties["StageName"] == "prod"
    assert properties["TracingEnabled"] is False  # traces would record /s/<token> URLs
    assert "DestinationArn" in properties["AccessLogSetting"]
    assert "$context.path" not in properties["AccessLogSetting"]["Format"]  # holds tokens
    assert settings["LoggingLevel"] in {"ERROR", "INFO"}
    assert settings["DataTraceEnabled"] is False  # bodies carry shared secrets
    assert settings["ThrottlingRateLimit"] > 0
    assert settings["ThrottlingBurstLimit"] > 0


def _gateway_responses(stack: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in stack.of_type("AWS::ApiGateway::GatewayResponse").values()
    }


@pytest.mark.parametrize(
    ("response_type", "cxml_code"),
    [
        ("DEFAULT_5XX", 500),
        ("INTEGRATION_FAILURE", 500),
        ("INTEGRATION_TIMEOUT", 500),
        ("THROTTLED", 500),
        ("QUOTA_EXCEEDED", 500),
        ("REQUEST_TOO_LARGE", 400),
        ("UNSUPPORTED_MEDIA_TYPE", 406),
    ],
)
def test_gateway_errors_a_cxml_caller_can_meet_are_dtd_valid_cxml(
    stack: Synthesized, response_type: str, cxml_code: int
) -> None:
    response = _gateway_responses(stack)[response_type]

    assert response["ResponseParameters"]["gatewayresponse.header.Content-Type"] == (
        "'text/xml; charset=utf-8'"
    )
    dtd = etree.DTD(str(CXML_DTD))
    for body in response["ResponseTemplates"].values():
        # What API Gateway substitutes at run time (no VTL runs in gateway responses).
        document = body.replace("$context.requestId", "c0ffee00-1234").replace(
            "$context.requestTime", "26/Nov/2025:08:40:00 +0000"
        )
        assert "$" not in document
        root = etree.fromstring(document.encode())
        assert dtd.validate(root), dtd.error_log.filter_from_errors()
        assert root.find("Response/Status").get("code") == str(cxml_code)
        assert f'<Status code="{cxml_code}"' in body


def test_auth_related_gateway_responses_stay_json(stack: Synthesized) -> None:
    overridden = set(_gateway_responses(stack))

    assert overridden.isdisjoint(
        {"MISSING_AUTHENTICATION_TOKEN", "ACCESS_DENIED", "UNAUTHORIZED", "DEFAULT_4XX"}
    )
