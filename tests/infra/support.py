"""What the infra tests share: synthesizing the app offline and reading its template."""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import Stack, cx_api
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Template

from app import build_app
from infra import constants

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
    "ACTIVITY_TABLE": "ActivityTable",
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
    constants.CONSOLE_HANDLER,
    constants.OPENBUY_HANDLER,
    constants.EMAIL_HANDLER,
    constants.METERING_HANDLER,
    constants.BILLING_HANDLER,
    constants.BILLING_SCHEDULE_HANDLER,
    constants.DELIVERY_HANDLER,
    constants.UNSUBSCRIBE_SWEEP_HANDLER,
)
EMAIL_SENDER = "orders@marketplace.example"
ALARM_EMAIL = "oncall@marketplace.example"
SELLER_ACCOUNTS = ["444455556666", "777788889999"]  # sellerAccounts: rules on the seller bus
SUPPLIER_ENTITY_CONTEXT = {
    "supplierLegalName": "Procurement Gateway Ltd", "supplierTaxId": "GB999999973",
    "remitToStreet": "1 Demo Street", "remitToCity": "London", "remitToCountry": "GB",
}  # fmt: skip
"""The variant's legal entity, as `cdk -c` takes it."""
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


def _triggers(stack: Synthesized, handler: str) -> dict[str, dict[str, Any]]:
    """A function's event source mappings, by the logical id of their source (table or queue)."""
    function = {"Ref": stack.function_id(handler)}
    return {
        mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]: mapping["Properties"]
        for mapping in stack.of_type("AWS::Lambda::EventSourceMapping").values()
        if mapping["Properties"]["FunctionName"] == function
    }
