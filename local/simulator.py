"""Local only: the buyer's side of a punchout, as a page. It plays Coupa or SAP Ariba for the
demo integrations, so the storefront can be clicked through by hand and by the browser tests.
Never deployed.

    GET  /_local/simulator               the integrations, a punchout form for each
    POST /_local/simulator/punchout      send a PunchOutSetupRequest, follow its StartPage (303)
    POST /_local/simulator/cart/<id>     the browser's cart return, decoded, checked and shown
    GET  /_local/simulator/carts.json    every cart received, oldest first
    GET  /_local/simulator/requisitions/<n>          a received cart and the POs sent for it
    POST /_local/simulator/requisitions/<n>/approve  the buyer company approves: OrderRequest(s)
    POST /_local/simulator/requisitions/<n>/resend   the last PO again, same document and payloadID
    POST /_local/simulator/orders/<n>/delete         cancel a sent PO (type delete, next version)
    GET  /_local/simulator/orders.json   every PO sent and the marketplace's answer, oldest first

Approving plays what the procurement system does after its approval workflow: it turns the
requisition into an OrderRequest (PROTOCOL.md §6) posted to the integration's order URL with the
same credentials as the punchout. Approving a requisition that already has an accepted, undeleted
PO re-sends that PO unchanged (same payloadID), as a retransmission would: one requisition, one
purchase order.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from jinja2 import DictLoader, Environment, StrictUndefined

from local.stack import HttpAnswer, LocalApi

PREFIX = "/_local/simulator"
PUNCHOUT_PATH = "/cxml/punchout"
ORDERS_PATH = "/cxml/orders"
DEPLOYMENT_MODE = "production"  # test mode is the integration's setting (on for the demos)
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
CART_FIELDS = ("cxml-base64", "cxml-urlencoded")
OPERATIONS = ("create", "edit", "inspect")
ARIBA_SENDER = "sysadmin@ariba.com"
DEMO_USERS = {
    "coupa": ("Peter", "Gibbons", "peter.gibbons@initech.example"),
    "ariba": ("Hank", "Scorpio", "hank.scorpio@globex.example"),
}
SYSTEM_LABELS = {"coupa": "Coupa", "ariba": "SAP Ariba"}
USER_AGENTS = {
    "coupa": "Coupa Procurement 1.0 (buyer simulator)",
    "ariba": "Ariba Network 1.0 (buyer simulator)",
}
# Where the demo buyers bill and ship: (addressID, name, deliver to, street, city, state, postal
# code, email). Every address is in the US.
DEMO_ADDRESSES = {
    "coupa": (
        ("INITECH-AP", "Initech Accounts Payable", "Accounts Payable", "4120 Freidrich Lane",
         "Austin", "TX", "78744", "ap@initech.example"),
        ("INITECH-HQ", "Initech HQ", "Peter Gibbons", "4120 Freidrich Lane", "Austin", "TX",
         "78744", "it-admin@initech.example"),
    ),
    "ariba": (
        ("GLOBEX-AP", "Globex Corporation Accounts Payable", "Accounts Payable",
         "1 Globex Way", "Cypress Creek", "OR", "97301", "ap@globex.example"),
        ("GLOBEX-HQ", "Globex Corporation HQ", "Hank Scorpio", "1 Globex Way", "Cypress Creek",
         "OR", "97301", "procurement@globex.example"),
    ),
}  # fmt: skip
ORDER_EXTRINSIC = ("CostCenter", "CC-4100")
_CART_PATH = re.compile(rf"^{PREFIX}/cart/(?P<id>[A-Za-z0-9_-]{{1,64}})$")
_REQUISITION_PATH = re.compile(
    rf"^{PREFIX}/requisitions/(?P<index>[0-9]{{1,9}})(?:/(?P<action>approve|resend))?$"
)
_DELETE_PATH = re.compile(rf"^{PREFIX}/orders/(?P<index>[0-9]{{1,9}})/delete$")
_SECRET = re.compile(r"(<SharedSecret>).*?(</SharedSecret>)", re.S)


@dataclass(frozen=True)
class BuyerAccount:
    """One seeded integration, as the procurement system is configured for it."""

    id: str
    name: str
    system: str
    buyer_domain: str
    buyer_identity: str
    supplier_domain: str
    supplier_identity: str
    shared_secret: str  # Coupa: the integration's own; Ariba: the marketplace's Ariba secret

    @property
    def label(self) -> str:
        return SYSTEM_LABELS.get(self.system, self.system)


@dataclass(frozen=True)
class BuyerUser:
    first_name: str
    last_name: str
    email: str


@dataclass(frozen=True)
class Punchout:
    """What one PunchOutSetupRequest sent: the cart that comes back must echo its cookie."""

    id: str
    account: BuyerAccount
    operation: str
    buyer_cookie: str
    user: BuyerUser


@dataclass(frozen=True)
class CartLine:
    """One ItemIn, every value as the document spelled it."""

    supplier_part_id: str
    supplier_part_auxiliary_id: str
    quantity: str
    unit_price: str
    currency: str
    unit_of_measure: str
    unspsc: str
    description: str
    short_name: str


@dataclass(frozen=True)
class OrderMessage:
    """What a PunchOutOrderMessage says: a missing Status means 200 (a cart to import)."""

    buyer_cookie: str
    status_code: int
    status_text: str
    status_message: str
    operation_allowed: str
    total: str
    currency: str
    lines: tuple[CartLine, ...]


@dataclass(frozen=True)
class ReceivedCart:
    index: int
    punchout: Punchout
    field: str
    document: str
    order: OrderMessage

    def as_json(self) -> dict[str, Any]:
        """Flat, for tests; never the shared secret."""
        return {
            "index": self.index,
            "punchout_id": self.punchout.id,
            "integration_id": self.punchout.account.id,
            "integration": self.punchout.account.name,
            "system": self.punchout.account.system,
            "operation": self.punchout.operation,
            "sent_buyer_cookie": self.punchout.buyer_cookie,
            "field": self.field,
            **asdict(self.order),
            "document": self.document,
        }

    @property
    def approvable(self) -> bool:
        """A cart to import (Status 200) with lines: what an approval can turn into a PO."""
        return self.order.status_code == 200 and bool(self.order.lines)


@dataclass(frozen=True)
class SentOrder:
    """One OrderRequest the simulator posted, and the marketplace's answer."""

    index: int
    cart_index: int
    account: BuyerAccount
    order_id: str
    order_type: str
    order_version: int
    payload_id: str
    previous_payload_id: str
    lines: tuple[tuple[int, CartLine], ...]  # (lineNumber, the cart line it echoes)
    total: str
    currency: str
    document: bytes  # as posted, shared secret included: never shown as is
    resend: bool
    sent_at: str
    http_status: int
    status_code: int  # 0: the answer was not cXML with a Status
    status_text: str
    status_message: str
    answer: str

    @property
    def accepted(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def shown_document(self) -> str:
        """The document as sent, the shared secret masked."""
        text = self.document.decode("utf-8", errors="replace")
        return _SECRET.sub(r"\1(hidden)\2", text)

    def as_json(self) -> dict[str, Any]:
        """Flat, for tests; never the shared secret."""
        return {
            "index": self.index,
            "cart_index": self.cart_index,
            "integration_id": self.account.id,
            "system": self.account.system,
            "order_id": self.order_id,
            "order_type": self.order_type,
            "order_version": self.order_version,
            "payload_id": self.payload_id,
            "previous_payload_id": self.previous_payload_id,
            "resend": self.resend,
            "lines": [_line_json(number, line) for number, line in self.lines],
            "total": self.total,
            "currency": self.currency,
            "sent_at": self.sent_at,
            "http_status": self.http_status,
            "status_code": self.status_code,
            "status_text": self.status_text,
            "status_message": self.status_message,
            "document": self.shown_document,
            "answer": self.answer,
        }


def _line_json(number: int, line: CartLine) -> dict[str, Any]:
    return {
        "line_number": number,
        "supplier_part_id": line.supplier_part_id,
        "supplier_part_auxiliary_id": line.supplier_part_auxiliary_id,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "currency": line.currency,
    }


class Refused(Exception):
    """Something the buyer's system would reject; the message says what."""


def accounts_from_seed(
    seeded: Sequence[Mapping[str, Any]], ariba_secret: str
) -> tuple[BuyerAccount, ...]:
    """The seed's return value (with Coupa's secret) plus the marketplace Ariba secret."""
    accounts = []
    for integration in seeded:
        info = integration["purchase_information"]
        secret = ariba_secret if integration["system"] == "ariba" else info["shared_secret"]
        accounts.append(
            BuyerAccount(
                id=integration["id"],
                name=integration["name"],
                system=integration["system"],
                buyer_domain=info["buyer_domain"],
                buyer_identity=info["buyer_identity"],
                supplier_domain=info["supplier_domain"],
                supplier_identity=info["supplier_identity"],
                shared_secret=secret,
            )
        )
    return tuple(accounts)


# --- the documents ---------------------------------------------------------------------------


def _credential(parent: Element, domain: str, identity: str, secret: str | None = None) -> None:
    credential = SubElement(parent, "Credential", {"domain": domain})
    SubElement(credential, "Identity").text = identity
    if secret is not None:
        SubElement(credential, "SharedSecret").text = secret


def _payload_id(system: str) -> str:
    """`<epoch>.<pid>.<random>@<host>`, the form the cXML guide recommends."""
    return f"{int(time.time())}.{os.getpid()}.{secrets.token_hex(6)}@{system}.simulator.local"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _envelope(account: BuyerAccount, payload_id: str) -> Element:
    """`cXML` and its Header, as the system sends requests. Coupa: From and Sender are the
    buyer, with the integration's secret. Ariba Network: From is the buyer's ANID (beside
    another credential), Sender is Ariba itself with the supplier's Ariba secret (§4)."""
    root = Element("cXML", {"payloadID": payload_id, "timestamp": _now(), "xml:lang": "en-US"})
    header = SubElement(root, "Header")
    sender = Element("Sender")
    if account.system == "ariba":
        from_ = SubElement(header, "From")
        _credential(from_, "PrivateID", "globex-purchasing")
        _credential(from_, account.buyer_domain, account.buyer_identity)
        _credential(sender, "AribaNetworkUserId", ARIBA_SENDER, account.shared_secret)
    else:
        _credential(SubElement(header, "From"), account.buyer_domain, account.buyer_identity)
        _credential(sender, account.buyer_domain, account.buyer_identity, account.shared_secret)
    _credential(SubElement(header, "To"), account.supplier_domain, account.supplier_identity)
    SubElement(sender, "UserAgent").text = USER_AGENTS.get(account.system, "Buyer simulator")
    header.append(sender)
    return root


def _serialize(root: Element) -> bytes:
    body = tostring(root, encoding="unicode")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">\n'
        f"{body}"
    ).encode()


def setup_request(
    punchout: Punchout,
    form_post_url: str,
    selected_item: str = "",
    items: Sequence[CartLine] = (),
) -> bytes:
    """A PunchOutSetupRequest as the system sends it (credentials: `_envelope`)."""
    account, user = punchout.account, punchout.user
    root = _envelope(account, _payload_id(account.system))
    request = SubElement(
        SubElement(root, "Request", {"deploymentMode": DEPLOYMENT_MODE}),
        "PunchOutSetupRequest",
        {"operation": punchout.operation},
    )
    SubElement(request, "BuyerCookie").text = punchout.buyer_cookie
    full_name = f"{user.first_name} {user.last_name}".strip()
    if account.system == "ariba":
        extrinsics = {"UniqueName": user.email.split("@")[0], "UserEmail": user.email,
                      "CostCenter": "CC-4100"}  # fmt: skip
    else:
        extrinsics = {"FirstName": user.first_name, "LastName": user.last_name,
                      "UniqueName": user.email, "UserEmail": user.email, "User": user.email,
                      "BusinessUnit": "IT"}  # fmt: skip
    for name, value in extrinsics.items():
        SubElement(request, "Extrinsic", {"name": name}).text = value
    SubElement(SubElement(request, "BrowserFormPost"), "URL").text = form_post_url
    contact = SubElement(request, "Contact", {"role": "endUser"})
    SubElement(contact, "Name", {"xml:lang": "en-US"}).text = full_name or user.email
    SubElement(contact, "Email").text = user.email
    if selected_item:
        item_id = SubElement(SubElement(request, "SelectedItem"), "ItemID")
        SubElement(item_id, "SupplierPartID").text = selected_item
    for number, line in enumerate(items, start=1):
        _item_out(request, number, line)
    return _serialize(root)


def _item_out(request: Element, number: int, line: CartLine) -> None:
    """A line of the requisition, sent back on edit/inspect as the cart had it."""
    item = SubElement(request, "ItemOut", {"quantity": line.quantity, "lineNumber": str(number)})
    item_id = SubElement(item, "ItemID")
    SubElement(item_id, "SupplierPartID").text = line.supplier_part_id
    if line.supplier_part_auxiliary_id:
        SubElement(item_id, "SupplierPartAuxiliaryID").text = line.supplier_part_auxiliary_id
    detail = SubElement(item, "ItemDetail")
    price = SubElement(SubElement(detail, "UnitPrice"), "Money", {"currency": line.currency})
    price.text = line.unit_price
    description = SubElement(detail, "Description", {"xml:lang": "en"})
    description.text = line.description
    SubElement(description, "ShortName").text = line.short_name
    SubElement(detail, "UnitOfMeasure").text = line.unit_of_measure
    SubElement(detail, "Classification", {"domain": "UNSPSC"}).text = line.unspsc


def order_total(lines: Sequence[tuple[int, CartLine]]) -> tuple[str, str]:
    """The sum of quantity * unit price, to the cent, and the lines' currency."""
    try:
        total = sum(
            (Decimal(line.quantity) * Decimal(line.unit_price) for _, line in lines), Decimal(0)
        )
    except InvalidOperation as exc:
        raise Refused("A line's quantity or unit price is not a number.") from exc
    currencies = {line.currency for _, line in lines}
    if len(currencies) != 1:
        raise Refused(f"The lines mix currencies ({', '.join(sorted(currencies))}).")
    return f"{total.quantize(Decimal('0.01'))}", currencies.pop()


def _address(parent: Element, tag: str, system: str, which: int) -> None:
    address_id, name, deliver_to, street, city, state, postal_code, email = DEMO_ADDRESSES.get(
        system, DEMO_ADDRESSES["coupa"]
    )[which]
    address = SubElement(
        SubElement(parent, tag), "Address", {"isoCountryCode": "US", "addressID": address_id}
    )
    SubElement(address, "Name", {"xml:lang": "en"}).text = name
    postal = SubElement(address, "PostalAddress")
    SubElement(postal, "DeliverTo").text = deliver_to
    SubElement(postal, "Street").text = street
    SubElement(postal, "City").text = city
    SubElement(postal, "State").text = state
    SubElement(postal, "PostalCode").text = postal_code
    SubElement(postal, "Country", {"isoCountryCode": "US"}).text = "United States"
    SubElement(address, "Email", {"name": "default"}).text = email


def order_request(
    account: BuyerAccount,
    *,
    order_id: str,
    payload_id: str,
    lines: Sequence[tuple[int, CartLine]],
    order_type: str = "new",
    order_version: int = 1,
    previous_payload_id: str = "",
) -> bytes:
    """An OrderRequest as the procurement system sends the approved requisition (§6): each
    ItemOut echoes the cart line (SupplierPartID, SupplierPartAuxiliaryID, quantity, price,
    description, UOM, UNSPSC). `update`/`delete` name the version they replace."""
    if not lines:
        raise Refused("A purchase order needs at least one line.")
    total, currency = order_total(lines)
    root = _envelope(account, payload_id)
    request = SubElement(
        SubElement(root, "Request", {"deploymentMode": DEPLOYMENT_MODE}), "OrderRequest"
    )
    attributes = {"orderID": order_id, "orderDate": _now(), "type": order_type}
    if order_version != 1:
        attributes["orderVersion"] = str(order_version)
    header = SubElement(request, "OrderRequestHeader", attributes)
    SubElement(SubElement(header, "Total"), "Money", {"currency": currency}).text = total
    _address(header, "ShipTo", account.system, 1)
    _address(header, "BillTo", account.system, 0)
    if previous_payload_id:
        SubElement(header, "DocumentReference", {"payloadID": previous_payload_id})
    name, value = ORDER_EXTRINSIC
    SubElement(header, "Extrinsic", {"name": name}).text = value
    for number, line in lines:
        _item_out(request, number, line)
    return _serialize(root)


@dataclass(frozen=True)
class OrderAnswer:
    http_status: int
    code: int  # 0 when the answer is not cXML with a Status
    text: str
    message: str
    body: str


def order_answer_of(answer: HttpAnswer) -> OrderAnswer:
    """The cXML Status of the order URL's answer, parsed as a buyer's system would."""
    body = answer.body.decode("utf-8", errors="replace")
    try:
        root = fromstring(answer.body, forbid_dtd=False)
    except (ParseError, DefusedXmlException) as exc:
        return OrderAnswer(answer.status, 0, "not cXML", f"{exc}", body)
    status = root.find("Response/Status")
    if status is None:
        return OrderAnswer(
            answer.status, 0, "no Status", "The answer has no Response/Status.", body
        )
    raw = status.get("code", "")
    return OrderAnswer(
        http_status=answer.status,
        code=int(raw) if raw.isdigit() else 0,
        text=status.get("text", ""),
        message=(status.text or "").strip(),
        body=body,
    )


def start_page_of(answer: HttpAnswer) -> str:
    """The StartPage URL of a PunchOutSetupResponse; Refused with the cXML status otherwise."""
    try:
        root = fromstring(answer.body, forbid_dtd=False)
    except (ParseError, DefusedXmlException) as exc:
        raise Refused(f"The punchout answer is not cXML (HTTP {answer.status}): {exc}") from exc
    status = root.find("Response/Status")
    url = (root.findtext("Response/PunchOutSetupResponse/StartPage/URL") or "").strip()
    if status is None or status.get("code") != "200" or not url:
        code = status.get("code") if status is not None else "?"
        text = (status.text or status.get("text", "")) if status is not None else ""
        raise Refused(f"The marketplace refused the punchout: cXML {code} {text.strip()}")
    return url


def decode_cart(fields: Mapping[str, list[str]]) -> tuple[str, bytes]:
    """The posted field's name and the cXML document it carries."""
    for name in CART_FIELDS:
        if name in fields:
            value = fields[name][0]
            if name == "cxml-urlencoded":
                return name, value.encode("utf-8")
            try:
                return name, base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise Refused("The cxml-base64 field is not valid base64.") from exc
    raise Refused(f"The form has none of the fields {', '.join(CART_FIELDS)}.")


def _money(element: Element | None) -> tuple[str, str]:
    money = element.find("Money") if element is not None else None
    if money is None:
        return "", ""
    return (money.text or "").strip(), money.get("currency", "")


def _item_in(item: Element) -> CartLine:
    description = item.find("ItemDetail/Description")
    price, currency = _money(item.find("ItemDetail/UnitPrice"))
    return CartLine(
        supplier_part_id=item.findtext("ItemID/SupplierPartID") or "",
        supplier_part_auxiliary_id=item.findtext("ItemID/SupplierPartAuxiliaryID") or "",
        quantity=item.get("quantity", ""),
        unit_price=price,
        currency=currency,
        unit_of_measure=item.findtext("ItemDetail/UnitOfMeasure") or "",
        unspsc=item.findtext("ItemDetail/Classification[@domain='UNSPSC']") or "",
        description=(description.text or "") if description is not None else "",
        short_name=item.findtext("ItemDetail/Description/ShortName") or "",
    )


def parse_cart(document: bytes) -> OrderMessage:
    try:
        root = fromstring(document, forbid_dtd=False)
    except (ParseError, DefusedXmlException) as exc:
        raise Refused(f"The cart is not a well-formed cXML document: {exc}") from exc
    order = root.find("Message/PunchOutOrderMessage")
    header = root.find("Message/PunchOutOrderMessage/PunchOutOrderMessageHeader")
    if order is None or header is None:
        raise Refused("The document has no PunchOutOrderMessage with a header.")
    status = root.find("Message/Status")
    total, currency = _money(header.find("Total"))
    return OrderMessage(
        buyer_cookie=order.findtext("BuyerCookie") or "",
        status_code=int(status.get("code", "0")) if status is not None else 200,
        status_text=status.get("text", "") if status is not None else "OK",
        status_message=(status.text or "").strip() if status is not None else "",
        operation_allowed=header.get("operationAllowed", ""),
        total=total,
        currency=currency,
        lines=tuple(_item_in(item) for item in order.findall("ItemIn")),
    )


# --- the simulator ---------------------------------------------------------------------------


@dataclass
class BuyerSimulator:
    """Punchouts sent (by id, in the BrowserFormPost URL) and carts received, in memory."""

    api: LocalApi
    base_url: str
    accounts: tuple[BuyerAccount, ...]
    punchouts: dict[str, Punchout] = field(default_factory=dict)
    carts: list[ReceivedCart] = field(default_factory=list)
    orders: list[SentOrder] = field(default_factory=list)
    orders_issued: int = 0  # SIM-PO-<n>
    lock: threading.Lock = field(default_factory=threading.Lock)
    sending: threading.Lock = field(default_factory=threading.Lock)  # one approval at a time

    def handle(self, method: str, path: str, body: bytes) -> HttpAnswer:
        try:
            if method == "GET" and path.rstrip("/") == PREFIX:
                return self.index()
            if method == "GET" and path == f"{PREFIX}/carts.json":
                with self.lock:
                    carts = [cart.as_json() for cart in self.carts]
                return HttpAnswer(200, _headers("application/json"), json.dumps(carts).encode())
            if method == "GET" and path == f"{PREFIX}/orders.json":
                with self.lock:
                    orders = [order.as_json() for order in self.orders]
                return HttpAnswer(200, _headers("application/json"), json.dumps(orders).encode())
            if method == "POST" and path == f"{PREFIX}/punchout":
                return self.punch_out(_form(body))
            found = _CART_PATH.match(path)
            if method == "POST" and found:
                return self.receive_cart(found.group("id"), _form(body))
            requisition = _REQUISITION_PATH.match(path)
            if requisition:
                index, action = int(requisition.group("index")), requisition.group("action")
                if method == "GET" and action is None:
                    return self.cart_page(self._cart(index))
                if method == "POST" and action == "approve":
                    return self.approve(index, split=_value(_form(body), "split") == "lines")
                if method == "POST" and action == "resend":
                    return self.resend(index)
            delete = _DELETE_PATH.match(path)
            if method == "POST" and delete:
                return self.delete(int(delete.group("index")))
            return _html(404, "message.html", title="Not found", message="No simulator page here.")
        except Refused as problem:
            return _html(400, "message.html", title="Refused", message=str(problem))

    def index(self) -> HttpAnswer:
        with self.lock:
            carts, sent = list(self.carts), len(self.orders)
        return _html(200, "index.html", title="Buyer simulator", accounts=self.accounts,
                     demo_users=DEMO_USERS, carts=carts, sent=sent)  # fmt: skip

    def punch_out(self, form: Mapping[str, list[str]]) -> HttpAnswer:
        """Send a PunchOutSetupRequest (in-process, as Coupa's server would over HTTP) and
        send the browser to the StartPage it answers."""

        def value(name: str) -> str:
            return _value(form, name)

        account = next((a for a in self.accounts if a.id == value("integration")), None)
        operation = value("operation") or "create"
        if account is None or operation not in OPERATIONS:
            raise Refused("Choose one of the listed integrations, and create, edit or inspect.")
        items: tuple[CartLine, ...] = ()
        if value("cart"):
            with self.lock:
                cart = next((c for c in self.carts if str(c.index) == value("cart")), None)
            if cart is None:
                raise Refused(f"No cart #{value('cart')} was received.")
            items = cart.order.lines
        punchout = Punchout(
            id=secrets.token_urlsafe(12),
            account=account,
            operation=operation,
            buyer_cookie=secrets.token_hex(16),
            user=BuyerUser(value("first_name"), value("last_name"), value("email")),
        )
        with self.lock:
            self.punchouts[punchout.id] = punchout
        form_post_url = f"{self.base_url}{PREFIX}/cart/{punchout.id}"
        document = setup_request(punchout, form_post_url, value("selected_item"), items)
        answer = self.api.handle(
            "POST", PUNCHOUT_PATH, headers=[("Content-Type", XML_CONTENT_TYPE)], body=document
        )
        location = start_page_of(answer)
        return HttpAnswer(303, [("Location", location), *_headers("text/plain")], b"")

    def receive_cart(self, punchout_id: str, form: Mapping[str, list[str]]) -> HttpAnswer:
        """The cart return the storefront's form posts: kept only if it echoes our cookie."""
        with self.lock:
            punchout = self.punchouts.get(punchout_id)
        if punchout is None:
            raise Refused("This simulator sent no such punchout (was the server restarted?).")
        field_name, document = decode_cart(form)
        order = parse_cart(document)
        if order.buyer_cookie != punchout.buyer_cookie:
            raise Refused(
                f"BuyerCookie {order.buyer_cookie!r} is not the {punchout.buyer_cookie!r} this "
                "punchout sent."
            )
        with self.lock:
            cart = ReceivedCart(
                index=len(self.carts) + 1,
                punchout=punchout,
                field=field_name,
                document=document.decode("utf-8", errors="replace"),
                order=order,
            )
            self.carts.append(cart)
        return self.cart_page(cart)

    # --- approval: the purchase orders -------------------------------------------------------

    def _cart(self, index: int) -> ReceivedCart:
        with self.lock:
            cart = next((c for c in self.carts if c.index == index), None)
        if cart is None:
            raise Refused(f"No cart #{index} was received (was the server restarted?).")
        return cart

    def _deleted(self) -> set[str]:
        """orderIDs a delete was accepted for. Call with the lock held."""
        return {o.order_id for o in self.orders if o.order_type == "delete" and o.accepted}

    def _live(self, cart_index: int) -> list[SentOrder]:
        """The cart's accepted, undeleted POs (first sends only). Call with the lock held."""
        deleted = self._deleted()
        return [
            o
            for o in self.orders
            if o.cart_index == cart_index
            and o.order_type == "new"
            and not o.resend
            and o.accepted
            and o.order_id not in deleted
        ]

    def cart_page(self, cart: ReceivedCart) -> HttpAnswer:
        with self.lock:
            orders = [o for o in self.orders if o.cart_index == cart.index]
            live = self._live(cart.index)
            deleted = self._deleted()
        return _html(200, "cart.html", title="Requisition from the marketplace", cart=cart,
                     label=cart.punchout.account.label, orders=orders, live=live,
                     deleted=deleted)  # fmt: skip

    def approve(self, index: int, *, split: bool) -> HttpAnswer:
        """The buyer company's approval: one OrderRequest for the requisition, or one per line
        (`split`). Already approved: the same PO(s) again, unchanged."""
        cart = self._cart(index)
        if not cart.approvable:
            raise Refused(
                f"Requisition #{index} has nothing to approve (Status "
                f"{cart.order.status_code}, {len(cart.order.lines)} line(s))."
            )
        with self.sending:
            with self.lock:
                live = self._live(index)
            if live:
                for order in live:
                    self._post(order.cart_index, order.account, order, resend=True)
                return _see_other(index)
            lines = list(enumerate(cart.order.lines, start=1))
            for group in [[line] for line in lines] if split else [lines]:
                with self.lock:
                    self.orders_issued += 1
                    order_id = f"SIM-PO-{self.orders_issued}"
                # Each PO numbers its own lines from 1, as the system issuing it does.
                numbered = [(number, line) for number, (_, line) in enumerate(group, start=1)]
                self._send(cart.index, cart.punchout.account, order_id, "new", 1, numbered)
        return _see_other(index)

    def resend(self, index: int) -> HttpAnswer:
        """The cart's last PO again: the same document, so the same payloadID."""
        self._cart(index)
        with self.sending:
            with self.lock:
                last = next((o for o in reversed(self.orders) if o.cart_index == index), None)
            if last is None:
                raise Refused(f"No purchase order was sent for requisition #{index} yet.")
            self._post(index, last.account, last, resend=True)
        return _see_other(index)

    def delete(self, order_index: int) -> HttpAnswer:
        """Cancel a PO: `type="delete"`, the next orderVersion, the same lines, and a
        DocumentReference to the version it replaces."""
        with self.sending:
            with self.lock:
                order = next((o for o in self.orders if o.index == order_index), None)
                if order is None or order.order_type != "new" or order.resend:
                    raise Refused(f"No purchase order #{order_index} to delete.")
                if order.order_id in self._deleted():
                    raise Refused(f"{order.order_id} was already deleted.")
                versions = [o for o in self.orders if o.order_id == order.order_id and not o.resend]
                latest = max(versions, key=lambda o: o.order_version)
            self._send(order.cart_index, order.account, order.order_id, "delete",
                       latest.order_version + 1, order.lines,
                       previous_payload_id=latest.payload_id)  # fmt: skip
        return _see_other(order.cart_index)

    def _send(
        self,
        cart_index: int,
        account: BuyerAccount,
        order_id: str,
        order_type: str,
        version: int,
        lines: Sequence[tuple[int, CartLine]],
        previous_payload_id: str = "",
    ) -> SentOrder:
        payload_id = _payload_id(account.system)
        document = order_request(account, order_id=order_id, payload_id=payload_id, lines=lines,
                                 order_type=order_type, order_version=version,
                                 previous_payload_id=previous_payload_id)  # fmt: skip
        total, currency = order_total(lines)
        draft = SentOrder(
            index=0, cart_index=cart_index, account=account, order_id=order_id,
            order_type=order_type, order_version=version, payload_id=payload_id,
            previous_payload_id=previous_payload_id, lines=tuple(lines), total=total,
            currency=currency, document=document, resend=False, sent_at="", http_status=0,
            status_code=0, status_text="", status_message="", answer="",
        )  # fmt: skip
        return self._post(cart_index, account, draft, resend=False)

    def _post(
        self, cart_index: int, account: BuyerAccount, order: SentOrder, *, resend: bool
    ) -> SentOrder:
        """Post the document to the order URL (in-process, as the system's server would over
        HTTP) and keep what came back."""
        sent_at = _now()
        answer = order_answer_of(
            self.api.handle(
                "POST", ORDERS_PATH, headers=[("Content-Type", XML_CONTENT_TYPE)],
                body=order.document,
            )
        )  # fmt: skip
        with self.lock:
            kept = SentOrder(
                index=len(self.orders) + 1, cart_index=cart_index, account=account,
                order_id=order.order_id, order_type=order.order_type,
                order_version=order.order_version, payload_id=order.payload_id,
                previous_payload_id=order.previous_payload_id, lines=order.lines,
                total=order.total, currency=order.currency, document=order.document,
                resend=resend, sent_at=sent_at, http_status=answer.http_status,
                status_code=answer.code, status_text=answer.text,
                status_message=answer.message, answer=answer.body,
            )  # fmt: skip
            self.orders.append(kept)
        return kept


# --- pages -----------------------------------------------------------------------------------

TEMPLATES = {
    "layout.html": """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} · Buyer simulator</title>
<style>
  body { margin:0; font:15px/1.45 system-ui,sans-serif; color:#222; background:#f2f4f3; }
  header { background:#2d3a3a; color:#fff; padding:.6rem 1.2rem; }
  header a { color:#fff; text-decoration:none; font-weight:700; }
  main { max-width:84rem; margin:1rem auto; padding:0 1rem; }
  .card { background:#fff; border:1px solid #d6dcda; border-radius:.4rem;
          padding:1rem 1.2rem; margin-bottom:1rem; }
  .badge { font-size:.75rem; border:1px solid #9bb; border-radius:1rem; padding:0 .5rem; }
  .muted { color:#667; } .ok { color:#146c43; font-size:.85rem; }
  .error { color:#a4161a; background:#fdecec; padding:.5rem .75rem; border-radius:.3rem; }
  label { display:inline-block; margin:.25rem 1rem .25rem 0; }
  input { font:inherit; padding:.3rem .4rem; }
  button, .button { font:inherit; padding:.4rem .9rem; border-radius:.3rem; cursor:pointer;
    border:1px solid #2f6f5e; background:#2f6f5e; color:#fff; text-decoration:none; }
  .secondary { background:#fff; color:#2f6f5e; }
  .actions { display:flex; gap:.5rem; margin:1rem 0; }
  dl { display:grid; grid-template-columns:max-content 1fr; gap:.2rem 1rem; }
  dt { color:#667; } dd { margin:0; }
  table { border-collapse:collapse; width:100%; font-size:.9rem; }
  th, td { text-align:left; border-bottom:1px solid #dde; padding:.35rem .4rem; }
  .num { text-align:right; } pre { white-space:pre-wrap; font-size:.8rem; }
  .scroll { overflow-x:auto; }
  #orders td.order-id, #orders td.order-type { white-space:nowrap; }
  #orders td.payload-id, #orders td.order-lines { font-size:.75rem; word-break:break-all;
    max-width:13rem; }
  #orders td.status-message { min-width:18rem; }
</style></head>
<body><header><a href="{{ prefix }}">Buyer simulator</a>
<span>· local only: plays Coupa or SAP Ariba</span></header>
<main><h1>{{ title }}</h1>{% block content %}{% endblock %}</main></body></html>""",
    "message.html": """{% extends "layout.html" %}{% block content %}
<p class="card error" id="message">{{ message }}</p>
<p><a href="{{ prefix }}">Back to the simulator</a></p>{% endblock %}""",
    "index.html": """{% extends "layout.html" %}{% block content %}
<p>Sends a PunchOutSetupRequest as the procurement system would, then shows the cart the
marketplace returns.</p>
{% for account in accounts %}{% set user = demo_users.get(account.system, ("", "", "")) %}
<section class="card integration" id="integration-{{ account.id }}"
         data-system="{{ account.system }}">
  <h2>{{ account.name }} <span class="badge">{{ account.label }}</span></h2>
  <p class="muted">Buyer {{ account.buyer_domain }}: {{ account.buyer_identity }}</p>
  <form method="post" action="{{ prefix }}/punchout">
    <input type="hidden" name="integration" value="{{ account.id }}">
    <input type="hidden" name="operation" value="create">
    <label>First name <input name="first_name" value="{{ user[0] }}"></label>
    <label>Last name <input name="last_name" value="{{ user[1] }}"></label>
    <label>Email <input name="email" type="email" value="{{ user[2] }}"></label>
    <label>Product id (level-2 punchout, optional)
      <input name="selected_item" placeholder="datastream-pro"></label>
    <button type="submit">Shop at the marketplace</button>
  </form>
</section>
{% endfor %}
{% if carts %}
<section class="card" id="received-carts" aria-labelledby="received-h">
  <h2 id="received-h">Requisitions received</h2>
  <ul>{% for cart in carts|reverse %}
    <li><a href="{{ prefix }}/requisitions/{{ cart.index }}">Requisition #{{ cart.index }}</a>
      · {{ cart.punchout.account.name }} · {{ cart.order.lines|length }} line(s)
      · {{ cart.order.total }} {{ cart.order.currency }}</li>{% endfor %}
  </ul>
</section>
{% endif %}
<p class="muted">{{ carts|length }} cart(s) received ·
  <a href="{{ prefix }}/carts.json">carts.json</a> · {{ sent }} purchase order(s) sent ·
  <a href="{{ prefix }}/orders.json">orders.json</a></p>{% endblock %}""",
    "cart.html": """{% extends "layout.html" %}{% block content %}
{% set order = cart.order %}
<section class="card" id="requisition">
  <h2>Requisition #{{ cart.index }} <span class="badge">{{ label }}</span></h2>
  <dl id="cart-summary">
    <dt>Integration</dt><dd id="cart-integration">{{ cart.punchout.account.name }}</dd>
    <dt>Punchout</dt><dd id="cart-operation">{{ cart.punchout.operation }}</dd>
    <dt>BuyerCookie</dt><dd><code id="buyer-cookie">{{ order.buyer_cookie }}</code>
      <span class="ok">matches the one sent</span></dd>
    <dt>Status</dt><dd id="cart-status" data-code="{{ order.status_code }}">
      {{- order.status_code }} {{ order.status_text }} {{ order.status_message }}</dd>
    <dt>Total</dt><dd id="cart-total">{{ order.total }} {{ order.currency }}</dd>
    <dt>Form field</dt><dd id="cart-field">{{ cart.field }}</dd>
    <dt>operationAllowed</dt><dd id="operation-allowed">{{ order.operation_allowed }}</dd>
  </dl>
  {% if order.lines %}
  <table id="requisition-lines">
    <thead><tr><th>#</th><th>Part</th><th>Auxiliary ID</th><th>Short name</th>
      <th>Description</th><th class="num">Qty</th><th>UOM</th><th class="num">Unit price</th>
      <th>Cur.</th><th>UNSPSC</th></tr></thead>
    <tbody>{% for line in order.lines %}
    <tr class="line">
      <td class="line-number">{{ loop.index }}</td>
      <td class="supplier-part-id">{{ line.supplier_part_id }}</td>
      <td class="aux-id">{{ line.supplier_part_auxiliary_id }}</td>
      <td class="short-name">{{ line.short_name }}</td>
      <td class="description">{{ line.description }}</td>
      <td class="quantity num">{{ line.quantity }}</td>
      <td class="uom">{{ line.unit_of_measure }}</td>
      <td class="unit-price num">{{ line.unit_price }}</td>
      <td class="currency">{{ line.currency }}</td>
      <td class="unspsc">{{ line.unspsc }}</td>
    </tr>{% endfor %}</tbody>
  </table>
  {% else %}
  <p id="no-lines">No lines: the requisition is unchanged.</p>
  {% endif %}
  <div class="actions">
    {% if order.lines %}{% for operation, text in (("edit", "Edit in the marketplace"),
                                                    ("inspect", "Inspect in the marketplace")) %}
    <form method="post" action="{{ prefix }}/punchout">
      <input type="hidden" name="integration" value="{{ cart.punchout.account.id }}">
      <input type="hidden" name="operation" value="{{ operation }}">
      <input type="hidden" name="cart" value="{{ cart.index }}">
      <input type="hidden" name="first_name" value="{{ cart.punchout.user.first_name }}">
      <input type="hidden" name="last_name" value="{{ cart.punchout.user.last_name }}">
      <input type="hidden" name="email" value="{{ cart.punchout.user.email }}">
      <button type="submit" id="{{ operation }}-cart">{{ text }}</button>
    </form>{% endfor %}{% endif %}
    <a class="button secondary" href="{{ prefix }}">New punchout</a>
  </div>
  <details><summary>cXML received</summary><pre id="cart-document">{{ cart.document }}</pre>
  </details>
</section>
{% if cart.approvable %}
<section class="card" id="purchase-orders" aria-labelledby="orders-h">
  <h2 id="orders-h">Approval and purchase orders</h2>
  <p class="muted">Plays the buyer company's approval: the approved requisition becomes an
    OrderRequest, posted to the marketplace's order URL with the integration's credentials.
    {% if live %}Already approved: approving again re-sends the same purchase order
    (same payloadID), as a retransmission does.{% endif %}</p>
  <div class="actions">
    <form method="post" action="{{ prefix }}/requisitions/{{ cart.index }}/approve">
      <button type="submit" id="approve">Approve</button>
    </form>
    {% if order.lines|length > 1 %}
    <form method="post" action="{{ prefix }}/requisitions/{{ cart.index }}/approve">
      <input type="hidden" name="split" value="lines">
      <button type="submit" id="approve-each-line">Approve each line as its own PO</button>
    </form>{% endif %}
    {% if orders %}
    <form method="post" action="{{ prefix }}/requisitions/{{ cart.index }}/resend">
      <button type="submit" id="resend-last" class="secondary">Resend last PO</button>
    </form>{% endif %}
  </div>
  {% if orders %}{% set last = orders[-1] %}
  <p id="last-answer" role="status" data-code="{{ last.status_code }}">
    {% if last.order_type == "delete" %}Deletion of {% elif last.resend %}Resent {% endif -%}
    PO <strong class="order-id">{{ last.order_id }}</strong>:
    Status <strong class="status-code">{{ last.status_code or "none" }}</strong>
    <span class="status-text">{{ last.status_text }}</span>
    <span class="status-message">{{ last.status_message }}</span></p>
  <div class="scroll"><table id="orders">
    <thead><tr><th>#</th><th>PO number</th><th>Type</th><th class="num">Version</th>
      <th>Lines</th><th class="num">Total</th><th>payloadID</th><th class="num">HTTP</th>
      <th>Status</th><th>Status text</th><th></th></tr></thead>
    <tbody>{% for sent in orders %}
    <tr class="order" data-order-id="{{ sent.order_id }}" data-code="{{ sent.status_code }}"
        data-type="{{ sent.order_type }}" data-resend="{{ sent.resend|lower }}">
      <td class="order-index">{{ sent.index }}</td>
      <td class="order-id">{{ sent.order_id }}</td>
      <td class="order-type">{{ sent.order_type }}{% if sent.resend %} (resent){% endif %}</td>
      <td class="order-version num">{{ sent.order_version }}</td>
      <td class="order-lines">{% for number, line in sent.lines %}{{ number }}:
        {{ line.supplier_part_auxiliary_id }}{% if not loop.last %}, {% endif %}{% endfor %}</td>
      <td class="order-total num">{{ sent.total }} {{ sent.currency }}</td>
      <td class="payload-id"><code>{{ sent.payload_id }}</code></td>
      <td class="http-status num">{{ sent.http_status }}</td>
      <td class="status-code">{{ sent.status_code or "none" }} {{ sent.status_text }}</td>
      <td class="status-message">{{ sent.status_message }}</td>
      <td>{% if sent.order_type == "new" and not sent.resend and sent.accepted
               and sent.order_id not in deleted %}
        <form method="post" action="{{ prefix }}/orders/{{ sent.index }}/delete">
          <button type="submit" class="secondary" aria-label="Delete PO {{ sent.order_id }}">
            Delete PO</button>
        </form>{% endif %}</td>
    </tr>{% endfor %}</tbody>
  </table></div>
  {% for sent in orders %}
  <details><summary>PO #{{ sent.index }} ({{ sent.order_id }}, {{ sent.order_type }}):
    cXML sent and answer</summary>
    <pre class="order-document">{{ sent.shown_document }}</pre>
    <pre class="order-answer">{{ sent.answer }}</pre></details>
  {% endfor %}{% endif %}
</section>
{% endif %}{% endblock %}""",
}

_PAGES = Environment(loader=DictLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)


def _form(body: bytes) -> dict[str, list[str]]:
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def _value(form: Mapping[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0].strip()


def _see_other(cart_index: int) -> HttpAnswer:
    """Post/redirect/get: reloading the requisition page never sends a PO again."""
    location = f"{PREFIX}/requisitions/{cart_index}#purchase-orders"
    return HttpAnswer(303, [("Location", location), *_headers("text/plain")], b"")


def _headers(content_type: str) -> list[tuple[str, str]]:
    return [("Content-Type", content_type), ("Cache-Control", "no-store")]


def _html(status: int, template: str, **context: Any) -> HttpAnswer:
    text = _PAGES.get_template(template).render(prefix=PREFIX, **context)
    return HttpAnswer(status, _headers("text/html; charset=utf-8"), text.encode("utf-8"))
