"""Tax and parties through the real handlers (moto): the admin sets an integration's tax and
remit-to settings (hostile values refused with a 400 naming the field), a PO with a BillTo
approves a subscription, and the contract invoice the billing worker stores carries the
line and summary tax, the remit-to code, the marketplace's legal entity and the PO's BillTo."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lxml import etree

from functions.config import settings
from functions.store import invoice_files
from local.outbox import OutboxPump, streams_client
from tests.order_support import subscribe
from tests.storefront_support import CONTRACT_PAYG, create_integration, create_products
from tests.support import (
    ADMIN_TOKEN,
    SELLER,
    admin,
    ariba_integration,
    coupa_integration,
    dtd_errors,
)

TAX_SETTINGS = {
    "tax_rate": "0.2", "tax_description": "VAT 20%", "tax_category": "vat",
    "tax_location": "gb", "buyer_tax_id": "US-98-7654321", "remit_to_code": "RT-0042",
}  # fmt: skip


@pytest.mark.parametrize(
    ("setting", "field"),
    [
        ({"tax_category": "food"}, "tax_category"),
        ({"tax_category": None}, "tax_category"),
        ({"tax_location": "England"}, "tax_location"),
        ({"tax_location": "U$"}, "tax_location"),
        ({"tax_location": 44}, "tax_location"),
        ({"tax_exemption": "none"}, "tax_exemption"),
        ({"tax_exemption_reason": "x" * 201}, "tax_exemption_reason"),
        ({"tax_exemption_reason": ["Export"]}, "tax_exemption_reason"),
        ({"buyer_tax_id": "<script>alert(1)</script>"}, "buyer_tax_id"),
        ({"buyer_tax_id": "9" * 51}, "buyer_tax_id"),
        ({"remit_to_code": "RT?{x}"}, "remit_to_code"),
        ({"remit_to_code": {"code": "RT"}}, "remit_to_code"),
        ({"remit_to_code": "R" * 101}, "remit_to_code"),
    ],
)
@pytest.mark.parametrize("system", ["coupa", "ariba"])
def test_hostile_tax_and_party_settings_are_refused_with_a_400_naming_the_field(
    api: Any, tables: dict[str, Any], system: str, setting: dict[str, Any], field: str
) -> None:
    payload = (coupa_integration if system == "coupa" else ariba_integration)(**setting)

    status, body = admin(api, "POST", "/admin/integrations", payload)

    assert status == 400 and body["error"]["field"] == field
    items = tables["dynamodb"].scan(TableName="local-integrations")["Items"]
    assert [i for i in items if "integration_id" in i] == [], "no integration (its account aside)"


def test_tax_and_party_settings_are_typed_shown_and_kept(api: Any) -> None:
    # Given an integration created with no tax settings
    _, created = admin(api, "POST", "/admin/integrations", coupa_integration())
    defaults = {k: created["integration"][k] for k in TAX_SETTINGS}

    # When the admin sets them
    status, patched = admin(api, "PATCH", f"/admin/integrations/{created['id']}", TAX_SETTINGS)

    # Then they are shown normalized, and read back the same
    assert defaults == {
        "tax_rate": "0", "tax_description": "Zero-rated", "tax_category": "sales",
        "tax_location": "", "buyer_tax_id": "", "remit_to_code": "",
    }  # fmt: skip
    assert status == 200
    assert {k: patched["integration"][k] for k in TAX_SETTINGS} == {**TAX_SETTINGS,
                                                                     "tax_location": "GB"}  # fmt: skip
    assert patched["integration"]["tax_exemption"] == "zeroRated"
    _, fetched = admin(api, "GET", f"/admin/integrations/{created['id']}")
    assert fetched["integration"] == patched["integration"]


def test_the_contract_invoice_carries_tax_lines_remit_to_code_entity_and_the_pos_bill_to(
    api: Any, tables: dict[str, Any]
) -> None:
    # Given a Coupa integration charging 20 % VAT, with the remit-to code Coupa assigned us
    create_products(api, {**CONTRACT_PAYG, "seller_account": SELLER})
    integration = create_integration(api, coupa_integration(test_mode=False, **TAX_SETTINGS))
    config = settings()
    outbox = OutboxPump(
        config.outbox_table, dynamodb=tables["dynamodb"], streams=streams_client("us-east-1")
    )

    # When a PO (whose BillTo is Acme Accounts Payable, address AP-1) approves the request
    # and the outbox stream reaches the billing worker
    subscribe(api, integration)
    for _ in range(3):
        outbox.pump_once()

    # Then the stored contract invoice is DTD-valid and taxed per line and in total
    answer = api.handle("GET", "/admin/invoices", query=f"integration_id={integration['id']}",
                        headers=[("Authorization", f"Bearer {ADMIN_TOKEN}")])  # fmt: skip
    (invoice,) = json.loads(answer.body)["invoices"]
    assert invoice["totals"] == {"subtotal": "15000.00", "tax": "3000.00", "net": "18000.00",
                                 "due": "18000.00"}  # fmt: skip
    key = invoice["location"].removeprefix(f"s3://{config.invoice_bucket}/")
    document = invoice_files.read(key)
    assert dtd_errors(document, "InvoiceDetail.dtd") == []
    root = etree.fromstring(document)
    line_detail = root.find(".//InvoiceDetailItem/Tax/TaxDetail")
    assert (line_detail.get("category"), line_detail.get("percentageRate")) == ("vat", "20")
    assert line_detail.findtext("TaxLocation") == "GB"
    assert root.findtext(".//InvoiceDetailSummary/Tax/Money") == "3000.00"

    # And its partners: remitTo with the code, from (the legal entity of the deployment's
    # settings), soldTo with the buyer's tax ID, billTo exactly as the PO wrote it
    partners = {p.find("Contact").get("role"): p for p in root.iter("InvoicePartner")}
    assert list(partners) == ["remitTo", "from", "soldTo", "billTo"]
    remit = partners["remitTo"]
    assert remit.find("Contact").get("addressID") == "RT-0042"
    assert remit.findtext("Contact/Name") == config.supplier_legal_name != ""
    assert ("taxNumber", config.supplier_tax_id) in [
        (r.get("domain"), r.get("identifier")) for r in remit.findall("IdReference")
    ]
    assert partners["soldTo"].find("IdReference").attrib == {
        "identifier": "US-98-7654321", "domain": "vatID",
    }  # fmt: skip
    bill_to = partners["billTo"].find("Contact")
    assert (bill_to.get("addressID"), bill_to.findtext("Name")) == ("AP-1", "Acme Accounts Payable")
    assert bill_to.findtext("PostalAddress/DeliverTo") == "AP"
    assert bill_to.findtext("PostalAddress/Street") == "2 Ledger Rd"
    assert bill_to.findtext("PostalAddress/State") == "IL"
    assert bill_to.findtext("Email") == "ap@acme.example"
