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
port (`serve`; local/fake_endpoint.py holds what it shares with the fake Coupa)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from local.fake_endpoint import (
    FakeEndpoint,
    Judgement,
    dtd_problem,
    handle,
    has_credential,
    serve,
)

PATH = "/_local/ariba/cxml"
CONTROL = "/_local/ariba"
DOMAIN = "NetworkID"
BAD_SENDER = (
    "Invalid or unrecognized sender credentials. Please contact support with the Error "
    "Reference Number: ANERR-LOCAL for more details"
)
__all__ = ["BAD_SENDER", "CONTROL", "PATH", "FakeBusinessNetwork", "handle", "serve"]


@dataclass
class FakeBusinessNetwork(FakeEndpoint):
    """Our supplier account on the network and the buyers (ANIDs) it trades with."""

    PATH: ClassVar[str] = PATH
    CONTROL: ClassVar[str] = CONTROL
    UNEXPECTED_ERROR: ClassVar[str] = "Internal server error, please retry."
    DUPLICATE: ClassVar[tuple[int, str]] = (
        400,
        "INVOICE_DUPLICATE: An invoice with the same ID has already been received.",
    )

    supplier_anid: str
    shared_secret: str
    buyers: set[str] = field(default_factory=set)

    def judge_document(self, root: Any, body: bytes, invoice_id: str, payload_id: str) -> Judgement:
        us = self.supplier_anid
        if not (
            has_credential(root, "From", DOMAIN, us)
            and has_credential(root, "Sender", DOMAIN, us, self.shared_secret)
        ):
            return 401, BAD_SENDER, invoice_id, payload_id
        if not any(has_credential(root, "To", DOMAIN, buyer) for buyer in self.buyers):
            return 400, "The To credential is not a buyer ANID trading with you.", invoice_id, ""
        problem = dtd_problem(root)
        if problem is not None:
            return 406, f"Document did not validate against the DTD: {problem}", invoice_id, ""
        return self.take_invoice(body, invoice_id, payload_id)

    def account(self) -> dict[str, Any]:
        return {"supplier_anid": self.supplier_anid, "buyers": sorted(self.buyers)}
