"""The browser edge: pages with safe headers, and every error as an HTML page (never a stack
trace). Session tokens ride in URLs, so pages never leak them through Referer."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response

from functions.errors import GatewayError
from functions.observability import logger
from functions.web.render import render

HTML_CONTENT_TYPE = "text/html; charset=utf-8"


def html_reply(
    body: str,
    status: int = 200,
    frame_ancestors: tuple[str, ...] = (),
    form_targets: tuple[str, ...] = (),
    script_nonce: str | None = None,
) -> Response:
    """A page. Framing is allowed only for the procurement system's origins, forms post only
    to us (and to the session's cart URL), and the only script is the one carrying the nonce."""
    ancestors = " ".join(frame_ancestors) or "'none'"
    scripts = f"'nonce-{script_nonce}'" if script_nonce else "'none'"
    return Response(
        status_code=status,
        content_type=HTML_CONTENT_TYPE,
        body=body,
        headers={
            "Content-Security-Policy": (
                "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                f"script-src {scripts}; form-action 'self' {' '.join(form_targets)}".rstrip()
                + f"; frame-ancestors {ancestors}; base-uri 'none'"
            ),
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def error_page(status: int, heading: str, message: str, advice: str = "") -> Response:
    return html_reply(render("error.html", heading=heading, message=message, advice=advice), status)


def install(app: APIGatewayRestResolver) -> None:
    @app.not_found
    def _unknown_page(_: Exception) -> Response:
        return error_page(404, "Page not found", "There is no page at this address.")

    @app.exception_handler(GatewayError)
    def _refused(error: GatewayError) -> Response:
        status = error.status if 400 <= error.status < 500 else 503
        if status >= 500:
            logger.error("page failed", extra={"reason": error.message}, exc_info=error)
        return error_page(status, "Something went wrong", error.message)

    @app.exception_handler(Exception)
    def _unexpected(_: Exception) -> Response:
        logger.exception("unexpected failure rendering a page")
        return error_page(
            500,
            "Something went wrong",
            "The marketplace could not show this page. Please try again in a moment.",
        )
