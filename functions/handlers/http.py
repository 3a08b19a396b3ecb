"""Event decoding shared by the handlers: raw bodies, the public base URL."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl

from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import (
    APIGatewayProxyEvent,
)

from functions.config import Settings
from functions.errors import NotAcceptable


def raw_body(event: APIGatewayProxyEvent) -> bytes:
    """The body as the client sent it. Powertools' `decoded_body` decodes to str as UTF-8,
    which breaks documents declared in another encoding (ISO-8859-1): XML wants bytes."""
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise NotAcceptable("The body is not valid base64.") from exc
    return body.encode("utf-8")


MAX_FORM_BYTES = 64 * 1024


def form_fields(event: APIGatewayProxyEvent) -> dict[str, str]:
    """A browser form post (application/x-www-form-urlencoded), first value of each field.
    Oversized or undecodable bodies give an empty form: the page then says what is missing."""
    body = raw_body(event)
    if len(body) > MAX_FORM_BYTES:
        return {}
    text = body.decode("utf-8", errors="replace")
    return {k: v for k, v in reversed(parse_qsl(text, keep_blank_values=True))}


def query_params(event: APIGatewayProxyEvent) -> dict[str, str]:
    return {k: v for k, v in (event.query_string_parameters or {}).items() if v is not None}


def content_type(event: APIGatewayProxyEvent) -> str:
    return (event.headers.get("content-type") or "").split(";")[0].strip().lower()


def base_url(event: APIGatewayProxyEvent, settings: Settings) -> str:
    """Where callers reach us: the configured public URL (custom domain) or API Gateway's own
    domain and stage, taken from the request context (set by API Gateway, not the client)."""
    if settings.public_base_url:
        return settings.public_base_url
    context = event.request_context
    return f"https://{context.domain_name}/{context.stage}"
