"""Local only: SAP Business Network's cXML endpoint as a supplier posting invoices meets it, for
demos and tests (beside local/fake_coupa.py, which stands in for a Coupa instance).

One network account (ours: a supplier ANID and the marketplace's Ariba shared secret) and the
buyers it trades with (their ANIDs). It answers with a cXML Response, the HTTP status equal to
the cXML code (`functions.delivery` judges the cXML Status either way):

    406  the body is not a cXML document
    401  From or Sender is not our ANID, or the shared secret is wrong: "Invalid or unrecognized
         sender credentials" (the network's wording, Ariba KB0393768)
    400  To is not a buyer we trade with
    406  the document is not valid against InvoiceDetail.dtd (lxml, the vendored 1.2.071 DTD)
    400  INVOICE_DUPLICATE: the invoice number was already received from us (Ariba KB0394765)
    200  accepted

and can be told to answer 500 the next N times. Served by local/server.py at
`/_local/ariba/cxml` (GET `/_local/ariba` shows what it received); tests serve it on their own
port (`serve`)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from lxml import etree

from functions.cxml.build import response
from local.fake_coupa import MAX_BODY, Received, _dtd_problem

PATH = "/_local/ariba/cxml"
CONTROL = "/_local/ariba"
DOMAIN = "networkid"
_PARSER = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)
BAD_SENDER = (
    "Invalid or unrecognized sender credentials. Please contact support with the Error "
    "Reference Number: ANERR-LOCAL for more details"
)


@dataclass
class FakeBusinessNetwork:
    """Our supplier account on the network and the buyers (ANIDs) it trades with."""

    supplier_anid: str
    shared_secret: str
    buyers: set[str] = field(default_factory=set)
    invoices: dict[str, bytes] = field(default_factory=dict)
    log: list[Received] = field(default_factory=list)
    _failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, count: int) -> None:
        """Answer 500 to the next `count` posts."""
        with self._lock:
            self._failures = count

    def received(self) -> list[str]:
        """Accepted invoice numbers, oldest first."""
        with self._lock:
            return list(self.invoices)

    def answer(self, body: bytes) -> tuple[int, bytes]:
        with self._lock:
            fail = self._failures > 0
            if fail:
                self._failures -= 1
        code, message, invoice_id, payload_id = self._judge(body, fail)
        with self._lock:
            self.log.append(Received(code, message, invoice_id, payload_id, time.time()))
        return code, response(code, message)

    def _judge(self, body: bytes, fail: bool) -> tuple[int, str, str, str]:
        if fail:
            return 500, "Internal server error, please retry.", "", ""
        try:
            root = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError:
            return 406, "Could not parse cXML document.", "", ""
        header = root.find("Request/InvoiceDetailRequest/InvoiceDetailRequestHeader")
        invoice_id = header.get("invoiceID", "") if header is not None else ""
        payload_id = root.get("payloadID", "")
        if root.tag != "cXML":
            return 406, "Could not parse cXML document.", invoice_id, payload_id
        us = self.supplier_anid.lower()
        if not (_has(root, "From", us) and _has(root, "Sender", us, self.shared_secret)):
            return 401, BAD_SENDER, invoice_id, payload_id
        buyer = next((a for a in self.buyers if _has(root, "To", a.lower())), None)
        if buyer is None:
            return 400, "The To credential is not a buyer ANID trading with you.", invoice_id, ""
        problem = _dtd_problem(root)
        if problem is not None:
            return 406, f"Document did not validate against the DTD: {problem}", invoice_id, ""
        with self._lock:
            if invoice_id in self.invoices:
                return (
                    400,
                    "INVOICE_DUPLICATE: An invoice with the same ID has already been received.",
                    invoice_id,
                    payload_id,
                )
            self.invoices[invoice_id] = body
        return 200, "", invoice_id, payload_id

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "endpoint": PATH,
                "supplier_anid": self.supplier_anid,
                "buyers": sorted(self.buyers),
                "pending_failures": self._failures,
                "accepted": list(self.invoices),
                "log": [r.__dict__ for r in self.log],
            }


def _has(root: Any, party: str, identity: str, secret: str | None = None) -> bool:
    """Whether the Header's `party` carries a NetworkID credential `identity` (lower case),
    and, when asked, that credential's SharedSecret is `secret`."""
    for credential in root.findall(f"Header/{party}/Credential"):
        same = (credential.get("domain") or "").strip().lower() == DOMAIN
        same = same and (credential.findtext("Identity") or "").strip().lower() == identity
        if same and (secret is None or credential.findtext("SharedSecret") == secret):
            return True
    return False


def handle(
    fake: FakeBusinessNetwork, method: str, path: str, query: str, body: bytes
) -> tuple[int, str, bytes]:
    """Route a request under /_local/ariba: (status, content type, body).

    POST /_local/ariba/cxml            the network's cXML endpoint
    GET  /_local/ariba                 what it received and answered (JSON)
    POST /_local/ariba/fail?count=N    answer 500 to the next N posts (0: stop failing)"""
    if path == PATH:
        if method != "POST":
            return 405, "text/plain", b"POST a cXML document here."
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
def serve(fake: FakeBusinessNetwork, host: str = "127.0.0.1") -> Iterator[str]:
    """The fake on its own port, in a thread; yields its cXML URL; stops on the way out."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            url = urlsplit(self.path)
            status, content_type, body = handle(
                fake, "POST", url.path, url.query, self.rfile.read(length)
            )
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up meanwhile
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="fake-business-network", daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}{PATH}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
