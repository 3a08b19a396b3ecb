"""The only place raw XML from outside is parsed, with defusedxml.

Be lenient in what we accept (docs/PROTOCOL.md §2): any 1.2.x DOCTYPE or none, a UTF-8 BOM, several
Credentials per party, domains in any case, whitespace-padded values, timestamps in several
shapes, children out of DTD order. Never fetch a DTD; refuse entity declarations (XXE, bombs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from functions.cxml.model import (
    Credential,
    Header,
    ItemOut,
    ItemRef,
    Money,
    credential_key,
    normalize,
)
from functions.errors import BadRequest, NotAcceptable, NotImplementedByGateway, Unauthenticated
from functions.fields import ascii_digits

__all__ = [
    "Contact",
    "Credential",
    "CxmlRequest",
    "Header",
    "ItemOut",
    "ItemRef",
    "Money",
    "PunchOutSetup",
    "credential_key",
    "normalize",
    "parse_invoice_document",
    "parse_punchout_setup",
    "parse_request",
    "parse_response",
    "parse_timestamp",
]

MAX_DOCUMENT_BYTES = 1024 * 1024
"""A punchout or order document is kilobytes; a megabyte leaves room for large POs."""

_COUPA_TIMESTAMP = "%a %b %d %H:%M:%S %z %Y"  # "Mon May 19 18:29:48 +0000 2008"


@dataclass(frozen=True)
class Contact:
    name: str = ""
    email: str = ""
    role: str = ""


@dataclass(frozen=True)
class PunchOutSetup:
    operation: str
    buyer_cookie: str
    browser_form_post_url: str | None
    extrinsics: dict[str, str] = field(default_factory=dict)
    contacts: tuple[Contact, ...] = ()
    ship_to_email: str = ""
    selected_item: ItemRef | None = None
    items_out: tuple[ItemOut, ...] = ()


@dataclass(frozen=True)
class CxmlRequest:
    """An authenticated-to-be request: envelope facts plus the request element, kept private to
    this package (the domain receives typed values through the parse_* functions)."""

    payload_id: str
    timestamp: datetime | None
    lang: str | None
    header: Header
    request_name: str
    deployment_mode: str
    _element: Element = field(repr=False, compare=False)


def parse_timestamp(raw: str | None) -> datetime | None:
    """ISO 8601 with `Z`, `+02:00`, `+0200` or no offset (taken as UTC), or Coupa's old
    `Mon May 19 18:29:48 +0000 2008`. Unparseable gives None: never reject a document for it."""
    text = normalize(raw)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.strptime(text, _COUPA_TIMESTAMP)
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_xml(body: bytes) -> Element:
    if not body or not body.strip():
        raise NotAcceptable("The request body is empty: expected a cXML document.")
    if len(body) > MAX_DOCUMENT_BYTES:
        raise BadRequest(
            f"Document too large: {len(body)} bytes; the limit is {MAX_DOCUMENT_BYTES} bytes."
        )
    try:
        root: Element = fromstring(body, forbid_dtd=False, forbid_entities=True)
    except DefusedXmlException as exc:
        raise NotAcceptable(
            "Entity declarations and external references are not accepted in cXML documents "
            f"({type(exc).__name__})."
        ) from exc
    except ParseError as exc:
        raise NotAcceptable(f"The body is not well-formed XML: {exc}.") from exc
    except (ValueError, LookupError) as exc:  # unknown encoding and the like
        raise NotAcceptable(f"The body could not be decoded as XML: {exc}.") from exc
    return root


def _text(element: Element | None, path: str | None = None) -> str:
    if element is None:
        return ""
    target = element.find(path) if path else element
    if target is None:
        return ""
    return normalize("".join(target.itertext()))


def _credentials(party: Element | None) -> tuple[Credential, ...]:
    if party is None:
        return ()
    found = []
    for credential in party.findall("Credential"):
        identity = _text(credential, "Identity")
        if not identity:
            continue
        secret_element = credential.find("SharedSecret")
        secret = None
        if secret_element is not None:
            # Secrets are compared exactly, but padding whitespace is never part of them.
            secret = "".join(secret_element.itertext()).strip() or None
        found.append(Credential(normalize(credential.get("domain")), identity, secret))
    return tuple(found)


def parse_request(body: bytes) -> CxmlRequest:
    """Parse a cXML Request document, or raise the status the buyer should see."""
    root = _parse_xml(body)
    if root.tag != "cXML":
        raise NotAcceptable(
            f"The root element is <{root.tag}>; a cXML document starts with <cXML>."
        )
    header_element = root.find("Header")
    request_element = root.find("Request")
    if request_element is None:
        if root.find("Message") is not None:
            raise NotImplementedByGateway("cXML Messages are not accepted at this URL.")
        if root.find("Response") is not None:
            raise BadRequest("This URL accepts cXML Requests, not Responses.")
        raise BadRequest("The document has no <Request> element.")
    if header_element is None:
        raise BadRequest("The document has no <Header>: From, To and Sender are required.")
    header = Header(
        from_credentials=_credentials(header_element.find("From")),
        to_credentials=_credentials(header_element.find("To")),
        sender_credentials=_credentials(header_element.find("Sender")),
        user_agent=_text(header_element, "Sender/UserAgent"),
    )
    if not header.from_credentials:
        raise Unauthenticated("The Header has no From credential identifying the buyer.")
    kinds = [child for child in request_element if isinstance(child.tag, str)]
    if not kinds:
        raise BadRequest("The <Request> element is empty.")
    mode = normalize(request_element.get("deploymentMode")).lower()
    return CxmlRequest(
        payload_id=normalize(root.get("payloadID")),
        timestamp=parse_timestamp(root.get("timestamp")),
        lang=root.get("{http://www.w3.org/XML/1998/namespace}lang"),
        header=header,
        request_name=kinds[0].tag,
        deployment_mode="test" if mode == "test" else "production",
        _element=kinds[0],
    )


MAX_NUMBER_CHARS = 40
"""Quantities and amounts: `1E+400000` is short to send and costly to compute with."""


def _decimal(raw: str, what: str) -> Decimal:
    text = normalize(raw)
    if len(text) > MAX_NUMBER_CHARS:
        raise BadRequest(f"{what} is longer than {MAX_NUMBER_CHARS} characters.")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BadRequest(f"{what} is not a number: {text!r}.") from None
    if not value.is_finite() or value.adjusted() > 15:
        raise BadRequest(f"{what} is not a finite number below 10^16: {text!r}.")
    return value


def _money(element: Element | None, what: str) -> Money | None:
    if element is None:
        return None
    money = element.find("Money")
    if money is None:
        return None
    return Money(_decimal(_text(money), what), normalize(money.get("currency")).upper())


def _item_ref(item_id: Element | None, what: str) -> ItemRef:
    part = _text(item_id, "SupplierPartID")
    if not part:
        raise BadRequest(f"{what} has no ItemID/SupplierPartID.")
    return ItemRef(part, _text(item_id, "SupplierPartAuxiliaryID") or None)


def parse_item_out(element: Element, index: int) -> ItemOut:
    what = f"ItemOut #{index}"
    detail = element.find("ItemDetail")
    description_element = detail.find("Description") if detail is not None else None
    classification = detail.find("Classification") if detail is not None else None
    description = ""
    if description_element is not None:
        description = normalize(
            (description_element.text or "")
            + "".join(child.tail or "" for child in description_element)
        )
    return ItemOut(
        quantity=_decimal(element.get("quantity", ""), f"{what} quantity"),
        item=_item_ref(element.find("ItemID"), what),
        line_number=normalize(element.get("lineNumber")) or None,
        unit_price=_money(detail.find("UnitPrice") if detail is not None else None, what),
        description=description,
        short_name=_text(description_element, "ShortName"),
        unit_of_measure=_text(detail, "UnitOfMeasure"),
        classification=_text(classification),
        classification_domain=normalize(classification.get("domain"))
        if classification is not None
        else "",
    )


def parse_punchout_setup(request: CxmlRequest) -> PunchOutSetup:
    element = request._element
    operation = normalize(element.get("operation")).lower()
    cookie_element = element.find("BuyerCookie")
    cookie = "".join(cookie_element.itertext()) if cookie_element is not None else ""
    if not cookie.strip():
        raise BadRequest("PunchOutSetupRequest has no BuyerCookie.")
    extrinsics = {}
    for extrinsic in element.findall("Extrinsic"):
        name = normalize(extrinsic.get("name"))
        if name and name not in extrinsics:
            extrinsics[name] = _text(extrinsic)
    contacts = tuple(
        Contact(name=_text(c, "Name"), email=_text(c, "Email"), role=normalize(c.get("role")))
        for c in element.findall("Contact")
    )
    selected = element.find("SelectedItem")
    return PunchOutSetup(
        operation=operation,
        # The BuyerCookie is opaque: echo it exactly, only trimming the XML layout around it.
        buyer_cookie=cookie.strip(),
        browser_form_post_url=_text(element, "BrowserFormPost/URL") or None,
        extrinsics=extrinsics,
        contacts=contacts,
        ship_to_email=_text(element.find("ShipTo"), ".//Email"),
        selected_item=_item_ref(selected.find("ItemID"), "SelectedItem")
        if selected is not None
        else None,
        items_out=tuple(
            parse_item_out(item, index)
            for index, item in enumerate(element.findall("ItemOut"), start=1)
        ),
    )


# --- OrderRequest (the purchase order) -----------------------------------------------------

ORDER_TYPES = ("new", "update", "delete")
MAX_ORDER_LINES = 500


@dataclass(frozen=True)
class OrderLine:
    """An ItemOut of a purchase order, with what invoices will need to reference it."""

    line_number: int
    quantity: Decimal
    item: ItemRef
    unit_price: Money | None
    description: str = ""
    unit_of_measure: str = ""
    classification: str = ""
    extrinsics: dict[str, str] = field(default_factory=dict)
    accounting: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class PurchaseOrder:
    order_id: str
    order_date: str
    order_type: str
    order_version: int
    total: Money | None
    lines: tuple[OrderLine, ...]
    bill_to: dict[str, Any] = field(default_factory=dict)
    ship_to: dict[str, Any] = field(default_factory=dict)
    extrinsics: dict[str, str] = field(default_factory=dict)
    previous_payload_id: str = ""


ADDRESS_TEXT = 200
ADDRESS_LINES = 5
"""Bounds on a kept BillTo/ShipTo: characters per value, DeliverTo and Street lines (an
invoice copies the BillTo back; nothing unbounded from outside is kept)."""


def _iso_country(raw: str | None) -> str:
    """An ISO 3166 alpha-2 code, upper case, or "" (anything else is not kept: the invoice
    writes it back into an NMTOKEN attribute)."""
    value = normalize(raw).upper()
    return value if len(value) == 2 and value.isascii() and value.isalpha() else ""


def _address(element: Element | None) -> dict[str, Any]:
    """BillTo/ShipTo as plain JSON: what invoices and support need, not every element, each
    value bounded (`ADDRESS_TEXT`, `ADDRESS_LINES`)."""
    address = element.find("Address") if element is not None else None
    if address is None:
        return {}
    postal = address.find("PostalAddress")
    country = postal.find("Country") if postal is not None else None

    def lines(tag: str) -> list[str]:
        found = postal.findall(tag)[:ADDRESS_LINES] if postal is not None else []
        return [_text(line)[:ADDRESS_TEXT] for line in found]

    return {
        "address_id": normalize(address.get("addressID"))[:ADDRESS_TEXT],
        "iso_country_code": _iso_country(address.get("isoCountryCode")),
        "name": _text(address, "Name")[:ADDRESS_TEXT],
        "deliver_to": lines("DeliverTo"),
        "street": lines("Street"),
        "city": _text(postal, "City")[:ADDRESS_TEXT],
        "state": _text(postal, "State")[:ADDRESS_TEXT],
        "postal_code": _text(postal, "PostalCode")[:ADDRESS_TEXT],
        "country": _iso_country(country.get("isoCountryCode") if country is not None else ""),
        "country_name": _text(country)[:ADDRESS_TEXT],
        "email": _text(address, "Email")[:ADDRESS_TEXT],
    }


def _extrinsics(element: Element | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for extrinsic in element.findall("Extrinsic") if element is not None else []:
        name = normalize(extrinsic.get("name"))
        if name and name not in found and len(found) < 50:
            found[name[:100]] = _text(extrinsic)[:500]
    return found


def _accounting(item: Element) -> tuple[dict[str, Any], ...]:
    """Distribution/Accounting segments (cost centres, GL accounts) and their charges."""
    kept = []
    for distribution in item.findall("Distribution")[:20]:
        accounting = distribution.find("Accounting")
        segments = []
        for segment in accounting.findall("Segment") if accounting is not None else []:
            segments.append({k: normalize(segment.get(k)) for k in ("type", "id", "description")})
        for segment in accounting.findall("AccountingSegment") if accounting is not None else []:
            segments.append(
                {
                    "type": _text(segment, "Name"),
                    "id": normalize(segment.get("id")),
                    "description": _text(segment, "Description"),
                }
            )
        charge = _money(distribution.find("Charge"), "Distribution charge")
        kept.append(
            {
                "name": normalize(accounting.get("name")) if accounting is not None else "",
                "segments": segments,
                "charge": {"amount": str(charge.amount), "currency": charge.currency}
                if charge
                else None,
            }
        )
    return tuple(kept)


def parse_order_request(request: CxmlRequest) -> PurchaseOrder:
    element = request._element
    header = element.find("OrderRequestHeader")
    if header is None:
        raise BadRequest("OrderRequest has no OrderRequestHeader.")
    order_id = normalize(header.get("orderID"))
    if not order_id or len(order_id) > 100:
        raise BadRequest("OrderRequestHeader has no usable orderID (1 to 100 characters).")
    order_type = normalize(header.get("type")).lower() or "new"
    if order_type not in ORDER_TYPES:
        raise BadRequest(f"OrderRequestHeader type {order_type!r} is not new, update or delete.")
    raw_version = normalize(header.get("orderVersion")) or "1"
    order_version = ascii_digits(raw_version, 6)
    if order_version is None or order_version == 0:
        raise BadRequest(
            f"OrderRequestHeader orderVersion {raw_version[:20]!r} is not a positive number "
            "below 1000000."
        )
    items = element.findall("ItemOut")
    if not items:
        raise BadRequest("OrderRequest has no ItemOut lines.")
    if len(items) > MAX_ORDER_LINES:
        raise BadRequest(f"OrderRequest has more than {MAX_ORDER_LINES} lines.")
    lines = []
    for index, item in enumerate(items, start=1):
        what = f"ItemOut #{index}"
        raw_line = normalize(item.get("lineNumber")) or str(index)
        line_number = ascii_digits(raw_line, 9)
        if line_number is None:
            raise BadRequest(
                f"{what} lineNumber {raw_line[:20]!r} is not a whole number of up to 9 digits."
            )
        detail = item.find("ItemDetail")
        lines.append(
            OrderLine(
                line_number=line_number,
                quantity=_decimal(item.get("quantity", ""), f"{what} quantity"),
                item=_item_ref(item.find("ItemID"), what),
                unit_price=_money(detail.find("UnitPrice") if detail is not None else None, what),
                description=_text(detail, "Description")[:500],
                unit_of_measure=_text(detail, "UnitOfMeasure"),
                classification=_text(detail, "Classification"),
                extrinsics={**_extrinsics(detail), **_extrinsics(item)},
                accounting=_accounting(item),
            )
        )
    if len({line.line_number for line in lines}) != len(lines):
        raise BadRequest("OrderRequest repeats a lineNumber.")
    reference = header.find("DocumentReference")
    return PurchaseOrder(
        order_id=order_id,
        order_date=normalize(header.get("orderDate")),
        order_type=order_type,
        order_version=order_version,
        total=_money(header.find("Total"), "OrderRequestHeader Total"),
        lines=tuple(lines),
        bill_to=_address(header.find("BillTo")),
        ship_to=_address(header.find("ShipTo")),
        extrinsics=_extrinsics(header),
        previous_payload_id=normalize(reference.get("payloadID")) if reference is not None else "",
    )


# --- answers to what we send, and our own stored invoices ----------------------------------


def parse_response(body: bytes) -> tuple[int, str, str]:
    """The Status of a cXML Response a buyer system answered (an invoice post): its code, its
    text attribute and its message. Raises NotAcceptable when the answer is not a cXML Response
    with a numeric Status code (an HTML error page, JSON from a gateway, nothing): the caller
    treats that as a transport failure, never as the buyer's decision."""
    root = _parse_xml(body)
    status = root.find("Response/Status") if root.tag == "cXML" else None
    if status is None:
        raise NotAcceptable(f"The answer is not a cXML Response with a Status (<{root.tag}>).")
    raw_code = normalize(status.get("code"))
    code = ascii_digits(raw_code, 3)
    if code is None or len(raw_code) != 3:
        raise NotAcceptable(f"The answer's Status code {raw_code[:20]!r} is not a status code.")
    return code, normalize(status.get("text")), _text(status)


def parse_invoice_document(body: bytes) -> Element:
    """One of our own stored InvoiceDetailRequests, to be sent with a new Header
    (`build.readdressed_invoice`). Not buyer input, but parsed as defensively."""
    root = _parse_xml(body)
    if root.tag != "cXML" or root.find("Request/InvoiceDetailRequest") is None:
        raise BadRequest("The stored document is not a cXML InvoiceDetailRequest.")
    return root


# --- what may be stored of a document -------------------------------------------------------

CREDENTIAL_ELEMENTS = frozenset({"SharedSecret", "CredentialMac", "DigitalSignature"})
REDACTED = "[removed]"
MIN_SECRET_TO_SCRUB = 6
"""Presented secrets shorter than this are not searched for elsewhere in the text (a secret
that short would match ordinary words; our own secrets are far longer)."""


def without_credentials(body: bytes, secrets: tuple[str, ...] = ()) -> bytes:
    """The document as it may be stored anywhere: the content of every SharedSecret,
    CredentialMac and DigitalSignature replaced by "[removed]", and each presented secret
    removed wherever else it appears (text, tails, attributes). Re-serialized from the parsed
    tree, so no CDATA or entity trick keeps part of a secret in clear."""
    from xml.etree.ElementTree import tostring  # only the order path stores documents

    root = _parse_xml(body)
    scrub = tuple(s for s in secrets if len(s) >= MIN_SECRET_TO_SCRUB)

    def clean(text: str | None) -> str | None:
        for secret in scrub:
            if text and secret in text:
                text = text.replace(secret, REDACTED)
        return text

    for element in list(root.iter()):
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag.rsplit("}", 1)[-1] in CREDENTIAL_ELEMENTS:
            tail = element.tail
            element.clear()
            element.text, element.tail = REDACTED, tail
        else:
            element.text = clean(element.text)
            for name, value in element.attrib.items():
                element.attrib[name] = clean(value) or ""
        element.tail = clean(element.tail)
    document: bytes = tostring(root, encoding="utf-8", xml_declaration=True)
    return document
