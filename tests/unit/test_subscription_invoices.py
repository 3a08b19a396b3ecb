"""A subscription's invoices as the console lists and shows them: newest first, credit memos
under the invoice they credit, amounts exactly as stored; the cXML download without any
credential a stored document might hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from functions.cxml.invoice_reading import downloadable
from functions.cxml.parse import parse_invoice_document
from functions.subscription_invoices import readable_invoice, subscription_invoices


@dataclass(frozen=True)
class Stored:
    invoice_id: str
    kind: str
    created_at: str
    summary: dict[str, Any] = field(default_factory=dict)
    state: str = "delivered"
    subscription_id: str = "req-0123456789abcdef"
    account_id: str = "111122223333"
    period: str = "2026-11"
    awaiting_budget: bool = False
    buyer_status: dict[str, Any] = field(default_factory=dict)


def test_invoices_are_newest_first_with_credit_memos_under_their_invoice() -> None:
    contract = Stored("INV-C-ONCE-1", "contract", "2026-10-01T00:00:00+00:00",
                      {"due": "15000.00", "currency": "USD"})  # fmt: skip
    usage = Stored("INV-U-202611-2", "usage", "2026-12-01T02:00:00+00:00",
                   {"due": "80.00", "currency": "USD"},
                   buyer_status={"current": {"status": "paid"}})  # fmt: skip
    memo = Stored("CM-U-202611-2-1", "credit", "2026-12-02T00:00:00+00:00",
                  {"due": "10.00", "currency": "USD", "original_invoice_id": usage.invoice_id,
                   "reason": "Outage"})  # fmt: skip
    orphan = Stored("CM-X-1", "credit", "2026-12-03T00:00:00+00:00",
                    {"original_invoice_id": "INV-GONE"})  # fmt: skip

    listed = subscription_invoices([contract, memo, usage, orphan])

    assert [i.invoice_id for i in listed] == ["CM-X-1", usage.invoice_id, contract.invoice_id]
    assert [m.invoice_id for m in listed[1].credit_memos] == [memo.invoice_id]
    assert listed[1].due == Decimal("80.00") and listed[1].buyer_status == "Paid"
    assert listed[1].period_label == "November 2026"
    assert listed[1].state_label == "Delivered to your procurement system"
    assert listed[1].credit_memos[0].reason == "Outage"


DOCUMENT = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.071/InvoiceDetail.dtd">
<cXML payloadID="1@x" timestamp="2026-12-01T02:00:00+00:00" xml:lang="en-US"><Header>
<From><Credential domain="NetworkID"><Identity>us</Identity></Credential></From>
<To><Credential domain="DUNS"><Identity>acme</Identity></Credential></To>
<Sender><Credential domain="NetworkID"><Identity>us</Identity>SECRET</Credential>
<UserAgent>x</UserAgent></Sender></Header><Request><InvoiceDetailRequest>
<InvoiceDetailRequestHeader invoiceID="INV-1" invoiceDate="2026-12-01" purpose="standard"
 operation="new"><InvoiceDetailHeaderIndicator/><InvoiceDetailLineIndicator/>
<InvoicePartner><Contact role="remitTo" addressID="R-9"><Name xml:lang="en">Marketplace Ltd</Name>
<PostalAddress><Street>1 Main St</Street><City>Dublin</City><Country isoCountryCode="IE">Ireland
</Country></PostalAddress></Contact><IdReference identifier="IE123" domain="vatID"/>
</InvoicePartner><PaymentTerm payInNumberOfDays="30"/></InvoiceDetailRequestHeader>
</InvoiceDetailRequest></Request></cXML>"""


def test_a_document_without_credentials_downloads_byte_for_byte() -> None:
    clean = DOCUMENT.replace(b"SECRET", b"")
    assert downloadable(clean) == clean


def test_every_credential_is_removed_from_a_download() -> None:
    stored = DOCUMENT.replace(b"SECRET", b"<SharedSecret>hunter2-long-secret</SharedSecret>")
    answer = downloadable(stored)
    assert b"hunter2" not in answer and b"SharedSecret" not in answer
    assert answer.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE cXML SYSTEM')
    identity = parse_invoice_document(answer).find("Header/Sender/Credential/Identity")
    assert identity is not None and identity.text == "us"


def test_the_readable_invoice_takes_parties_and_terms_from_the_document_money_from_the_summary(
) -> None:  # fmt: skip
    stored = Stored("INV-1", "usage", "2026-12-01T02:00:00+00:00", {
        "invoice_date": "2026-12-01T02:00:00+00:00", "order_id": "PO-7", "currency": "EUR",
        "lines": [{"invoice_line_number": 1, "po_line_number": 2, "description": "Hours",
                   "supplier_part_id": "p/a", "quantity": "1000", "unit_of_measure": "HUR",
                   "unit_price": "0.08", "amount": "80.00"}],
        "subtotal": "80.00", "tax": "16.00", "net": "96.00", "due": "96.00",
        "tax_detail": {"category": "vat", "percentage_rate": "20", "location": "IE"},
    })  # fmt: skip
    root = parse_invoice_document(DOCUMENT.replace(b"SECRET", b""))

    invoice = readable_invoice(stored, root)

    (party,) = invoice.parties
    assert party.label == "Remit to (pay)" and party.name == "Marketplace Ltd"
    assert party.address_lines == ("1 Main St", "Dublin", "Ireland")
    assert party.references == (("VAT number", "IE123"),) and party.address_id == "R-9"
    assert invoice.payment_terms == ("Pay within 30 days",)
    assert invoice.tax_label == "VAT (20%)" and invoice.tax_note == "Tax location: IE"
    (line,) = invoice.lines
    assert (line.quantity, line.unit_price, line.amount) == (
        Decimal("1000"), Decimal("0.08"), Decimal("80.00"))  # fmt: skip
    assert (invoice.subtotal, invoice.tax, invoice.due) == (
        Decimal("80.00"), Decimal("16.00"), Decimal("96.00"))  # fmt: skip
    assert invoice.order_id == "PO-7" and invoice.title == "Invoice"
