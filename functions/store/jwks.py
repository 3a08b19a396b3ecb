"""The user pool's public keys (JWKS), fetched once per container and cached; re-read when a
token names a key we do not hold (Cognito rotated one in), at most once per REFRESH_SECONDS so
a flood of made-up key ids cannot turn into a flood of fetches. The port of
`functions.console_auth.KeyLookup`."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable
from typing import Any

from functions.clock import now
from functions.errors import Transient

TIMEOUT_SECONDS = 3.0
REFRESH_SECONDS = 60
MAX_BYTES = 64 * 1024

Fetch = Callable[[str], bytes]


def _fetch(url: str) -> bytes:
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ValueError("the JWKS URL must be https (plain http only on the local stack)")
    # The scheme is checked just above: https, or loopback http on the local stack.
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
        return bytes(answer.read(MAX_BYTES + 1))


class PoolKeys:
    """`(kid, refresh) -> JWK dict or None`, over the JWKS at `url`."""

    def __init__(self, url: str, fetch: Fetch | None = None) -> None:
        self._url = url
        self._fetch = fetch
        self._keys: dict[str, dict[str, Any]] | None = None
        self._refreshed_at = float("-inf")
        self._lock = threading.Lock()

    def __call__(self, kid: str, refresh: bool) -> dict[str, Any] | None:
        with self._lock:
            if self._keys is None:
                self._keys = self._read()
            elif refresh and kid not in self._keys:
                moment = now().timestamp()
                if moment - self._refreshed_at >= REFRESH_SECONDS:
                    self._refreshed_at = moment
                    self._keys = self._read()
            return self._keys.get(kid)

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            raw = (self._fetch or _fetch)(self._url)
        except Exception as exc:  # network, timeout, TLS: ours, and retryable
            raise Transient("Temporary failure reading the sign-in keys; please retry.") from exc
        if len(raw) > MAX_BYTES:
            raise Transient("The sign-in keys document is too large.")
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise Transient("The sign-in keys document is not JSON.") from exc
        keys = document.get("keys") if isinstance(document, dict) else None
        return {
            key["kid"]: key
            for key in keys or []
            if isinstance(key, dict) and isinstance(key.get("kid"), str) and key.get("kty") == "RSA"
        }
