"""A StatusUpdateRequest (cXML.dtd) read into a plain value: which of our documents it is about
and what the buyer's system says of it. The XML was parsed by `functions.cxml.parse` (the only
parser of outside XML); this module only reads the parsed request element.

DTD: `StatusUpdateRequest (DocumentReference?, Status, (PaymentStatus | SourcingStatus |
InvoiceStatus | DocumentStatus | IntegrationStatus)?, Extrinsic*)`; `InvoiceStatus type=
processing | canceled | reconciled | rejected | paying | paid` with `(InvoiceIDInfo?,
PartialAmount?, Comments*)`; `DocumentStatus type=<string>` with `(DocumentInfo?, ItemStatus*,
Comments*)`. Lenient as the rest of the parser: values trimmed, long ones clipped."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from xml.etree.ElementTree import Element

from functions.cxml.model import normalize
from functions.cxml.parse import CxmlRequest
from functions.errors import BadRequest, NotImplementedByGateway

STATUS_UPDATE_REQUEST = "StatusUpdateRequest"
INVOICE_STATUS_TYPES = ("processing", "canceled", "reconciled", "rejected", "paying", "paid")
INVOICE = "invoice"
ORDER = "order"
MAX_ID_CHARS = 100
MAX_TEXT_CHARS = 1000
UNSUPPORTED = ("PaymentStatus", "SourcingStatus", "IntegrationStatus")


@dataclass(frozen=True)
class StatusUpdate:
    """What a buyer's system told us about one of our documents. `subject` is INVOICE (an
    InvoiceStatus) or ORDER (a DocumentStatus, or a bare Status about a purchase order);
    `reference` is the invoiceID, or the orderID (DocumentInfo documentID) when given;
    `document_payload_id` the DocumentReference's payloadID."""

    payload_id: str
    subject: str
    status: str
    reference: str
    document_payload_id: str
    code: int
    text: str
    message: str
    comments: str
    partial_amount: str = ""
    partial_currency: str = ""

    def fingerprint(self) -> str:
        """Everything the buyer said, as one digest: a reused payloadID with another digest is
        not a retry."""
        facts = {k: v for k, v in asdict(self).items() if k != "payload_id"}
        return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def _clip(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(element: Element | None) -> str:
    return normalize("".join(element.itertext())) if element is not None else ""


def _comments(parent: Element) -> str:
    return _clip(" ".join(t for t in (_text(c) for c in parent.findall("Comments")[:10]) if t))


def _identifier(raw: str | None, what: str) -> str:
    value = normalize(raw)
    if len(value) > MAX_ID_CHARS:
        raise BadRequest(f"{what} is longer than {MAX_ID_CHARS} characters.")
    return value


def parse_status_update(request: CxmlRequest) -> StatusUpdate:
    """The StatusUpdateRequest's facts, or a 4xx naming what is missing or not understood."""
    element = request._element
    if request.request_name != STATUS_UPDATE_REQUEST:
        raise BadRequest(f"Expected a StatusUpdateRequest, got {request.request_name}.")
    if not request.payload_id or len(request.payload_id) > 250:
        raise BadRequest("The cXML payloadID is missing or longer than 250 characters.")
    status = element.find("Status")
    if status is None:
        raise BadRequest("StatusUpdateRequest has no Status.")
    raw_code = normalize(status.get("code"))
    if not (raw_code.isascii() and raw_code.isdigit() and len(raw_code) == 3):
        raise BadRequest(f"Status code {raw_code[:20]!r} is not a three-digit status code.")
    reference_element = element.find("DocumentReference")
    document_payload_id = _identifier(
        reference_element.get("payloadID") if reference_element is not None else "",
        "DocumentReference payloadID",
    )
    status_text = _clip(normalize(status.get("text")), 200)
    base = StatusUpdate(
        payload_id=request.payload_id,
        subject=ORDER,
        status="",
        reference="",
        document_payload_id=document_payload_id,
        code=int(raw_code),
        text=status_text,
        message=_clip(_text(status)),
        comments="",
    )
    invoice_status = element.find("InvoiceStatus")
    if invoice_status is not None:
        kind = normalize(invoice_status.get("type")).lower()
        if kind not in INVOICE_STATUS_TYPES:
            raise BadRequest(
                f"InvoiceStatus type {kind[:40]!r} is not one of {', '.join(INVOICE_STATUS_TYPES)}."
            )
        info = invoice_status.find("InvoiceIDInfo")
        invoice_id = _identifier(info.get("invoiceID") if info is not None else "", "invoiceID")
        if not invoice_id:
            raise BadRequest(
                "InvoiceStatus names no invoice: send InvoiceIDInfo invoiceID with the invoice "
                "number we sent."
            )
        money = invoice_status.find("PartialAmount/Money")
        return replace(
            base,
            subject=INVOICE,
            status=kind,
            reference=invoice_id,
            comments=_comments(invoice_status),
            partial_amount=_clip(_text(money), 40),
            partial_currency=normalize(money.get("currency"))[:3].upper()
            if money is not None
            else "",
        )
    for name in UNSUPPORTED:
        if element.find(name) is not None:
            raise NotImplementedByGateway(
                f"{name} is not accepted; StatusUpdateRequest may carry InvoiceStatus (our "
                "invoices) or DocumentStatus (our orders)."
            )
    document_status = element.find("DocumentStatus")
    if document_status is not None:
        kind = _clip(normalize(document_status.get("type")), 60)
        if not kind:
            raise BadRequest("DocumentStatus has no type.")
        info = document_status.find("DocumentInfo")
        order_id = _identifier(info.get("documentID") if info is not None else "", "documentID")
        comments = _comments(document_status)
    else:  # a bare Status about the document DocumentReference names (a PO)
        kind, order_id, comments = status_text.lower() or raw_code, "", ""
    if not order_id and not document_payload_id:
        raise BadRequest(
            "StatusUpdateRequest names no document: send DocumentReference payloadID (the "
            "purchase order's) or DocumentInfo documentID, or InvoiceStatus with InvoiceIDInfo."
        )
    return replace(base, status=kind, reference=order_id, comments=comments)
