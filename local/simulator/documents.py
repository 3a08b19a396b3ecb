"""The buyer side of cXML: the PunchOutSetupRequest and OrderRequest documents Coupa and the
Ariba Network send, credentials and all (docs/PROTOCOL.md §4, §6)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, SubElement, tostring

from local.simulator.model import BuyerAccount, CartLine, Punchout, Refused

DEPLOYMENT_MODE = "production"  # test mode is the integration's setting (on for the demos)
ARIBA_SENDER = "sysadmin@ariba.com"
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


def _credential(parent: Element, domain: str, identity: str, secret: str | None = None) -> None:
    credential = SubElement(parent, "Credential", {"domain": domain})
    SubElement(credential, "Identity").text = identity
    if secret is not None:
        SubElement(credential, "SharedSecret").text = secret


def new_payload_id(system: str) -> str:
    """`<epoch>.<pid>.<random>@<host>`, the form the cXML guide recommends."""
    return f"{int(time.time())}.{os.getpid()}.{secrets.token_hex(6)}@{system}.simulator.local"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _envelope(account: BuyerAccount, payload_id: str) -> Element:
    """`cXML` and its Header, as the system sends requests. Coupa: From and Sender are the
    buyer, with the integration's secret. Ariba Network: From is the buyer's ANID (beside
    another credential), Sender is Ariba itself with the supplier's Ariba secret (§4)."""
    root = Element("cXML", {"payloadID": payload_id, "timestamp": now_iso(), "xml:lang": "en-US"})
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
    root = _envelope(account, new_payload_id(account.system))
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
    attributes = {"orderID": order_id, "orderDate": now_iso(), "type": order_type}
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
