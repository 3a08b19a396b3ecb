"""The one place owning Powertools observability. Handlers import the logger; the tracer costs
cold-start time and is added where a handler needs it. Metrics cost nothing extra (the Logger
imports them already); a handler that records any decorates itself with `metrics.log_metrics`."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
"""Namespace and service from POWERTOOLS_METRICS_NAMESPACE / POWERTOOLS_SERVICE_NAME."""
