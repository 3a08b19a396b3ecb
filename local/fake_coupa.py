"""Local only: a Coupa instance's cXML invoice endpoint (`/cxml/invoices`), for demos and tests.
It takes order confirmations (ConfirmationRequest, checked against Fulfill.dtd) there too.

It answers as Coupa documents it does (docs/PROTOCOL.md §8; Coupa's "Invoice cXML Transmission
Error Codes"), with the HTTP status equal to the cXML code:

    406  the body is not a cXML document ("Could not parse cXML document")
    401  From, To or Sender credential or the shared secret is not the configured one
    406  the document is not valid against InvoiceDetail.dtd (lxml, the vendored 1.2.071 DTD)
    417  the invoice number was already used ("Invalid attributes in document")
    200  accepted: the invoice number is now used

and can be told to answer 500 ("Unexpected server error") the next N times, or to stall (no
answer for a while, so the sender times out). Served by local/server.py at
`/_local/coupa/cxml/invoices` for the demo Coupa integration (`demo`); tests serve it on their
own port (`serve`).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from lxml import etree

from functions.cxml.build import response

INVOICE_DTD = Path(__file__).parents[1] / "tests" / "dtd" / "1.2.071" / "InvoiceDetail.dtd"
FULFILL_DTD = INVOICE_DTD.with_name("Fulfill.dtd")  # order confirmations (ConfirmationRequest)
PATH = "/_local/coupa/cxml/invoices"
CONTROL = "/_local/coupa"
MAX_BODY = 10 * 1024 * 1024
_PARSER = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)


_dtd: dict[Path, etree.DTD] = {}
_dtd_lock = threading.Lock()


def _dtd_problem(root: Any, path: Path = INVOICE_DTD) -> str | None:
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


@dataclass(frozen=True)
class Party:
    domain: str
    identity: str

    def to_json(self) -> dict[str, str]:
        return {"domain": self.domain, "identity": self.identity}


def demo(supplier: Party, buyer: Party) -> FakeCoupa:
    """The fake for the demo Coupa integration: Coupa's supplier setup names us as From and
    Sender and the buyer company as To, with a fresh shared secret."""
    return FakeCoupa(supplier=supplier, buyer=buyer, sender=supplier)


@dataclass(frozen=True)
class Received:
    """One post, as Coupa's cXML error log would show it."""

    code: int
    message: str
    invoice_id: str
    payload_id: str
    at: float


@dataclass
class FakeCoupa:
    """What Coupa's supplier setup holds for us (From = our supplier credential, To = the buyer
    company, Sender = us with the shared secret), and what it has received."""

    supplier: Party
    buyer: Party
    sender: Party
    shared_secret: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    invoices: dict[str, bytes] = field(default_factory=dict)
    confirmations: list[bytes] = field(default_factory=list)  # every one accepted, in order
    log: list[Received] = field(default_factory=list)
    _failures: int = 0
    _stalls: int = 0
    _stall_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: threading.Event = field(default_factory=threading.Event)

    def invoice_delivery(self, url: str) -> dict[str, Any]:
        """The integration setting that points at this endpoint (admin API shape)."""
        return {
            "url": url,
            "from": self.supplier.to_json(),
            "to": self.buyer.to_json(),
            "sender": self.sender.to_json(),
            "shared_secret": self.shared_secret,
        }

    def fail_next(self, count: int) -> None:
        """Answer 500 to the next `count` posts, as Coupa does on an unexpected error."""
        with self._lock:
            self._failures = count

    def stall_next(self, count: int, seconds: float) -> None:
        """Hold the next `count` posts unanswered for `seconds` (the sender times out first)."""
        with self._lock:
            self._stalls, self._stall_seconds = count, seconds
            self._released.clear()

    def release(self) -> None:
        """End every stall now (tests call it on the way out, so no thread lingers)."""
        self._released.set()

    def received(self) -> list[str]:
        """Accepted invoice numbers, oldest first."""
        with self._lock:
            return list(self.invoices)

    def answer(self, body: bytes) -> tuple[int, bytes]:
        """The HTTP status and cXML body Coupa would answer to a posted invoice."""
        with self._lock:
            stall = self._stalls > 0
            if stall:
                self._stalls -= 1
            fail = not stall and self._failures > 0
            if fail:
                self._failures -= 1
        if stall:
            self._released.wait(self._stall_seconds)
        code, message, invoice_id, payload_id = self._judge(body, fail)
        with self._lock:
            self.log.append(Received(code, message, invoice_id, payload_id, time.time()))
        return code, response(code, message)

    def _judge(self, body: bytes, fail: bool) -> tuple[int, str, str, str]:
        if fail:
            return 500, "Unexpected server error.", "", ""
        try:
            root = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError:
            return 406, "Could not parse cXML document.", "", ""
        header = root.find("Request/InvoiceDetailRequest/InvoiceDetailRequestHeader")
        invoice_id = header.get("invoiceID", "") if header is not None else ""
        payload_id = root.get("payloadID", "")
        if root.tag != "cXML":
            return 406, "Could not parse cXML document.", invoice_id, payload_id
        if not self._credentials_match(root):
            return 401, "Invalid credentials. Bad credentials", invoice_id, payload_id
        confirmation = root.find("Request/ConfirmationRequest") is not None
        problem = _dtd_problem(root, FULFILL_DTD if confirmation else INVOICE_DTD)
        if problem is not None:
            return (
                406,
                f"Request did not validate successfully with DTD. Error: {problem}",
                invoice_id,
                payload_id,
            )
        if confirmation:  # Coupa's order collaboration takes it: a confirmation is never refused
            with self._lock:
                self.confirmations.append(body)
            return 200, "", "", payload_id
        with self._lock:
            if invoice_id in self.invoices:
                return (
                    417,
                    "Invalid attributes in document. Validation failed: Invoice number has "
                    "already been used",
                    invoice_id,
                    payload_id,
                )
            self.invoices[invoice_id] = body
        return 200, "", invoice_id, payload_id

    def _credentials_match(self, root: Any) -> bool:
        def has(party: str, expected: Party, secret: str | None = None) -> bool:
            for credential in root.findall(f"Header/{party}/Credential"):
                same = (credential.get("domain") or "").strip().lower() == expected.domain.lower()
                same = same and (credential.findtext("Identity") or "").strip().lower() == (
                    expected.identity.lower()
                )
                if same and (secret is None or credential.findtext("SharedSecret") == secret):
                    return True
            return False

        return (
            has("From", self.supplier)
            and has("To", self.buyer)
            and has("Sender", self.sender, self.shared_secret)
        )

    def status(self) -> dict[str, Any]:
        """What `GET /_local/coupa` shows."""
        with self._lock:
            return {
                "endpoint": PATH,
                "pending_failures": self._failures,
                "accepted": list(self.invoices),
                "log": [r.__dict__ for r in self.log],
            }


def handle(
    fake: FakeCoupa, method: str, path: str, query: str, body: bytes
) -> tuple[int, str, bytes]:
    """Route a request under /_local/coupa: (status, content type, body).

    POST /_local/coupa/cxml/invoices   the invoice endpoint
    GET  /_local/coupa                 what it received and answered (JSON)
    POST /_local/coupa/fail?count=N    answer 500 to the next N invoices (0: stop failing)"""
    if path == PATH:
        if method != "POST":
            return 405, "text/plain", b"POST a cXML InvoiceDetailRequest here."
        code, document = fake.answer(body)
        return code, "text/xml; charset=utf-8", document
    if path == CONTROL and method == "GET":
        return 200, "application/json", json.dumps(fake.status(), indent=2).encode()
    if path == f"{CONTROL}/fail" and method == "POST":
        raw = dict(parse_qsl(query)).get("count", "1")
        if not raw.isdigit() or int(raw) > 100:
            return 400, "application/json", b'{"error": "count must be 0 to 100"}'
        fake.fail_next(int(raw))
        return 200, "application/json", json.dumps(fake.status(), indent=2).encode()
    return 404, "text/plain", b"Not found."


@contextmanager
def serve(fake: FakeCoupa, host: str = "127.0.0.1") -> Iterator[str]:
    """The fake on its own port (0: any free one), in a thread; yields the invoice URL. Stops
    itself, stalls released, on the way out."""

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
        target=server.serve_forever, args=(0.05,), name="fake-coupa", daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}{PATH}"
    finally:
        fake.release()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
