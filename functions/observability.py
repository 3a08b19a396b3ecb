"""The one place owning Powertools observability. Handlers import the logger and `count`; the
tracer costs cold-start time (190-280 ms) and is not used (see README, "Observability").

Metrics are CloudWatch embedded metric format (EMF) records written to the function's log:
no API call, no import beyond the Logger's own (Powertools' Metrics come with it). `count`
writes one record at once, so no handler needs a flushing decorator and a crash after the
count still reports it. The metric names and their dimensions are in functions/metric_names.py,
which the dashboard and alarms (infra/dashboard.py) read too."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from functions.metric_names import (  # noqa: F401 (the names handlers count under)
    BILLING_MESSAGE_DURATION,
    BUYER_STATUS_UPDATES,
    CARTS_RETURNED,
    INVOICES,
    MAILS_FAILED,
    MAILS_SENT,
    METERING_RECORDS,
    NAMESPACE,
    PUNCHOUTS,
    PURCHASE_ORDERS,
    SELLER_EVENTS_FAILED,
    SELLER_EVENTS_PUBLISHED,
    SUBSCRIPTIONS_ACTIVATED,
    SUBSCRIPTIONS_CANCELLED,
)

logger = Logger()
metrics = Metrics()
"""For callers that add several metrics and flush them with `@metrics.log_metrics`."""

NAMESPACE_VARIABLE = "POWERTOOLS_METRICS_NAMESPACE"
UNKNOWN_SYSTEM = "other"


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """Add `value` to the metric `name` under these dimensions (one EMF record, now). Nothing
    is written for a zero: CloudWatch treats a missing datapoint as nothing happened."""
    if value:
        _emit(name, value, MetricUnit.Count, dimensions)


def duration(name: str, milliseconds: float, **dimensions: str) -> None:
    _emit(name, milliseconds, MetricUnit.Milliseconds, dimensions)


def _emit(name: str, value: float, unit: MetricUnit, dimensions: dict[str, str]) -> None:
    if is_metrics_disabled():  # single_metric prints even then (Powertools checks only on flush)
        return
    namespace = os.environ.get(NAMESPACE_VARIABLE) or NAMESPACE
    try:
        with single_metric(
            name=name,
            unit=unit,
            value=value,
            namespace=namespace,
            default_dimensions={key: str(v) for key, v in dimensions.items()},
        ):
            pass
    except Exception:  # a metric must never fail the request it describes
        logger.exception("metric not written", extra={"metric": name})


def buyer_system(user_agent: str | None) -> str:
    """`coupa`, `ariba` or `other`, from the cXML Sender's UserAgent (what the buyer's
    system says it is; the integration is not known yet when a request is refused)."""
    agent = (user_agent or "").lower()
    for system in ("coupa", "ariba"):
        if system in agent:
            return system
    return UNKNOWN_SYSTEM
