"""Billing run figures: the whole pipeline in-process against moto (start, then the local queue
pump feeding the real billing worker until the billing queue is empty), over N subscriptions
that each used something in the period, so each gets one invoice.

- time per subscription at each size, and the ratio largest / smallest (linear: ≈ 1);
- AWS calls per invoice by service: the writes the budget counts (S3 puts, DynamoDB writes,
  target ≤ 3), the reads and the SQS sends separately (amortized over batches of 100 and 10).
  The pump's own ReceiveMessage / DeleteMessageBatch / GetQueueAttributes are Lambda's event
  source mapping's work, not the function's: shown apart, not counted.

Subscriptions and usage totals are seeded with BatchWriteItem straight into moto (fast), keyed
as docs/INVOICING.md fixes them. moto answers a Query on an index by scanning the whole table,
so its time per page grows with the table (DynamoDB's does not), and moto's SQS counts every
message of a queue on each send: a delivery queue left to fill with 10,000 messages makes each
send take most of a second. So the bench consumes the delivery queue as it goes (as the delivery
function would), checking that each invoice is announced exactly once; the time spent inside
each AWS operation is reported, so a ratio moto inflates can be told from one our code does."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.counting import ApiCall, ApiCallCounter
from bench.stack import BenchStack
from tests.billing_support import seed, subscription
from tests.support import admin, coupa_integration

EVENT_SOURCE_MAPPING = {"ReceiveMessage", "DeleteMessageBatch", "GetQueueAttributes"}
WRITES = {("s3", "PutObject"), ("dynamodb", "PutItem"), ("dynamodb", "UpdateItem"),
          ("dynamodb", "TransactWriteItems"), ("dynamodb", "BatchWriteItem")}  # fmt: skip
READS = {("dynamodb", "Query"), ("dynamodb", "BatchGetItem"), ("dynamodb", "GetItem"),
         ("s3", "GetObject")}  # fmt: skip
PERIODS = ("2026-07", "2026-08", "2026-09", "2026-10")
WARMUP_PERIOD, WARMUP_SIZE = "2026-06", 20
"""A first, unreported run: imports, clients and connections, so the first size measured does
not carry the cold start (its warm-up subscriptions have no usage in the measured periods)."""


@dataclass(frozen=True)
class BillingRun:
    size: int
    invoices: int
    seconds: float
    seed_seconds: float
    calls: list[ApiCall]

    @property
    def ms_per_subscription(self) -> float:
        return self.seconds * 1000 / self.size

    def worker_calls(self) -> list[ApiCall]:
        return [c for c in self.calls if c.operation not in EVENT_SOURCE_MAPPING]

    def per_invoice(self, kinds: set[tuple[str, str]] | None = None, service: str = "") -> float:
        chosen = [
            c
            for c in self.worker_calls()
            if (kinds is None or (c.service, c.operation) in kinds)
            and (not service or c.service == service)
        ]
        return len(chosen) / max(self.invoices, 1)

    def by_operation(self) -> Counter[str]:
        return Counter(call.name for call in self.calls)

    def seconds_by_operation(self) -> dict[str, float]:
        spent: dict[str, float] = {}
        for call in self.calls:
            spent[call.name] = spent.get(call.name, 0.0) + call.seconds
        return spent

    @property
    def seconds_outside_aws(self) -> float:
        return self.seconds - sum(call.seconds for call in self.calls)


def _integration(stack: BenchStack) -> str:
    status, created = admin(stack.api, "POST", "/admin/integrations", coupa_integration(
        name="Billing bench", buyer_identity={"domain": "DUNS", "identity": "billing-bench"},
        test_mode=False,
    ))  # fmt: skip
    if status != 201:
        raise RuntimeError(f"creating the billing integration failed: HTTP {status}: {created}")
    return str(created["integration"]["id"])


def _count_invoices(stack: BenchStack, period: str) -> int:
    """Invoice records of the period (a bench-side check, outside the counted run)."""
    client, count, start = stack.dynamodb, 0, None
    while True:
        request: dict[str, Any] = {
            "TableName": os.environ["INVOICES_TABLE"],
            "FilterExpression": "#p = :p",
            "ExpressionAttributeNames": {"#p": "period"},
            "ExpressionAttributeValues": {":p": {"S": period}},
            "Select": "COUNT",
        }
        if start:
            request["ExclusiveStartKey"] = start
        answer = client.scan(**request)
        count += int(answer["Count"])
        start = answer.get("LastEvaluatedKey")
        if not start:
            return count


def _consume_deliveries(sqs: Any, url: str, announced: Counter[str]) -> None:
    """Take every waiting delivery message off the queue, counting its invoice."""
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages")
        if not messages:
            return
        for message in messages:
            announced[json.loads(message["Body"])["invoice_id"]] += 1
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)
        ])  # fmt: skip


def _run_until_idle(pump: Any, sqs: Any, announced: Counter[str]) -> None:
    delivery_url = os.environ["DELIVERY_QUEUE_URL"]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        received = pump.pump_once().received
        _consume_deliveries(sqs, delivery_url, announced)
        if not received and not pump.waiting():
            return
    raise TimeoutError("the billing queue did not empty within 600 s")


def measure_billing(stack: BenchStack, sizes: tuple[int, ...]) -> list[BillingRun]:
    """One run per size, each over that many subscriptions (the smaller sets seeded first, so
    later runs walk an index holding the earlier subscriptions too: all have usage)."""
    import boto3

    from functions.store.billing_ports import start_billing_run
    from local.queues import QueuePump

    integration_id = _integration(stack)
    sqs = boto3.client("sqs", region_name=os.environ["AWS_REGION"])
    # One billing message per invocation (as deployed), the delivery queue emptied after each:
    # moto's SQS time grows with the queue's length (module docstring).
    pump = QueuePump(os.environ["BILLING_QUEUE_URL"], sqs=sqs)
    warmup = [subscription(f"req-warmup-{n:03d}", integration_id) for n in range(WARMUP_SIZE)]
    seed(stack.dynamodb, warmup, {s.id: {WARMUP_PERIOD: {"hours": 1}} for s in warmup})
    start_billing_run(WARMUP_PERIOD)
    _run_until_idle(pump, sqs, Counter())
    seeded = 0
    runs = []
    for size, period in zip(sorted(sizes), PERIODS, strict=False):
        started = time.perf_counter()
        fresh = [subscription(f"req-bench-{n:07d}", integration_id) for n in range(seeded, size)]
        seed(stack.dynamodb, fresh, {})
        usage = {f"req-bench-{n:07d}": {period: {"hours": 1 + n % 500}} for n in range(size)}
        seed(stack.dynamodb, [], usage)
        seeded = size
        seed_seconds = time.perf_counter() - started
        announced: Counter[str] = Counter()
        with ApiCallCounter() as counter:
            started = time.perf_counter()
            sent = start_billing_run(period)
            _run_until_idle(pump, sqs, announced)
            seconds = time.perf_counter() - started
            calls = counter.take()
        if sent != 16:
            raise RuntimeError(f"the run for {period} started with {sent} messages, not 16")
        invoices = _count_invoices(stack, period)
        if invoices != size:
            raise RuntimeError(f"{size} subscriptions with usage gave {invoices} invoices")
        if len(announced) != invoices or set(announced.values()) != {1}:
            raise RuntimeError(f"{invoices} invoices, {sum(announced.values())} announcements")
        runs.append(BillingRun(size, invoices, seconds, seed_seconds, calls))
    return runs
