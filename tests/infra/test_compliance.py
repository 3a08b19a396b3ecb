"""Outputs and cdk-nag: what the stack tells its deployer, findings acknowledged."""

import json

from infra import constants
from infra.compliance import unacknowledged_findings
from tests.infra.support import (
    Synthesized,
)


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
