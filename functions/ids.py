"""The one id generator: payloadIDs, session tokens, secrets and record ids."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from functions.clock import now

PAYLOAD_HOST = "procurement-gateway"


def payload_id() -> str:
    """`<epoch>.<pid>.<random>@<host>`, the form the cXML guide recommends; unique per document."""
    return f"{int(now().timestamp())}.{os.getpid()}.{secrets.token_hex(8)}@{PAYLOAD_HOST}"


def record_id(prefix: str) -> str:
    """Short, unguessable ids for records shown to admins (`int_4f9c...`)."""
    return f"{prefix}_{secrets.token_hex(10)}"


def slug_id(prefix: str) -> str:
    """Ids that travel in cXML and URLs (`prod-…`, `req-…`): lowercase, digits and dashes only,
    so they are valid SupplierPartIDs and SupplierPartAuxiliaryIDs (no `?`, `{`, `}`)."""
    return f"{prefix}-{secrets.token_hex(8)}"


def session_token(scope: str = "") -> str:
    """256 random bits, URL-safe: the session lives in the URL, so it must be unguessable.
    With a `scope` (a punchout session's integration id), `<scope>.<random>`: a page can then
    read the integration in the same round trip as the session. The stored digest covers the
    whole token, so a changed scope finds no session."""
    token = secrets.token_urlsafe(32)
    return f"{scope}.{token}" if scope else token


def shared_secret() -> str:
    """A buyer-facing shared secret of 192 random bits (the issue asks for at least 128)."""
    return secrets.token_urlsafe(24)


def digest(secret: str) -> str:
    """What we store instead of a secret or token. The inputs are high-entropy random values we
    generated, so a fast hash is enough (no password stretching needed)."""
    return "sha256$" + hashlib.sha256(secret.encode("utf-8")).hexdigest()


def matches_digest(candidate: str | None, stored_digest: str | None) -> bool:
    """Constant-time comparison of a presented secret against a stored digest."""
    if not candidate or not stored_digest:
        return False
    return hmac.compare_digest(digest(candidate), stored_digest)


def same_secret(candidate: str | None, expected: str | None) -> bool:
    """Constant-time comparison of two plain secrets (the marketplace Ariba secret)."""
    if not candidate or not expected:
        return False
    return hmac.compare_digest(candidate.encode("utf-8"), expected.encode("utf-8"))
