"""The one place that builds cXML envelopes: DOCTYPE, payloadID, `+00:00` timestamps, xml:lang.

Elements are built with ElementTree (building, never parsing) so text and attributes are always
escaped. Child order follows the cXML 1.2.071 DTD; tests validate every kind against it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from xml.etree.ElementTree import Element, SubElement, tostring

from functions.clock import iso, now
from functions.cxml import invoice_parts
from functions.cxml.model import Credential
from functions.cxml.status import status_text
from functions.ids import payload_id
from functions.money import format_money, to_cents

CXML_VERSION = "1.2.071"
LANG = "en-US"
_XML_LANG = "xml:lang"


def serialize(root: Element, dtd: str = "cXML.dtd") -> bytes:
    """UTF-8 bytes with the XML declaration and a DOCTYPE naming the cXML version we speak."""
    body = tostring(root, encoding="unicode")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/{CXML_VERSION}/{dtd}">\n'
        f"{body}"
    ).encode()


def envelope(*, moment: datetime | None = None) -> Element:
    """An empty <cXML> root with a fresh payloadID and timestamp."""
    return Element(
        "cXML",
        {"payloadID": payload_id(), "timestamp": iso(moment or now()), _XML_LANG: LANG},
    )


def response(code: int, message: str = "", payload: Element | None = None) -> bytes:
    """`<Response><Status/>[payload]</Response>`: no Header (responses never carry one). A
    payload element is attached only under a 2xx status (docs/PROTOCOL.md §3)."""
    root = envelope()
    response_element = SubElement(root, "Response")
    status = SubElement(
        response_element, "Status", {"code": str(code), "text": status_text(code), _XML_LANG: LANG}
    )
    status.text = message or None
    if payload is not None and 200 <= code < 300:
        response_element.append(payload)
    return serialize(root)


def punchout_setup_response(start_page_url: str) -> bytes:
    payload = Element("PunchOutSetupResponse")
    start_page = SubElement(payload, "StartPage")
    SubElement(start_page, "URL").text = start_page_url
    return response(200, "", payload)


def profile_response(effective: datetime, transactions: Iterable[tuple[str, str]]) -> bytes:
    """One Transaction per request we accept, each with the URL to post it to."""
    payload = Element("ProfileResponse", {"effectiveDate": iso(effective)})
    for request_name, url in transactions:
        transaction = SubElement(payload, "Transaction", {"requestName": request_name})
        SubElement(transaction, "URL").text = url
    return response(200, "", payload)


class CartItem(Protocol):
    """What an ItemIn is built from (the domain's cart lines have these attributes)."""

    @property
    def quantity(self) -> Decimal: ...
    @property
    def supplier_part_id(self) -> str: ...
    @property
    def auxiliary_id(self) -> str: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...
    @property
    def unit_of_measure(self) -> str: ...
    @property
    def unspsc(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def short_name(self) -> str: ...


USER_AGENT = "Procurement Gateway"


def _party(parent: Element, tag: str, credential: Credential) -> None:
    party = SubElement(parent, tag)
    element = SubElement(party, "Credential", {"domain": credential.domain})
    SubElement(element, "Identity").text = credential.identity


def _money(parent: Element, tag: str, amount: Decimal, currency: str) -> None:
    SubElement(SubElement(parent, tag), "Money", {"currency": currency}).text = format_money(amount)


def punchout_order_message(
    *,
    buyer_cookie: str,
    supplier: Credential,
    buyer: Credential,
    items: Sequence[CartItem],
    currency: str,
    deployment_mode: str = "production",
    operation_allowed: str = "edit",
    status: tuple[int, str] | None = None,
) -> bytes:
    """The cart we hand back through the user's browser. From is us, To is the buyer, Sender
    is us without a SharedSecret (nothing secret travels through a browser). `Total` is the sum
    of the lines; `status` (204) marks a return without change."""
    root = envelope()
    header = SubElement(root, "Header")
    _party(header, "From", supplier)
    _party(header, "To", buyer)
    sender = SubElement(header, "Sender")
    credential = SubElement(sender, "Credential", {"domain": supplier.domain})
    SubElement(credential, "Identity").text = supplier.identity
    SubElement(sender, "UserAgent").text = USER_AGENT
    message = SubElement(root, "Message")
    if deployment_mode == "test":
        message.set("deploymentMode", "test")
    if status is not None:
        code, text = status
        SubElement(
            message, "Status", {"code": str(code), "text": status_text(code), _XML_LANG: LANG}
        ).text = text or None
    order = SubElement(message, "PunchOutOrderMessage")
    SubElement(order, "BuyerCookie").text = buyer_cookie
    order_header = SubElement(
        order, "PunchOutOrderMessageHeader", {"operationAllowed": operation_allowed}
    )
    total = sum((to_cents(i.quantity * i.unit_price) for i in items), Decimal("0.00"))
    _money(order_header, "Total", total, currency)
    for item in items:
        item_in = SubElement(order, "ItemIn", {"quantity": f"{item.quantity.normalize():f}"})
        item_id = SubElement(item_in, "ItemID")
        SubElement(item_id, "SupplierPartID").text = item.supplier_part_id
        SubElement(item_id, "SupplierPartAuxiliaryID").text = item.auxiliary_id
        detail = SubElement(item_in, "ItemDetail")
        _money(detail, "UnitPrice", item.unit_price, item.currency)
        description = SubElement(detail, "Description", {_XML_LANG: "en"})
        description.text = item.description
        SubElement(description, "ShortName").text = item.short_name
        SubElement(detail, "UnitOfMeasure").text = item.unit_of_measure
        SubElement(detail, "Classification", {"domain": "UNSPSC"}).text = item.unspsc
    return serialize(root)


def cart_form_value(document: bytes, field: str) -> str:
    """The hidden form field's value (docs/PROTOCOL.md §5). `cxml-base64` carries any character;
    `cxml-urlencoded` is the document as US-ASCII with non-ASCII characters as numeric
    character references: the template HTML-escapes it into the attribute and the browser
    URL-encodes it when posting (never URL-encode it here)."""
    if field == "cxml-base64":
        return base64.b64encode(document).decode("ascii")
    if field == "cxml-urlencoded":
        return document.decode("utf-8").encode("ascii", "xmlcharrefreplace").decode("ascii")
    raise ValueError(f"unknown cart field {field!r}")


def _server_header(
    supplier: Credential, buyer: Credential, sender: Credential, sender_secret: str | None
) -> Element:
    """From us, To the buyer, Sender with the secret the buyer's system expects: for documents
    sent server to server, never through a browser."""
    header = Element("Header")
    _party(header, "From", supplier)
    _party(header, "To", buyer)
    sender_element = SubElement(header, "Sender")
    credential = SubElement(sender_element, "Credential", {"domain": sender.domain})
    SubElement(credential, "Identity").text = sender.identity
    if sender_secret:
        SubElement(credential, "SharedSecret").text = sender_secret
    SubElement(sender_element, "UserAgent").text = USER_AGENT
    return header


def readdressed_invoice(
    document: bytes,
    *,
    supplier: Credential,
    buyer: Credential,
    sender: Credential,
    sender_secret: str | None,
) -> bytes:
    """A stored InvoiceDetailRequest with a new Header (the credentials and secret of the
    endpoint it goes to), everything else as stored: same payloadID and timestamp on every
    attempt (docs/PROTOCOL.md §2), same amounts and references as the archived copy."""
    from functions.cxml.parse import parse_invoice_document

    root = parse_invoice_document(document)
    for old in root.findall("Header"):
        root.remove(old)
    root.insert(0, _server_header(supplier, buyer, sender, sender_secret))
    return serialize(root, "InvoiceDetail.dtd")


class InvoiceItem(Protocol):
    @property
    def invoice_line_number(self) -> int: ...
    @property
    def po_line_number(self) -> int: ...
    @property
    def supplier_part_id(self) -> str: ...
    @property
    def auxiliary_id(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def unit_of_measure(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...


class InvoiceContent(Protocol):
    """What an InvoiceDetailRequest is built from (`functions.billing.Invoice` has these)."""

    @property
    def invoice_id(self) -> str: ...
    @property
    def invoice_date(self) -> str: ...
    @property
    def order_id(self) -> str: ...
    @property
    def order_payload_id(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def lines(self) -> Sequence[InvoiceItem]: ...
    @property
    def line_taxes(self) -> Sequence[invoice_parts.TaxDetailLike]: ...
    @property
    def total_tax(self) -> invoice_parts.TaxDetailLike: ...
    @property
    def partners(self) -> Sequence[invoice_parts.PartnerLike]: ...
    @property
    def subtotal(self) -> Decimal: ...
    @property
    def net(self) -> Decimal: ...
    @property
    def due(self) -> Decimal: ...


@dataclass(frozen=True)
class OriginalInvoice:
    """The invoice a credit memo or a cancellation refers to."""

    invoice_id: str
    invoice_date: str
    payload_id: str


def invoice_detail_request(
    invoice: InvoiceContent,
    *,
    supplier: Credential,
    buyer: Credential,
    sender: Credential,
    sender_secret: str | None,
    deployment_mode: str = "production",
    purpose: str = "standard",
    operation: str = "new",
    original: OriginalInvoice | None = None,
) -> bytes:
    """An InvoiceDetailRequest (InvoiceDetail.dtd) referencing the PO: OrderReference orderID
    with DocumentReference payloadID = the OrderRequest's, and each line's PO lineNumber; the
    invoice partners in the header, each line's Tax and the total Tax in the summary
    (`invoice_parts`). From is us, To the buyer; the Sender carries the secret the buyer's
    system expects (this document travels server to server, never through a browser).

    A credit memo (`purpose="creditMemo"`) or a cancellation (`operation="delete"`) names the
    invoice it corrects in `original`: `DocumentReference` (its payloadID) and `InvoiceIDInfo`
    (its invoiceID and invoiceDate), after the partners (docs/PROTOCOL.md §8)."""
    currency = invoice.currency
    root = envelope()
    root.append(_server_header(supplier, buyer, sender, sender_secret))
    request = SubElement(root, "Request")
    if deployment_mode == "test":
        request.set("deploymentMode", "test")
    document = SubElement(request, "InvoiceDetailRequest")
    invoice_header = SubElement(
        document,
        "InvoiceDetailRequestHeader",
        {"invoiceID": invoice.invoice_id, "invoiceDate": invoice.invoice_date, "purpose": purpose,
         "operation": operation},
    )  # fmt: skip
    SubElement(invoice_header, "InvoiceDetailHeaderIndicator")
    SubElement(invoice_header, "InvoiceDetailLineIndicator", {"isTaxInLine": "yes"})
    for partner in invoice.partners:
        invoice_parts.partner(invoice_header, partner)
    if original is not None:
        SubElement(invoice_header, "DocumentReference", {"payloadID": original.payload_id})
        SubElement(
            invoice_header,
            "InvoiceIDInfo",
            {"invoiceID": original.invoice_id, "invoiceDate": original.invoice_date},
        )
    order = SubElement(document, "InvoiceDetailOrder")
    info = SubElement(order, "InvoiceDetailOrderInfo")
    reference = SubElement(info, "OrderReference", {"orderID": invoice.order_id})
    SubElement(reference, "DocumentReference", {"payloadID": invoice.order_payload_id})
    for item, line_tax in zip(invoice.lines, invoice.line_taxes, strict=True):
        line = SubElement(
            order,
            "InvoiceDetailItem",
            {"invoiceLineNumber": str(item.invoice_line_number),
             "quantity": f"{item.quantity.normalize():f}"},
        )  # fmt: skip
        SubElement(line, "UnitOfMeasure").text = item.unit_of_measure
        _money(line, "UnitPrice", item.unit_price, currency)
        item_reference = SubElement(
            line, "InvoiceDetailItemReference", {"lineNumber": str(item.po_line_number)}
        )
        item_id = SubElement(item_reference, "ItemID")
        SubElement(item_id, "SupplierPartID").text = item.supplier_part_id
        SubElement(item_id, "SupplierPartAuxiliaryID").text = item.auxiliary_id
        SubElement(item_reference, "Description", {_XML_LANG: "en"}).text = item.description
        _money(line, "SubtotalAmount", item.amount, currency)
        invoice_parts.tax(line, line_tax, currency)
    summary = SubElement(document, "InvoiceDetailSummary")
    _money(summary, "SubtotalAmount", invoice.subtotal, currency)
    invoice_parts.tax(summary, invoice.total_tax, currency)
    _money(summary, "NetAmount", invoice.net, currency)
    _money(summary, "DueAmount", invoice.due, currency)
    return serialize(root, "InvoiceDetail.dtd")


def order_confirmation(
    *,
    supplier: Credential,
    buyer: Credential,
    sender: Credential,
    sender_secret: str | None,
    payload_id: str,
    timestamp: str,
    confirm_id: str,
    order_id: str,
    order_payload_id: str,
    deployment_mode: str = "production",
) -> bytes:
    """A ConfirmationRequest (Fulfill.dtd) accepting a whole purchase order:
    `ConfirmationHeader type="accept"` (no items: the order is accepted as sent), then
    `OrderReference orderID` with `DocumentReference payloadID` = the OrderRequest's. The
    payloadID and timestamp are the caller's, fixed when the PO was accepted, so every attempt
    sends the same document (docs/PROTOCOL.md §2)."""
    root = Element("cXML", {"payloadID": payload_id, "timestamp": timestamp, _XML_LANG: LANG})
    root.append(_server_header(supplier, buyer, sender, sender_secret))
    request = SubElement(root, "Request")
    if deployment_mode == "test":
        request.set("deploymentMode", "test")
    confirmation = SubElement(request, "ConfirmationRequest")
    SubElement(
        confirmation,
        "ConfirmationHeader",
        {"confirmID": confirm_id, "operation": "new", "type": "accept", "noticeDate": timestamp},
    )
    reference = SubElement(confirmation, "OrderReference", {"orderID": order_id})
    SubElement(reference, "DocumentReference", {"payloadID": order_payload_id})
    return serialize(root, "Fulfill.dtd")
