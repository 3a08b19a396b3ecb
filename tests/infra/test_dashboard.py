"""Observability: metrics, logs and the dashboard."""

import json
from typing import Any

from functions import metric_names
from tests.infra.support import (
    FUNCTION_HANDLERS,
    Synthesized,
)


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
