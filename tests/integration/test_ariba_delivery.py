"""Ariba invoices delivered to SAP Business Network, end to end: an Ariba buyer punches out,
asks for approval, Ariba posts the PO through the network; the contract invoice and the monthly
usage invoice go from the billing worker through the delivery worker to the fake Business
Network (local/fake_business_network.py on 127.0.0.1, checking From/To/Sender, the shared
secret and InvoiceDetail.dtd). Every part is the real handler; AWS is moto, driven by the local
stand-ins for Lambda's triggers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lxml import etree

from functions.config import settings
from functions.store import invoice_files
from local.fake_business_network import FakeBusinessNetwork, serve
from tests.billing_support import LocalStack
from tests.order_support import ariba_po, post_order, request_approval
from tests.storefront_support import (
    CONTRACT_PAYG,
    create_integration,
    create_products,
)
from tests.support import (
    ARIBA_SECRET,
    SELLER,
    admin,
    ariba_integration,
    dtd_errors,
    meter,
    seller_token,
)

SUPPLIER_ANID = "AN02000000001-T"
BUYER_ANID = "AN01000000001-T"  # ariba_integration()'s buyer
CUSTOMER = "444455556666"  # ariba_integration()'s account
SUBSCRIBED_AT = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)


@dataclass
class Stack(LocalStack):
    network: FakeBusinessNetwork


def _network_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()


@pytest.fixture
def stack(
    api: Any, tables: dict[str, Any], clock: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Stack]:
    clock.freeze(SUBSCRIBED_AT)
    create_products(api, {**CONTRACT_PAYG, "seller_account": SELLER})
    network = FakeBusinessNetwork(SUPPLIER_ANID, ARIBA_SECRET, {BUYER_ANID})
    with serve(network) as url:
        _network_settings(monkeypatch, ARIBA_INVOICE_URL=url, ARIBA_SUPPLIER_ANID=SUPPLIER_ANID)
        try:
            yield Stack.on(api, tables, clock, network=network)
        finally:
            monkeypatch.undo()
            settings.cache_clear()


def _subscribe(stack: Stack) -> dict[str, Any]:
    """An Ariba buyer punches out, asks for approval; Ariba posts the PO via the network."""
    ariba = create_integration(stack.api, ariba_integration(test_mode=False))
    cart = request_approval(
        stack.api, ariba, secret=ARIBA_SECRET, form_post="https://s1.ariba.com/po"
    )
    answer = post_order(stack.api, ariba_po(ariba, cart.lines, order_id="PO-ARIBA-1"))
    assert answer.code == 200, answer.message
    return ariba


def _credential(root: Any, party: str) -> tuple[str, str]:
    credential = root.find(f"Header/{party}/Credential")
    return credential.get("domain"), credential.findtext("Identity")


def test_ariba_invoices_reach_the_business_network(stack: Stack) -> None:
    # Given an approved Ariba PO: its contract invoice goes out at once
    ariba = _subscribe(stack)
    stack.run_triggers()
    (contract,) = stack.invoices(ariba["integration"]["id"])
    assert contract["state"] == "delivered", contract

    # And usage metered in November
    records = [
        {"Timestamp": (SUBSCRIBED_AT + timedelta(hours=2)).isoformat(),
         "CustomerIdentifier": CUSTOMER, "Dimension": "hours", "Quantity": 300}
    ]  # fmt: skip
    stack.clock.freeze(SUBSCRIBED_AT + timedelta(hours=3))
    status, body = meter(
        stack.api,
        {"ProductCode": "datastream-pro", "UsageRecords": records},
        token=seller_token(SELLER),
    )
    assert status == 200 and body["Results"][0]["Status"] == "Success", body

    # When November is invoiced
    stack.clock.freeze(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    stack.billing_run("2026-11")

    # Then both invoices were accepted by the network, which checked the credentials and DTD
    listed = stack.invoices(ariba["integration"]["id"])
    assert {(i["kind"], i["state"]) for i in listed} == {
        ("contract", "delivered"),
        ("usage", "delivered"),
    }
    assert sorted(stack.network.received()) == sorted(i["invoice_id"] for i in listed)
    usage = next(i for i in listed if i["kind"] == "usage")
    posted = etree.fromstring(stack.network.invoices[usage["invoice_id"]])
    assert _credential(posted, "From") == ("NetworkID", SUPPLIER_ANID)
    assert _credential(posted, "To") == ("NetworkID", BUYER_ANID)
    assert _credential(posted, "Sender") == ("NetworkID", SUPPLIER_ANID)
    assert dtd_errors(etree.tostring(posted), "InvoiceDetail.dtd") == []
    assert posted.find(".//OrderReference").get("orderID") == "PO-ARIBA-1"
    # And the archived copy carries no secret
    key = usage["location"].removeprefix(f"s3://{settings().invoice_bucket}/")
    assert ARIBA_SECRET.encode() not in invoice_files.read(key)


def test_a_wrong_secret_is_rejected_with_the_networks_reason(stack: Stack) -> None:
    # Given the network holding another shared secret than the marketplace's
    stack.network.shared_secret = "rotated-on-the-network-only"

    # When an Ariba PO's contract invoice is delivered
    ariba = _subscribe(stack)
    stack.run_triggers()

    # Then it is rejected, once, and the admin API shows why
    (invoice,) = stack.invoices(ariba["integration"]["id"])
    assert invoice["state"] == "rejected"
    status, detail = admin(stack.api, "GET", f"/admin/invoices/{invoice['invoice_id']}")
    assert status == 200
    delivery = detail["invoice"]["delivery"]
    assert delivery["last_code"] == 401 and delivery["attempts"] == 1
    assert "Invalid or unrecognized sender credentials" in delivery["last_text"]
    assert stack.network.received() == []


def test_a_network_5xx_is_retried_until_it_is_taken(stack: Stack) -> None:
    # Given the network failing the next two posts
    stack.network.fail_next(2)

    # When an Ariba PO's contract invoice is delivered
    ariba = _subscribe(stack)
    stack.run_triggers()

    # Then the third attempt delivered it
    (invoice,) = stack.invoices(ariba["integration"]["id"])
    assert invoice["state"] == "delivered"
    assert invoice["delivery"]["attempts"] == 3
    assert [r.code for r in stack.network.log] == [500, 500, 200]


def test_without_a_supplier_anid_the_invoice_is_stored_with_a_note(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a marketplace whose supplier ANID is not configured
    monkeypatch.delenv("ARIBA_SUPPLIER_ANID")
    settings.cache_clear()

    # When an Ariba PO's contract invoice is handled
    ariba = _subscribe(stack)
    stack.run_triggers()

    # Then nothing was posted; the invoice is kept, saying what to set
    (invoice,) = stack.invoices(ariba["integration"]["id"])
    assert invoice["state"] == "stored"
    assert "ARIBA_SUPPLIER_ANID" in invoice["delivery"]["note"]
    assert stack.network.log == []

    # When the ANID is set and the admin asks for the invoice again, it is delivered
    monkeypatch.setenv("ARIBA_SUPPLIER_ANID", SUPPLIER_ANID)
    settings.cache_clear()
    status, body = admin(stack.api, "POST", f"/admin/invoices/{invoice['invoice_id']}/deliver")
    assert status == 202, body
    stack.run_triggers()
    (invoice,) = stack.invoices(ariba["integration"]["id"])
    assert invoice["state"] == "delivered"
    assert stack.network.received() == [invoice["invoice_id"]]
