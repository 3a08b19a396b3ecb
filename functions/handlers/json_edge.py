"""The JSON edge for APIs (admin): errors as `{"error": {...}}` with the HTTP status, mapped
once here; bodies parsed defensively."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from itertools import accumulate
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response

from functions.errors import BadRequest, GatewayError, NotFound
from functions.handlers.http import raw_body
from functions.observability import logger

MAX_JSON_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
"""Our deepest API body is three levels; the json module recurses per level (a RecursionError
on `[` x 30,000), and so would any code walking what it returns."""
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_OPENING = frozenset(b"[{")


def nesting_depth(body: bytes) -> int:
    """How deep arrays and objects nest, brackets inside strings aside (a few ms for 64 KB)."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # cannot be too deep: skip the scan
    brackets = _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", body))
    return max(accumulate(1 if byte in _OPENING else -1 for byte in brackets), default=0)


def json_reply(payload: Any, status: int = 200) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(payload, separators=(",", ":"), sort_keys=True),
        headers={"Cache-Control": "no-store"},
    )


def error_reply(
    status: int, message: str, field: str | None = None, code: str | None = None
) -> Response:
    """`{"error": {...}}`; with `code` (an AWS exception name: the seller APIs), also
    `"__type": code`, as AWS's JSON APIs name their errors."""
    error: dict[str, Any] = {"status": status, "message": message}
    if field:
        error["field"] = field
    payload: dict[str, Any] = {"error": error}
    if code:
        payload["__type"] = code
    return json_reply(payload, status)


def json_body(app: APIGatewayRestResolver) -> Any:
    return json_body_of(app.current_event)


def json_body_of(event: Any) -> Any:
    body = raw_body(event)
    if len(body) > MAX_JSON_BYTES:
        raise BadRequest(f"The body is larger than {MAX_JSON_BYTES} bytes.")
    if not body.strip():
        raise BadRequest("The body is empty: expected a JSON object.")
    if nesting_depth(body) > MAX_JSON_DEPTH:
        raise BadRequest(f"The body nests arrays or objects deeper than {MAX_JSON_DEPTH} levels.")
    try:
        # Decimal, never float: prices must survive exactly.
        return json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.") from None


def install(app: APIGatewayRestResolver) -> None:
    @app.not_found
    def _unknown_route(_: Exception) -> Response:
        event = app.current_event
        return error_reply(404, f"No API route answers {event.http_method} {event.path}.")

    @app.exception_handler(GatewayError)
    def _refused(error: GatewayError) -> Response:
        status = error.status if error.status in (400, 401, 403, 404, 409) else 500
        if isinstance(error, NotFound):
            status = 404
        if status >= 500:  # with the cause (a storage failure's ClientError...)
            logger.error("API request failed", extra={"reason": error.message}, exc_info=error)
        elif error.detail:
            logger.info("API request refused", extra={"detail": error.detail[:500]})
        return error_reply(status, error.message, error.field, getattr(error, "code", None))

    @app.exception_handler(Exception)
    def _unexpected(_: Exception) -> Response:
        logger.exception("unexpected failure on a JSON route")
        return error_reply(500, "Internal error; please retry. The failure has been logged.")
