"""What the functions log, captured as CloudWatch would receive it: every line the Powertools
logger writes, formatted by its own JSON formatter (extra keys, appended keys, tracebacks), and
the metrics they write as EMF records on stdout.

Metrics are off in tests (tests/conftest.py sets POWERTOOLS_METRICS_DISABLED, so thousands of EMF
lines do not bury a failure's output); `captured_metrics` turns them on, as in Lambda, for the
tests that assert on them."""

from __future__ import annotations

import io
import json
import logging
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from typing import Any

from functions.metric_names import NAMESPACE
from functions.observability import logger, metrics

METRICS_DISABLED = "POWERTOOLS_METRICS_DISABLED"


class LogLines(list[str]):
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self]

    def with_message(self, message: str) -> list[dict[str, Any]]:
        return [record for record in self.records() if record.get("message") == message]


@contextmanager
def captured_logs() -> Iterator[LogLines]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    target = logging.getLogger(logger.service)
    target.addHandler(handler)
    lines = LogLines()
    try:
        yield lines
    finally:
        target.removeHandler(handler)
        lines.extend(line for line in stream.getvalue().splitlines() if line.strip())


MetricKey = tuple[str, tuple[tuple[str, str], ...]]


class EmittedMetrics(Counter[MetricKey]):
    """(metric name, its dimensions without `service`, sorted) -> summed value; `records` are
    the EMF records themselves, as CloudWatch would read them from the log."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[dict[str, Any]] = []

    def of(self, name: str, **dimensions: str) -> float:
        return self[(name, tuple(sorted(dimensions.items())))]

    def by(self, name: str, dimension: str) -> dict[str, float]:
        """`name`'s values by one of its dimensions (zero-valued keys left out)."""
        values: Counter[str] = Counter()
        for (metric, dimensions), value in self.items():
            if metric == name and value:
                values[dict(dimensions)[dimension]] += value
        return dict(values)

    def read(self, captured: str) -> None:
        for line in captured.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict) or "_aws" not in record:
                continue
            self.records.append(record)
            (directive,) = record["_aws"]["CloudWatchMetrics"]
            assert directive["Namespace"] == NAMESPACE
            (dimension_names,) = directive["Dimensions"]
            dimensions = tuple(
                sorted((name, record[name]) for name in dimension_names if name != "service")
            )
            for metric in directive["Metrics"]:
                value = record[metric["Name"]]
                self[(metric["Name"], dimensions)] += (
                    sum(value) if isinstance(value, list) else value
                )


@contextmanager
def captured_metrics() -> Iterator[EmittedMetrics]:
    """Metrics on, as in Lambda, and the EMF records printed meanwhile read back (filled in when
    the block ends)."""
    previous = os.environ.get(METRICS_DISABLED)
    # Disabled metrics are never flushed, so what earlier tests counted is still held: drop it,
    # or the first record printed here carries their counts too.
    metrics.clear_metrics()
    os.environ[METRICS_DISABLED] = "false"
    stdout = io.StringIO()
    emitted = EmittedMetrics()
    try:
        with redirect_stdout(stdout):
            yield emitted
    finally:
        if previous is None:
            del os.environ[METRICS_DISABLED]
        else:
            os.environ[METRICS_DISABLED] = previous
        emitted.read(stdout.getvalue())
