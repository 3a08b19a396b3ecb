"""The browser edge: pages with safe headers, and every error as an HTML page (never a stack
trace). Session tokens ride in URLs, so pages never leak them through Referer.

Error pages show in the procurement system's frame: with the session bar and framed by the
session's hosts when the page belongs to a session, else framable by any host (they hold
nothing that changes state: no clickjacking to fear; docs/decisions.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response

from functions.errors import GatewayError
from functions.observability import logger
from functions.sessions import PunchOutSession
from functions.web.render import render

HTML_CONTENT_TYPE = "text/html; charset=utf-8"

PAGE_FRAME = "page_frame"
"""The resolver context key of the current request's PageFrame, once its session is known."""

ANY_HOST = ("*",)


@dataclass(frozen=True)
class PageFrame:
    """The session an error page stands in for: its bar (with the Return button) is shown and
    its procurement hosts may frame the page. `ended`: the session is over, only Return is
    offered."""

    session: PunchOutSession
    links: Any
    ended: bool = False


def html_reply(
    body: str,
    status: int = 200,
    frame_ancestors: tuple[str, ...] = (),
    form_targets: tuple[str, ...] = (),
    script_nonce: str | None = None,
    script_hashes: tuple[str, ...] = (),
) -> Response:
    """A page. Framing is allowed only for the procurement system's origins, forms post only
    to us (and to the session's cart URL), and the only scripts are the one carrying the nonce
    or those whose exact text has one of `script_hashes` (base64 SHA-256)."""
    ancestors = " ".join(frame_ancestors) or "'none'"
    allowed = [f"'nonce-{script_nonce}'"] if script_nonce else []
    allowed += [f"'sha256-{digest}'" for digest in script_hashes]
    scripts = " ".join(allowed) or "'none'"
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


def error_page(
    status: int, heading: str, message: str, advice: str = "", frame: PageFrame | None = None
) -> Response:
    """An error page, in its session's frame when one is known (`frame`), else framable by any
    host."""
    in_session = (
        {"session": frame.session, "links": frame.links, "session_ended": frame.ended}
        if frame
        else {}
    )
    body = render(
        "error.html",
        heading=heading,
        message=message,
        advice=advice,
        system_label=frame.session.system_label if frame else "",
        **in_session,
    )
    return html_reply(
        body, status, frame_ancestors=frame.session.frame_ancestors if frame else ANY_HOST
    )


def install(app: APIGatewayRestResolver) -> None:
    """Errors raised by a page are shown in the frame of the page's session, when the page put
    it in the resolver's context (PAGE_FRAME)."""

    def frame() -> PageFrame | None:
        found = app.context.get(PAGE_FRAME)
        return found if isinstance(found, PageFrame) else None

    @app.not_found
    def _unknown_page(_: Exception) -> Response:
        return error_page(404, "Page not found", "There is no page at this address.")

    @app.exception_handler(GatewayError)
    def _refused(error: GatewayError) -> Response:
        status = error.status if 400 <= error.status < 500 else 503
        if status >= 500:
            logger.error("page failed", extra={"reason": error.message}, exc_info=error)
        heading = getattr(error, "heading", "") or "Something went wrong"
        return error_page(status, heading, error.message, getattr(error, "advice", ""), frame())

    @app.exception_handler(Exception)
    def _unexpected(_: Exception) -> Response:
        logger.exception("unexpected failure rendering a page")
        return error_page(
            500,
            "Something went wrong",
            "The marketplace could not show this page. Please try again in a moment.",
            frame=frame(),
        )
