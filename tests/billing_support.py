"""Billing helpers: the PO-approved subscription every billing, metering and delivery test
starts from, its invoice document, and subscriptions with their usage totals written straight
into the tables (BatchWriteItem, 25 items a call), keyed as docs/INVOICING.md fixes them, so a
test or the bench can set up thousands without going through punchouts and POs; and the local
stack the end-to-end invoicing tests drive (`LocalStack`, `CoupaStack`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Self

from functions.billing import Invoice, invoice_document
from functions.budgets import Ledger, UsageDecision
from functions.config import settings
from functions.cxml.model import Credential
from functions.integrations import BuyerIdentity, Integration
from functions.store.subscriptions import billing_shard, subscription_record
from functions.subscriptions import LineApproval, Mail, Subscription, SubscriptionLine
from local.fake_coupa import FakeCoupa, Party, serve
from local.outbox import OutboxPump, streams_client
from local.queues import QueuePump
from tests.storefront_support import CONTRACT_PAYG, FREE_TRIAL, create_integration, create_products
from tests.support import ADMIN_TOKEN, SELLER, admin, coupa_integration, meter, seller_token

PERIOD = "2026-11"
RATES = {"hours": {"name": "Broker hours", "unit": "HUR", "unit_price": "0.08"}}
US = Credential("NetworkID", "procurement-gateway")
ACME = Credential("DUNS", "acme-coupa")


def approval(
    line_number: int, quantity: str, *, order_id: str = "PO-7", payload_id: str | None = None
) -> LineApproval:
    """Line `line_number` of PO `order_id` approving `quantity`."""
    return LineApproval(order_id, payload_id or f"{order_id}@coupa.example", line_number,
                        Decimal(quantity), 1, "2026-10-01T00:00:00+00:00")  # fmt: skip


def subscription(
    subscription_id: str = "req-0123456789abcdef",
    integration_id: str = "int_1",
    *,
    order_id: str = "PO-7",
    payload_id: str | None = None,
    **overrides: Any,
) -> Subscription:
    """An active contract + pay-as-you-go subscription both of whose lines a PO approved (the
    contract line 1 of 1, the usage line 1,000 hours at 0.08 USD)."""

    def approved(line_number: int, quantity: str) -> LineApproval:
        return approval(line_number, quantity, order_id=order_id, payload_id=payload_id)

    base = Subscription(
        id=subscription_id,
        account_id="111122223333",
        integration_id=integration_id,
        integration_name="Acme Coupa",
        product_id="datastream-pro",
        offer_id="annual",
        product_name="DataStream Pro",
        offer_name="Annual + usage",
        pricing_model="contract_payg",
        currency="USD",
        lines=(
            SubscriptionLine(f"{subscription_id}-1", "contract", "datastream-pro/annual",
                             Decimal("15000.00"), "USD", "ANN", Decimal(1), approved(1, "1")),
            SubscriptionLine(f"{subscription_id}-2", "usage", "datastream-pro/annual",
                             Decimal("0.08"), "USD", "HUR", Decimal(1000), approved(2, "1000")),
        ),
        state="active",
        rates=RATES,
        created_at="2026-10-01T00:00:00+00:00",
        activated_at="2026-10-01T00:00:00+00:00",
        version=1,
    )  # fmt: skip
    return replace(base, **overrides)


def acme_document(invoice: Invoice) -> bytes:
    """The invoice's cXML from us to Acme's Coupa (with a SharedSecret, as when sent)."""
    return invoice_document(invoice, supplier=US, buyer=ACME, sender=US, sender_secret="s3")


def subscription_item(value: Subscription) -> dict[str, Any]:
    """The item as `functions.store.subscriptions` writes it (billable shard included)."""
    record = subscription_record(value)
    item = record.serialize()
    assert (billing_shard(value) is None) == ("billing_shard" not in item)
    return item


def usage_items(
    subscription_id: str, periods: Mapping[str, Mapping[str, Decimal | int | str]]
) -> list[dict[str, Any]]:
    """The totals items: one per period (`total#<YYYY-MM>`) and the all-time one."""
    all_time: dict[str, Decimal] = {}
    items = []
    for period, quantities in periods.items():
        items.append(_total(subscription_id, f"total#{period}", quantities))
        for dimension, quantity in quantities.items():
            all_time[dimension] = all_time.get(dimension, Decimal(0)) + Decimal(quantity)
    if periods:
        items.append(_total(subscription_id, "total#all", all_time))
    return items


def _total(
    subscription_id: str, sort_key: str, quantities: Mapping[str, Decimal | int | str]
) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": {"S": f"usage#{subscription_id}"}, "sk": {"S": sort_key}}
    for dimension, quantity in quantities.items():
        item[f"q_{dimension}"] = {"N": str(quantity)}
    return item


def batch_write(dynamodb: Any, table: str, items: Iterable[dict[str, Any]]) -> None:
    pending = list(items)
    for start in range(0, len(pending), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in pending[start : start + 25]]}
        while request:
            request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems")


def seed(
    dynamodb: Any,
    subscriptions: Iterable[Subscription],
    usage: Mapping[str, Mapping[str, Mapping[str, Decimal | int | str]]],
) -> None:
    """Write the subscriptions and, per subscription id, its usage per period and dimension."""
    batch_write(dynamodb, os.environ["SUBSCRIPTIONS_TABLE"],
                (subscription_item(s) for s in subscriptions))  # fmt: skip
    batch_write(dynamodb, os.environ["USAGE_TABLE"],
                (item for sid, periods in usage.items() for item in usage_items(sid, periods)))  # fmt: skip


@dataclass
class LocalStack:
    """The real handlers on moto, with the local stand-ins for Lambda's triggers
    (local/outbox.py, local/queues.py), as the end-to-end invoicing tests drive them."""

    api: Any
    tables: dict[str, Any]
    clock: Any
    queues: QueuePump
    outbox: OutboxPump

    @classmethod
    def on(cls, api: Any, tables: dict[str, Any], clock: Any, **parts: Any) -> Self:
        config = settings()
        queues = QueuePump(
            config.billing_queue_url, config.delivery_queue_url, sqs=tables["sqs"],
            visibility_seconds=0,
        )  # fmt: skip
        outbox = OutboxPump(
            config.outbox_table, dynamodb=tables["dynamodb"], streams=streams_client("us-east-1")
        )
        return cls(api, tables, clock, queues, outbox, **parts)

    def run_triggers(self) -> None:
        """What Lambda's triggers would do by now: the outbox stream (mail, contract invoices,
        confirmations), then the billing and delivery queues until they are empty (failures
        retried, each message at most five times)."""
        for _ in range(3):
            self.outbox.pump_once()
        self.queues.drain(timeout=60)

    def invoices(self, integration_id: str, query: str = "") -> list[dict[str, Any]]:
        """The integration's invoices as the admin API lists them."""
        answer = self.api.handle(
            "GET",
            "/admin/invoices",
            query=f"integration_id={integration_id}{query}",
            headers=[("Authorization", f"Bearer {ADMIN_TOKEN}")],
        )
        assert answer.status == 200, answer.text
        return list(json.loads(answer.body)["invoices"])

    def billing_run(self, period: str) -> None:
        """The admin starts the monthly billing run; the triggers carry it through."""
        status, body = admin(self.api, "POST", "/admin/billing-runs", {"period": period})
        assert (status, body) == (202, {"period": period, "shards": 16})
        self.run_triggers()


def outbox_insert(key: str) -> dict[str, Any]:
    """The outbox stream's record of the item `key`'s INSERT, as Lambda would deliver it
    (again) to the billing worker."""
    return {
        "Records": [
            {
                "eventID": "1",
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "Keys": {"pk": {"S": key}},
                    "NewImage": {"pk": {"S": key}, "status": {"S": "created"}},
                    "SequenceNumber": "100",
                    "StreamViewType": "NEW_IMAGE",
                },
            }
        ]
    }


@dataclass
class CoupaStack(LocalStack):
    """The local stack and Acme's Coupa (the fake, on its own port) taking its invoices."""

    coupa: FakeCoupa
    coupa_url: str

    def integration(self, **overrides: Any) -> dict[str, Any]:
        """A live Coupa integration (`coupa_integration()`) delivering to the fake Coupa,
        unless `overrides` say otherwise."""
        return create_integration(
            self.api,
            coupa_integration(**{
                "test_mode": False,
                "invoice_delivery": self.coupa.invoice_delivery(self.coupa_url),
                **overrides,
            }),
        )  # fmt: skip


@contextmanager
def coupa_stack(api: Any, tables: dict[str, Any], clock: Any) -> Iterator[CoupaStack]:
    """A `CoupaStack` whose fake Coupa knows us (From and Sender) and Acme (To)."""
    us = Party(US.domain, US.identity)
    coupa = FakeCoupa(supplier=us, buyer=Party(ACME.domain, ACME.identity), sender=us)
    with serve(coupa) as url:
        yield CoupaStack.on(api, tables, clock, coupa=coupa, coupa_url=url)


TRIAL_SELLER = "412345678901"
CUSTOMER = "111122223333"  # coupa_integration()'s account
SUBSCRIBED_AT = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)


@contextmanager
def invoicing_stack(api: Any, tables: dict[str, Any], clock: Any) -> Iterator[CoupaStack]:
    """The end-to-end invoicing tests' world: the clock at SUBSCRIBED_AT, DataStream Pro
    (contract + pay as you go) and a free trial in the catalog, Acme's fake Coupa."""
    clock.freeze(SUBSCRIBED_AT)
    create_products(
        api,
        {**CONTRACT_PAYG, "seller_account": SELLER},
        {**FREE_TRIAL, "seller_account": TRIAL_SELLER},
    )
    with coupa_stack(api, tables, clock) as local:
        yield local


def meter_hours(
    stack: LocalStack, hours: list[int], product: str = "datastream-pro", seller: str = SELLER,
    customer: str = CUSTOMER,
) -> list[str]:  # fmt: skip
    """The seller reports usage for the hours before now; the per-record statuses."""
    moment = stack.clock.now()
    records = [
        {"Timestamp": (moment - timedelta(hours=n + 1)).isoformat(),
         "CustomerIdentifier": customer, "Dimension": "hours", "Quantity": quantity}
        for n, quantity in enumerate(hours)
    ]  # fmt: skip
    status, body = meter(
        stack.api, {"ProductCode": product, "UsageRecords": records}, token=seller_token(seller)
    )
    assert status == 200, body
    return [result["Status"] for result in body["Results"]]


def stored_document(invoice: dict[str, Any]) -> bytes:
    """The cXML kept in S3 for an invoice as the admin API lists it."""
    from functions.store import invoice_files

    key = invoice["location"].removeprefix(f"s3://{settings().invoice_bucket}/")
    return invoice_files.read(key)


# --- the billing run's ports, in memory (unit tests) ---------------------------------------


def fake_integration(**overrides: Any) -> Integration:
    """Acme's live Coupa integration, as the billing run's in-memory ports hold it."""
    base = Integration(
        id="int_1", name="Acme Coupa", system="coupa", buyer=BuyerIdentity("DUNS", "acme-coupa"),
        account_id="111122223333", account_email="it@acme.example", test_mode=False,
    )  # fmt: skip
    return replace(base, **overrides)


@dataclass
class FakePorts:
    """The stores and queues in memory: what a test wants to see is what was sent."""

    shards: dict[str, list[str]] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    totals: dict[str, tuple[dict[str, Decimal], dict[str, Decimal]]] = field(default_factory=dict)
    integrations_by_id: dict[str, Integration] = field(default_factory=dict)
    invoices: dict[str, tuple[Invoice, bytes, str]] = field(default_factory=dict)
    billing_queue: list[dict[str, Any]] = field(default_factory=list)
    delivery_queue: list[str] = field(default_factory=list)
    failing_subscriptions: set[str] = field(default_factory=set)
    page_reads: list[tuple[str, dict[str, str] | None]] = field(default_factory=list)
    ledger: dict[str, Ledger] = field(default_factory=dict)
    mails: list[Mail] = field(default_factory=list)

    def billable_page(
        self, shard: str, cursor: dict[str, str] | None, limit: int
    ) -> tuple[list[str], dict[str, str] | None]:
        self.page_reads.append((shard, cursor))
        ids = self.shards.get(shard, [])
        start = ids.index(cursor["pk"]) + 1 if cursor else 0
        page = ids[start : start + limit]
        # like DynamoDB: a full page has a LastEvaluatedKey, even when nothing follows
        following = {"pk": page[-1], "created_at": "x"} if len(page) == limit else None
        return page, following

    def usage(
        self, subscription_ids: Sequence[str], period: str
    ) -> dict[str, tuple[dict[str, Decimal], dict[str, Decimal]]]:
        return {sid: self.totals[sid] for sid in subscription_ids if sid in self.totals}

    def read(
        self, subscription_ids: Sequence[str], invoice_ids: Sequence[str]
    ) -> tuple[dict[str, Subscription], dict[str, str]]:
        found = {s: self.subscriptions[s] for s in subscription_ids if s in self.subscriptions}
        states = {i: self.invoices[i][2] for i in invoice_ids if i in self.invoices}
        return found, states

    def integrations(self, integration_ids: Sequence[str]) -> dict[str, Integration]:
        return {
            i: self.integrations_by_id[i] for i in integration_ids if i in self.integrations_by_id
        }

    def create(self, invoice: Invoice, document: bytes, summary: Mapping[str, Any]) -> bool:
        if invoice.subscription_id in self.failing_subscriptions:
            raise RuntimeError("S3 is throttling")
        if invoice.invoice_id in self.invoices:
            return False
        self.invoices[invoice.invoice_id] = (invoice, document, "created")
        return True

    def ledgers(self, subscription_ids: Sequence[str]) -> dict[str, Ledger]:
        return {s: self.ledger[s] for s in subscription_ids if s in self.ledger}

    def create_usage(
        self, invoice: Invoice, document: bytes, summary: Mapping[str, Any],
        decision: UsageDecision, mail: Mail | None,
    ) -> bool:  # fmt: skip
        created = self.create(invoice, document, summary)
        if created:
            self.hold(decision, mail)
        return created

    def hold(self, decision: UsageDecision, mail: Mail | None) -> None:
        self.ledger[decision.subscription_id] = decision.after
        self.mails.extend([mail] if mail else [])

    def enqueue(self, bodies: Sequence[Mapping[str, Any]]) -> int:
        self.billing_queue.extend(json.loads(json.dumps(body)) for body in bodies)
        return len(bodies)

    def announce(self, invoice_ids: Sequence[str]) -> int:
        self.delivery_queue.extend(invoice_ids)
        return len(invoice_ids)
