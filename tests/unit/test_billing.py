"""Invoices from subscriptions: amounts, references to the PO, and InvoiceDetail.dtd validity."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from functions import billing
from functions.billing import CONTRACT, USAGE, contract_invoice, invoice_id, usage_invoice
from functions.errors import BadRequest
from functions.subscriptions import PREAPPROVED_ORDER, Subscription
from tests.billing_support import acme_document, approval, subscription
from tests.support import dtd_errors

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def _subscription(**overrides: Any) -> Subscription:
    """The usual subscription, its PO sent as payloadID `p-7@coupa` (which invoices cite)."""
    return subscription(payload_id="p-7@coupa", **overrides)


def test_contract_invoice_references_the_contract_po_line_and_is_dtd_valid() -> None:
    invoice = contract_invoice(_subscription(), NOW)

    assert invoice is not None and invoice.kind == CONTRACT
    assert (invoice.order_id, invoice.order_payload_id) == ("PO-7", "p-7@coupa")
    (line,) = invoice.lines
    assert (line.po_line_number, line.quantity, line.unit_price, line.unit_of_measure) == (
        1, Decimal(1), Decimal("15000.00"), "ANN",
    )  # fmt: skip
    assert invoice.due == Decimal("15000.00")
    document = acme_document(invoice)
    assert dtd_errors(document, "InvoiceDetail.dtd") == []
    root = etree.fromstring(document)
    header = root.find("Request/InvoiceDetailRequest/InvoiceDetailRequestHeader")
    assert header.get("invoiceID") == invoice.invoice_id
    reference = root.find(".//InvoiceDetailOrderInfo/OrderReference")
    assert reference.get("orderID") == "PO-7"
    assert reference.find("DocumentReference").get("payloadID") == "p-7@coupa"
    assert root.find(".//InvoiceDetailItemReference").get("lineNumber") == "1"
    assert root.findtext(".//InvoiceDetailSummary/Tax/Description") == "Zero-rated"
    assert root.findtext(".//InvoiceDetailSummary/DueAmount/Money") == "15000.00"
    assert (
        b'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.071/InvoiceDetail.dtd">'
        in document
    )


def test_usage_invoice_has_a_line_per_dimension_at_the_requested_rates() -> None:
    subscription = _subscription(
        rates={
            "hours": {"name": "Pipeline hours", "unit": "HUR", "unit_price": "0.08"},
            "gb": {"name": "Storage", "unit": "E34", "unit_price": "0.0045"},
        }
    )

    invoice = usage_invoice(
        subscription, "2026-11", {"hours": Decimal(720), "gb": Decimal("333")},
        {"hours": Decimal(720), "gb": Decimal("333")}, NOW,
    )  # fmt: skip

    assert invoice is not None and invoice.kind == USAGE
    assert [(x.dimension, x.quantity, x.amount) for x in invoice.lines] == [
        ("gb", Decimal(333), Decimal("1.50")),
        ("hours", Decimal(720), Decimal("57.60")),
    ]
    assert {x.po_line_number for x in invoice.lines} == {2}
    assert invoice.subtotal == invoice.due == Decimal("59.10")
    assert dtd_errors(acme_document(invoice), "InvoiceDetail.dtd") == []


@pytest.mark.parametrize(
    "subscription",
    [
        _subscription(test=True),
        _subscription(pricing_model="free_trial"),
        _subscription(lines=(replace(_subscription().lines[1], approval=None),)),
        _subscription(lines=(replace(_subscription().lines[1],
                                     approval=approval(2, "1", order_id=PREAPPROVED_ORDER)),)),
    ],
    ids=["test-mode", "free-trial", "unapproved", "preapproved"],
)  # fmt: skip
def test_no_invoice_for_what_is_never_invoiced(subscription: Subscription) -> None:
    assert (
        usage_invoice(subscription, "2026-11", {"hours": Decimal(5)}, {"hours": Decimal(5)}, NOW)
        is None
    )


def test_no_usage_no_invoice() -> None:
    assert usage_invoice(_subscription(), "2026-11", {}, {}, NOW) is None
    assert usage_invoice(_subscription(), "2026-11", {"hours": Decimal(0)}, {}, NOW) is None


def test_invoice_ids_are_stable_unique_and_short() -> None:
    a = invoice_id("req-0123456789abcdef", USAGE, "2026-11")
    assert a == invoice_id("req-0123456789abcdef", USAGE, "2026-11")
    assert a != invoice_id("req-0123456789abcdef", USAGE, "2026-12")
    assert a != invoice_id("req-0123456789abcdee", USAGE, "2026-11")
    assert invoice_id("req-0123456789abcdef", CONTRACT, "") != a
    assert len(a) <= 40 and a.startswith("INV-U-202611-")


def test_periods() -> None:
    assert billing.previous_period(datetime(2026, 1, 3, tzinfo=UTC)) == "2025-12"
    assert billing.previous_period(datetime(2026, 11, 1, tzinfo=UTC)) == "2026-10"
    assert billing.parse_period(" 2026-11 ") == "2026-11"
    for bad in ("2026-13", "26-11", "2026/11", 202611, None):
        with pytest.raises(BadRequest):
            billing.parse_period(bad)
