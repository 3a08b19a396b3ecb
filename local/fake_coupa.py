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
own port (`serve`; local/fake_endpoint.py holds what it shares with the other fake).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar

from local.fake_endpoint import (
    FULFILL_DTD,
    INVOICE_DTD,
    FakeEndpoint,
    Judgement,
    dtd_problem,
    handle,
    has_credential,
    serve,
)

PATH = "/_local/coupa/cxml/invoices"
CONTROL = "/_local/coupa"
__all__ = ["CONTROL", "PATH", "FakeCoupa", "Party", "demo", "handle", "serve"]


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


@dataclass
class FakeCoupa(FakeEndpoint):
    """What Coupa's supplier setup holds for us (From = our supplier credential, To = the buyer
    company, Sender = us with the shared secret), and what it has received."""

    PATH: ClassVar[str] = PATH
    CONTROL: ClassVar[str] = CONTROL
    UNEXPECTED_ERROR: ClassVar[str] = "Unexpected server error."
    DUPLICATE: ClassVar[tuple[int, str]] = (
        417,
        "Invalid attributes in document. Validation failed: Invoice number has already been used",
    )

    supplier: Party
    buyer: Party
    sender: Party
    shared_secret: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    confirmations: list[bytes] = field(default_factory=list)  # every one accepted, in order
    _stalls: int = 0
    _stall_seconds: float = 0.0
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

    def stall_next(self, count: int, seconds: float) -> None:
        """Hold the next `count` posts unanswered for `seconds` (the sender times out first)."""
        with self._lock:
            self._stalls, self._stall_seconds = count, seconds
            self._released.clear()

    def release(self) -> None:
        """End every stall now (tests call it on the way out, so no thread lingers)."""
        self._released.set()

    def take_failure(self) -> bool:
        """A stalled post is held, then judged; otherwise as `fail_next` asked."""
        with self._lock:
            stall = self._stalls > 0
            if stall:
                self._stalls -= 1
        if stall:
            self._released.wait(self._stall_seconds)
            return False
        return super().take_failure()

    def judge_document(self, root: Any, body: bytes, invoice_id: str, payload_id: str) -> Judgement:
        if not (
            has_credential(root, "From", self.supplier.domain, self.supplier.identity)
            and has_credential(root, "To", self.buyer.domain, self.buyer.identity)
            and has_credential(
                root, "Sender", self.sender.domain, self.sender.identity, self.shared_secret
            )
        ):
            return 401, "Invalid credentials. Bad credentials", invoice_id, payload_id
        confirmation = root.find("Request/ConfirmationRequest") is not None
        problem = dtd_problem(root, FULFILL_DTD if confirmation else INVOICE_DTD)
        if problem is not None:
            message = f"Request did not validate successfully with DTD. Error: {problem}"
            return 406, message, invoice_id, payload_id
        if confirmation:  # Coupa's order collaboration takes it: a confirmation is never refused
            with self._lock:
                self.confirmations.append(body)
            return 200, "", "", payload_id
        return self.take_invoice(body, invoice_id, payload_id)
