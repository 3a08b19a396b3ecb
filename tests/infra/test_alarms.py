"""Alarms: what pages someone, on which metric, and to whom."""

from typing import Any

import pytest

from tests.infra.support import (
    ALARM_EMAIL,
    DEAD_LETTER_QUEUES,
    FUNCTION_HANDLERS,
    Synthesized,
    _actions,
    _resource_name,
)


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

    # 4 dead-letter queues, API 5XX, errors and throttles of 12 functions, 2 on invoices, 1 on
    # invoices the buyer rejected (test_status_alarms.py)
    assert len(stack.of_type("AWS::CloudWatch::Alarm")) == 4 + 1 + 12 + 12 + 2 + 1
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
