"""The console's subscription and invoice pages read exactly what they show: one invoice by
id, a subscription's invoices through its index, the invoice documents under `invoices/`;
no write anywhere, no other index, no other prefix; cdk-nag clean."""

from typing import Any

from functions import contracts
from infra import constants
from infra.compliance import unacknowledged_findings
from tests.infra.support import Synthesized, _resource_name

WRITES = ("Put", "Update", "Delete", "BatchWrite", "TransactWrite", "Create")


def _console_statements(stack: Synthesized) -> list[tuple[set[str], list[str]]]:
    """(actions, resource names) of each Allow statement of the console function's role."""
    role = stack.resources[stack.function_id(constants.CONSOLE_HANDLER)]["Properties"]["Role"]
    role_ref = {"Ref": role["Fn::GetAtt"][0]}
    found = []
    for policy in stack.of_type("AWS::IAM::Policy").values():
        if role_ref not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            actions: Any = statement["Action"]
            resources: Any = statement["Resource"]
            found.append((
                {actions} if isinstance(actions, str) else set(actions),
                [_resource_name(r) for r in (resources if isinstance(resources, list)
                                             else [resources])],
            ))  # fmt: skip
    return found


def _on(stack: Synthesized, resource: str) -> set[str]:
    """The console's actions on exactly `resource` (a logical id, `id/index/name`, `id/key*`)."""
    return {
        action
        for actions, resources in _console_statements(stack)
        if resource in resources
        for action in actions
    }


def test_the_console_reads_one_invoice_and_a_subscriptions_invoices_and_writes_none(
    stack: Synthesized,
) -> None:
    invoices = stack.logical_id("AWS::DynamoDB::Table", "InvoicesTable")
    by_subscription = f"{invoices}/index/{contracts.INVOICES_BY_SUBSCRIPTION_INDEX}"
    by_integration = f"{invoices}/index/{contracts.INVOICES_BY_INTEGRATION_INDEX}"

    assert _on(stack, invoices) == {"dynamodb:GetItem"}
    assert _on(stack, by_subscription) == {"dynamodb:Query"}
    assert _on(stack, by_integration) == set(), "another integration's listing is not needed"


def test_the_console_reads_invoice_documents_only_under_their_prefix(stack: Synthesized) -> None:
    bucket = stack.logical_id("AWS::S3::Bucket", "InvoiceBucket")
    s3 = [
        (actions, resources)
        for actions, resources in _console_statements(stack)
        if any(a.startswith("s3:") for a in actions)
    ]

    assert s3 == [({"s3:GetObject"}, [f"{bucket}/{contracts.INVOICE_OBJECT_PREFIX}*"])]


def test_the_console_writes_no_invoice_subscription_usage_or_object(stack: Synthesized) -> None:
    # Its only writes are the admins' integrations (test_console_integrations.py).
    integrations = stack.logical_id("AWS::DynamoDB::Table", constants.INTEGRATIONS_TABLE_ID)
    written = {
        (action, resource)
        for actions, resources in _console_statements(stack)
        for action in actions
        for resource in resources
        if action.split(":")[0] in ("dynamodb", "s3")
        and any(action.split(":")[1].startswith(verb) for verb in WRITES)
    }
    assert written
    assert {resource.split("/")[0] for _, resource in written} == {integrations}


def test_the_grants_leave_no_unacknowledged_cdk_nag_finding(stack: Synthesized) -> None:
    assert unacknowledged_findings(stack.assembly_dir) == []
