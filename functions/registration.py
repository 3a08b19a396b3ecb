"""Registration tokens: what the buyer's browser posts to a seller's fulfillment URL as
`x-amzn-marketplace-token`, and what the seller trades for a customer through
`POST /marketplace/resolve-customer` (AWS Marketplace's ResolveCustomer contract).

A token names a subscription, its buyer account, its product and whether it is a test, with an
expiry; it is signed with a key derived from the link-signing key for this one purpose, so a
"Your subscriptions" link signature never verifies as a token and the reverse. It is not a
secret of anyone (it only says who subscribed, which the seller is about to learn), yet nobody
can make one: `verify` refuses forged, altered, expired and other-purpose tokens.

Plain Python: `v1.<claims, base64url JSON>.<HMAC-SHA256, base64url>`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

TOKEN_FIELD = "x-amzn-marketplace-token"  # noqa: S105 (a form field name, not a secret)
"""The form field the browser posts to the fulfillment URL, as AWS Marketplace names it."""
TOKEN_LIFETIME = timedelta(hours=1)
"""Short-lived: the page showing **Set up your account** signs a fresh one at each view."""
MAX_TOKEN_LENGTH = 1024
_VERSION = "v1"
_PURPOSE = b"procurement-gateway registration token v1"
_PART = re.compile(r"[A-Za-z0-9_-]{1,900}")


class InvalidToken(ValueError):
    """Malformed, forged, altered or for another purpose (AWS: InvalidTokenException)."""


class ExpiredToken(ValueError):
    """Genuine, but past its expiry (AWS: ExpiredTokenException)."""


@dataclass(frozen=True)
class Registration:
    """What a genuine token says."""

    subscription_id: str
    account_id: str  # the CustomerIdentifier and CustomerAWSAccountId
    product_id: str  # the ProductCode
    test: bool
    expires_at: int  # epoch seconds


def _token_key(link_key: bytes) -> bytes:
    if not link_key:
        raise ValueError("the link-signing key is empty: tokens would be forgeable")
    return hmac.new(link_key, _PURPOSE, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(
    link_key: bytes,
    *,
    subscription_id: str,
    account_id: str,
    product_id: str,
    test: bool,
    now: datetime,
    lifetime: timedelta = TOKEN_LIFETIME,
) -> str:
    claims = {
        "sub": subscription_id,
        "acc": account_id,
        "prd": product_id,
        "tst": bool(test),
        "exp": int((now + lifetime).timestamp()),
    }
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    signed = f"{_VERSION}.{body}"
    mac = hmac.new(_token_key(link_key), signed.encode("ascii"), hashlib.sha256).digest()
    return f"{signed}.{_b64(mac)}"


def verify(link_key: bytes, token: object, now: datetime) -> Registration:
    """The token's claims, or InvalidToken / ExpiredToken. The signature is checked before
    anything in the claims is believed."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("The registration token is invalid.")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _VERSION or not all(_PART.fullmatch(p) for p in parts[1:]):
        raise InvalidToken("The registration token is invalid.")
    expected = hmac.new(
        _token_key(link_key), f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256
    ).digest()
    try:
        presented = _unb64(parts[2])
        claims = json.loads(_unb64(parts[1]))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("The registration token is invalid.") from exc
    if not hmac.compare_digest(expected, presented):
        raise InvalidToken("The registration token is invalid.")
    try:
        registration = Registration(
            subscription_id=_claim(claims, "sub"),
            account_id=_claim(claims, "acc"),
            product_id=_claim(claims, "prd"),
            test=claims["tst"] is True,
            expires_at=int(claims["exp"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken("The registration token is invalid.") from exc
    if now.timestamp() >= registration.expires_at:
        raise ExpiredToken("The registration token has expired.")
    return registration


def _claim(claims: object, name: str) -> str:
    if not isinstance(claims, dict):
        raise TypeError("claims are not an object")
    value = claims[name]
    if not isinstance(value, str) or not value:
        raise ValueError(f"claim {name} is not a string")
    return value
