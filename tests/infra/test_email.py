"""Mail: the outbox stream, the email worker, its queues and SES."""

import json
from typing import Any

import pytest

from infra import constants
from tests.infra.support import (
    DEAD_LETTER_QUEUES,
    FUNCTION_HANDLERS,
    QUEUE_OF_VARIABLE,
    Synthesized,
    _actions,
    _allowed,
    _triggers,
)


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

    # Mail and seller events to the email worker, contract invoices to the billing worker;
    # neither sees the other's items nor any MODIFY (claims, marks) or REMOVE (TTL). Two
    # readers per stream shard is what DynamoDB Streams serves without throttling.
    assert patterns == {
        constants.EMAIL_HANDLER: [_key_prefix_filter("email#"), _key_prefix_filter("event#")],
        constants.BILLING_HANDLER: [
            _key_prefix_filter("invoice#"),
            _key_prefix_filter("confirmation#"),  # queued for the delivery worker
        ],
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
