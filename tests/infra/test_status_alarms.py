"""Status coming back (issue 13 part 6): an invoice the buyer's accounts payable rejects after
receiving it (a StatusUpdateRequest) raises an alarm, and the dashboard shows the updates."""

import json

from functions import metric_names
from tests.infra.support import Synthesized


def test_an_invoice_rejected_by_the_buyer_raises_an_alarm_on_the_first_one(
    stack: Synthesized,
) -> None:
    topic = {"Ref": stack.logical_id("AWS::SNS::Topic", "Topic")}
    (alarm,) = [
        a["Properties"]
        for a in stack.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == metric_names.BUYER_STATUS_UPDATES
    ]

    assert alarm["Namespace"] == metric_names.NAMESPACE
    assert sorted(alarm["Dimensions"], key=lambda d: d["Name"]) == [
        {"Name": "service", "Value": "procurement-gateway"},
        {"Name": "status", "Value": "rejected"},
        {"Name": "subject", "Value": "invoice"},
    ]
    assert alarm["Statistic"] == "Sum" and alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [topic]
    assert "buyer_status" in alarm["AlarmDescription"]


def test_the_dashboard_graphs_status_updates_by_document_and_status(stack: Synthesized) -> None:
    (dashboard,) = stack.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])

    assert "Buyer status updates by document and status" in body
    assert metric_names.BUYER_STATUS_UPDATES in body
