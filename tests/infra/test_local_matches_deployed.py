"""The local stack stands in for API Gateway, DynamoDB, S3 and SQS: its routes, binary media
types, tables, keys, indexes, table, bucket and queue variables and its queues' redrive must be
the deployed ones, or `make run` would show behaviour a deployment does not have."""

from __future__ import annotations

import pytest

from infra import constants
from local import aws, events, routes
from tests.infra.support import Synthesized
from tests.infra.support import routes as deployed_routes

HANDLER_OF_MODULE = {
    routes.CXML: constants.CXML_HANDLER,
    routes.ADMIN: constants.ADMIN_HANDLER,
    routes.WEB: constants.WEB_HANDLER,
    routes.CONSOLE: constants.CONSOLE_HANDLER,
    routes.OPENBUY: constants.OPENBUY_HANDLER,
    routes.ORDERS: constants.ORDERS_HANDLER,
    routes.METERING: constants.METERING_HANDLER,
}


def test_local_routes_are_the_deployed_routes(stack: Synthesized) -> None:
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


def _table_variables(stack: Synthesized) -> dict[str, str]:
    """`*_TABLE` variable -> the logical id of the table it names, the same on every function."""
    variables: dict[str, str] = {}
    for function_id, function in stack.of_type("AWS::Lambda::Function").items():
        environment = function["Properties"]["Environment"]["Variables"]
        named = {k: v["Ref"] for k, v in environment.items() if k.endswith("_TABLE")}
        assert variables in ({}, named), function_id
        variables = named
    return variables


def test_every_local_table_variable_is_set_on_every_function(stack: Synthesized) -> None:
    local_variables = {name for name in aws.LOCAL_ENV if name.endswith("_TABLE")}

    for function_id, function in stack.of_type("AWS::Lambda::Function").items():
        environment = function["Properties"]["Environment"]["Variables"]
        deployed_variables = {name for name in environment if name.endswith("_TABLE")}
        assert deployed_variables == local_variables, function_id
    assert set(aws.TABLES) == local_variables


def test_local_tables_and_indexes_are_the_deployed_ones(stack: Synthesized) -> None:
    tables = stack.of_type("AWS::DynamoDB::Table")
    deployed = {}
    for variable, table_id in _table_variables(stack).items():
        properties = tables[table_id]["Properties"]
        table_keys = {k["KeyType"]: k["AttributeName"] for k in properties["KeySchema"]}
        assert table_keys["HASH"] == "pk", variable  # local/aws.py: partition key `pk` everywhere
        indexes = {}
        for index in properties.get("GlobalSecondaryIndexes", []):
            keys = {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]}
            indexes[index["IndexName"]] = (keys["HASH"], keys.get("RANGE"))
        ttl = properties.get("TimeToLiveSpecification", {}).get("AttributeName")
        deployed[variable] = {"ttl": ttl, "indexes": indexes}
        if "RANGE" in table_keys:
            deployed[variable]["range"] = table_keys["RANGE"]
        if "StreamSpecification" in properties:
            # Local tables stream new images (what the email worker reads); so must deployed ones.
            view = properties["StreamSpecification"]["StreamViewType"]
            deployed[variable]["stream"] = view == "NEW_IMAGE"

    assert len(deployed) == len(tables)  # every table is named by a variable
    assert deployed == aws.TABLES


def _is_bucket_or_queue_variable(name: str) -> bool:
    return name == "INVOICE_BUCKET" or name.endswith("_QUEUE_URL")


def test_every_local_bucket_and_queue_variable_is_set_on_every_function(
    stack: Synthesized,
) -> None:
    local_variables = {name for name in aws.LOCAL_ENV if _is_bucket_or_queue_variable(name)}

    assert local_variables == {"INVOICE_BUCKET", *aws.QUEUES}
    for function_id, function in stack.of_type("AWS::Lambda::Function").items():
        environment = function["Properties"]["Environment"]["Variables"]
        deployed_variables = {name for name in environment if _is_bucket_or_queue_variable(name)}
        assert deployed_variables == local_variables, function_id


def test_local_bucket_and_queues_are_the_deployed_ones(stack: Synthesized) -> None:
    """Versioned bucket; each queue redrives to a dead-letter queue after MAX_RECEIVES."""
    (function, *_) = stack.of_type("AWS::Lambda::Function").values()
    environment = function["Properties"]["Environment"]["Variables"]
    bucket = stack.resources[environment["INVOICE_BUCKET"]["Ref"]]
    queues = stack.of_type("AWS::SQS::Queue")

    assert bucket["Type"] == "AWS::S3::Bucket"
    assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    for variable in aws.QUEUES:
        queue = queues[environment[variable]["Ref"]]["Properties"]
        dead_letter_id = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert queue["RedrivePolicy"]["maxReceiveCount"] == aws.MAX_RECEIVES, variable
        assert "RedrivePolicy" not in queues[dead_letter_id]["Properties"], variable


@pytest.mark.parametrize(
    ("method", "path", "resource"),
    [
        ("POST", "/cxml/punchout", "/cxml/punchout"),
        ("GET", "/cxml/punchout", "/cxml/punchout"),
        ("POST", "/cxml/orders", "/cxml/orders"),
        ("GET", "/cxml/orders", "/cxml/orders"),
        ("POST", "/cxml/invoices", "/cxml/{proxy+}"),
        ("GET", "/s/abc", "/s/{token}"),
        ("POST", "/s/abc/cart/return", "/s/{token}/{proxy+}"),
        ("POST", "/admin/integrations/int_1/secret", "/admin/integrations/{id}/secret"),
        ("DELETE", "/admin/products/prod_1", "/admin/products/{id}"),
        ("GET", "/catalog", "/catalog"),
        ("POST", "/catalog/prod_1/request", "/catalog/{proxy+}"),
        ("GET", "/subscriptions/111122223333", "/subscriptions/{account_id}"),
        ("POST", "/openbuy/search/v1.0.0", "/openbuy/search/v1.0.0"),
        ("GET", "/admin/invoices/inv_1", "/admin/invoices/{id}"),
        ("POST", "/admin/invoices/inv_1/deliver", "/admin/invoices/{id}/deliver"),
        ("POST", "/admin/invoices/inv_1/cancel", "/admin/invoices/{id}/cancel"),
        ("POST", "/admin/invoices/inv_1/credit-memos", "/admin/invoices/{id}/credit-memos"),
        ("POST", "/metering/batch-meter-usage", "/metering/batch-meter-usage"),
        ("POST", "/marketplace/entitlements", "/marketplace/entitlements"),
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
    assert routes.match("POST", "/catalog") is None
    assert routes.match("GET", "/openbuy/search/v1.0.0") is None
    assert routes.match("POST", "/subscriptions/111122223333") is None
    assert routes.match("GET", "/subscriptions") is None
