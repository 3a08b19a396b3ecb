"""The unsubscribe sweep (issue 14 part C1): an hourly EventBridge rule invoking its own
function, alarmed when a run fails, and the sparse index it queries."""

from infra import constants
from tests.infra.support import Synthesized, _triggers


def test_the_sweep_runs_hourly_through_its_own_function(stack: Synthesized) -> None:
    sweep = stack.function_id(constants.UNSUBSCRIBE_SWEEP_HANDLER)
    function = {"Fn::GetAtt": [sweep, "Arn"]}

    ((rule_id, rule),) = [
        (rule_id, rule)
        for rule_id, rule in stack.of_type("AWS::Events::Rule").items()
        if [t["Arn"] for t in rule["Properties"]["Targets"]] == [function]
    ]
    (permission,) = [
        p["Properties"]
        for p in stack.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == function
    ]

    assert rule["Properties"]["ScheduleExpression"] == "rate(1 hour)"
    assert rule["Properties"]["State"] == "ENABLED"
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
    assert _triggers(stack, constants.UNSUBSCRIBE_SWEEP_HANDLER) == {}


def test_a_failed_sweep_raises_an_alarm(stack: Synthesized) -> None:
    sweep = stack.function_id(constants.UNSUBSCRIBE_SWEEP_HANDLER)

    (alarm,) = [
        a["Properties"]
        for a in stack.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "Errors"
        and a["Properties"].get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": sweep}}]
    ]

    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["AlarmActions"], "to the alarm topic"


def test_the_subscriptions_table_has_the_sparse_lifecycle_index(stack: Synthesized) -> None:
    table = stack.resources[stack.logical_id("AWS::DynamoDB::Table", "SubscriptionsTable")]

    (index,) = [
        i for i in table["Properties"]["GlobalSecondaryIndexes"] if i["IndexName"] == "lifecycle"
    ]

    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [
        ("lifecycle_key", "HASH"),
        ("lifecycle_sort", "RANGE"),
    ]
