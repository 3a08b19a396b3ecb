"""The PO's BillTo as the parser keeps it for invoices: every value bounded, a country code
kept only when it is one (it is written back into an NMTOKEN attribute)."""

from __future__ import annotations

from functions.cxml.parse import (
    ADDRESS_LINES,
    ADDRESS_TEXT,
    parse_order_request,
    parse_request,
)
from functions.parties import address_of


def _order(bill_to: str) -> bytes:
    return f"""<?xml version="1.0"?>
<cXML payloadID="1@x" timestamp="2026-11-26T12:00:00+00:00"><Header>
<From><Credential domain="DUNS"><Identity>acme</Identity></Credential></From>
<To><Credential domain="NetworkID"><Identity>us</Identity></Credential></To>
<Sender><Credential domain="DUNS"><Identity>acme</Identity></Credential>
<UserAgent>t</UserAgent></Sender></Header>
<Request><OrderRequest><OrderRequestHeader orderID="PO-1" orderDate="2026-11-26">
<Total><Money currency="USD">1.00</Money></Total>{bill_to}</OrderRequestHeader>
<ItemOut quantity="1" lineNumber="1"><ItemID><SupplierPartID>p/o</SupplierPartID>
<SupplierPartAuxiliaryID>req-1-1</SupplierPartAuxiliaryID></ItemID></ItemOut>
</OrderRequest></Request></cXML>""".encode()


def test_a_hostile_bill_to_is_kept_bounded() -> None:
    # Given a BillTo with a huge name, 40 street lines and a country code that is none
    streets = "".join(f"<Street>{n} {'x' * 500}</Street>" for n in range(40))
    document = _order(
        f'<BillTo><Address addressID="{"A" * 900}" isoCountryCode="U S">'
        f'<Name xml:lang="en">{"N" * 10_000}</Name><PostalAddress>{streets}'
        f'<City>Springfield</City><Country isoCountryCode="&lt;US&gt;">US</Country>'
        "</PostalAddress></Address></BillTo>"
    )

    # When the PO is parsed and its BillTo read as an invoice's bill-to party
    bill_to = address_of(parse_order_request(parse_request(document)).bill_to)

    # Then every value is within bounds, and the bogus country codes are dropped
    assert bill_to is not None
    assert len(bill_to.name) == len(bill_to.address_id) == ADDRESS_TEXT
    assert len(bill_to.street) == ADDRESS_LINES
    assert all(len(line) <= ADDRESS_TEXT for line in bill_to.street)
    assert bill_to.country == "" and not bill_to.postal, "no PostalAddress without a country"


def test_a_regular_bill_to_is_kept_as_the_po_wrote_it() -> None:
    document = _order(
        '<BillTo><Address addressID="1042"><Name xml:lang="en">Acme AP</Name><PostalAddress>'
        "<DeliverTo>Payables</DeliverTo><Street>500 Acme Way</Street><City>San Mateo</City>"
        '<State>CA</State><PostalCode>94402</PostalCode><Country isoCountryCode="us">United '
        "States</Country></PostalAddress></Address></BillTo>"
    )

    bill_to = address_of(parse_order_request(parse_request(document)).bill_to)

    assert bill_to is not None and bill_to.postal
    assert (bill_to.name, bill_to.address_id, bill_to.deliver_to, bill_to.street) == (
        "Acme AP", "1042", ("Payables",), ("500 Acme Way",),
    )  # fmt: skip
    assert (bill_to.city, bill_to.state, bill_to.postal_code) == ("San Mateo", "CA", "94402")
    assert (bill_to.country, bill_to.country_name) == ("US", "United States")


def test_a_po_without_bill_to_gives_none() -> None:
    assert address_of(parse_order_request(parse_request(_order(""))).bill_to) is None
