"""The console under test: moto's Cognito pool made as `make run` makes it (local/cognito.py),
its public key served to the verifier, and a small cookie-keeping browser for the handler."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.cognito import create_console_pool, invite, public_jwks
from tests.support import BASE_URL

PASSWORD = "Correct-Horse-42!"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def _forget_cached_pool() -> None:
    from functions import console_auth
    from functions.config import settings
    from functions.handlers.console import kit as console

    settings.cache_clear()  # CONSOLE_USER_POOL_ID is read into the settings
    console_auth.console_pool.cache_clear()
    for cached in (console._pool, console._keys, console.cognito_sign_in, console.csrf_signing_key):
        cached.cache_clear()


@pytest.fixture(scope="session")
def console_pool(aws: dict[str, Any]) -> dict[str, Any]:
    """The console's pool and app client, once per test session (users differ per test)."""
    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    ids = create_console_pool(cognito, f"{BASE_URL}/console")
    os.environ.update(ids)
    _forget_cached_pool()
    return {"cognito": cognito, **ids}


@pytest.fixture
def console(console_pool: dict[str, Any], api: Any, monkeypatch: Any) -> Iterator[Any]:
    """The local stack serves moto's JWKS; here the verifier reads it without HTTP."""
    from functions.store import jwks

    monkeypatch.setattr(jwks, "_fetch", lambda _url: public_jwks())
    # Each test module importing the session fixture has a pool of its own: this test's is
    # the one in the environment (and in the settings read from it).
    for name, value in console_pool.items():
        if name != "cognito":
            monkeypatch.setenv(name, value)
    _forget_cached_pool()
    yield console_pool
    _forget_cached_pool()


def new_user(
    pool: dict[str, Any], account_id: str = "111122223333", role: str = "admin", **kw: Any
) -> str:
    """A user of `account_id`, with PASSWORD unless a temporary password is given; the email."""
    email = f"user-{uuid.uuid4().hex[:10]}@initech.example"
    if "temporary_password" not in kw:
        kw["password"] = PASSWORD
    invite(pool["cognito"], pool["CONSOLE_USER_POOL_ID"], email, account_id, role, **kw)
    return email


class Browser:
    """Keeps the cookies the console sets (path /console) and sends them back, as a browser
    would; forms are posted with the CSRF token of the page last shown."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.cookies: dict[str, str] = {}
        self.set_cookie_headers: list[str] = []
        self.last: Any = None

    def _send(self, method: str, path: str, query: str = "", body: bytes = b"") -> Any:
        headers = [("Content-Type", "application/x-www-form-urlencoded")]
        if self.cookies and path.startswith("/console"):
            headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
        answer = self.api.handle(method, path, query=query, headers=headers, body=body)
        self.set_cookie_headers = [v for k, v in answer.headers if k.lower() == "set-cookie"]
        for header in self.set_cookie_headers:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in header:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        self.last = answer
        return answer

    def get(self, path: str, query: str = "") -> Any:
        return self._send("GET", path, query)

    def post(self, path: str, fields: dict[str, str], csrf: bool = True) -> Any:
        from urllib.parse import urlencode

        found = CSRF.search(self.last.text) if csrf and self.last is not None else None
        if found:
            fields = {"csrf_token": found.group(1), **fields}
        return self._send("POST", path, body=urlencode(fields).encode())

    def sign_in(self, email: str, password: str = PASSWORD) -> Any:
        self.get("/console/sign-in")
        return self.post("/console/sign-in", {"step": "password", "username": email,
                                              "password": password})  # fmt: skip
