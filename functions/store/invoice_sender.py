"""The outbound HTTP adapter: posts an invoice to a buyer system and hands back its answer.

https with certificate and host-name checks (TLS 1.2 or later); plain http only to this machine
and only when the local stack allows it. No redirects are followed (a POST must not be re-aimed
or turned into a GET), no proxy from the environment is used, the answer is read up to a bound
and the whole exchange up to a deadline enforced on the socket."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from functions.cxml.build import USER_AGENT
from functions.delivery_transport import Answer, EndpointRefused, Send, Unanswered
from functions.integrations import delivery_url_problem

MAX_ANSWER_BYTES = 1024 * 1024
_CHUNK = 64 * 1024


def _tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class _Deadline:
    """Shuts the connection's socket down when the deadline passes. A socket timeout bounds each
    read, not the exchange: an endpoint dripping one byte a second never trips it, in the TLS
    handshake, the headers or the body. Shutting down the file descriptor wakes any blocked read
    at once (the SSL socket shares it)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self._lock = threading.Lock()
        self._fd = -1
        self._timer: threading.Timer | None = None

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._fd = sock.fileno()
        self._timer = threading.Timer(max(0.0, self.deadline - time.monotonic()), self._cut)
        self._timer.daemon = True
        self._timer.start()

    def _cut(self) -> None:
        with self._lock:
            if self._fd < 0:
                return  # finished in time
            self.expired = True
            twin = socket.socket(fileno=self._fd)
            try:
                twin.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            finally:
                twin.detach()  # the connection still owns (and closes) the descriptor

    def stop(self) -> None:
        """Before the connection closes its descriptor, so the cut never hits a reused one."""
        with self._lock:
            self._fd = -1
        if self._timer is not None:
            self._timer.cancel()


class HttpInvoiceSender:
    def __init__(
        self, *, allow_local_http: bool = False, max_answer_bytes: int = MAX_ANSWER_BYTES
    ) -> None:
        self.allow_local_http = allow_local_http
        self.max_answer_bytes = max_answer_bytes
        self._tls = _tls_context()

    def _connection(self, url: str, timeout: float, deadline: _Deadline) -> Any:
        parts = urlsplit(url)
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=timeout, context=self._tls
            )
        else:
            connection = http.client.HTTPConnection(
                parts.hostname or "", parts.port, timeout=timeout
            )
        create = connection._create_connection  # type: ignore[attr-defined]

        def connected(*args: Any, **kwargs: Any) -> socket.socket:
            sock: socket.socket = create(*args, **kwargs)
            deadline.watch(sock)  # from the TCP connection on: the TLS handshake is bounded too
            return sock

        connection._create_connection = connected  # type: ignore[attr-defined]
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return connection, target

    def post(self, send: Send) -> Answer:
        """No redirect is followed (a 3xx is the answer, not cXML: retried), no proxy is used."""
        problem = delivery_url_problem(send.url, allow_local_http=self.allow_local_http)
        if problem:
            raise EndpointRefused(f"The invoice endpoint {send.url!r} {problem}.")
        deadline = _Deadline(time.monotonic() + send.timeout)
        connection, target = self._connection(send.url, send.timeout, deadline)
        timed_out = f"timed out after {send.timeout:g} s"
        try:
            try:
                connection.connect()
            except ssl.SSLError as exc:
                raise Unanswered(f"TLS failure: {exc.reason or exc}") from exc
            except TimeoutError as exc:
                raise Unanswered(timed_out) from exc
            except OSError as exc:
                if deadline.expired:
                    raise Unanswered(timed_out) from exc
                raise Unanswered(f"could not connect: {exc}") from exc
            connection.request(
                "POST",
                target,
                body=send.body,
                headers={
                    "Content-Type": send.content_type,
                    "Accept": "text/xml, application/xml",
                    "User-Agent": USER_AGENT,
                },
            )
            response = connection.getresponse()
            status = int(response.status or 0)
            body = self._read(response, deadline)
        except Unanswered:
            raise
        except TimeoutError as exc:
            raise Unanswered(timed_out) from exc
        except ssl.SSLError as exc:
            if deadline.expired:
                raise Unanswered(timed_out) from exc
            raise Unanswered(f"TLS failure: {exc.reason or exc}") from exc
        except (http.client.HTTPException, OSError) as exc:
            if deadline.expired:
                raise Unanswered(timed_out) from exc
            raise Unanswered(f"connection failed: {type(exc).__name__}: {exc}") from exc
        finally:
            deadline.stop()
            connection.close()
        if deadline.expired:  # cut while the last bytes arrived: not a whole answer
            raise Unanswered(timed_out)
        return Answer(status, body)

    def _read(self, response: http.client.HTTPResponse, deadline: _Deadline) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while size < self.max_answer_bytes:
            if time.monotonic() > deadline.deadline:
                raise TimeoutError("answer too slow")
            chunk = response.read1(min(_CHUNK, self.max_answer_bytes - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
