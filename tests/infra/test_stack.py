"""The CDK app, synthesized offline: what a deployment would expose, protect and allow.

Synthesis is slow (a Node.js process behind jsii), so the module synthesizes twice in all: the
app as `python app.py` builds it, and one variant (custom domain, missing layer, a deliberately
unacknowledged cdk-nag finding) for the tests that need other inputs.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack, cx_api
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Template
from lxml import etree

from app import build_app, unbuilt_artifacts
from functions import contracts, metric_names
from infra import artifacts, constants
from infra.compliance import unacknowledged_findings

# Let the tests read cdk-nag findings from the report instead of synth() raising on them.
REPORT_ONLY = {"@aws-cdk/core:failSynthOnValidationErrors": False}
CXML_DTD = constants.REPO_ROOT / "tests" / "dtd" / "1.2.071" / "cXML.dtd"
PUBLIC_BASE_URL = "https://punchout.example.com/"

WRITE_ACTIONS = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
}

TABLE_OF_VARIABLE = {
    "INTEGRATIONS_TABLE": "IntegrationsTable",
    "SESSIONS_TABLE": "SessionsTable",
    "PRODUCTS_TABLE": "ProductsTable",
    "REQUESTS_TABLE": "RequestsTable",
    "ORDERS_TABLE": "OrdersTable",
    "SUBSCRIPTIONS_TABLE": "SubscriptionsTable",
    "OUTBOX_TABLE": "OutboxTable",
    "USAGE_TABLE": "UsageTable",
    "INVOICES_TABLE": "InvoicesTable",
}
QUEUE_OF_VARIABLE = {
    "BILLING_QUEUE_URL": "BillingQueue",
    "DELIVERY_QUEUE_URL": "DeliveryQueue",
}
DEAD_LETTER_QUEUES = (
    "EmailDeadLetters",
    "BillingQueueDeadLetters",
    "DeliveryQueueDeadLetters",
    "ContractInvoiceDeadLetters",
)
BUCKETS = ("InvoiceBucket", "AccessLogBucket")
FUNCTION_HANDLERS = (
    constants.CXML_HANDLER,
    constants.ORDERS_HANDLER,
    constants.ADMIN_HANDLER,
    constants.WEB_HANDLER,
    constants.OPENBUY_HANDLER,
    constants.EMAIL_HANDLER,
    constants.METERING_HANDLER,
    constants.BILLING_HANDLER,
    constants.BILLING_SCHEDULE_HANDLER,
    constants.DELIVERY_HANDLER,
)
EMAIL_SENDER = "orders@marketplace.example"
ALARM_EMAIL = "oncall@marketplace.example"

Resources = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Synthesized:
    template: dict[str, Any]
    assembly_dir: Path
    assembly: cx_api.CloudAssembly

    @property
    def resources(self) -> Resources:
        resources: Resources = self.template["Resources"]
        return resources

    def assertions(self) -> Template:
        return Template.from_json(self.template)

    def of_type(self, resource_type: str) -> Resources:
        return {k: r for k, r in self.resources.items() if r["Type"] == resource_type}

    def logical_id(self, resource_type: str, construct_id: str) -> str:
        """The logical id CDK derived from a construct id (ids are prefixed by their scopes)."""
        pattern = re.compile(rf"{construct_id}[0-9A-F]{{8}}$")
        (match,) = [k for k in self.of_type(resource_type) if pattern.search(k)]
        return match

    def function_id(self, handler: str) -> str:
        (match,) = [
            k
            for k, r in self.of_type("AWS::Lambda::Function").items()
            if r["Properties"]["Handler"] == handler
        ]
        return match


def synthesize(outdir: Path, context: dict[str, Any], canary: bool = False) -> Synthesized:
    app = build_app(outdir=str(outdir), context={**REPORT_ONLY, **context})
    if canary:
        # A secret nobody acknowledged: cdk-nag must report AwsSolutions-SMG4 on it.
        stack = app.node.find_child(constants.STACK_NAME)
        assert isinstance(stack, Stack)
        secretsmanager.Secret(stack, "NagCanary")
    assembly = app.synth()
    artifact = assembly.get_stack_by_name(constants.STACK_NAME)
    return Synthesized(
        template=artifact.template, assembly_dir=Path(assembly.directory), assembly=assembly
    )


@pytest.fixture(scope="module")
def built_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layer = tmp_path_factory.mktemp("layer")
    (layer / "python").mkdir()
    (layer / "python" / "marker.py").write_text("# a stand-in for make layer's output\n")
    return layer


@pytest.fixture(scope="module")
def built_asset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    asset = tmp_path_factory.mktemp("asset")
    artifacts.build_asset(
        source=constants.REPO_ROOT / constants.FUNCTIONS_PACKAGE,
        target=asset,
        version=constants.LAMBDA_PYTHON_VERSION,
    )
    return asset


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, built_layer: Path, built_asset: Path
) -> Synthesized:
    return synthesize(
        tmp_path_factory.mktemp("cdk.out"),
        {"layerDir": str(built_layer), "assetDir": str(built_asset)},
    )


@pytest.fixture(scope="module")
def variant(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(
        tmp_path_factory.mktemp("cdk.out-variant"),
        {
            "publicBaseUrl": PUBLIC_BASE_URL,
            "layerDir": "does/not/exist",
            "assetDir": "does/not/exist/either",
            "emailSender": EMAIL_SENDER,
            "alarmEmail": ALARM_EMAIL,
            "logLevel": "debug",
        },
        canary=True,
    )


# --- routes and authorization -------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    authorization: str
    function_id: str


def routes(stack: Synthesized) -> dict[tuple[str, str], Route]:
    """(path, method) -> who may call it and which function answers."""
    api_resources = stack.of_type("AWS::ApiGateway::Resource")

    def path_of(resource_id: str) -> str:
        properties = api_resources[resource_id]["Properties"]
        parent = properties["ParentId"]
        prefix = "" if "Fn::GetAtt" in parent else path_of(parent["Ref"])
        return f"{prefix}/{properties['PathPart']}"

    # A SnapStart function is invoked through its alias: the route answers with the function.
    functions = {f: f for f in stack.of_type("AWS::Lambda::Function")}
    for alias_id, alias in stack.of_type("AWS::Lambda::Alias").items():
        functions[alias_id] = alias["Properties"]["FunctionName"]["Ref"]
    table = {}
    for method in stack.of_type("AWS::ApiGateway::Method").values():
        properties = method["Properties"]
        uri = json.dumps(properties["Integration"]["Uri"])
        (function_id,) = [f for target, f in functions.items() if f'"{target}"' in uri]
        key = (path_of(properties["ResourceId"]["Ref"]), properties["HttpMethod"])
        table[key] = Route(properties["AuthorizationType"], function_id)
    return table


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
        ("/admin/products", "GET"),
        ("/admin/products", "POST"),
        ("/admin/products/{id}", "GET"),
        ("/admin/products/{id}", "PATCH"),
        ("/admin/products/{id}", "DELETE"),
        ("/admin/invoices", "GET"),
        ("/admin/invoices/{id}", "GET"),
        ("/admin/invoices/{id}/deliver", "POST"),
        ("/admin/billing-runs", "POST"),
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


def test_metering_is_one_post_route_requiring_iam_to_the_metering_function(
    stack: Synthesized,
) -> None:
    metering = stack.function_id(constants.METERING_HANDLER)

    reaching_metering = {k: v for k, v in routes(stack).items() if v.function_id == metering}
    under_metering = {k: v for k, v in routes(stack).items() if k[0].startswith("/metering")}

    # Sellers sign with SigV4, as for AWS Marketplace's BatchMeterUsage.
    expected = {("/metering/batch-meter-usage", "POST"): Route("AWS_IAM", metering)}
    assert reaching_metering == expected
    assert under_metering == expected


def test_every_route_is_under_a_known_prefix(stack: Synthesized) -> None:
    prefixes = (
        "/cxml",
        "/admin/",
        "/health",
        "/catalog",
        "/s/",
        "/subscriptions/",
        "/openbuy/",
        "/metering/",
    )

    assert [path for path, _ in routes(stack) if not path.startswith(prefixes)] == []


# --- API stage and gateway responses ------------------------------------------------------


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


# --- data ---------------------------------------------------------------------------------


def test_every_table_is_encrypted_recoverable_on_demand_protected_and_retained(
    stack: Synthesized,
) -> None:
    template = stack.assertions()

    template.resource_count_is("AWS::DynamoDB::Table", 9)
    template.all_resources_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": {"SSEEnabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "DeletionProtectionEnabled": True,
        },
    )
    template.all_resources(
        "AWS::DynamoDB::Table", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    )


def test_every_table_is_keyed_by_pk_and_only_usage_has_a_sort_key(stack: Synthesized) -> None:
    key_schemas = {
        table_id: table["Properties"]["KeySchema"]
        for table_id, table in stack.of_type("AWS::DynamoDB::Table").items()
    }
    pk = {"AttributeName": "pk", "KeyType": "HASH"}
    usage = stack.logical_id("AWS::DynamoDB::Table", "UsageTable")

    assert key_schemas.pop(usage) == [pk, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert set(map(json.dumps, key_schemas.values())) == {json.dumps([pk])}
    usage_attributes = stack.resources[usage]["Properties"]["AttributeDefinitions"]
    assert {"AttributeName": "sk", "AttributeType": "S"} in usage_attributes


def test_only_sessions_outbox_and_waiting_requests_expire_through_ttl_on_expires_at(
    stack: Synthesized,
) -> None:
    expiring = {
        table_id: table["Properties"]["TimeToLiveSpecification"]
        for table_id, table in stack.of_type("AWS::DynamoDB::Table").items()
        if "TimeToLiveSpecification" in table["Properties"]
    }

    assert expiring == {
        stack.logical_id("AWS::DynamoDB::Table", table_id): {
            "AttributeName": "expires_at",
            "Enabled": True,
        }
        for table_id in ("SessionsTable", "OutboxTable", "RequestsTable")
    }


def test_only_the_outbox_has_a_stream_and_it_carries_new_images(stack: Synthesized) -> None:
    streams = {
        table_id: table["Properties"]["StreamSpecification"]
        for table_id, table in stack.of_type("AWS::DynamoDB::Table").items()
        if "StreamSpecification" in table["Properties"]
    }

    assert streams == {
        stack.logical_id("AWS::DynamoDB::Table", "OutboxTable"): {"StreamViewType": "NEW_IMAGE"}
    }


def test_global_secondary_indexes_project_everything_on_string_keys(stack: Synthesized) -> None:
    indexes = {}
    for table_id, table in stack.of_type("AWS::DynamoDB::Table").items():
        properties = table["Properties"]
        key_types = {
            a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]
        }
        for index in properties.get("GlobalSecondaryIndexes", []):
            keys = {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]}
            indexes[(table_id, index["IndexName"])] = (keys["HASH"], keys.get("RANGE"))
            assert index["Projection"] == {"ProjectionType": "ALL"}
            assert {key_types[k["AttributeName"]] for k in index["KeySchema"]} == {"S"}

    table = {t: stack.logical_id("AWS::DynamoDB::Table", t) for t in TABLE_OF_VARIABLE.values()}
    assert indexes == {
        (table["IntegrationsTable"], "by-account"): ("account_key", None),
        (table["ProductsTable"], "catalog"): ("catalog", "name_key"),
        (table["RequestsTable"], "awaiting-punchout"): ("awaiting_integration", "created_at"),
        (table["SubscriptionsTable"], "by-account"): ("account_id", "created_at"),
        (table["SubscriptionsTable"], "billable"): ("billing_shard", "created_at"),
        (table["SubscriptionsTable"], "by-account-product"): ("account_product", "created_at"),
        (table["InvoicesTable"], "by-integration"): ("integration_id", "period_key"),
        (table["InvoicesTable"], "by-subscription"): ("subscription_id", "period_key"),
    }


def _bucket(stack: Synthesized, construct_id: str) -> dict[str, Any]:
    return stack.resources[stack.logical_id("AWS::S3::Bucket", construct_id)]


def _bucket_policy(stack: Synthesized, construct_id: str) -> list[dict[str, Any]]:
    bucket_id = stack.logical_id("AWS::S3::Bucket", construct_id)
    (policy,) = [
        p["Properties"]
        for p in stack.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    statements: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return statements


@pytest.mark.parametrize("construct_id", BUCKETS)
def test_buckets_are_private_encrypted_ssl_only_and_retained(
    stack: Synthesized, construct_id: str
) -> None:
    bucket = _bucket(stack, construct_id)
    properties = bucket["Properties"]
    bucket_id = stack.logical_id("AWS::S3::Bucket", construct_id)
    statements = _bucket_policy(stack, construct_id)

    assert len(stack.of_type("AWS::S3::Bucket")) == len(BUCKETS)
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    # SSE-S3: what S3 server access logging can deliver to, and enough for the invoices.
    assert properties["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    }
    assert properties["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"
    ssl_only = [
        s
        for s in statements
        if s["Effect"] == "Deny"
        and s["Principal"] == {"AWS": "*"}
        and s["Action"] == "s3:*"
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(ssl_only) == 1
    assert {"Fn::GetAtt": [bucket_id, "Arn"]} in ssl_only[0]["Resource"]


def test_invoice_bucket_is_versioned_logs_its_access_and_expires_only_overwritten_versions(
    stack: Synthesized,
) -> None:
    properties = _bucket(stack, "InvoiceBucket")["Properties"]
    log_bucket = stack.logical_id("AWS::S3::Bucket", "AccessLogBucket")
    (rule,) = properties["LifecycleConfiguration"]["Rules"]

    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": log_bucket}
    # Current invoices never expire; an overwritten one stays recoverable for a while.
    assert rule["Status"] == "Enabled"
    assert set(rule) == {"Id", "Status", "NoncurrentVersionExpiration"}
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] >= 30


def test_access_log_bucket_takes_logs_only_from_the_invoice_bucket_and_expires_them(
    stack: Synthesized,
) -> None:
    properties = _bucket(stack, "AccessLogBucket")["Properties"]
    invoice_bucket = stack.logical_id("AWS::S3::Bucket", "InvoiceBucket")
    (allow,) = [s for s in _bucket_policy(stack, "AccessLogBucket") if s["Effect"] == "Allow"]
    (rule,) = properties["LifecycleConfiguration"]["Rules"]

    assert "LoggingConfiguration" not in properties  # logging the logs would never end
    assert allow["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert allow["Action"] == "s3:PutObject"
    assert allow["Condition"]["ArnLike"] == {
        "aws:SourceArn": {"Fn::GetAtt": [invoice_bucket, "Arn"]}
    }
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert rule["Status"] == "Enabled" and rule["ExpirationInDays"] > 0


def test_ariba_secret_is_generated_without_punctuation_and_retained(stack: Synthesized) -> None:
    secret = stack.resources[stack.logical_id("AWS::SecretsManager::Secret", "AribaSharedSecret")]
    generator = secret["Properties"]["GenerateSecretString"]

    assert generator["ExcludePunctuation"] is True
    assert generator["PasswordLength"] >= 32
    assert secret["DeletionPolicy"] == "Retain"


def test_link_signing_key_is_64_generated_characters_without_punctuation_and_retained(
    stack: Synthesized,
) -> None:
    secret = stack.resources[stack.logical_id("AWS::SecretsManager::Secret", "LinkSigningKey")]
    generator = secret["Properties"]["GenerateSecretString"]

    assert generator["ExcludePunctuation"] is True
    assert generator["PasswordLength"] == 64
    assert secret["DeletionPolicy"] == "Retain"
    # Not rotated on a schedule: rotating would break every link already mailed.
    assert not stack.of_type("AWS::SecretsManager::RotationSchedule")


# --- functions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handler", "timeout", "extra_environment"),
    [
        (constants.CXML_HANDLER, 25, {"ARIBA_SECRET_ARN"}),
        # API Gateway cuts at 29 s: 25 s leaves it time to answer a cXML 500 itself.
        (constants.ORDERS_HANDLER, 25, {"ARIBA_SECRET_ARN"}),
        (constants.ADMIN_HANDLER, 10, {"ADMIN_AUTH"}),
        (constants.WEB_HANDLER, 10, set()),
        (constants.OPENBUY_HANDLER, 10, set()),
        (constants.EMAIL_HANDLER, 30, set()),
        (constants.METERING_HANDLER, 25, set()),
        (constants.BILLING_HANDLER, 60, set()),
        (constants.BILLING_SCHEDULE_HANDLER, 10, set()),
        (constants.DELIVERY_HANDLER, 60, set()),
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
    assert len(functions) == 10
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


# --- least privilege ----------------------------------------------------------------------


def _statements(stack: Synthesized) -> list[dict[str, Any]]:
    statements = []
    for policy in stack.of_type("AWS::IAM::Policy").values():
        statements += policy["Properties"]["PolicyDocument"]["Statement"]
    for role in stack.of_type("AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            statements += policy["PolicyDocument"]["Statement"]
    return statements


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def _allowed(stack: Synthesized, handler: str, resource_id: str) -> set[str]:
    """Actions a function's role may perform on the resource with logical id `resource_id`."""
    role_arn = stack.resources[stack.function_id(handler)]["Properties"]["Role"]
    role_ref = {"Ref": role_arn["Fn::GetAtt"][0]}
    allowed: set[str] = set()
    for policy in stack.of_type("AWS::IAM::Policy").values():
        if role_ref not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow" and (
                f'"{resource_id}"' in json.dumps(statement["Resource"])
                or statement["Resource"] == "*"
            ):
                allowed.update(_actions(statement))
    return allowed


def test_no_policy_grants_wildcard_actions(stack: Synthesized) -> None:
    actions = [action for statement in _statements(stack) for action in _actions(statement)]

    assert actions
    assert [a for a in actions if a == "*" or a.endswith(":*")] == []


def test_cxml_function_reads_integrations_writes_only_sessions_and_reads_the_secret(
    stack: Synthesized,
) -> None:
    integrations = stack.logical_id("AWS::DynamoDB::Table", "IntegrationsTable")
    sessions = stack.logical_id("AWS::DynamoDB::Table", "SessionsTable")
    secret = stack.logical_id("AWS::SecretsManager::Secret", "AribaSharedSecret")
    on_integrations = _allowed(stack, constants.CXML_HANDLER, integrations)

    assert {a for a in on_integrations if a.startswith("dynamodb:")} == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
    }
    assert on_integrations.isdisjoint(WRITE_ACTIONS)
    assert {
        a for a in _allowed(stack, constants.CXML_HANDLER, sessions) if a.startswith("dynamodb:")
    } == {"dynamodb:PutItem"}
    assert "secretsmanager:GetSecretValue" in _allowed(stack, constants.CXML_HANDLER, secret)


def _resource_name(resource: Any) -> str:
    """`*`, a logical id (from `Ref` or `Fn::GetAtt`), `<logical id>/index/<index name>`, or
    `<logical id>/stream` (a table's stream)."""
    if isinstance(resource, str):
        return resource
    if "Ref" in resource:
        return str(resource["Ref"])
    if "Fn::GetAtt" in resource:
        logical_id, attribute = resource["Fn::GetAtt"]
        return f"{logical_id}/stream" if attribute == "StreamArn" else str(logical_id)
    if "Fn::Join" in resource:
        _, parts = resource["Fn::Join"]
        return "".join(_resource_name(part) for part in parts)
    raise AssertionError(f"unexpected policy resource {resource}")


def _construct_ids(stack: Synthesized) -> dict[str, str]:
    """Logical id -> construct id of every table, queue and bucket."""
    named = [
        *(("AWS::DynamoDB::Table", table_id) for table_id in TABLE_OF_VARIABLE.values()),
        *(("AWS::SQS::Queue", queue_id) for queue_id in QUEUE_OF_VARIABLE.values()),
        *(("AWS::SQS::Queue", queue_id) for queue_id in DEAD_LETTER_QUEUES),
        *(("AWS::S3::Bucket", bucket_id) for bucket_id in BUCKETS),
    ]
    return {stack.logical_id(kind, construct_id): construct_id for kind, construct_id in named}


def _grants(stack: Synthesized, handler: str, service: str) -> dict[str, set[str]]:
    """What a function may do in one service (`dynamodb`, `sqs`, `s3`): `Table`,
    `Table/index/<name>`, `Table/stream`, `Queue`, `Bucket/<key pattern>` or `*` -> actions."""
    construct_of = _construct_ids(stack)
    role_arn = stack.resources[stack.function_id(handler)]["Properties"]["Role"]
    role_ref = {"Ref": role_arn["Fn::GetAtt"][0]}
    grants: dict[str, set[str]] = {}
    for policy in stack.of_type("AWS::IAM::Policy").values():
        if role_ref not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = {a for a in _actions(statement) if a.startswith(f"{service}:")}
            resources = statement["Resource"]
            for resource in resources if isinstance(resources, list) else [resources]:
                if actions and statement["Effect"] == "Allow":
                    name = _resource_name(resource)
                    table_id, _, index = name.partition("/")
                    key = construct_of.get(table_id, table_id) + (f"/{index}" if index else "")
                    grants.setdefault(key, set()).update(actions)
    return grants


def _dynamodb_grants(stack: Synthesized, handler: str) -> dict[str, set[str]]:
    return _grants(stack, handler, "dynamodb")


READ_ITEMS = {"dynamodb:GetItem", "dynamodb:BatchGetItem"}
ADMIN_ITEMS = READ_ITEMS | {
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
}
QUERY = {"dynamodb:Query"}
# One TransactWriteItems: each item is authorized as its Put, Update or ConditionCheck.
TRANSACT = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}
STREAM_READ = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (
            constants.CXML_HANDLER,
            {"IntegrationsTable": READ_ITEMS, "SessionsTable": {"dynamodb:PutItem"}},
        ),
        (
            constants.ORDERS_HANDLER,
            {
                "IntegrationsTable": READ_ITEMS,
                "RequestsTable": READ_ITEMS | TRANSACT,
                "SubscriptionsTable": READ_ITEMS | TRANSACT,
                "OrdersTable": READ_ITEMS | TRANSACT,
                "OutboxTable": TRANSACT,
            },
        ),
        (
            constants.ADMIN_HANDLER,
            {
                "IntegrationsTable": ADMIN_ITEMS,
                "IntegrationsTable/index/by-account": QUERY,
                "ProductsTable": ADMIN_ITEMS,
                "ProductsTable/index/catalog": QUERY,
                # Invoices are listed and read; a re-delivery resets the state, then queues.
                "InvoicesTable": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
                "InvoicesTable/index/by-integration": QUERY,
                "InvoicesTable/index/by-subscription": QUERY,
            },
        ),
        (
            constants.WEB_HANDLER,
            {
                "SessionsTable": READ_ITEMS,
                "IntegrationsTable": READ_ITEMS,
                "IntegrationsTable/index/by-account": QUERY,
                "ProductsTable": READ_ITEMS,
                "ProductsTable/index/catalog": QUERY,
                "RequestsTable": READ_ITEMS | {"dynamodb:PutItem"},
                "RequestsTable/index/awaiting-punchout": QUERY,
                # Pre-approved offers: request, subscription and mail in one transaction of puts.
                "SubscriptionsTable": {"dynamodb:GetItem", "dynamodb:PutItem"},
                "SubscriptionsTable/index/by-account": QUERY,
                "OutboxTable": {"dynamodb:PutItem"},
                "UsageTable": READ_ITEMS,  # usage so far against the approved budget
            },
        ),
        (
            constants.OPENBUY_HANDLER,
            {
                "IntegrationsTable": READ_ITEMS,
                "ProductsTable": READ_ITEMS,
                "ProductsTable/index/catalog": QUERY,
                "SessionsTable": {"dynamodb:PutItem", "dynamodb:GetItem"},
            },
        ),
        (
            constants.EMAIL_HANDLER,
            {
                "OutboxTable": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
                "OutboxTable/stream": STREAM_READ,
                "*": {"dynamodb:ListStreams"},  # CDK's stream grant; lists ARNs, reads nothing
            },
        ),
        (
            constants.METERING_HANDLER,
            {
                "ProductsTable": {"dynamodb:GetItem"},
                # the customer's subscriptions to the product
                "SubscriptionsTable/index/by-account-product": QUERY,
                # Hourly record and totals in one TransactWriteItems.
                "UsageTable": {"dynamodb:GetItem"} | TRANSACT,
            },
        ),
        (
            constants.BILLING_HANDLER,
            {
                "SubscriptionsTable": READ_ITEMS,
                "SubscriptionsTable/index/billable": QUERY,
                "UsageTable": READ_ITEMS,
                "IntegrationsTable": READ_ITEMS,
                "InvoicesTable": {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:BatchGetItem"},
                "OutboxTable/stream": STREAM_READ,  # contract invoices
                "*": {"dynamodb:ListStreams"},
            },
        ),
        (constants.BILLING_SCHEDULE_HANDLER, {}),
        (
            constants.DELIVERY_HANDLER,
            {
                "InvoicesTable": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
                "IntegrationsTable": {"dynamodb:GetItem"},
            },
        ),
    ],
)
def test_each_function_has_exactly_the_dynamodb_access_it_needs(
    stack: Synthesized, handler: str, expected: dict[str, set[str]]
) -> None:
    assert _dynamodb_grants(stack, handler) == expected


SEND = {"sqs:SendMessage"}  # also authorizes SendMessageBatch
# What an SQS trigger needs (CDK's consume grant), and what an on-failure destination needs.
CONSUME = {
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
}
ON_FAILURE = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
NO_QUEUE_OR_BUCKET: dict[str, set[str]] = {}


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (constants.CXML_HANDLER, NO_QUEUE_OR_BUCKET),
        (constants.ORDERS_HANDLER, {"InvoiceBucket/orders/*": {"s3:PutObject"}}),
        (
            constants.ADMIN_HANDLER,
            {
                "BillingQueue": SEND,  # starts a billing run
                "DeliveryQueue": SEND,  # re-delivers an invoice
                "InvoiceBucket/invoices/*": {"s3:GetObject"},
            },
        ),
        (constants.WEB_HANDLER, NO_QUEUE_OR_BUCKET),
        (constants.OPENBUY_HANDLER, NO_QUEUE_OR_BUCKET),
        (constants.EMAIL_HANDLER, {"EmailDeadLetters": ON_FAILURE}),
        (constants.METERING_HANDLER, NO_QUEUE_OR_BUCKET),
        (
            constants.BILLING_HANDLER,
            {
                "BillingQueue": CONSUME | SEND,  # sends the next page of a shard walk
                "DeliveryQueue": SEND,
                "ContractInvoiceDeadLetters": ON_FAILURE,
                "InvoiceBucket/invoices/*": {"s3:PutObject"},
            },
        ),
        (constants.BILLING_SCHEDULE_HANDLER, {"BillingQueue": SEND}),
        (
            constants.DELIVERY_HANDLER,
            {"DeliveryQueue": CONSUME, "InvoiceBucket/invoices/*": {"s3:GetObject"}},
        ),
    ],
)
def test_each_function_has_exactly_the_queue_and_bucket_access_it_needs(
    stack: Synthesized, handler: str, expected: dict[str, set[str]]
) -> None:
    granted = {**_grants(stack, handler, "sqs"), **_grants(stack, handler, "s3")}

    assert granted == expected


def test_no_function_may_touch_the_access_logs_nor_the_bucket_itself(
    stack: Synthesized,
) -> None:
    for handler in FUNCTION_HANDLERS:
        on_buckets = _grants(stack, handler, "s3")
        assert set(on_buckets) <= {"InvoiceBucket/invoices/*", "InvoiceBucket/orders/*"}, handler


def test_functions_and_infra_agree_on_the_order_object_prefix() -> None:
    from functions.orders import ORDER_OBJECT_PREFIX

    assert ORDER_OBJECT_PREFIX == contracts.ORDER_OBJECT_PREFIX


def test_queries_name_their_index_never_every_index_of_a_table(stack: Synthesized) -> None:
    for handler in FUNCTION_HANDLERS:
        granted = _dynamodb_grants(stack, handler)
        wildcards = {r: a for r, a in granted.items() if r.endswith("/*") or r == "*"}
        assert wildcards in ({}, {"*": {"dynamodb:ListStreams"}}), handler


def test_only_listing_streams_is_granted_on_every_resource(
    stack: Synthesized,
) -> None:
    """What the `AwsSolutions-IAM5[Resource::*]` acknowledgements say, and nothing more."""
    for handler in FUNCTION_HANDLERS:
        role = stack.resources[stack.function_id(handler)]["Properties"]["Role"]
        role_ref = {"Ref": role["Fn::GetAtt"][0]}
        on_everything: set[str] = set()
        for policy in stack.of_type("AWS::IAM::Policy").values():
            if role_ref in policy["Properties"]["Roles"]:
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                    if statement["Resource"] == "*":
                        on_everything.update(_actions(statement))
        stream_readers = {constants.EMAIL_HANDLER, constants.BILLING_HANDLER}
        expected = {"dynamodb:ListStreams"} if handler in stream_readers else set()
        assert on_everything == expected, handler


def test_admin_function_writes_integrations_and_products_but_not_sessions_requests_or_secret(
    stack: Synthesized,
) -> None:
    integrations = stack.logical_id("AWS::DynamoDB::Table", "IntegrationsTable")
    products = stack.logical_id("AWS::DynamoDB::Table", "ProductsTable")
    secret = stack.logical_id("AWS::SecretsManager::Secret", "AribaSharedSecret")

    for table in (integrations, products):
        assert {
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:ConditionCheckItem",
        } <= _allowed(stack, constants.ADMIN_HANDLER, table)
    for untouched in ("SessionsTable", "RequestsTable"):
        table = stack.logical_id("AWS::DynamoDB::Table", untouched)
        assert not any(
            a.startswith("dynamodb:") for a in _allowed(stack, constants.ADMIN_HANDLER, table)
        ), untouched
    assert not any(
        a.startswith("secretsmanager:") for a in _allowed(stack, constants.ADMIN_HANDLER, secret)
    )


def test_web_function_only_puts_new_items_and_does_not_read_the_ariba_secret(
    stack: Synthesized,
) -> None:
    for table_id in ("IntegrationsTable", "SessionsTable", "ProductsTable"):
        allowed = _allowed(
            stack, constants.WEB_HANDLER, stack.logical_id("AWS::DynamoDB::Table", table_id)
        )
        assert "dynamodb:GetItem" in allowed
        assert allowed.isdisjoint(WRITE_ACTIONS), table_id
    # Requests, and for pre-approved offers a new subscription and its mail: conditional puts.
    # Never an update or a delete: changing a subscription is a purchase order's job.
    for table_id in ("RequestsTable", "SubscriptionsTable", "OutboxTable"):
        allowed = _allowed(
            stack, constants.WEB_HANDLER, stack.logical_id("AWS::DynamoDB::Table", table_id)
        )
        assert allowed & WRITE_ACTIONS == {"dynamodb:PutItem"}, table_id
    orders = stack.logical_id("AWS::DynamoDB::Table", "OrdersTable")
    assert not any(
        a.startswith("dynamodb:") for a in _allowed(stack, constants.WEB_HANDLER, orders)
    )
    secret = stack.logical_id("AWS::SecretsManager::Secret", "AribaSharedSecret")
    assert not any(
        a.startswith("secretsmanager:") for a in _allowed(stack, constants.WEB_HANDLER, secret)
    )


def test_open_buy_function_writes_only_sessions_and_not_requests_nor_the_secret(
    stack: Synthesized,
) -> None:
    for table_id in ("IntegrationsTable", "ProductsTable"):
        allowed = _allowed(
            stack, constants.OPENBUY_HANDLER, stack.logical_id("AWS::DynamoDB::Table", table_id)
        )
        assert "dynamodb:GetItem" in allowed
        assert allowed.isdisjoint(WRITE_ACTIONS), table_id
    sessions = _allowed(
        stack, constants.OPENBUY_HANDLER, stack.logical_id("AWS::DynamoDB::Table", "SessionsTable")
    )
    assert sessions & WRITE_ACTIONS == {"dynamodb:PutItem"}
    requests = stack.logical_id("AWS::DynamoDB::Table", "RequestsTable")
    assert not any(
        a.startswith("dynamodb:") for a in _allowed(stack, constants.OPENBUY_HANDLER, requests)
    )
    secret = stack.logical_id("AWS::SecretsManager::Secret", "AribaSharedSecret")
    assert not any(
        a.startswith("secretsmanager:") for a in _allowed(stack, constants.OPENBUY_HANDLER, secret)
    )


def test_orders_function_touches_neither_sessions_nor_products_and_deletes_nothing(
    stack: Synthesized,
) -> None:
    for untouched in ("SessionsTable", "ProductsTable"):
        table = stack.logical_id("AWS::DynamoDB::Table", untouched)
        assert not any(
            a.startswith("dynamodb:") for a in _allowed(stack, constants.ORDERS_HANDLER, table)
        ), untouched
    for table_id in TABLE_OF_VARIABLE.values():
        table = stack.logical_id("AWS::DynamoDB::Table", table_id)
        allowed = _allowed(stack, constants.ORDERS_HANDLER, table)
        # Kept orders are replaced, never deleted; no listings (Query, Scan) either.
        assert allowed.isdisjoint(
            {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:Query", "dynamodb:Scan"}
        ), table_id


def test_email_function_touches_only_the_outbox(stack: Synthesized) -> None:
    granted = _dynamodb_grants(stack, constants.EMAIL_HANDLER)

    assert {r.partition("/")[0] for r in granted} - {"*"} == {"OutboxTable"}
    assert granted["OutboxTable"] & WRITE_ACTIONS == {"dynamodb:UpdateItem"}


def _secret_readers(stack: Synthesized, construct_id: str) -> set[str]:
    secret = stack.logical_id("AWS::SecretsManager::Secret", construct_id)
    return {
        handler
        for handler in FUNCTION_HANDLERS
        if "secretsmanager:GetSecretValue" in _allowed(stack, handler, secret)
    }


def test_only_the_cxml_functions_read_the_ariba_secret(stack: Synthesized) -> None:
    assert _secret_readers(stack, "AribaSharedSecret") == {
        constants.CXML_HANDLER,
        constants.ORDERS_HANDLER,
    }


def test_only_the_email_and_web_functions_read_the_link_signing_key(stack: Synthesized) -> None:
    # The email worker signs the links it mails; the web function checks them.
    assert _secret_readers(stack, "LinkSigningKey") == {
        constants.EMAIL_HANDLER,
        constants.WEB_HANDLER,
    }


# --- mail -----------------------------------------------------------------------------------


def _triggers(stack: Synthesized, handler: str) -> dict[str, dict[str, Any]]:
    """A function's event source mappings, by the logical id of their source (table or queue)."""
    function = {"Ref": stack.function_id(handler)}
    return {
        mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]: mapping["Properties"]
        for mapping in stack.of_type("AWS::Lambda::EventSourceMapping").values()
        if mapping["Properties"]["FunctionName"] == function
    }


def _outbox_trigger(stack: Synthesized, handler: str) -> dict[str, Any]:
    outbox = stack.logical_id("AWS::DynamoDB::Table", "OutboxTable")
    properties = _triggers(stack, handler)[outbox]
    assert properties["EventSourceArn"] == {"Fn::GetAtt": [outbox, "StreamArn"]}
    return properties


@pytest.mark.parametrize(
    ("handler", "dead_letter_queue"),
    [
        (constants.EMAIL_HANDLER, "EmailDeadLetters"),
        (constants.BILLING_HANDLER, "ContractInvoiceDeadLetters"),  # contract invoices
    ],
)
def test_outbox_workers_read_the_stream_record_by_record_with_a_dead_letter_queue(
    stack: Synthesized, handler: str, dead_letter_queue: str
) -> None:
    properties = _outbox_trigger(stack, handler)
    queue_id = stack.logical_id("AWS::SQS::Queue", dead_letter_queue)

    assert properties["StartingPosition"] == "TRIM_HORIZON"
    assert properties["BatchSize"] == 10
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BisectBatchOnFunctionError"] is True
    assert 0 < properties["MaximumRetryAttempts"] <= 10
    # Within the stream's 24 h retention, so a record is dead-lettered before it is trimmed.
    assert 0 < properties["MaximumRecordAgeInSeconds"] < 24 * 3600
    assert properties["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}
    }


def _key_prefix_filter(prefix: str) -> dict[str, Any]:
    return {"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": prefix}]}}}}


def test_outbox_items_wake_one_worker_each_by_key_prefix_and_only_when_new(
    stack: Synthesized,
) -> None:
    outbox = stack.logical_id("AWS::DynamoDB::Table", "OutboxTable")
    patterns = {
        handler: [json.loads(f["Pattern"]) for f in trigger["FilterCriteria"]["Filters"]]
        for handler in FUNCTION_HANDLERS
        if (trigger := _triggers(stack, handler).get(outbox))
    }

    # Mail to the email worker, contract invoices to the billing worker; neither sees the
    # other's items nor any MODIFY (claims, marks) or REMOVE (TTL). Two readers per stream
    # shard is what DynamoDB Streams serves without throttling.
    assert patterns == {
        constants.EMAIL_HANDLER: [_key_prefix_filter("email#")],
        constants.BILLING_HANDLER: [_key_prefix_filter("invoice#")],
    }


@pytest.mark.parametrize("construct_id", [*QUEUE_OF_VARIABLE.values(), *DEAD_LETTER_QUEUES])
def test_every_queue_is_encrypted_and_ssl_only(stack: Synthesized, construct_id: str) -> None:
    queue_id = stack.logical_id("AWS::SQS::Queue", construct_id)
    (policy,) = [
        p["Properties"]
        for p in stack.of_type("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue_id}]
    ]
    (statement,) = policy["PolicyDocument"]["Statement"]

    assert len(stack.of_type("AWS::SQS::Queue")) == len(QUEUE_OF_VARIABLE) + len(DEAD_LETTER_QUEUES)
    assert stack.resources[queue_id]["Properties"]["SqsManagedSseEnabled"] is True
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("construct_id", DEAD_LETTER_QUEUES)
def test_dead_letter_queues_keep_messages_14_days_and_have_none_of_their_own(
    stack: Synthesized, construct_id: str
) -> None:
    properties = stack.resources[stack.logical_id("AWS::SQS::Queue", construct_id)]["Properties"]

    assert properties["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert "RedrivePolicy" not in properties


def test_email_dead_letter_queue_takes_messages_from_the_email_worker_only(
    stack: Synthesized,
) -> None:
    queue_id = stack.logical_id("AWS::SQS::Queue", "EmailDeadLetters")

    senders = {
        handler
        for handler in FUNCTION_HANDLERS
        if "sqs:SendMessage" in _allowed(stack, handler, queue_id)
    }

    assert senders == {constants.EMAIL_HANDLER}  # the on-failure destination


def test_mail_is_sent_as_the_ses_identity_of_the_default_sender(stack: Synthesized) -> None:
    (identity,) = stack.of_type("AWS::SES::EmailIdentity").values()

    assert identity["Properties"]["EmailIdentity"] == "marketplace@example.com"


def test_only_the_email_worker_may_send_mail_and_only_as_the_sender_identity(
    stack: Synthesized,
) -> None:
    (identity_id,) = stack.of_type("AWS::SES::EmailIdentity")
    email_role = stack.resources[stack.function_id(constants.EMAIL_HANDLER)]["Properties"]["Role"]
    ses_statements = [
        (policy["Properties"]["Roles"], statement)
        for policy in stack.of_type("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(a.startswith("ses:") for a in _actions(statement))
    ]

    ((roles, statement),) = ses_statements
    assert roles == [{"Ref": email_role["Fn::GetAtt"][0]}]
    assert set(_actions(statement)) == {"ses:SendEmail", "ses:SendRawEmail"}
    resource = json.dumps(statement["Resource"])
    assert '":identity/", {"Ref": "' + identity_id + '"}' in resource
    assert "*" not in resource


# --- invoicing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("construct_id", "handler", "max_batch_size"),
    [
        ("BillingQueue", constants.BILLING_HANDLER, 5),
        ("DeliveryQueue", constants.DELIVERY_HANDLER, 1),  # one invoice, one buyer at a time
    ],
)
def test_each_invoicing_queue_feeds_one_worker_that_reports_failed_messages(
    stack: Synthesized, construct_id: str, handler: str, max_batch_size: int
) -> None:
    queue_id = stack.logical_id("AWS::SQS::Queue", construct_id)

    consumers = {h for h in FUNCTION_HANDLERS if queue_id in _triggers(stack, h)}
    trigger = _triggers(stack, handler)[queue_id]

    assert consumers == {handler}
    assert trigger["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert 1 <= trigger["BatchSize"] <= max_batch_size
    assert trigger["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "MaximumBatchingWindowInSeconds" not in trigger  # would lengthen the visibility need


def test_queue_consumers_have_a_ceiling_and_the_cxml_functions_keep_their_capacity(
    stack: Synthesized,
) -> None:
    """A monthly billing run of thousands of messages must not take the account's concurrency
    and throttle purchase orders and punchouts."""
    ceilings = {
        handler: trigger.get("ScalingConfig", {}).get("MaximumConcurrency")
        for handler in FUNCTION_HANDLERS
        for source_id, trigger in _triggers(stack, handler).items()
        if stack.resources[source_id]["Type"] == "AWS::SQS::Queue"
    }
    reserved = {
        handler: stack.resources[stack.function_id(handler)]["Properties"].get(
            "ReservedConcurrentExecutions"
        )
        for handler in FUNCTION_HANDLERS
    }

    assert ceilings == {constants.BILLING_HANDLER: 5, constants.DELIVERY_HANDLER: 5}
    assert {h: n for h, n in reserved.items() if n is not None} == {
        constants.CXML_HANDLER: 20,
        constants.ORDERS_HANDLER: 20,
    }


@pytest.mark.parametrize(
    ("construct_id", "handler"),
    [("BillingQueue", constants.BILLING_HANDLER), ("DeliveryQueue", constants.DELIVERY_HANDLER)],
)
def test_invoicing_queues_dead_letter_after_5_receives_and_outwait_their_worker(
    stack: Synthesized, construct_id: str, handler: str
) -> None:
    queue = stack.resources[stack.logical_id("AWS::SQS::Queue", construct_id)]["Properties"]
    dead_letter_id = stack.logical_id("AWS::SQS::Queue", f"{construct_id}DeadLetters")
    dead_letters = stack.resources[dead_letter_id]["Properties"]
    worker_timeout = stack.resources[stack.function_id(handler)]["Properties"]["Timeout"]

    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dead_letter_id, "Arn"]},
        "maxReceiveCount": 5,
    }
    # AWS's advice for Lambda consumers: at least six times the function's timeout.
    assert queue["VisibilityTimeout"] >= 6 * worker_timeout
    # SQS counts retention from the first enqueue: the dead-letter queue must keep longer.
    assert dead_letters["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]


def test_the_monthly_billing_run_starts_at_2_utc_on_the_1st_through_the_schedule_function(
    stack: Synthesized,
) -> None:
    (rule_id, rule), *others = stack.of_type("AWS::Events::Rule").items()
    (target,) = rule["Properties"]["Targets"]
    schedule = stack.function_id(constants.BILLING_SCHEDULE_HANDLER)
    (permission,) = [
        p["Properties"]
        for p in stack.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
    ]

    assert others == []
    # minute hour day-of-month month day-of-week year, in UTC
    assert rule["Properties"]["ScheduleExpression"] == "cron(0 2 1 * ? *)"
    assert rule["Properties"]["State"] == "ENABLED"
    assert target["Arn"] == {"Fn::GetAtt": [schedule, "Arn"]}
    assert permission["FunctionName"] == {"Fn::GetAtt": [schedule, "Arn"]}
    assert permission["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
    assert _triggers(stack, constants.BILLING_SCHEDULE_HANDLER) == {}


# --- alarms ---------------------------------------------------------------------------------


def _alarms(stack: Synthesized, metric_name: str) -> list[dict[str, Any]]:
    return [
        a["Properties"]
        for a in stack.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == metric_name
    ]


def _watched(stack: Synthesized, metric_name: str) -> set[str]:
    """What the alarms on `metric_name` watch: one dimension each, by its value's logical id or
    its literal value."""
    watched = set()
    for alarm in _alarms(stack, metric_name):
        (dimension,) = alarm["Dimensions"]
        value = dimension["Value"]
        watched.add(value if isinstance(value, str) else _resource_name(value))
    return watched


@pytest.mark.parametrize(
    ("namespace", "metric_name", "statistic"),
    [
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum"),
        ("AWS/ApiGateway", "5XXError", "Sum"),
        ("AWS/Lambda", "Errors", "Sum"),
    ],
)
def test_alarms_fire_on_the_first_failure_and_notify_the_topic(
    stack: Synthesized, namespace: str, metric_name: str, statistic: str
) -> None:
    (topic_id,) = stack.of_type("AWS::SNS::Topic")

    alarms = _alarms(stack, metric_name)

    assert alarms
    for alarm in alarms:
        _assert_fires_on_the_first_failure(alarm, namespace, statistic, topic_id)


def _assert_fires_on_the_first_failure(
    alarm: dict[str, Any], namespace: str, statistic: str, topic_id: str
) -> None:
    assert alarm["Namespace"] == namespace
    assert alarm["Statistic"] == statistic
    assert alarm["Period"] == 300
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 0
    assert alarm["TreatMissingData"] == "notBreaching"  # no traffic is not a failure
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def test_alarms_watch_every_dead_letter_queue_the_api_and_every_function(
    stack: Synthesized,
) -> None:
    dead_letter_queues = {stack.logical_id("AWS::SQS::Queue", q) for q in DEAD_LETTER_QUEUES}

    # 4 dead-letter queues, API 5XX, errors and throttles of 10 functions, 2 on invoices
    assert len(stack.of_type("AWS::CloudWatch::Alarm")) == 4 + 1 + 10 + 10 + 2
    assert _watched(stack, "ApproximateNumberOfMessagesVisible") == dead_letter_queues
    for alarm in _alarms(stack, "ApproximateNumberOfMessagesVisible"):
        assert alarm["Dimensions"][0]["Name"] == "QueueName"
    assert _alarms(stack, "5XXError")[0]["Dimensions"] == [
        {"Name": "ApiName", "Value": "procurement-gateway"}
    ]
    # Each once (a purchase order without an answer and a monthly billing run that did not
    # start have their own words in alarms.py)
    assert _watched(stack, "Errors") == {stack.function_id(h) for h in FUNCTION_HANDLERS}
    assert len(_alarms(stack, "Errors")) == len(FUNCTION_HANDLERS)


def test_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use_and_ssl_only(
    stack: Synthesized,
) -> None:
    (topic_id, topic), *others = stack.of_type("AWS::SNS::Topic").items()
    key = stack.resources[topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]]
    (policy,) = stack.of_type("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    cloudwatch = {"Service": "cloudwatch.amazonaws.com"}

    assert others == []
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    # An AWS managed key would leave the alarms unable to publish: CloudWatch needs the key.
    key_statements = key["Properties"]["KeyPolicy"]["Statement"]
    assert any(
        s["Principal"] == cloudwatch and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(_actions(s))
        for s in key_statements
    )
    assert policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )
    assert any(
        s["Effect"] == "Allow" and s["Principal"] == cloudwatch and s["Action"] == "sns:Publish"
        for s in statements
    )


def test_alarm_email_context_subscribes_that_address(
    stack: Synthesized, variant: Synthesized
) -> None:
    (subscription,) = variant.of_type("AWS::SNS::Subscription").values()
    (topic_id,) = variant.of_type("AWS::SNS::Topic")

    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == ALARM_EMAIL
    assert subscription["Properties"]["TopicArn"] == {"Ref": topic_id}
    assert stack.of_type("AWS::SNS::Subscription") == {}  # none without the context


# --- outputs and cdk-nag ------------------------------------------------------------------


def test_outputs_name_the_urls_tables_and_secret(stack: Synthesized) -> None:
    outputs = stack.template["Outputs"]

    assert {
        "ApiUrl",
        "PunchoutUrl",
        "IntegrationsTableName",
        "SessionsTableName",
        "ProductsTableName",
        "RequestsTableName",
        "OrdersTableName",
        "SubscriptionsTableName",
        "OutboxTableName",
        "AribaSecretArn",
        "OrdersUrl",
        "LinkSigningKeyArn",
        "EmailSenderIdentity",
        "EmailDeadLetterQueueUrl",
        "UsageTableName",
        "InvoicesTableName",
        "InvoiceBucketName",
        "BillingQueueUrl",
        "BillingDeadLetterQueueUrl",
        "DeliveryQueueUrl",
        "DeliveryDeadLetterQueueUrl",
        "ContractInvoiceDeadLetterQueueUrl",
    } <= set(outputs)
    bucket = stack.logical_id("AWS::S3::Bucket", "InvoiceBucket")
    assert outputs["InvoiceBucketName"]["Value"] == {"Ref": bucket}
    for output, queue in (
        ("BillingQueueUrl", "BillingQueue"),
        ("DeliveryQueueUrl", "DeliveryQueue"),
        ("BillingDeadLetterQueueUrl", "BillingQueueDeadLetters"),
        ("DeliveryDeadLetterQueueUrl", "DeliveryQueueDeadLetters"),
        ("ContractInvoiceDeadLetterQueueUrl", "ContractInvoiceDeadLetters"),
    ):
        assert outputs[output]["Value"] == {"Ref": stack.logical_id("AWS::SQS::Queue", queue)}
    assert json.dumps(outputs["PunchoutUrl"]["Value"]).endswith('"/cxml/punchout"]]}')
    assert json.dumps(outputs["OrdersUrl"]["Value"]).endswith('"/cxml/orders"]]}')


def test_no_unacknowledged_cdk_nag_findings(stack: Synthesized) -> None:
    assert unacknowledged_findings(stack.assembly_dir) == []


def test_cdk_nag_reports_a_finding_nobody_acknowledged(variant: Synthesized) -> None:
    findings = unacknowledged_findings(variant.assembly_dir)

    on_canary = [f for f in findings if f"{constants.STACK_NAME}/NagCanary/" in f]
    assert len(on_canary) == 1, findings
    assert on_canary[0].startswith("error AwsSolutions-SMG4 ")


# --- observability ---------------------------------------------------------------------------


def test_log_level_comes_from_the_context_for_lambda_and_powertools(variant: Synthesized) -> None:
    for function in variant.of_type("AWS::Lambda::Function").values():
        properties = function["Properties"]
        assert properties["LoggingConfig"]["ApplicationLogLevel"] == "DEBUG"
        assert properties["Environment"]["Variables"]["LOG_LEVEL"] == "DEBUG"


def _alarms_on(stack: Synthesized, metric_name: str, namespace: str) -> dict[str, dict[str, Any]]:
    """Alarm properties by the dimensions they watch (as JSON), for one metric."""
    return {
        json.dumps(a["Properties"].get("Dimensions", []), sort_keys=True): a["Properties"]
        for a in stack.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == metric_name
        and a["Properties"].get("Namespace") == namespace
    }


def test_every_function_has_an_errors_and_a_throttles_alarm_notifying_the_topic(
    stack: Synthesized,
) -> None:
    topic = {"Ref": stack.logical_id("AWS::SNS::Topic", "Topic")}
    for metric in ("Errors", "Throttles"):
        alarms = _alarms_on(stack, metric, "AWS/Lambda")
        watched = {
            json.dumps([{"Name": "FunctionName", "Value": {"Ref": stack.function_id(h)}}])
            for h in FUNCTION_HANDLERS
        }
        assert set(alarms) == watched, metric
        for alarm in alarms.values():
            assert alarm["AlarmActions"] == [topic]
            assert alarm["Threshold"] == 0
            assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
            assert alarm["TreatMissingData"] == "notBreaching"


def test_rejected_and_failed_invoices_raise_an_alarm(stack: Synthesized) -> None:
    alarms = _alarms_on(stack, "Invoices", "ProcurementGateway")
    outcomes = {
        next(d["Value"] for d in json.loads(key) if d["Name"] == "outcome"): alarm
        for key, alarm in alarms.items()
    }

    assert set(outcomes) == {"rejected", "failed"}
    for alarm in outcomes.values():
        assert {"Name": "service", "Value": "procurement-gateway"} in alarm["Dimensions"]
        assert alarm["Statistic"] == "Sum" and alarm["Threshold"] == 0


def test_dashboard_shows_the_business_metrics_and_each_functions_health(
    stack: Synthesized,
) -> None:
    (dashboard,) = stack.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])

    for name in metric_names.DIMENSIONS:
        assert "MetricName=" in body and name in body, name
    for title in ("Errors per function", "Throttles per function", "Duration per function"):
        assert title in body
    for handler in FUNCTION_HANDLERS:
        assert stack.function_id(handler) in body


# --- SnapStart ---------------------------------------------------------------------------------

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
