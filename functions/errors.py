"""Errors are values: a status code from the cXML table (docs/PROTOCOL.md §3) and a message the
buyer's admin can act on. Raised in the domain, mapped once at each edge (cXML, JSON, HTML)."""

from __future__ import annotations


class GatewayError(Exception):
    """A refusal with a cXML status code. 4xx: do not retry; 5xx: retry."""

    status: int = 500
    integration_id: str | None = None
    """The integration the refused request belongs to, once its credentials named one: the
    activity log records the refusal there (functions/activity.py)."""
    admin_reason: str = ""
    """What the answer hides from the caller but the integration's own admin may read in its
    activity ("Shared secret does not match"); never a secret."""

    def __init__(
        self, message: str, *, field: str | None = None, detail: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.detail = detail
        """For our logs only, never the answer: what a caller must not learn (whose secret
        did not match)."""


class BadRequest(GatewayError):
    """Parsed, but unacceptable as asked (missing BuyerCookie, invalid field...)."""

    status = 400


class Unauthenticated(GatewayError):
    """Credentials not recognised."""

    status = 401


class Forbidden(GatewayError):
    """Authenticated, but not allowed (integration disabled...)."""

    status = 403


class NotFound(GatewayError):
    """The thing named does not exist (JSON and HTML edges; cXML maps it to 412)."""

    status = 404


class NotAcceptable(GatewayError):
    """Could not be parsed, or is not cXML at all."""

    status = 406


class Conflict(GatewayError):
    """Conflicts with what is stored (a buyer identity already in use...)."""

    status = 409


class NotImplementedByGateway(GatewayError):
    """A request type, operation or cXML version we do not support."""

    status = 450


class Transient(GatewayError):
    """Our side failed before anything was persisted: the caller should retry."""

    status = 500


class MarketplaceError(BadRequest):
    """A seller API refusal in AWS Marketplace's terms: `code` is the exception AWS names
    (`InvalidTokenException`, `InvalidParameterException`...), answered as `__type` beside
    the usual JSON error (functions/handlers/json_edge.py)."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
