"""Invoice delivery's transport, pure: which endpoints an invoice may be posted to, and what
the posted document carries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from functions.billing import contract_invoice
from functions.cxml.build import response
from functions.cxml.model import Credential
from functions.delivery_transport import EndpointRefused, Send, build_send
from functions.errors import BadRequest
from functions.integrations import InvoiceDelivery, delivery_url_problem
from functions.store.invoice_sender import HttpInvoiceSender
from tests.billing_support import acme_document, subscription
from tests.support import dtd_errors

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


# --- endpoint URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "local_http", "allowed"),
    [
        ("https://acme.coupahost.com/cxml/invoices", False, True),
        ("https://acme.coupahost.com:8443/cxml/invoices", False, True),
        ("http://acme.coupahost.com/cxml/invoices", False, False),
        ("http://acme.coupahost.com/cxml/invoices", True, False),
        ("http://127.0.0.1:8080/_local/coupa/cxml/invoices", False, False),
        ("http://127.0.0.1:8080/_local/coupa/cxml/invoices", True, True),
        ("http://localhost/cxml/invoices", True, True),
        ("http://[::1]:9/cxml/invoices", True, True),
        ("http://127.0.0.1.evil.example/cxml/invoices", True, False),
        ("https://user:pw@acme.coupahost.com/cxml/invoices", False, False),
        ("https://acme.coupahost.com/cxml/invoices#x", False, False),
        ("ftp://acme.coupahost.com/cxml/invoices", False, False),
        ("https://acme.coupahost.com:99999/cxml/invoices", False, False),
        ("https:///cxml/invoices", False, False),
        ("acme.coupahost.com/cxml/invoices", False, False),
    ],
)
def test_invoice_endpoints_are_https_or_this_machine_when_the_local_stack_allows(
    url: str, local_http: bool, allowed: bool
) -> None:
    assert (delivery_url_problem(url, allow_local_http=local_http) is None) is allowed


def test_the_sender_refuses_plain_http_before_connecting() -> None:
    sender = HttpInvoiceSender(allow_local_http=False)

    with pytest.raises(EndpointRefused, match="https"):
        sender.post(Send("http://127.0.0.1:9/cxml/invoices", b"<cXML/>"))


# --- the document posted ----------------------------------------------------------------------

ENDPOINT = InvoiceDelivery(
    "https://acme.coupahost.com/cxml/invoices",
    Credential("DUNS", "supplier-at-acme"),
    Credential("DUNS", "acme-coupa"),
    Credential("DUNS", "supplier-at-acme"),
    "coupa-secret & <more>",
)


def _stored() -> bytes:
    invoice = contract_invoice(subscription(), NOW)
    assert invoice is not None
    return acme_document(invoice)


def test_the_posted_document_carries_the_endpoints_credentials_and_the_stored_body() -> None:
    stored = _stored()

    send = build_send(stored, ENDPOINT)

    assert (send.url, send.content_type, send.timeout) == (
        ENDPOINT.url, "text/xml; charset=utf-8", 20.0,
    )  # fmt: skip
    assert dtd_errors(send.body, "InvoiceDetail.dtd") == []
    sent, kept = etree.fromstring(send.body), etree.fromstring(stored)
    header = sent.find("Header")
    assert [(c.get("domain"), c.findtext("Identity")) for c in header.iter("Credential")] == [
        ("DUNS", "supplier-at-acme"), ("DUNS", "acme-coupa"), ("DUNS", "supplier-at-acme"),
    ]  # fmt: skip
    assert header.findtext("Sender/Credential/SharedSecret") == "coupa-secret & <more>"
    assert header.findtext("Sender/UserAgent") == "Procurement Gateway"
    assert (sent.get("payloadID"), sent.get("timestamp")) == (
        kept.get("payloadID"), kept.get("timestamp"),
    ), "the same document on every attempt"  # fmt: skip
    assert etree.tostring(sent.find("Request")) == etree.tostring(kept.find("Request"))


def test_a_stored_document_that_is_not_an_invoice_is_refused() -> None:
    with pytest.raises(BadRequest):
        build_send(response(200), ENDPOINT)
