"""The whole invoicing flow, locally, as a buyer, a seller and the marketplace admin live it:
punchout → Request approval → the PO → usage metered by the seller → the monthly billing run
(admin API) → invoices in S3 → delivered to the buyer's Coupa (the fake Coupa on 127.0.0.1,
checking credentials and InvoiceDetail.dtd). Every part is the real handler; the AWS parts are
moto, driven by the local stand-ins for Lambda's triggers (local/outbox.py, local/queues.py)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

from functions.config import settings
from tests.billing_support import (
    TRIAL_SELLER,
    invoicing_stack,
    meter_hours,
    stored_document,
)
from tests.billing_support import CoupaStack as Stack
from tests.order_support import po_from, post_order, request_approval
from tests.storefront_support import (
    cart_of,
    create_integration,
    post_form,
    punch_out,
)
from tests.support import (
    admin,
    dtd_errors,
)


@pytest.fixture
def stack(api: Any, tables: dict[str, Any], clock: Any) -> Iterator[Stack]:
    with invoicing_stack(api, tables, clock) as local:
        yield local


def _subscribe(
    stack: Stack,
    integration: dict[str, Any],
    product: str = "datastream-pro",
    offer: str = "annual",
    order_id: str = "PO-1001",
) -> None:
    """The buyer punches out, asks for approval; Coupa approves and posts the PO."""
    form = {"product_id": product, "offer_id": offer}
    if product == "datastream-pro":
        form["estimate.hours"] = "1000"
    cart = request_approval(stack.api, integration, form)
    answer = post_order(stack.api, po_from(integration, cart.lines, order_id=order_id))
    assert answer.code == 200, answer.message


def test_from_punchout_to_invoices_delivered_to_coupa(stack: Stack) -> None:
    coupa = stack.integration()
    integration_id = coupa["id"]

    # Given an approved PO: the contract invoice goes out at once, out of the monthly cycle
    _subscribe(stack, coupa)
    stack.run_triggers()
    (contract,) = stack.invoices(integration_id)
    assert contract["kind"] == "contract" and contract["state"] == "delivered"
    assert contract["totals"]["due"] == "15000.00" and contract["order_id"] == "PO-1001"

    # And the seller meters 1,200 hours against a budget of 1,000
    assert meter_hours(stack, [400, 500, 300]) == ["Success"] * 3

    # When the admin starts November's run early in December
    stack.clock.freeze(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    stack.billing_run("2026-11")

    # Then the usage invoice is stored, DTD-valid, and delivered to Coupa, which checked the
    # credentials and the DTD itself
    usage = next(i for i in stack.invoices(integration_id) if i["kind"] == "usage")
    assert usage["period"] == "2026-11" and usage["state"] == "delivered"
    # capped at the 1,000 hours the PO approved: the other 200 are held awaiting budget
    assert usage["totals"] == {"subtotal": "80.00", "tax": "0.00", "net": "80.00", "due": "80.00"}
    assert usage["awaiting_budget"] is True
    assert usage["budget"]["awaiting_budget"] == {"hours": "200"}
    assert usage["location"] == (
        f"s3://local-invoices/invoices/{integration_id}/2026-11/{usage['invoice_id']}.xml"
    )
    stored = stored_document(usage)
    assert dtd_errors(stored, "InvoiceDetail.dtd") == []
    assert b"SharedSecret" not in stored, "the secret is added when sending, never stored"
    assert stack.coupa.received() == [contract["invoice_id"], usage["invoice_id"]]
    posted = etree.fromstring(stack.coupa.invoices[usage["invoice_id"]])
    assert posted.get("payloadID") == etree.fromstring(stored).get("payloadID")
    reference = posted.find(".//InvoiceDetailOrderInfo/OrderReference")
    assert reference.get("orderID") == "PO-1001"
    assert posted.find(".//InvoiceDetailItemReference").get("lineNumber") == "2", "usage line"
    status, detail = admin(stack.api, "GET", f"/admin/invoices/{usage['invoice_id']}")
    assert status == 200 and detail["invoice"]["delivery"]["last_code"] == 200
    assert [line["quantity"] for line in detail["invoice"]["summary"]["lines"]] == ["1000"]

    # When the run is started again, nothing new is issued or sent
    posts = len(stack.coupa.log)
    stack.billing_run("2026-11")
    again = stack.invoices(integration_id)
    assert sorted((i["invoice_id"], i["state"]) for i in again) == sorted(
        (i["invoice_id"], "delivered") for i in (contract, usage)
    )
    assert len(stack.coupa.log) == posts
    assert stack.coupa.received() == [contract["invoice_id"], usage["invoice_id"]]


def test_delivery_fails_while_coupa_is_down_then_recovers(stack: Stack) -> None:
    coupa = stack.integration()
    _subscribe(stack, coupa)
    stack.run_triggers()
    stack.clock.freeze(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
    assert meter_hours(stack, [100]) == ["Success"]
    stack.clock.freeze(datetime(2027, 1, 1, 3, 0, tzinfo=UTC))

    # Given Coupa answering 500 to everything during December's run
    stack.coupa.fail_next(100)
    stack.billing_run("2026-12")

    # Then the invoice is marked failed after the queue's five attempts, and no message is left
    (december,) = stack.invoices(coupa["id"], "&period=2026-12")
    assert december["state"] == "failed"
    assert (december["delivery"]["attempts"], december["delivery"]["last_code"]) == (5, 500)
    assert stack.queues.waiting() == 0

    # When Coupa is back and the admin asks for the invoice again, it is delivered
    stack.coupa.fail_next(0)
    status, body = admin(stack.api, "POST", f"/admin/invoices/{december['invoice_id']}/deliver")
    assert status == 202 and body["invoice"]["state"] == "created"
    stack.run_triggers()

    (december,) = stack.invoices(coupa["id"], "&period=2026-12")
    assert december["state"] == "delivered" and december["delivery"]["attempts"] == 6
    assert december["invoice_id"] in stack.coupa.received()


def test_free_trials_and_test_mode_produce_no_invoice(stack: Stack) -> None:
    # Given a free trial subscription, and a subscription made through a test-mode integration
    coupa = stack.integration()
    _subscribe(stack, coupa, "sentinel-siem-trial", "trial")
    testing = stack.integration(
        name="Acme (test)", buyer_identity={"domain": "DUNS", "identity": "acme-test"},
        account_id="999988887777", test_mode=True,
    )  # fmt: skip
    _subscribe(stack, testing, order_id="PO-TEST-1")
    stack.run_triggers()
    # (a trial has no usage line to meter against; a test subscription takes usage, so the
    # seller can try its metering)
    assert meter_hours(stack, [10], "sentinel-siem-trial", TRIAL_SELLER) == [
        "CustomerNotSubscribed"
    ]
    assert meter_hours(stack, [10], customer="999988887777") == ["Success"]

    # When November is invoiced
    stack.clock.freeze(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    stack.billing_run("2026-11")

    # Then neither produced an invoice, and Coupa received nothing
    assert stack.invoices(coupa["id"]) == []
    assert stack.invoices(testing["id"]) == []
    assert stack.coupa.log == []
    listed = stack.tables["s3"].list_objects_v2(Bucket=settings().invoice_bucket)
    assert listed.get("KeyCount", 0) == 0


def _readable(value: Any) -> Iterator[str]:
    """Every string in a stored value, as someone with read access could decode it: DynamoDB
    attribute values, JSON inside strings, and zlib+base64 (the inline original PO)."""
    import base64
    import re
    import zlib

    if isinstance(value, dict):
        for inner in value.values():
            yield from _readable(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _readable(inner)
    elif isinstance(value, bytes | bytearray):
        yield bytes(value).decode("latin-1")
        with contextlib.suppress(zlib.error):
            yield zlib.decompress(bytes(value)).decode("latin-1")
    elif isinstance(value, str):
        yield value
        if value[:1] in "[{":
            with contextlib.suppress(ValueError):
                yield from _readable(json.loads(value))
        if len(value) >= 24 and re.fullmatch(r"[A-Za-z0-9+/=\s]+", value):
            with contextlib.suppress(ValueError, zlib.error):
                yield zlib.decompress(base64.b64decode(value)).decode("latin-1")


def _everything_stored(tables: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) for every item of every table and every version of every S3 object."""
    dynamodb, s3 = tables["dynamodb"], tables["s3"]
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                for text in _readable(item):
                    yield f"{table}/{item.get('pk')}", text
    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        for version in s3.list_object_versions(Bucket=name).get("Versions", []):
            body = s3.get_object(Bucket=name, Key=version["Key"], VersionId=version["VersionId"])
            for text in _readable(body["Body"].read()):
                yield f"s3://{name}/{version['Key']}", text


def test_no_credential_is_stored_anywhere_after_the_whole_flow(stack: Stack) -> None:
    """Punchouts (Coupa and Ariba), carts, POs (one large enough for S3), usage, the billing
    run and delivered invoices; then every table item and S3 object is searched for the
    integration's shared secret, its invoice endpoint's (Coupa's) shared secret, the
    marketplace's Ariba secret and the session tokens."""
    from tests.order_support import ariba_po, with_distributions
    from tests.support import ARIBA_SECRET, ariba_integration

    coupa = stack.integration()
    info = coupa["purchase_information"]
    tokens = []
    for order_id, large in (("PO-SMALL", False), ("PO-LARGE", True)):
        session = punch_out(stack.api, coupa)
        tokens.append(session.removeprefix("/s/"))
        form = {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "1000"}
        cart = cart_of(post_form(stack.api, f"{session}/requests", form))
        document = po_from(coupa, cart.lines, order_id=order_id)
        answer = post_order(stack.api, with_distributions(document) if large else document)
        assert answer.code == 200, answer.message
    ariba = create_integration(stack.api, ariba_integration(test_mode=False))
    session = punch_out(stack.api, ariba, secret=ARIBA_SECRET,
                        form_post="https://s1.ariba.com/punchout")  # fmt: skip
    tokens.append(session.removeprefix("/s/"))
    cart = cart_of(post_form(stack.api, f"{session}/requests",
                             {"product_id": "sentinel-siem-trial", "offer_id": "trial"}))  # fmt: skip
    answer = post_order(stack.api, ariba_po(ariba, cart.lines, order_id="PO-ARIBA"))
    assert answer.code == 200, answer.message
    stack.run_triggers()
    assert meter_hours(stack, [400, 500, 300]) == ["Success"] * 3
    stack.clock.freeze(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    stack.billing_run("2026-11")
    assert {i["state"] for i in stack.invoices(coupa["id"])} == {"delivered"}
    kinds = sorted(i["kind"] for i in stack.invoices(coupa["id"]))
    assert kinds[:2] == ["contract", "contract"] and "usage" in kinds

    secrets = {"integration shared secret": info["shared_secret"], "Ariba secret": ARIBA_SECRET}
    # Coupa's invoice-endpoint secret: kept sealed with KMS, opened only to send
    secrets["invoice endpoint shared secret"] = stack.coupa.shared_secret
    secrets.update({f"session token {n}": token for n, token in enumerate(tokens)})
    assert all(len(s) >= 16 for s in secrets.values()), secrets
    stored = list(_everything_stored(stack.tables))
    found = [(name, where) for where, text in stored for name, s in secrets.items() if s in text]
    assert found == []
    assert any("<SharedSecret>[removed]</SharedSecret>" in text for _, text in stored)
    assert any(where.startswith("s3://local-invoices/orders/") for where, _ in stored)
