"""Sealed page cursors: a paging token of an AWS API (Cognito's NextToken) made fit for a URL.

A raw NextToken in a query string would reach API Gateway's access logs and the browser's
history, and could be replayed by anyone holding the URL or altered to page elsewhere. Sealed
(AES-256-GCM), the URL carries an opaque value that only this service can open, bound to one
account and one sign-in session and good for CURSOR_SECONDS: a cursor from a log, another
session or another account opens to nothing. Stateless: no table of cursors to keep.

`cryptography` is imported on first use (the console's cold path)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os

CURSOR_SECONDS = 15 * 60
"""Long enough to page through a list; short enough that a leaked URL is soon worthless."""
MAX_CURSOR_CHARS = 8192
_PURPOSE = b"procurement-gateway console page cursor v1"


def cursor_key(link_signing_key: bytes) -> bytes:
    """The sealing key, derived from the link-signing key (one secret to rotate, never the same
    key for two uses; the CSRF key is derived with another label)."""
    if not link_signing_key:
        raise ValueError("no link-signing key: page cursors could not be sealed")
    return hmac.new(link_signing_key, _PURPOSE, hashlib.sha256).digest()


def seal(key: bytes, token: str, *, account_id: str, session_id: str, now: int) -> str:
    """`token` for a URL: encrypted and authenticated with who may open it and until when."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    plain = json.dumps(
        {"t": token, "a": account_id, "s": session_id, "e": now + CURSOR_SECONDS},
        separators=(",", ":"),
    ).encode()
    sealed = nonce + AESGCM(key).encrypt(nonce, plain, _PURPOSE)
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def unseal(key: bytes, cursor: str, *, account_id: str, session_id: str, now: int) -> str | None:
    """The token sealed in `cursor`, or None when it is malformed, altered, expired, or was
    sealed for another account or session."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not cursor or len(cursor) > MAX_CURSOR_CHARS:
        return None
    try:
        sealed = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if len(sealed) < 12 + 16:
            return None
        plain = json.loads(AESGCM(key).decrypt(sealed[:12], sealed[12:], _PURPOSE))
    except (binascii.Error, ValueError, InvalidTag):
        return None
    if not isinstance(plain, dict):
        return None
    fresh = isinstance(plain.get("e"), int) and now <= plain["e"]
    if not fresh or plain.get("a") != account_id or plain.get("s") != session_id:
        return None
    token = plain.get("t")
    return token if isinstance(token, str) and token else None
