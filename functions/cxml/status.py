"""The one status-code table (docs/PROTOCOL.md §3): the cXML code, its text, and the HTTP status we
answer with it."""

from __future__ import annotations

STATUS_TEXT: dict[int, str] = {
    200: "OK",
    201: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    417: "Expectation Failed",
    450: "Not Implemented",
    500: "Internal Server Error",
}

CXML_FOR_DOMAIN_STATUS = {404: 412}
"""Domain "not found" is cXML 412: an edit of something that does not exist."""


def cxml_code(status: int) -> int:
    code = CXML_FOR_DOMAIN_STATUS.get(status, status)
    return code if code in STATUS_TEXT else (500 if code >= 500 else 400)


def status_text(code: int) -> str:
    return STATUS_TEXT.get(code, "Error")


def http_status(code: int) -> int:
    """The HTTP status sent with a cXML status (README, "HTTP status of cXML answers"): 200 for
    every answer the buyer should act on and not retry (2xx and 4xx, 450 included), because SAP
    Business Network marks a PO failed unless it gets HTTP 200 with a cXML Response, and Coupa
    reads the code from the body; 500 only for transient failures, so both layers say "retry"."""
    return 500 if code >= 500 else 200
