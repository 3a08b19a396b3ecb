"""The Lambda functions: runtime, limits, environment, asset, layer, SnapStart."""

import json
from pathlib import Path

import pytest

from app import unbuilt_artifacts
from infra import artifacts, constants
from tests.infra.support import (
    EMAIL_SENDER,
    FUNCTION_HANDLERS,
    QUEUE_OF_VARIABLE,
    TABLE_OF_VARIABLE,
    Synthesized,
)


@pytest.mark.parametrize(
    ("handler", "timeout", "extra_environment"),
    [
        (constants.CXML_HANDLER, 25, {"ARIBA_SECRET_ARN"}),
        # API Gateway cuts at 29 s: 25 s leaves it time to answer a cXML 500 itself.
        (constants.ORDERS_HANDLER, 25, {"ARIBA_SECRET_ARN"}),
        (constants.ADMIN_HANDLER, 10, {"ADMIN_AUTH", "INVOICE_SECRET_KEY", "CONSOLE_USER_POOL_ID"}),
        (constants.WEB_HANDLER, 10, set()),
        (
            constants.CONSOLE_HANDLER,
            10,
            {"CONSOLE_USER_POOL_ID", "CONSOLE_CLIENT_ID", "INVOICE_SECRET_KEY"},
        ),
        (constants.OPENBUY_HANDLER, 10, set()),
        (constants.EMAIL_HANDLER, 30, {"EVENT_BUS_NAME"}),  # seller events' bus
        (constants.METERING_HANDLER, 25, set()),
        (constants.BILLING_HANDLER, 60, set()),
        (constants.BILLING_SCHEDULE_HANDLER, 10, set()),
        (constants.DELIVERY_HANDLER, 60, {"INVOICE_SECRET_KEY", "ARIBA_SECRET_ARN"}),
    ],
)
def test_functions_run_the_one_python_version_with_their_handler_limits_and_environment(
    stack: Synthesized, handler: str, timeout: int, extra_environment: set[str]
) -> None:
    properties = stack.resources[stack.function_id(handler)]["Properties"]
    environment = properties["Environment"]["Variables"]
    (layer_id,) = stack.of_type("AWS::Lambda::LayerVersion")

    assert properties["Runtime"] == f"python{constants.LAMBDA_PYTHON_VERSION}" == "python3.13"
    assert properties["Architectures"] == [constants.LAMBDA_ARCHITECTURE] == ["arm64"]
    assert properties["MemorySize"] == 512
    assert properties["Timeout"] == timeout
    assert properties.get("TracingConfig", {}).get("Mode") != "Active"  # no X-Ray: README
    assert properties["LoggingConfig"]["LogFormat"] == "JSON"
    assert properties["LoggingConfig"]["ApplicationLogLevel"] == "INFO"  # the default
    assert properties["LoggingConfig"]["SystemLogLevel"] == "WARN"
    assert "VpcConfig" not in properties  # the delivery worker posts to buyers on the internet
    assert properties["Layers"] == [{"Ref": layer_id}]
    assert set(environment) == {
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "LOG_LEVEL",
        "INTEGRATIONS_TABLE",
        "SESSIONS_TABLE",
        "PRODUCTS_TABLE",
        "REQUESTS_TABLE",
        "ORDERS_TABLE",
        "SUBSCRIPTIONS_TABLE",
        "OUTBOX_TABLE",
        "USAGE_TABLE",
        "INVOICES_TABLE",
        "ACTIVITY_TABLE",
        "INVOICE_BUCKET",
        "BILLING_QUEUE_URL",
        "DELIVERY_QUEUE_URL",
        "SESSION_TTL_SECONDS",
        "EMAIL_SENDER",
        "LINK_KEY_SECRET_ARN",
        *extra_environment,
    }
    assert environment["POWERTOOLS_SERVICE_NAME"] == "procurement-gateway"
    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "ProcurementGateway"
    assert environment["LOG_LEVEL"] == "INFO"
    assert environment["SESSION_TTL_SECONDS"] == "3600"
    assert environment["EMAIL_SENDER"] == "marketplace@example.com"  # the default
    assert environment["LINK_KEY_SECRET_ARN"] == {
        "Ref": stack.logical_id("AWS::SecretsManager::Secret", "LinkSigningKey")
    }
    for variable, table_id in TABLE_OF_VARIABLE.items():
        assert environment[variable] == {"Ref": stack.logical_id("AWS::DynamoDB::Table", table_id)}
    for variable, queue_id in QUEUE_OF_VARIABLE.items():  # a queue's Ref is its URL
        assert environment[variable] == {"Ref": stack.logical_id("AWS::SQS::Queue", queue_id)}
    assert environment["INVOICE_BUCKET"] == {
        "Ref": stack.logical_id("AWS::S3::Bucket", "InvoiceBucket")
    }
    if "ADMIN_AUTH" in environment:
        assert environment["ADMIN_AUTH"] == "iam"
    if "ARIBA_SECRET_ARN" in environment:
        assert environment["ARIBA_SECRET_ARN"] == {
            "Ref": stack.logical_id("AWS::SecretsManager::Secret", "AribaSharedSecret")
        }
    retention = stack.resources[properties["LoggingConfig"]["LogGroup"]["Ref"]]
    assert retention["Properties"]["RetentionInDays"] > 0


def test_custom_domain_sets_public_base_url_and_the_punchout_and_order_urls(
    variant: Synthesized,
) -> None:
    functions = variant.of_type("AWS::Lambda::Function")
    for function in functions.values():
        environment = function["Properties"]["Environment"]["Variables"]
        assert environment["PUBLIC_BASE_URL"] == "https://punchout.example.com"
    assert len(functions) == len(FUNCTION_HANDLERS) == 12
    outputs = variant.template["Outputs"]
    assert outputs["PunchoutUrl"]["Value"] == "https://punchout.example.com/cxml/punchout"
    assert outputs["OrdersUrl"]["Value"] == "https://punchout.example.com/cxml/orders"


def test_email_sender_context_sets_the_sender_everywhere_it_is_used(
    variant: Synthesized,
) -> None:
    (identity,) = variant.of_type("AWS::SES::EmailIdentity").values()

    assert identity["Properties"]["EmailIdentity"] == EMAIL_SENDER
    for function in variant.of_type("AWS::Lambda::Function").values():
        assert function["Properties"]["Environment"]["Variables"]["EMAIL_SENDER"] == EMAIL_SENDER


def _asset_dir(stack: Synthesized, s3_key: str) -> Path:
    manifest = json.loads((stack.assembly_dir / f"{constants.STACK_NAME}.assets.json").read_text())
    asset = manifest["files"][s3_key.removesuffix(".zip")]
    return stack.assembly_dir / str(asset["source"]["path"])


def test_function_asset_is_the_functions_package_with_its_bytecode(stack: Synthesized) -> None:
    keys = {
        f["Properties"]["Code"]["S3Key"] for f in stack.of_type("AWS::Lambda::Function").values()
    }
    (key,) = keys  # one asset shared by the ten functions

    asset = _asset_dir(stack, key)

    assert [p.name for p in asset.iterdir()] == ["functions"]
    assert (asset / "functions" / "__init__.py").is_file()
    assert artifacts.missing_bytecode(asset, constants.LAMBDA_PYTHON_VERSION) == []


def test_without_a_built_asset_the_source_tree_ships_without_bytecode_and_a_warning(
    variant: Synthesized,
) -> None:
    (key,) = {
        f["Properties"]["Code"]["S3Key"] for f in variant.of_type("AWS::Lambda::Function").values()
    }
    asset = _asset_dir(variant, key)

    assert [p.name for p in asset.iterdir()] == ["functions"]
    assert not list(asset.rglob("*.pyc"))
    assert any("function asset" in w for w in _warnings(variant))


def test_app_refuses_a_placeholder_layer_or_asset_and_accepts_built_ones(
    stack: Synthesized, variant: Synthesized
) -> None:
    assert unbuilt_artifacts(stack.assembly) == []
    unbuilt = unbuilt_artifacts(variant.assembly)
    assert len(unbuilt) == 2
    assert all("make layer" in message for message in unbuilt)


def test_layer_comes_from_the_layer_dir_context(stack: Synthesized) -> None:
    (layer,) = stack.of_type("AWS::Lambda::LayerVersion").values()

    asset = _asset_dir(stack, layer["Properties"]["Content"]["S3Key"])

    assert (asset / "python" / "marker.py").is_file()
    assert layer["Properties"]["CompatibleRuntimes"] == [f"python{constants.LAMBDA_PYTHON_VERSION}"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_missing_layer_dir_synthesizes_an_empty_placeholder_with_a_warning(
    variant: Synthesized,
) -> None:
    (layer,) = variant.of_type("AWS::Lambda::LayerVersion").values()
    asset = _asset_dir(variant, layer["Properties"]["Content"]["S3Key"])

    assert not [p for p in asset.rglob("*") if p.is_file()]
    assert any("dependency layer" in warning for warning in _warnings(variant))


def _warnings(synthesized: Synthesized) -> list[str]:
    metadata = json.loads(
        (synthesized.assembly_dir / f"{constants.STACK_NAME}.metadata.json").read_text()
    )
    return [
        str(entry["data"])
        for entries in metadata.values()
        for entry in entries
        if entry["type"] == "aws:cdk:warning"
    ]


SNAP_STARTED = (constants.CXML_HANDLER, constants.WEB_HANDLER, constants.ORDERS_HANDLER)


def test_buyer_facing_functions_snap_start_and_api_gateway_invokes_their_live_alias(
    stack: Synthesized,
) -> None:
    aliases = stack.of_type("AWS::Lambda::Alias")
    versions = stack.of_type("AWS::Lambda::Version")
    alias_of = {a["Properties"]["FunctionName"]["Ref"]: (i, a) for i, a in aliases.items()}
    integration_uris = [
        json.dumps(m["Properties"]["Integration"]["Uri"])
        for m in stack.of_type("AWS::ApiGateway::Method").values()
    ]

    for handler in FUNCTION_HANDLERS:
        function_id = stack.function_id(handler)
        properties = stack.resources[function_id]["Properties"]
        if handler not in SNAP_STARTED:
            assert "SnapStart" not in properties, handler
            assert function_id not in alias_of, handler
            continue
        assert properties["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        alias_id, alias = alias_of[function_id]
        assert alias["Properties"]["Name"] == "live"
        version_id = alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
        assert versions[version_id]["Properties"]["FunctionName"] == {"Ref": function_id}
        # every route of the function goes through the alias, never the unpublished $LATEST
        through_alias = [uri for uri in integration_uris if f'"{alias_id}"' in uri]
        direct = [uri for uri in integration_uris if f'"{function_id}"' in uri]
        assert through_alias and not direct, handler
