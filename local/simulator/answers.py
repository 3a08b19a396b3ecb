"""Reading what the marketplace sends back, as a buyer's system would: the punchout's StartPage,
the cart the browser posts, and the order URL's cXML Status."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from local.simulator.model import CartLine, OrderMessage, Refused
from local.stack import HttpAnswer

CART_FIELDS = ("cxml-base64", "cxml-urlencoded")


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
