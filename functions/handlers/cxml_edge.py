"""The cXML edge: every answer on a cXML route is a cXML document, errors included (a JSON or
HTML reply is a transport error to Coupa and Ariba). Errors are mapped here, once."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit

from functions.cxml import build
from functions.cxml.status import cxml_code, http_status
from functions.errors import GatewayError, NotAcceptable, NotImplementedByGateway
from functions.handlers.http import content_type, raw_body
from functions.observability import logger, metrics

XML_CONTENT_TYPE = "text/xml; charset=utf-8"
_FORM_FIELDS = ("cxml-urlencoded", "cxml-base64", "cXML-urlencoded", "cXML-base64")
_NOT_XML = ("application/json", "multipart/", "image/", "audio/", "video/")


def cxml_reply(document: bytes, code: int = 200) -> Response:
    """Every cXML answer leaves through here: counted by its cXML code (`CxmlStatus401`...),
    since the HTTP status no longer tells a refusal from a success (`status.http_status`)."""
    metrics.add_metric(name=f"CxmlStatus{code}", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=http_status(code),
        content_type=XML_CONTENT_TYPE,
        body=document.decode("utf-8"),
        headers={"Cache-Control": "no-store"},
    )


def error_reply(error: GatewayError) -> Response:
    code = cxml_code(error.status)
    return cxml_reply(build.response(code, error.message), code)


def document_bytes(app: APIGatewayRestResolver) -> bytes:
    """The posted cXML document. Lenient about content types real systems use (text/xml,
    application/xml, none, text/plain) and about a form field carrying the document."""
    event = app.current_event
    body = raw_body(event)
    kind = content_type(event)
    if kind == "application/x-www-form-urlencoded":
        fields = parse_qs(body.decode("ascii", errors="replace"), keep_blank_values=True)
        for name in _FORM_FIELDS:
            if name in fields:
                value = fields[name][0]
                if name.lower().endswith("base64"):
                    try:
                        return base64.b64decode(value, validate=True)
                    except ValueError as exc:
                        raise NotAcceptable(f"Form field {name} is not valid base64.") from exc
                return value.encode("utf-8")
        raise NotAcceptable("Form posts must carry the document in a cxml-urlencoded field.")
    if kind.startswith(_NOT_XML):
        raise NotAcceptable(f"Content-Type {kind} is not cXML: post text/xml.")
    return body


def _log_keys(error: GatewayError) -> dict[str, object]:
    keys: dict[str, object] = {"status": error.status, "reason": error.message[:500]}
    if error.detail:
        keys["detail"] = error.detail[:500]
    return keys


def install(app: APIGatewayRestResolver) -> None:
    """Map every failure on this resolver to a cXML Status, never a stack trace."""

    @app.not_found
    def _unknown_route(_: Exception) -> Response:
        event = app.current_event
        return error_reply(
            NotImplementedByGateway(
                f"No cXML endpoint answers {event.http_method} {event.path}: POST cXML documents "
                "to the punchout or order URL from the purchase information."
            )
        )

    @app.exception_handler(GatewayError)
    def _refused(error: GatewayError) -> Response:
        if error.status >= 500:  # with the cause (a storage failure's ClientError...)
            logger.error("cXML request failed", extra=_log_keys(error), exc_info=error)
        else:
            logger.info("cXML request refused", extra=_log_keys(error))
        return error_reply(error)

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unexpected failure on a cXML route")
        return error_reply(GatewayError("Temporary failure on the marketplace side; please retry."))
