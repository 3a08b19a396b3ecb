"""The one place that builds cXML envelopes: DOCTYPE, payloadID, `+00:00` timestamps, xml:lang.

Elements are built with ElementTree (building, never parsing) so text and attributes are always
escaped. Child order follows the cXML 1.2.071 DTD; tests validate every kind against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from xml.etree.ElementTree import Element, SubElement, tostring

from functions.clock import iso, now
from functions.cxml.status import status_text
from functions.ids import payload_id

CXML_VERSION = "1.2.071"
LANG = "en-US"
_XML_LANG = "xml:lang"
DTD_FOR_ROOT = {"cXML": "cXML.dtd"}


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
    payload element is attached only under a 2xx status (PROTOCOL.md §3)."""
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
