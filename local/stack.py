"""The handlers behind an API Gateway stand-in: route, build the event, invoke, answer.

Used by the HTTP server (`make run`) and in-process by the integration tests."""

from __future__ import annotations

import base64
import importlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from local.events import LambdaContext, rest_event
from local.routes import match

API_GATEWAY_LIMIT_BYTES = 10 * 1024 * 1024


@dataclass
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def _gateway_error(status: int, message: str) -> HttpAnswer:
    body = ('{"message":"' + message + '"}').encode()
    return HttpAnswer(status, [("Content-Type", "application/json")], body)


def too_large() -> HttpAnswer:
    """API Gateway's REQUEST_TOO_LARGE gateway response (infra/api.py): a cXML 400 document with
    the gateway's own HTTP 413 (gateway responses are stage-wide; README, HTTP status policy)."""
    from functions.cxml.build import response

    body = response(400, "Document too large.")
    return HttpAnswer(413, [("Content-Type", "text/xml; charset=utf-8")], body)


@dataclass
class LocalApi:
    """One lock per function: like a Lambda container, each handler takes one event at a time
    (Powertools' resolver keeps the current event on the app object)."""

    host: str
    locks: dict[str, threading.Lock] = field(default_factory=dict)
    invocations: dict[str, int] = field(default_factory=dict)

    def handle(
        self,
        method: str,
        path: str,
        query: str = "",
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        identity: dict[str, Any] | None = None,
    ) -> HttpAnswer:
        found = match(method, path)
        if found is None:
            # What API Gateway answers for a path or method it has no resource for.
            return _gateway_error(403, "Missing Authentication Token")
        if len(body) > API_GATEWAY_LIMIT_BYTES:
            return too_large()
        event = rest_event(
            method=method,
            path=path,
            query=query,
            headers=list(headers),
            body=body,
            resource=found.resource,
            path_parameters=found.path_parameters,
            host=self.host,
            identity=identity,
        )
        module = importlib.import_module(found.module)
        lock = self.locks.setdefault(found.module, threading.Lock())
        with lock:
            self.invocations[found.module] = self.invocations.get(found.module, 0) + 1
            result = module.handler(event, LambdaContext(found.module.rsplit(".", 1)[-1]))
        return _answer(result)


def _answer(result: dict[str, Any]) -> HttpAnswer:
    headers: list[tuple[str, str]] = []
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(v)) for v in values)
    seen = {name.lower() for name, _ in headers}
    for name, value in (result.get("headers") or {}).items():
        if name.lower() not in seen:
            headers.append((name, str(value)))
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
    return HttpAnswer(int(result["statusCode"]), headers, body)
