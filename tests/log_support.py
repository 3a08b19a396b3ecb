"""What the functions log, captured as CloudWatch would receive it: every line the Powertools
logger writes, formatted by its own JSON formatter (extra keys, appended keys, tracebacks)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from functions.observability import logger


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
