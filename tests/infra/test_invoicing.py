"""Invoicing: the billing and delivery queues, their consumers and the schedule."""

import pytest

from infra import constants
from tests.infra.support import (
    FUNCTION_HANDLERS,
    Synthesized,
    _triggers,
)


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
    schedule = stack.function_id(constants.BILLING_SCHEDULE_HANDLER)
    ((rule_id, rule),) = [
        (rule_id, rule)
        for rule_id, rule in stack.of_type("AWS::Events::Rule").items()
        if rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [schedule, "Arn"]}
    ]
    (target,) = rule["Properties"]["Targets"]
    (permission,) = [
        p["Properties"]
        for p in stack.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
        and p["Properties"]["FunctionName"] == {"Fn::GetAtt": [schedule, "Arn"]}
    ]

    # minute hour day-of-month month day-of-week year, in UTC
    assert rule["Properties"]["ScheduleExpression"] == "cron(0 2 1 * ? *)"
    assert rule["Properties"]["State"] == "ENABLED"
    assert target["Arn"] == {"Fn::GetAtt": [schedule, "Arn"]}
    assert permission["FunctionName"] == {"Fn::GetAtt": [schedule, "Arn"]}
    assert permission["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
    assert _triggers(stack, constants.BILLING_SCHEDULE_HANDLER) == {}
