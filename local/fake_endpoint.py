"""Local only: what the fake cXML endpoints of our buyers' platforms share (local/fake_coupa.py,
local/fake_business_network.py): failing on demand, the log of what was posted, the cXML
Response whose code is the HTTP status, the credential and DTD checks, the control routes and
a server on its own port for tests. Each fake says only how its platform judges a document."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from lxml import etree

from functions.cxml.build import response

INVOICE_DTD = Path(__file__).parents[1] / "tests" / "dtd" / "1.2.071" / "InvoiceDetail.dtd"
FULFILL_DTD = INVOICE_DTD.with_name("Fulfill.dtd")  # order confirmations (ConfirmationRequest)
MAX_BODY = 10 * 1024 * 1024
NOT_CXML = "Could not parse cXML document."
_PARSER = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)

Judgement = tuple[int, str, str, str]  # cXML code, message, invoice number, payloadID

_dtd: dict[Path, etree.DTD] = {}
_dtd_lock = threading.Lock()


def dtd_problem(root: Any, path: Path = INVOICE_DTD) -> str | None:
    """The first DTD error, or None: one DTD object per file (parsing it takes time), one check
    at a time (its error log is shared)."""
    with _dtd_lock:
        if path not in _dtd:
            _dtd[path] = etree.DTD(str(path))
        dtd = _dtd[path]
        if dtd.validate(root):
            return None
        errors = dtd.error_log.filter_from_errors()
        return str(errors[0].message) if errors else "invalid"


def has_credential(
    root: Any, party: str, domain: str, identity: str, secret: str | None = None
) -> bool:
    """Whether the Header's `party` (From, To, Sender) carries the credential `domain` /
    `identity` (both compared without case), and, when asked, that its SharedSecret is
    `secret`."""
    for credential in root.findall(f"Header/{party}/Credential"):
        same = (credential.get("domain") or "").strip().lower() == domain.lower()
        same = same and (credential.findtext("Identity") or "").strip().lower() == identity.lower()
        if same and (secret is None or credential.findtext("SharedSecret") == secret):
            return True
    return False


@dataclass(frozen=True)
class Received:
    """One post, as the platform's cXML error log would show it."""

    code: int
    message: str
    invoice_id: str
    payload_id: str
    at: float


@dataclass(kw_only=True)
class FakeEndpoint:
    """A platform's cXML endpoint: what it accepted and answered; a subclass judges a parsed
    cXML document in `judge_document`."""

    PATH: ClassVar[str]
    CONTROL: ClassVar[str]
    UNEXPECTED_ERROR: ClassVar[str]  # the platform's message when it answers 500
    DUPLICATE: ClassVar[tuple[int, str]]  # its answer to an invoice number it already took

    invoices: dict[str, bytes] = field(default_factory=dict)  # accepted, by invoice number
    log: list[Received] = field(default_factory=list)
    _failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, count: int) -> None:
        """Answer 500 to the next `count` posts, as the platform does on an unexpected error."""
        with self._lock:
            self._failures = count

    def release(self) -> None:
        """End every held answer now (a fake that holds none has nothing to do)."""

    def received(self) -> list[str]:
        """Accepted invoice numbers, oldest first."""
        with self._lock:
            return list(self.invoices)

    def answer(self, body: bytes) -> tuple[int, bytes]:
        """The HTTP status and cXML body the platform would answer to a posted document."""
        code, message, invoice_id, payload_id = self._judge(body, self.take_failure())
        with self._lock:
            self.log.append(Received(code, message, invoice_id, payload_id, time.time()))
        return code, response(code, message)

    def take_failure(self) -> bool:
        """Whether this post is answered 500 (one of those `fail_next` asked for)."""
        with self._lock:
            fail = self._failures > 0
            if fail:
                self._failures -= 1
            return fail

    def _judge(self, body: bytes, fail: bool) -> Judgement:
        if fail:
            return 500, self.UNEXPECTED_ERROR, "", ""
        try:
            root = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError:
            return 406, NOT_CXML, "", ""
        header = root.find("Request/InvoiceDetailRequest/InvoiceDetailRequestHeader")
        invoice_id = header.get("invoiceID", "") if header is not None else ""
        payload_id = root.get("payloadID", "")
        if root.tag != "cXML":
            return 406, NOT_CXML, invoice_id, payload_id
        return self.judge_document(root, body, invoice_id, payload_id)

    def judge_document(self, root: Any, body: bytes, invoice_id: str, payload_id: str) -> Judgement:
        raise NotImplementedError

    def take_invoice(self, body: bytes, invoice_id: str, payload_id: str) -> Judgement:
        """Accept the invoice unless its number was already taken (then the platform's
        duplicate answer)."""
        with self._lock:
            if invoice_id in self.invoices:
                code, message = self.DUPLICATE
                return code, message, invoice_id, payload_id
            self.invoices[invoice_id] = body
        return 200, "", invoice_id, payload_id

    def status(self) -> dict[str, Any]:
        """What `GET CONTROL` shows."""
        with self._lock:
            return {
                "endpoint": self.PATH,
                **self.account(),
                "pending_failures": self._failures,
                "accepted": list(self.invoices),
                "log": [r.__dict__ for r in self.log],
            }

    def account(self) -> dict[str, Any]:
        """The platform account facts `status` shows besides what was received."""
        return {}


def handle(
    fake: FakeEndpoint, method: str, path: str, query: str, body: bytes
) -> tuple[int, str, bytes]:
    """Route a request under the fake's CONTROL path: (status, content type, body).

    POST PATH                    the cXML endpoint
    GET  CONTROL                 what it received and answered (JSON)
    POST CONTROL/fail?count=N    answer 500 to the next N posts (0: stop failing)"""
    if path == fake.PATH:
        if method != "POST":
            return 405, "text/plain", b"POST a cXML document here."
        code, document = fake.answer(body)
        return code, "text/xml; charset=utf-8", document
    if path == fake.CONTROL and method == "GET":
        return 200, "application/json", json.dumps(fake.status(), indent=2).encode()
    if path == f"{fake.CONTROL}/fail" and method == "POST":
        raw = dict(parse_qsl(query)).get("count", "1")
        if not raw.isdigit() or int(raw) > 100:
            return 400, "application/json", b'{"error": "count must be 0 to 100"}'
        fake.fail_next(int(raw))
        return 200, "application/json", json.dumps(fake.status(), indent=2).encode()
    return 404, "text/plain", b"Not found."


@contextmanager
def serve(fake: FakeEndpoint, host: str = "127.0.0.1") -> Iterator[str]:
    """The fake on its own port (0: any free one), in a thread; yields its cXML URL. Stops
    itself, held answers released, on the way out."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            url = urlsplit(self.path)
            body = self.rfile.read(length)
            status, content_type, body = handle(fake, "POST", url.path, url.query, body)
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up (timed out) meanwhile
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name=type(fake).__name__, daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}{fake.PATH}"
    finally:
        fake.release()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
