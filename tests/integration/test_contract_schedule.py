"""Contracts billed as the offer says (issue 13 part 2), end to end against moto: a contract
offer billed monthly is requested through a punchout, a Coupa PO activates it, the outbox
stream issues instalment 1 and the monthly billing runs (through the real billing worker and
queue) issue one instalment per month, each against the contract PO line; a deleted PO stops
the following ones and re-runs issue nothing twice."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

from functions import store
from functions.config import settings
from functions.store.billing_ports import start_billing_run
from local.outbox import OutboxPump, streams_client
from local.queues import QueuePump
from tests.order_support import coupa_po, only_subscription, post_order
from tests.storefront_support import (
    cart_of,
    create_integration,
    create_products,
    post_form,
    punch_out,
)
from tests.support import coupa_integration, dtd_errors

ACTIVATED = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
MONTHLY = {
    "id": "ops-desk",
    "name": "Ops Desk",
    "seller": "Runbook Ltd",
    "short_description": "Incident desk for operations teams.",
    "product_type": "saas",
    "offers": [
        {
            "id": "monthly",
            "name": "12 months billed monthly",
            "currency": "USD",
            "pricing": {"model": "contract", "price": "1000.00", "period": "month", "term": 12,
                        "schedule": "monthly"},
        }
    ],
}  # fmt: skip


@pytest.fixture
def coupa(api: Any, clock: Any) -> Iterator[dict[str, Any]]:
    clock.freeze(ACTIVATED)
    store.bind(settings())  # as the handlers do
    yield create_integration(api, coupa_integration(test_mode=False))


@pytest.fixture
def pump(tables: dict[str, Any]) -> QueuePump:
    return QueuePump(settings().billing_queue_url, sqs=tables["sqs"])


@pytest.fixture(scope="module")
def streams(aws: dict[str, Any]) -> Any:
    return streams_client("us-east-1")


def _invoices(tables: dict[str, Any]) -> dict[str, dict[str, Any]]:
    items = tables["dynamodb"].scan(TableName=settings().invoices_table)["Items"]
    return {item["invoice_id"]["S"]: item for item in items}


def _document(tables: dict[str, Any], record: dict[str, Any]) -> bytes:
    answer = tables["s3"].get_object(Bucket=settings().invoice_bucket, Key=record["s3_key"]["S"])
    return bytes(answer["Body"].read())


def _announced(tables: dict[str, Any]) -> list[str]:
    found: list[str] = []
    while True:
        answer = tables["sqs"].receive_message(
            QueueUrl=settings().delivery_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300
        )
        messages = answer.get("Messages") or []
        if not messages:
            return found
        found += [json.loads(m["Body"])["invoice_id"] for m in messages]


def _bill(pump: QueuePump, clock: Any, period: str, at: datetime) -> None:
    """The monthly run for `period`, started at `at`, through the billing queue."""
    clock.freeze(at)
    assert start_billing_run(period) == 16
    pump.drain(timeout=30)


def _subscribe(api: Any, coupa: dict[str, Any]) -> list[Any]:
    create_products(api, MONTHLY)
    session = punch_out(api, coupa)
    cart = cart_of(post_form(api, f"{session}/requests",
                             {"product_id": "ops-desk", "offer_id": "monthly"}))  # fmt: skip
    answer = post_order(api, coupa_po(coupa, cart.lines, order_id="PO-7001",
                                      payload_id="po-7001@coupa"))  # fmt: skip
    assert answer.code == 200, answer.message
    return list(cart.lines)


def test_a_monthly_contract_is_invoiced_one_instalment_a_month_until_cancelled(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], pump: QueuePump, streams: Any,
    clock: Any,
) -> None:  # fmt: skip
    # Given a contract offer billed monthly (12 x 1,000.00 USD), requested and approved by a PO
    lines = _subscribe(api, coupa)
    subscription = only_subscription(tables)
    assert subscription["billing_schedule"] == "monthly"
    outbox = OutboxPump(settings().outbox_table, dynamodb=tables["dynamodb"], streams=streams)

    # When the activation reaches the billing worker (twice) and three monthly runs go by, the
    # last one run twice
    outbox.pump_once()
    outbox.pump_once()
    _bill(pump, clock, "2026-11", datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    _bill(pump, clock, "2026-12", datetime(2027, 1, 1, 2, 0, tzinfo=UTC))
    _bill(pump, clock, "2027-01", datetime(2027, 2, 1, 2, 0, tzinfo=UTC))
    _bill(pump, clock, "2027-01", datetime(2027, 2, 1, 3, 0, tzinfo=UTC))

    # Then three instalments, one per month from the activation, each announced once
    records = sorted(_invoices(tables).values(), key=lambda r: r["period"]["S"])
    assert [r["period"]["S"] for r in records] == ["2026-11", "2026-12", "2027-01"]
    assert sorted(_announced(tables)) == sorted(r["invoice_id"]["S"] for r in records)
    for number, record in enumerate(records, start=1):
        summary = json.loads(record["summary"]["S"])
        assert record["kind"]["S"] == "contract"
        assert summary["instalment"] == [number, 12]
        assert (
            summary["invoice_date"]
            == f"{['2026-11', '2026-12', '2027-01'][number - 1]}-26T10:00:00+00:00"
        )
        # each DTD-valid, against the contract PO line: 1 month at the monthly price
        document = _document(tables, record)
        assert dtd_errors(document, "InvoiceDetail.dtd") == []
        root = etree.fromstring(document)
        assert root.find(".//OrderReference").get("orderID") == "PO-7001"
        assert root.find(".//InvoiceDetailItemReference").get("lineNumber") == "1"
        item = root.find(".//InvoiceDetailItem")
        assert item.get("quantity") == "1"
        assert item.findtext("UnitOfMeasure") == "MON"
        assert item.findtext("UnitPrice/Money") == "1000.00"
        assert root.findtext(".//InvoiceDetailSummary/DueAmount/Money") == "1000.00"
        assert f"instalment {number} of 12" in etree.tostring(root, encoding="unicode")

    # When the PO is deleted on 10 February, before the fourth instalment falls due (26th)
    clock.freeze(datetime(2027, 2, 10, 9, 0, tzinfo=UTC))
    deleted = post_order(api, coupa_po(coupa, lines, order_id="PO-7001", order_type="delete",
                                       version=2))  # fmt: skip
    assert deleted.code == 200 and "cancelled" in deleted.message
    _bill(pump, clock, "2027-02", datetime(2027, 3, 1, 2, 0, tzinfo=UTC))
    _bill(pump, clock, "2027-03", datetime(2027, 4, 1, 2, 0, tzinfo=UTC))

    # Then no instalment follows, and nothing more is announced
    assert len(_invoices(tables)) == 3
    assert _announced(tables) == []


def _visible(page_html: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page_html)))


def test_the_offer_and_the_subscription_say_it_is_billed_monthly(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    # Given the monthly offer
    create_products(api, MONTHLY)
    session = punch_out(api, coupa)

    # When the buyer opens the offer, requests it, and the PO arrives
    offer = api.handle("GET", f"{session}/products/ops-desk/subscribe", query="offer=monthly")
    cart = cart_of(post_form(api, f"{session}/requests",
                             {"product_id": "ops-desk", "offer_id": "monthly"}))  # fmt: skip
    assert post_order(api, coupa_po(coupa, cart.lines)).code == 200
    mine = api.handle("GET", f"{punch_out(api, coupa)}/subscriptions")

    # Then the offer page, the cart line and Your subscriptions say so, and none "in full"
    billed = "Billed monthly: 12 instalments of 1,000.00 USD (12,000.00 USD for 12 months in all)"
    assert offer.status == 200 and billed in _visible(offer.text)
    assert "in full" not in _visible(offer.text)
    description = cart.lines[0].findtext("ItemDetail/Description")
    assert "billed monthly: 12 instalments of 1,000.00 USD" in description
    assert mine.status == 200 and billed in _visible(mine.text)
