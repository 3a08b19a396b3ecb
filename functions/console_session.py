"""The console's browser session: what its cookies hold and how they are set, and the CSRF token
every console form carries.

Cookies (docs/CONSOLE.md): `console_id` holds the Cognito ID token, `console_refresh` the
refresh token (used only to renew the ID token quietly), `console_pre` a random nonce binding
the sign-in form before anyone is signed in. All `Secure; HttpOnly; SameSite=Lax;
Path=/console`: never sent to the punchout pages, never readable by script, never sent with a
cross-site POST. Nothing is kept server-side: the tokens are Cognito's, signed and expiring.

CSRF: a form's token is HMAC-SHA256 over the session it belongs to (the ID token's
`origin_jti`, or the sign-in nonce), keyed with a key derived from the link-signing key (one
secret to rotate, a separate key per use). A token from another session, or none, is refused."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import CookieError, SimpleCookie

from functions.console_users import REFRESH_TOKEN_DAYS

CONSOLE_PATH = "/console"
ID_COOKIE = "console_id"
REFRESH_COOKIE = "console_refresh"
PRE_SESSION_COOKIE = "console_pre"
CSRF_FIELD = "csrf_token"
REFRESH_LIFETIME_SECONDS = REFRESH_TOKEN_DAYS * 24 * 3600
"""The app client's refresh-token validity: the cookie lives as long, no longer."""
PRE_SESSION_SECONDS = 15 * 60
_CSRF_PURPOSE = b"procurement-gateway console csrf v1"


def read_cookies(header: str | None) -> dict[str, str]:
    """The request's cookies by name; a malformed header is no cookies at all."""
    if not header or len(header) > 16 * 1024:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def set_cookie(name: str, value: str, max_age: int | None, path: str = CONSOLE_PATH) -> str:
    """A `Set-Cookie` value with the console's attributes. `max_age=None`: a browser-session
    cookie (the ID token's own `exp` bounds it); 0 deletes it. `path`: the console's path as
    the browser sees it (`/prod/console` on API Gateway's own domain)."""
    parts = [f"{name}={value}", f"Path={path}", "Secure", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def clear_cookie(name: str, path: str = CONSOLE_PATH) -> str:
    return set_cookie(name, "", 0, path)


def new_pre_session() -> str:
    return secrets.token_urlsafe(24)


def csrf_key(link_signing_key: bytes) -> bytes:
    """The CSRF key, derived from the link-signing key (never the same key for two uses)."""
    if not link_signing_key:
        raise ValueError("no link-signing key: CSRF tokens would be forgeable")
    return hmac.new(link_signing_key, _CSRF_PURPOSE, hashlib.sha256).digest()


def csrf_token(key: bytes, session_id: str) -> str:
    if not session_id:
        raise ValueError("a CSRF token needs the session it belongs to")
    return hmac.new(key, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(key: bytes, session_id: str, presented: str | None) -> bool:
    """True only for the token of this very session."""
    if not session_id or not presented or len(presented) != 64:
        return False
    return hmac.compare_digest(csrf_token(key, session_id).encode(), presented.encode("utf-8"))
