"""The one place owning Powertools observability. Handlers import only the logger: the tracer
and metrics cost cold-start time and are added where a handler needs them."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger()
