"""Corrections, end to end through the admin API, the PO route and the billing worker, with the
fake Coupa checking credentials and InvoiceDetail.dtd: credit memos, cancellations, and the
refund credit of a contract cancelled mid-term, exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from functions.config import settings
from functions.handlers import billing_worker
from functions.store import invoice_files
from functions.subscriptions import refund_outbox_key
from local.events import LambdaContext
from tests.billing_support import CoupaStack as Stack
from tests.billing_support import invoicing_stack, outbox_insert
from tests.order_support import ariba_po, po_from, post_order, request_approval
from tests.storefront_support import (
    create_integration,
    create_products,
)
from tests.support import SELLER, admin, dtd_errors


@pytest.fixture
def stack(api: Any, tables: dict[str, Any], clock: Any) -> Iterator[Stack]:
    """The invoicing flow's local stack and buyer."""
    with invoicing_stack(api, tables, clock) as local:
        yield local


MONTHLY = {
    "id": "pipeline-12",
    "name": "Pipeline Twelve",
    "seller": "Streamline Data Inc.",
    "short_description": "Managed pipelines.",
    "product_type": "saas",
    "seller_account": SELLER,
    "offers": [
        {
            "id": "year-monthly",
            "name": "12 months",
            "currency": "USD",
            "pricing": {"model": "contract", "price": "1000.00", "period": "month", "term": 12},
        }
    ],
}


PIPELINE_12 = {"product_id": "pipeline-12", "offer_id": "year-monthly"}


def _subscribed(stack: Stack, integration: dict[str, Any], order_id: str = "PO-77") -> Any:
    """Punch out, request the 12-month contract, and Coupa approves it: the cart's lines."""
    cart = request_approval(stack.api, integration, PIPELINE_12)
    assert post_order(stack.api, po_from(integration, cart.lines, order_id=order_id)).code == 200
    stack.run_triggers()
    return cart


def _invoiced_contract(stack: Stack) -> tuple[dict[str, Any], Any, dict[str, Any]]:
    """The 12-month contract approved by PO-77 and its first invoice: the integration, the
    cart and the invoice as the admin API lists it."""
    create_products(stack.api, MONTHLY)
    integration = stack.integration()
    cart = _subscribed(stack, integration)
    (contract,) = stack.invoices(integration["id"])
    return integration, cart, contract


def _delete(stack: Stack, integration: dict[str, Any], cart: Any, order_id: str) -> None:
    document = po_from(integration, cart.lines, order_id=order_id, order_type="delete", version=2)
    assert post_order(stack.api, document).code == 200


def _invoice(stack: Stack, invoice_id: str) -> dict[str, Any]:
    status, body = admin(stack.api, "GET", f"/admin/invoices/{invoice_id}")
    assert status == 200, body
    return dict(body["invoice"])


def _object(location: str) -> bytes:
    return invoice_files.read(location.split("/", 3)[3])


def test_a_po_deleted_mid_term_credits_the_unused_months_once(stack: Stack) -> None:
    # Given a 12-month contract, invoiced upfront (12 x 1,000.00) and delivered to Coupa
    integration, cart, contract = _invoiced_contract(stack)
    assert (contract["state"], contract["totals"]["due"]) == ("delivered", "12000.00")

    # When the company deletes the PO two and a half months in
    stack.clock.advance(timedelta(days=76))
    _delete(stack, integration, cart, "PO-77")
    stack.run_triggers()

    # Then the nine months not yet begun are credited, against the same PO line, delivered
    credits = [i for i in stack.invoices(integration["id"]) if i["kind"] == "credit"]
    assert len(credits) == 1
    (credit,) = credits
    assert credit["original_invoice_id"] == contract["invoice_id"]
    assert credit["state"] == "delivered"
    assert credit["totals"]["due"] == "-9000.00"
    assert "9 unused period(s)" in credit["reason"]
    received = stack.coupa.invoices[credit["invoice_id"]]
    assert dtd_errors(received, "InvoiceDetail.dtd") == []
    root = etree.fromstring(received)
    header = root.find(".//InvoiceDetailRequestHeader")
    assert header.get("purpose") == "creditMemo"
    assert header.find("InvoiceIDInfo").get("invoiceID") == contract["invoice_id"]
    original = etree.fromstring(stack.coupa.invoices[contract["invoice_id"]])
    assert header.find("DocumentReference").get("payloadID") == original.get("payloadID")
    assert root.find(".//InvoiceDetailItemReference").get("lineNumber") == "1"
    assert root.find(".//InvoiceDetailItem").get("quantity") == "9"
    assert [c["invoice_id"] for c in _invoice(stack, contract["invoice_id"])["credit_memos"]] == [
        credit["invoice_id"]
    ]

    # And the outbox record handled again (a retried stream batch) issues nothing more
    key = refund_outbox_key(credit["subscription_id"])
    for _ in range(2):
        answer = billing_worker.handler(outbox_insert(key), LambdaContext("billing_worker"))
        assert answer == {"batchItemFailures": []}
    stack.run_triggers()
    assert len([i for i in stack.invoices(integration["id"]) if i["kind"] == "credit"]) == 1
    assert list(stack.coupa.received()).count(credit["invoice_id"]) == 1


def test_a_po_update_taking_the_contract_away_credits_it_too(stack: Stack) -> None:
    # Given two requests: the first approved by PO-78 and invoiced, the second still in a cart
    create_products(stack.api, MONTHLY)
    integration = stack.integration()
    _subscribed(stack, integration, order_id="PO-78")
    second = request_approval(stack.api, integration, PIPELINE_12)

    # When, a month and a half later, PO-78 version 2 approves only the second request
    stack.clock.advance(timedelta(days=45))
    update = po_from(integration, second.lines, order_id="PO-78", order_type="update", version=2)
    assert post_order(stack.api, update).code == 200
    stack.run_triggers()

    # Then the first is credited its ten months not begun, and the second is invoiced
    invoices = stack.invoices(integration["id"])
    credits = [i for i in invoices if i["kind"] == "credit"]
    contracts = [i for i in invoices if i["kind"] == "contract"]
    assert [c["totals"]["due"] for c in credits] == ["-10000.00"]
    assert len(contracts) == 2 and all(i["state"] == "delivered" for i in invoices)


def test_the_admin_credits_a_delivered_invoice_within_what_it_charged(stack: Stack) -> None:
    # Given a delivered contract invoice of 12,000.00
    *_, contract = _invoiced_contract(stack)
    path = f"/admin/invoices/{contract['invoice_id']}/credit-memos"

    # When the admin credits 250.00 with a key, then sends the same request again
    body = {"amount": "250.00", "reason": "Service credit for the 3 Dec outage", "key": "T-42"}
    first_status, first = admin(stack.api, "POST", path, body)
    again_status, again = admin(stack.api, "POST", path, body)

    # Then one credit memo, the retry answered with it
    assert (first_status, again_status) == (201, 200)
    memo = first["credit_memo"]
    assert again["credit_memo"]["invoice_id"] == memo["invoice_id"]
    assert memo["totals"]["due"] == "-250.00" and memo["summary"]["purpose"] == "creditMemo"
    assert memo["location"].endswith(f"/{memo['period']}/{memo['invoice_id']}.xml")
    stack.run_triggers()
    assert _invoice(stack, memo["invoice_id"])["state"] == "delivered"
    assert memo["invoice_id"] in stack.coupa.received()

    # And a reused key with other content, or more than is left, is refused with the reason
    status, refused = admin(stack.api, "POST", path, {**body, "amount": "300.00"})
    assert status == 409 and refused["error"]["field"] == "key"
    status, refused = admin(stack.api, "POST", path, {"amount": "11750.01", "reason": "x"})
    assert status == 409 and "at most 11750.00" in refused["error"]["message"]
    status, rest = admin(stack.api, "POST", path, {"amount": "11750.00", "reason": "all"})
    assert status == 201 and rest["credit_memo"]["invoice_id"].endswith("-2")
    credited = _invoice(stack, contract["invoice_id"])["credit_memos"]
    assert [c["due"] for c in credited] == ["-250.00", "-11750.00"]

    # And a delivered invoice cannot be cancelled: credit it instead
    status, refused = admin(stack.api, "POST", f"/admin/invoices/{contract['invoice_id']}/cancel")
    assert status == 409 and "Credit it instead" in refused["error"]["message"]


def test_a_rejected_invoice_is_cancelled_and_never_credited(stack: Stack) -> None:
    # Given an integration whose invoice endpoint refuses our credentials (401: rejected)
    create_products(stack.api, MONTHLY)
    delivery = {**stack.coupa.invoice_delivery(stack.coupa_url), "shared_secret": "wrong-secret"}
    integration = stack.integration(invoice_delivery=delivery)
    _subscribed(stack, integration)
    (contract,) = stack.invoices(integration["id"])
    assert contract["state"] == "rejected"
    invoice_id = contract["invoice_id"]

    # When the admin cancels it
    status, body = admin(stack.api, "POST", f"/admin/invoices/{invoice_id}/cancel")

    # Then it is cancelled, nothing is sent, and its operation="delete" document is kept
    assert status == 200 and body["invoice"]["state"] == "cancelled"
    stack.run_triggers()
    assert stack.coupa.received() == []
    cancellation = _object(body["invoice"]["location"].replace(".xml", ".cancel.xml"))
    assert dtd_errors(cancellation, "InvoiceDetail.dtd") == []
    header = etree.fromstring(cancellation).find(".//InvoiceDetailRequestHeader")
    assert (header.get("invoiceID"), header.get("operation")) == (invoice_id, "delete")
    original = etree.fromstring(_object(body["invoice"]["location"]))
    assert header.find("DocumentReference").get("payloadID") == original.get("payloadID")

    # And it is neither cancelled twice, credited, nor delivered again
    status, refused = admin(stack.api, "POST", f"/admin/invoices/{invoice_id}/cancel")
    assert status == 409 and "already cancelled" in refused["error"]["message"]
    status, refused = admin(
        stack.api, "POST", f"/admin/invoices/{invoice_id}/credit-memos",
        {"amount": "1.00", "reason": "x"},
    )  # fmt: skip
    assert status == 409
    status, _ = admin(stack.api, "POST", f"/admin/invoices/{invoice_id}/deliver")
    assert status == 409


def test_an_ariba_invoice_kept_in_s3_is_credited_and_its_credit_cancelled(stack: Stack) -> None:
    from tests.support import ARIBA_SECRET, ariba_integration

    # Given an Ariba integration (no invoice endpoint yet: invoices are stored in S3 only)
    create_products(stack.api, MONTHLY)
    ariba = create_integration(stack.api, ariba_integration(test_mode=False))
    cart = request_approval(stack.api, ariba, PIPELINE_12, secret=ARIBA_SECRET,
                            form_post="https://s1.ariba.com/punchout")  # fmt: skip
    answer = post_order(stack.api, ariba_po(ariba, cart.lines, order_id="PO-AR-1"))
    assert answer.code == 200, answer.message
    stack.run_triggers()
    (contract,) = stack.invoices(ariba["id"])
    assert contract["state"] == "stored"

    # When the admin credits one month, then cancels that credit memo
    path = f"/admin/invoices/{contract['invoice_id']}/credit-memos"
    lines = [{"invoice_line_number": 1, "quantity": "1"}]
    status, body = admin(stack.api, "POST", path, {"lines": lines, "reason": "Late start"})
    assert status == 201, body
    memo = body["credit_memo"]
    stack.run_triggers()

    # Then the credit memo is stored as an invoice is, addressed to the buyer's ANID, DTD-valid
    assert _invoice(stack, memo["invoice_id"])["state"] == "stored"
    document = _object(memo["location"])
    assert dtd_errors(document, "InvoiceDetail.dtd") == []
    root = etree.fromstring(document)
    assert root.findtext("Header/To/Credential/Identity") == "AN01000000001-T"
    assert root.find(".//InvoiceDetailItem").get("quantity") == "1"
    assert root.findtext(".//DueAmount/Money") == "-1000.00"
    status, body = admin(stack.api, "POST", f"/admin/invoices/{memo['invoice_id']}/cancel")
    assert status == 200 and body["invoice"]["state"] == "cancelled"
    cancellation = _object(memo["location"].replace(".xml", ".cancel.xml"))
    assert dtd_errors(cancellation, "InvoiceDetail.dtd") == []
    header = etree.fromstring(cancellation).find(".//InvoiceDetailRequestHeader")
    assert (header.get("purpose"), header.get("operation")) == ("creditMemo", "delete")

    # And a cancelled credit gives nothing back: the whole 12,000.00 can be credited again
    status, body = admin(stack.api, "POST", path, {"amount": "12000.00", "reason": "Refund"})
    assert status == 201 and body["credit_memo"]["invoice_id"].endswith("-2")


def test_bad_correction_requests_get_a_json_4xx_and_change_nothing(stack: Stack) -> None:
    *_, contract = _invoiced_contract(stack)
    path = f"/admin/invoices/{contract['invoice_id']}/credit-memos"

    for payload, expected in [
        ("not json", 400),
        ([1, 2], 400),
        ({"amount": "-1", "reason": "x"}, 400),
        ({"amount": "1", "lines": [], "reason": "x"}, 400),
        ({"lines": [{"invoice_line_number": 9, "quantity": "1"}], "reason": "x"}, 400),
        ({"lines": [{"invoice_line_number": 1, "quantity": "13"}], "reason": "x"}, 409),
    ]:
        raw = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        answer = stack.api.handle(
            "POST", path, body=raw,
            headers=[("Authorization", f"Bearer {_token()}"), ("Content-Type", "application/json")],
        )  # fmt: skip
        assert answer.status == expected, (payload, answer.text)
        assert "error" in json.loads(answer.body)
    status, _ = admin(stack.api, "POST", "/admin/invoices/INV-NOPE/credit-memos",
                      {"amount": "1", "reason": "x"})  # fmt: skip
    assert status == 404
    status, _ = admin(stack.api, "POST", "/admin/invoices/INV-NOPE/cancel")
    assert status == 404
    assert _invoice(stack, contract["invoice_id"])["credit_memos"] == []
    assert Decimal(_invoice(stack, contract["invoice_id"])["totals"]["due"]) == 12000
    assert settings().delivery_queue_url  # nothing else queued: the queues drain empty
    stack.run_triggers()


def _token() -> str:
    from tests.support import ADMIN_TOKEN

    return ADMIN_TOKEN
