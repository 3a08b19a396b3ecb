"""Reading a StatusUpdateRequest (issue 13 part 6): a published sample and the invoice form SAP
Business Network sends, into the value the use case records; the digest telling a retry from a
reused payloadID."""

from __future__ import annotations

from dataclasses import replace

import pytest

from functions.cxml.parse import parse_request
from functions.cxml.status_update import INVOICE, ORDER, parse_status_update
from functions.errors import BadRequest
from tests.support import sample

INVOICE_STATUS = b"""<?xml version="1.0"?>
<cXML payloadID="su-1@network" timestamp="2026-12-03T09:00:00-08:00">
<Header><From><Credential domain="NetworkID"><Identity>AN01000000001-T</Identity></Credential>
</From><To><Credential domain="NetworkID"><Identity>AN02-T</Identity></Credential></To>
<Sender><Credential domain="NetworkID"><Identity>x</Identity></Credential></Sender></Header>
<Request><StatusUpdateRequest><DocumentReference payloadID="inv-payload@gateway"/>
<Status code="200" text="OK"/>
<InvoiceStatus type=" Paid " paymentNetDueDate="2027-01-01T00:00:00+00:00">
<InvoiceIDInfo invoiceID=" INV-7 "/><PartialAmount><Money currency="usd">10.00</Money>
</PartialAmount><Comments>first half</Comments><Comments>by wire</Comments></InvoiceStatus>
</StatusUpdateRequest></Request></cXML>"""


def test_the_published_sample_is_an_order_status_by_document_reference() -> None:
    update = parse_status_update(parse_request(sample("StatusUpdateRequest.xml")))

    assert update.subject == ORDER
    assert update.document_payload_id == "0c300508b7863dcclb_14999"
    assert (update.code, update.text, update.message) == (200, "OK", "Forwarded to supplier")
    assert update.reference == "" and update.status == "ok"


def test_an_invoice_status_is_read_leniently() -> None:
    update = parse_status_update(parse_request(INVOICE_STATUS))

    assert (update.subject, update.status, update.reference) == (INVOICE, "paid", "INV-7")
    assert update.comments == "first half by wire"
    assert (update.partial_amount, update.partial_currency) == ("10.00", "USD")


def test_the_digest_ignores_the_payload_id_and_sees_everything_else() -> None:
    update = parse_status_update(parse_request(INVOICE_STATUS))

    assert replace(update, payload_id="other").fingerprint() == update.fingerprint()
    assert replace(update, status="rejected").fingerprint() != update.fingerprint()
    assert replace(update, comments="").fingerprint() != update.fingerprint()


def test_a_status_naming_nothing_is_refused() -> None:
    document = INVOICE_STATUS.replace(b'<InvoiceIDInfo invoiceID=" INV-7 "/>', b"")

    with pytest.raises(BadRequest, match="InvoiceIDInfo"):
        parse_status_update(parse_request(document))
