"""The outbound HTTP adapter: posts an invoice to a buyer system and hands back its answer.

https with certificate and host-name checks (TLS 1.2 or later); plain http only to this machine
and only when the local stack allows it. No redirects are followed (a POST must not be re-aimed
or turned into a GET), no proxy from the environment is used, the answer is read up to a bound
and the whole exchange up to a deadline."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
import urllib.error
import urllib.request
from typing import Any

from functions.cxml.build import USER_AGENT
from functions.delivery import Answer, EndpointRefused, Send, Unanswered
from functions.integrations import delivery_url_problem

MAX_ANSWER_BYTES = 1024 * 1024
_CHUNK = 64 * 1024


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx itself becomes the answer (not cXML: retried)


def _tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class HttpInvoiceSender:
    def __init__(
        self, *, allow_local_http: bool = False, max_answer_bytes: int = MAX_ANSWER_BYTES
    ) -> None:
        self.allow_local_http = allow_local_http
        self.max_answer_bytes = max_answer_bytes
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=_tls_context()),
            _NoRedirect(),
        )

    def post(self, send: Send) -> Answer:
        problem = delivery_url_problem(send.url, allow_local_http=self.allow_local_http)
        if problem:
            raise EndpointRefused(f"The invoice endpoint {send.url!r} {problem}.")
        request = urllib.request.Request(  # noqa: S310 (scheme checked just above)
            send.url,
            data=send.body,
            method="POST",
            headers={
                "Content-Type": send.content_type,
                "Accept": "text/xml, application/xml",
                "User-Agent": USER_AGENT,
            },
        )
        deadline = time.monotonic() + send.timeout
        try:
            try:
                response = self._opener.open(request, timeout=send.timeout)
            except urllib.error.HTTPError as error:  # 4xx/5xx/3xx: still an answer
                response = error
            with response:
                status = int(response.status if response.status is not None else 0)
                body = self._read(response, deadline)
        except TimeoutError as exc:
            raise Unanswered(f"timed out after {send.timeout:g} s") from exc
        except ssl.SSLError as exc:
            raise Unanswered(f"TLS failure: {exc.reason or exc}") from exc
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError | socket.timeout):
                raise Unanswered(f"timed out after {send.timeout:g} s") from exc
            if isinstance(reason, ssl.SSLError):
                raise Unanswered(f"TLS failure: {reason}") from exc
            raise Unanswered(f"could not connect: {reason}") from exc
        except (http.client.HTTPException, OSError) as exc:
            raise Unanswered(f"connection failed: {type(exc).__name__}: {exc}") from exc
        return Answer(status, body)

    def _read(self, response: Any, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while size < self.max_answer_bytes:
            if time.monotonic() > deadline:
                raise TimeoutError("answer too slow")
            chunk = response.read(min(_CHUNK, self.max_answer_bytes - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
