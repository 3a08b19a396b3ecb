"""Tax and parties on the invoice document (issue 13 part 3): per-line and summary `Tax` with
`TaxDetail`, explicit zero-rated/exempt details, `InvoicePartner` remitTo / from / soldTo /
billTo with tax IDs, for Coupa and Ariba integrations; every document DTD-valid."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from functions.billing import Invoice, contract_invoice, usage_invoice
from functions.integrations import BuyerIdentity, Integration
from functions.invoice_terms import with_terms
from functions.parties import LegalEntity, PartyAddress
from functions.subscriptions import Subscription
from tests.billing_support import acme_document, approval, subscription
from tests.support import dtd_errors

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
ENTITY = LegalEntity(
    "Procurement Gateway Ltd",
    "GB123456789",
    PartyAddress(street=("1 Market Street", "Floor 2"), city="London", postal_code="EC1A 1BB",
                 country="GB"),
)  # fmt: skip
BILL_TO = PartyAddress(
    name="Acme Corp Accounts Payable", address_id="1042", street=("500 Acme Way",),
    city="San Mateo", state="CA", postal_code="94402", country="US", country_name="United States",
)  # fmt: skip


def _integration(system: str = "coupa", **settings: Any) -> Integration:
    return Integration(
        id="int_1", name="Acme Coupa" if system == "coupa" else "Globex Ariba",
        system=system,  # type: ignore[arg-type]
        buyer=BuyerIdentity("DUNS", "acme"), account_id="111122223333",
        account_email="it@acme.example", **settings,
    )  # fmt: skip


def _subscription(bill_to: PartyAddress | None = BILL_TO) -> Subscription:
    base = subscription(payload_id="p-7@coupa")
    lines = tuple(
        replace(line, approval=replace(approval(i, str(line.approval.quantity)), bill_to=bill_to))
        for i, line in enumerate(base.lines, start=1)
        if line.approval is not None
    )
    return replace(base, lines=lines)


def _usage(bill_to: PartyAddress | None = BILL_TO) -> Invoice:
    two = {"hours": {"name": "Hours", "unit": "HUR", "unit_price": "0.08"},
           "gb": {"name": "Storage", "unit": "E34", "unit_price": "0.0045"}}  # fmt: skip
    invoice = usage_invoice(
        replace(_subscription(bill_to), rates=two), "2026-11",
        {"hours": Decimal(721), "gb": Decimal(333)}, {"hours": Decimal(721)}, NOW,
    )  # fmt: skip
    assert invoice is not None
    return invoice


def _document(invoice: Invoice) -> etree._Element:
    document = acme_document(invoice)
    assert dtd_errors(document, "InvoiceDetail.dtd") == []
    return etree.fromstring(document)


def _partners(root: etree._Element) -> dict[str, etree._Element]:
    return {p.find("Contact").get("role"): p for p in root.iter("InvoicePartner")}


@pytest.mark.parametrize("system", ["coupa", "ariba"])
def test_a_taxed_invoice_has_a_tax_detail_per_line_and_their_sum_in_the_summary(
    system: str,
) -> None:
    # Given an integration charging 20 % VAT in GB, and usage of two dimensions
    integration = _integration(system, tax_rate="0.2", tax_description="VAT 20%",
                               tax_category="vat", tax_location="GB")  # fmt: skip

    # When the invoice is issued with its terms
    invoice = with_terms(_usage(), integration, ENTITY)
    root = _document(invoice)

    # Then each line carries its own Tax, rounded on its own, and the summary their sum
    items = root.findall(".//InvoiceDetailItem")
    line_tax = [(i.findtext("SubtotalAmount/Money"), i.findtext("Tax/Money")) for i in items]
    assert line_tax == [("1.50", "0.30"), ("57.68", "11.54")]
    detail = items[1].find("Tax/TaxDetail")
    assert detail.attrib == {"purpose": "tax", "category": "vat", "percentageRate": "20"}
    assert detail.findtext("TaxableAmount/Money") == "57.68"
    assert detail.findtext("TaxAmount/Money") == "11.54"
    assert detail.findtext("TaxLocation") == "GB"
    summary = root.find(".//InvoiceDetailSummary")
    assert summary.findtext("Tax/Money") == "11.84"
    assert summary.findtext("Tax/TaxDetail/TaxableAmount/Money") == "59.18"
    assert summary.findtext("NetAmount/Money") == summary.findtext("DueAmount/Money") == "71.02"
    assert root.find(".//InvoiceDetailLineIndicator").get("isTaxInLine") == "yes"
    assert (invoice.tax, invoice.due) == (Decimal("11.84"), Decimal("71.02"))


@pytest.mark.parametrize("system", ["coupa", "ariba"])
@pytest.mark.parametrize("exemption", ["zeroRated", "exempt"])
def test_no_rate_is_written_as_an_explicit_zero_rated_or_exempt_detail_with_its_reason(
    system: str, exemption: str
) -> None:
    integration = _integration(system, tax_exemption=exemption,
                               tax_exemption_reason="Export of services")  # fmt: skip

    invoice = contract_invoice(_subscription(), NOW)
    assert invoice is not None
    root = _document(with_terms(invoice, integration, ENTITY))

    for tax in (root.find(".//InvoiceDetailItem/Tax"), root.find(".//InvoiceDetailSummary/Tax")):
        assert tax.findtext("Money") == "0.00"
        detail = tax.find("TaxDetail")
        assert detail.get("exemptDetail") == exemption and detail.get("percentageRate") == "0"
        assert detail.get("category") == "sales"
        assert detail.findtext("TaxableAmount/Money") == "15000.00"
        assert detail.findtext("Description") == "Export of services"
        assert detail.findtext("TaxLocation") == "US", "no location set: the BillTo's country"


def test_coupa_remit_to_carries_the_remit_to_code_and_the_supplier_tax_number() -> None:
    integration = _integration("coupa", remit_to_code="RT-0042", buyer_tax_id="US-98-7654321",
                               tax_category="vat")  # fmt: skip

    root = _document(with_terms(_usage(), integration, ENTITY))

    partners = _partners(root)
    assert list(partners) == ["remitTo", "from", "soldTo", "billTo"]
    remit = partners["remitTo"]
    assert remit.find("Contact").get("addressID") == "RT-0042"
    assert remit.findtext("Contact/Name") == "Procurement Gateway Ltd"
    assert [s.text for s in remit.findall("Contact/PostalAddress/Street")] == [
        "1 Market Street", "Floor 2",
    ]  # fmt: skip
    assert [(r.get("domain"), r.get("identifier")) for r in remit.findall("IdReference")] == [
        ("taxPrefix", "GB"), ("taxNumber", "GB123456789"), ("vatID", "GB123456789"),
    ]  # fmt: skip
    sold_to = partners["soldTo"]
    assert sold_to.findtext("Contact/Name") == "Acme Corp Accounts Payable"
    assert [(r.get("domain"), r.get("identifier")) for r in sold_to.findall("IdReference")] == [
        ("vatID", "US-98-7654321"),
    ]
    bill_to = partners["billTo"].find("Contact")
    assert bill_to.get("addressID") == "1042", "the PO's address id, as Coupa matches it"
    assert bill_to.findtext("PostalAddress/City") == "San Mateo"
    assert bill_to.find("PostalAddress/Country").attrib == {"isoCountryCode": "US"}
    assert bill_to.findtext("PostalAddress/Country") == "United States"


def test_ariba_partners_use_the_dtd_tax_id_domains_and_no_remit_to_code() -> None:
    integration = _integration("ariba", tax_category="gst", buyer_tax_id="53004085616")

    root = _document(with_terms(_usage(), integration, ENTITY))

    partners = _partners(root)
    remit = partners["remitTo"]
    assert remit.find("Contact").get("addressID") is None
    assert [(r.get("domain"), r.get("identifier")) for r in remit.findall("IdReference")] == [
        ("gstID", "GB123456789"),
    ]
    assert partners["soldTo"].find("IdReference").get("domain") == "gstID"


@pytest.mark.parametrize("system", ["coupa", "ariba"])
def test_without_legal_entity_remit_to_code_or_bill_to_only_the_buyer_is_named(
    system: str,
) -> None:
    # Given no marketplace legal entity configured and a PO without BillTo
    root = _document(with_terms(_usage(bill_to=None), _integration(system), LegalEntity()))

    # Then the document names the buyer (soldTo, by the integration's name) and nothing else
    partners = _partners(root)
    assert list(partners) == ["soldTo"]
    assert partners["soldTo"].findtext("Contact/Name") in ("Acme Coupa", "Globex Ariba")
    assert partners["soldTo"].find("IdReference") is None
    assert root.find(".//TaxLocation") is None, "no location known: none written"


def test_an_incomplete_bill_to_is_named_without_a_postal_address() -> None:
    partial = PartyAddress(name="Acme AP", address_id="7")  # no street, city or country

    root = _document(with_terms(_usage(bill_to=partial), _integration(), ENTITY))

    bill_to = _partners(root)["billTo"].find("Contact")
    assert (bill_to.get("addressID"), bill_to.findtext("Name")) == ("7", "Acme AP")
    assert bill_to.find("PostalAddress") is None


def test_an_invoice_not_given_terms_stays_zero_rated_and_valid() -> None:
    invoice = contract_invoice(_subscription(), NOW)
    assert invoice is not None

    root = _document(invoice)

    assert root.find(".//InvoicePartner") is None
    assert root.find(".//InvoiceDetailSummary/Tax/TaxDetail").get("exemptDetail") == "zeroRated"
