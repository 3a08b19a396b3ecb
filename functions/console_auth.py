"""Who is signed in to the console: a Cognito token checked by signature (RS256 against the
pool's JWKS), issuer, audience, expiry and `token_use`, and read as a `ConsoleUser`.

Plain Python over one port, `keys(kid, refresh)` (the JWKS adapter in
`functions.store.jwks`), so tests sign tokens with keys they generate. The account a console
request is scoped to is the `custom:account_id` of a VERIFIED token, never a URL parameter.
joserfc (and with it `cryptography`) is imported on first verification only: the storefront's
cold path never pays for it."""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from functions.config import ConfigurationError
from functions.console_users import ENV_CLIENT_ID, ENV_USER_POOL_ID

LEEWAY_SECONDS = 30
"""Clock skew tolerated on `exp`, `iat` and `nbf` (Cognito's clock and ours)."""
ROLES = ("admin", "member")
"""`custom:role`: an admin configures the account's integrations and members; a member reads."""

_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")

KeyLookup = Callable[[str, bool], dict[str, Any] | None]
"""`(kid, refresh) -> JWK dict or None`: the pool's public key by id; `refresh=True` asks the
adapter to re-read the JWKS (a key rotated in since it was cached)."""


class TokenRejected(Exception):
    """The token is not one of ours, or no longer valid. The reason is for logs and tests; the
    browser only ever sees "please sign in"."""


@dataclass(frozen=True)
class ConsolePool:
    """The user pool and app client the console trusts, read once from the environment."""

    pool_id: str
    client_id: str
    region: str
    issuer: str
    jwks_url: str


@dataclass(frozen=True)
class ConsoleUser:
    """A verified ID token, as the console uses it."""

    subject: str
    username: str
    email: str
    account_id: str
    role: str
    session_id: str
    """Stable for one sign-in across quiet renewals (`origin_jti`, else `jti`): what CSRF
    tokens are bound to."""
    expires_at: int

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@cache
def console_pool() -> ConsolePool:
    """`CONSOLE_USER_POOL_ID`, `CONSOLE_CLIENT_ID`; the issuer follows from pool and region
    (`CONSOLE_ISSUER` overrides), the JWKS URL from the issuer (`CONSOLE_JWKS_URL` overrides:
    locally it points at the local stack, which serves moto's key)."""
    pool_id = os.environ.get(ENV_USER_POOL_ID, "").strip()
    client_id = os.environ.get(ENV_CLIENT_ID, "").strip()
    if not pool_id or not client_id:
        raise ConfigurationError("CONSOLE_USER_POOL_ID and CONSOLE_CLIENT_ID must be set")
    region = pool_id.split("_", 1)[0]
    issuer = (os.environ.get("CONSOLE_ISSUER") or "").strip().rstrip("/") or (
        f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
    )
    jwks_url = (os.environ.get("CONSOLE_JWKS_URL") or "").strip() or (
        f"{issuer}/.well-known/jwks.json"
    )
    return ConsolePool(pool_id, client_id, region, issuer, jwks_url)


def _decode_segment(segment: str) -> dict[str, Any]:
    if not _SEGMENT.fullmatch(segment):
        raise TokenRejected("malformed token segment")
    try:
        value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise TokenRejected("malformed token segment") from exc
    if not isinstance(value, dict):
        raise TokenRejected("malformed token segment")
    return value


def _verified_claims(token: str, keys: KeyLookup) -> dict[str, Any]:
    """The payload of a compact JWS whose RS256 signature a pool key verifies. The algorithm
    is fixed here, never taken from the token (no `none`, no HS256 with the public key)."""
    if not isinstance(token, str) or len(token) > 8192 or token.count(".") != 2:
        raise TokenRejected("not a compact JWT")
    header = _decode_segment(token.split(".", 1)[0])
    if header.get("alg") != "RS256":
        raise TokenRejected(f"algorithm {header.get('alg')!r} is not RS256")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenRejected("no key id")
    jwk = keys(kid, False) or keys(kid, True)
    if jwk is None:
        raise TokenRejected("unknown key id")
    from joserfc import jws
    from joserfc.errors import JoseError
    from joserfc.jwk import RSAKey

    try:
        key = RSAKey.import_key(jwk)
        verified = jws.deserialize_compact(token, key, algorithms=["RS256"])
    except (JoseError, ValueError, TypeError) as exc:
        raise TokenRejected(f"signature does not verify: {type(exc).__name__}") from exc
    try:
        claims = json.loads(verified.payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenRejected("payload is not JSON") from exc
    if not isinstance(claims, dict):
        raise TokenRejected("payload is not a JSON object")
    return claims


def _number(claims: dict[str, Any], name: str) -> int | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected(f"{name} is not a number")
    return int(value)


def verify_token(
    token: str, token_use: str, pool: ConsolePool, keys: KeyLookup, moment: datetime
) -> dict[str, Any]:
    """The claims of a genuine, current token of `pool`'s app client, of use `token_use`
    ("id" or "access"); TokenRejected otherwise."""
    if token_use not in ("id", "access"):
        raise ValueError("token_use is 'id' or 'access'")
    claims = _verified_claims(token, keys)
    if claims.get("iss") != pool.issuer:
        raise TokenRejected("issuer is not the console's user pool")
    if claims.get("token_use") != token_use:
        raise TokenRejected(f"token_use is {claims.get('token_use')!r}, not {token_use!r}")
    id_token = token_use == "id"  # noqa: S105 - a claim's value, not a password
    audience = claims.get("aud") if id_token else claims.get("client_id")
    if audience != pool.client_id:
        raise TokenRejected("audience is not the console's app client")
    now = int(moment.timestamp())
    expires = _number(claims, "exp")
    if expires is None or now >= expires + LEEWAY_SECONDS:
        raise TokenRejected("expired")
    for name in ("iat", "nbf"):
        at = _number(claims, name)
        if at is not None and at > now + LEEWAY_SECONDS:
            raise TokenRejected(f"{name} is in the future")
    return claims


def console_user(
    id_token: str, pool: ConsolePool, keys: KeyLookup, moment: datetime
) -> ConsoleUser:
    """The signed-in user of a verified ID token. A user without an account or a known role
    (invited wrongly, or a token of a federated user not yet mapped) is refused too."""
    claims = verify_token(id_token, "id", pool, keys, moment)
    account_id = claims.get("custom:account_id")
    role = claims.get("custom:role")
    if not isinstance(account_id, str) or not account_id:
        raise TokenRejected("no custom:account_id")
    if role not in ROLES:
        raise TokenRejected("custom:role is not admin or member")
    session_id = claims.get("origin_jti") or claims.get("jti") or ""
    subject = claims.get("sub")
    if not isinstance(session_id, str) or not session_id or not isinstance(subject, str):
        raise TokenRejected("no session id or subject")
    return ConsoleUser(
        subject=subject,
        username=str(claims.get("cognito:username") or subject),
        email=str(claims.get("email") or ""),
        account_id=account_id,
        role=str(role),
        session_id=session_id,
        expires_at=int(claims["exp"]),
    )
