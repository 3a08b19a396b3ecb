"""Metrics are EMF lines on stdout in Lambda, and nothing at all where they are turned off
(tests, the bench): Powertools' `single_metric` prints even when metrics are disabled."""

from __future__ import annotations

import pytest

from functions import observability
from functions.metric_names import NAMESPACE
from tests.log_support import captured_metrics


def test_disabled_metrics_print_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    # Given metrics turned off (tests/conftest.py sets POWERTOOLS_METRICS_DISABLED, as the bench)
    # When a count and a duration are recorded
    observability.count("Invoices", 3, outcome="created")
    observability.duration("BillingMessageDuration", 12.5, kind="batch")
    # Then nothing reaches stdout
    assert capsys.readouterr().out == ""


def test_enabled_metrics_are_one_emf_record_each(capsys: pytest.CaptureFixture[str]) -> None:
    with captured_metrics() as emitted:
        observability.count("Invoices", 3, outcome="created")
        observability.count("Invoices", 0, outcome="failed")  # a zero is not written
    (record,) = emitted.records
    assert record["Invoices"] == [3.0] and record["outcome"] == "created"
    assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == NAMESPACE
    assert capsys.readouterr().out == ""  # captured, not printed
