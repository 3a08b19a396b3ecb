"""The billing run against moto: the real billing worker fed by the local queue pump (the stand-in
for SQS → Lambda) and the outbox pump (the stream → Lambda), documents in S3, records in
DynamoDB, delivery messages in SQS. One invoice per subscription that used something, each
announced once; a re-run issues and announces nothing; the contract is invoiced once when a
real PO activates the subscription."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from functions import billing, store
from functions.billing import CONTRACT, USAGE
from functions.config import settings
from functions.handlers import billing_worker
from functions.metric_names import BILLING_MESSAGE_DURATION, INVOICES
from functions.store import invoices
from functions.store.billing_ports import DynamoBillingPorts, start_billing_run
from functions.store.models import OutboxRecord
from functions.store.subscriptions import billing_shard
from local.events import LambdaContext
from local.outbox import OutboxPump, streams_client
from local.queues import QueuePump
from tests.billing_support import PERIOD, seed, subscription
from tests.conftest import _sent_messages
from tests.log_support import captured_metrics
from tests.order_support import subscribe
from tests.outbox_support import invoke_email_worker, outbox_stream_records
from tests.storefront_support import (
    CONTRACT_PAYG,
    create_integration,
    create_products,
)
from tests.support import coupa_integration, dtd_errors

RUN_AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def coupa(api: Any, clock: Any) -> Iterator[dict[str, Any]]:
    clock.freeze(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    store.bind(settings())  # as the handlers do
    yield create_integration(api, coupa_integration(test_mode=False))


@pytest.fixture
def pump(tables: dict[str, Any]) -> QueuePump:
    """The billing queue only: delivery messages stay in their queue to be counted."""
    return QueuePump(settings().billing_queue_url, sqs=tables["sqs"])


@pytest.fixture(scope="module")
def streams(aws: dict[str, Any]) -> Any:
    return streams_client("us-east-1")


def _integration_id(created: dict[str, Any]) -> str:
    return str(created["integration"]["id"])


def _run(pump: QueuePump, clock: Any, period: str = PERIOD) -> None:
    clock.freeze(RUN_AT)
    assert start_billing_run(period) == 16
    pump.drain(timeout=30)


def _records(tables: dict[str, Any]) -> dict[str, dict[str, Any]]:
    items = tables["dynamodb"].scan(TableName=settings().invoices_table)["Items"]
    return {item["invoice_id"]["S"]: item for item in items}


def _queued(tables: dict[str, Any], url: str) -> int:
    attributes = tables["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    values = attributes["Attributes"]
    return int(values["ApproximateNumberOfMessages"]) + int(
        values["ApproximateNumberOfMessagesNotVisible"]
    )


def _delivery_ids(tables: dict[str, Any]) -> list[str]:
    """Every delivery message's invoice id (received, so hidden for a minute afterwards)."""
    found: list[str] = []
    while True:
        answer = tables["sqs"].receive_message(
            QueueUrl=settings().delivery_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60
        )
        messages = answer.get("Messages") or []
        if not messages:
            return found
        found += [json.loads(m["Body"])["invoice_id"] for m in messages]


def _object(tables: dict[str, Any], key: str) -> bytes:
    return bytes(tables["s3"].get_object(Bucket=settings().invoice_bucket, Key=key)["Body"].read())


def _versions(tables: dict[str, Any]) -> int:
    listing = tables["s3"].list_object_versions(Bucket=settings().invoice_bucket)
    return len(listing.get("Versions", []))


def test_a_period_gives_one_invoice_per_subscription_that_used_something_and_a_rerun_none(
    tables: dict[str, Any], coupa: dict[str, Any], pump: QueuePump, clock: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # Given five subscriptions with usage in November (one since cancelled), and others that
    # owe nothing: no usage, usage in October only, a test one, a free trial
    monkeypatch.setattr(billing_worker, "PAGE_SIZE", 2)
    integration_id = _integration_id(coupa)
    used = [subscription(f"req-used-{n}", integration_id) for n in range(4)]
    used.append(subscription("req-cancelled", integration_id, state="cancelled",
                             cancelled_at="2026-11-20T00:00:00+00:00"))  # fmt: skip
    idle = subscription("req-idle", integration_id)
    october = subscription("req-october", integration_id)
    test = subscription("req-test", integration_id, test=True)
    trial = subscription("req-trial", integration_id, pricing_model="free_trial")
    usage = {
        s.id: {PERIOD: {"hours": 100 + n}, "2026-10": {"hours": 7}} for n, s in enumerate(used)
    }
    usage.update({october.id: {"2026-10": {"hours": 9}}, test.id: {PERIOD: {"hours": 5}},
                  trial.id: {PERIOD: {"hours": 5}}})  # fmt: skip
    seed(tables["dynamodb"], [*used, idle, october, test, trial], usage)

    # When the run for November goes through the queue
    _run(pump, clock)

    # Then each of the five has one usage invoice, stored and announced
    expected = {billing.invoice_id(s.id, USAGE, PERIOD): s for s in used}
    records = _records(tables)
    assert set(records) == set(expected)
    assert sorted(_delivery_ids(tables)) == sorted(expected)
    for invoice_id, owner in expected.items():
        record = records[invoice_id]
        assert (record["state"]["S"], record["kind"]["S"], record["period"]["S"]) == (
            "created", "usage", PERIOD,
        )  # fmt: skip
        key = f"invoices/{integration_id}/{PERIOD}/{invoice_id}.xml"
        assert record["s3_key"]["S"] == key
        document = _object(tables, key)
        assert dtd_errors(document, "InvoiceDetail.dtd") == []
        root = etree.fromstring(document)
        assert root.find("Header/To/Credential/Identity").text == "acme-coupa"
        assert root.find("Header/From/Credential/Identity").text == "procurement-gateway"
        assert root.find(".//OrderReference").get("orderID") == "PO-7"
        assert root.find(".//InvoiceDetailItemReference").get("lineNumber") == "2"
        summary = json.loads(_object(tables, key.removesuffix(".xml") + ".json"))
        assert summary == json.loads(record["summary"]["S"])
        quantity = Decimal(usage[owner.id][PERIOD]["hours"])
        assert summary["lines"][0]["quantity"] == str(quantity)
        assert Decimal(summary["due"]) == (quantity * Decimal("0.08")).quantize(Decimal("0.01"))
        assert summary["used_to_date"] == str(quantity + 7)

    # When the run is started again
    clock.advance(timedelta(hours=1))
    assert start_billing_run(PERIOD) == 16
    pump.drain(timeout=30)

    # Then nothing new: no record, no document version, no delivery message
    assert set(_records(tables)) == set(expected)
    assert _versions(tables) == 2 * len(expected)
    assert _queued(tables, settings().delivery_queue_url) == len(expected)


def test_a_shard_is_walked_page_by_page(
    tables: dict[str, Any], coupa: dict[str, Any], pump: QueuePump, clock: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # Given five subscriptions with usage, all in the same shard, and pages of two
    integration_id = _integration_id(coupa)
    same_shard = []
    for n in range(1000):
        candidate = subscription(f"req-{n:04d}", integration_id)
        if billing_shard(candidate) == "7":
            same_shard.append(candidate)
        if len(same_shard) == 5:
            break
    seed(tables["dynamodb"], same_shard, {s.id: {PERIOD: {"hours": 1}} for s in same_shard})
    monkeypatch.setattr(billing_worker, "PAGE_SIZE", 2)
    reads: list[tuple[str, Any]] = []
    original = DynamoBillingPorts.billable_page

    def recorded(self: DynamoBillingPorts, shard: str, cursor: Any, limit: int) -> Any:
        page = original(self, shard, cursor, limit)
        reads.append((shard, page))
        return page

    monkeypatch.setattr(DynamoBillingPorts, "billable_page", recorded)

    # When the run goes through
    _run(pump, clock)

    # Then shard 7 was read in three pages, each starting where the last ended
    pages = [page for shard, page in reads if shard == "7"]
    assert [len(ids) for ids, _ in pages] == [2, 2, 1]
    assert pages[0][1]["pk"] == pages[0][0][-1] and pages[2][1] is None
    assert [i for ids, _ in pages for i in ids] == sorted(s.id for s in same_shard)
    assert len(_records(tables)) == 5


def test_what_the_delivery_worker_reads_and_writes(
    tables: dict[str, Any], coupa: dict[str, Any], pump: QueuePump, clock: Any
) -> None:
    integration_id = _integration_id(coupa)
    first, second = (subscription(f"req-list-{n}", integration_id) for n in range(2))
    seed(tables["dynamodb"], [first, second], {
        first.id: {"2026-10": {"hours": 3}, PERIOD: {"hours": 4}},
        second.id: {PERIOD: {"hours": 5}},
    })  # fmt: skip
    _run(pump, clock, "2026-10")
    _run(pump, clock, PERIOD)
    november = billing.invoice_id(first.id, USAGE, PERIOD)

    listed = invoices.list_for_integration(integration_id)
    assert [i.period for i in listed] == [PERIOD, PERIOD, "2026-10"]
    assert {i.invoice_id for i in invoices.list_for_integration(integration_id, PERIOD)} == {
        november, billing.invoice_id(second.id, USAGE, PERIOD),
    }  # fmt: skip
    assert [i.period for i in invoices.list_for_subscription(first.id)] == [PERIOD, "2026-10"]
    found = invoices.get(november)
    assert found is not None and found.state == invoices.CREATED
    assert found.summary_key == f"invoices/{integration_id}/{PERIOD}/{november}.json"
    assert b"InvoiceDetailRequest" in invoices.document(found)
    assert invoices.get("INV-U-000000-NOSUCHINVOICE") is None

    delivered = {"attempts": 1, "last_code": 200, "last_text": "OK"}
    assert invoices.mark(november, invoices.DELIVERED, delivered) is True
    assert invoices.mark(november, invoices.FAILED, {"attempts": 2}) is False  # not created
    assert invoices.mark("INV-U-000000-NOSUCHINVOICE", invoices.DELIVERED, {}) is False
    again = invoices.get(november, consistent=True)
    assert again is not None and (again.state, again.delivery) == ("delivered", delivered)
    assert invoices.mark(november, invoices.CREATED, {}, expected=(invoices.DELIVERED,)) is True


def _sound_beside_an_orphan(
    tables: dict[str, Any], coupa: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, QueuePump]:
    """A sound subscription and one whose integration is gone, in the same billing batch; the
    billing queue's pump, failed receives coming straight back."""
    monkeypatch.setattr(billing_worker, "PAGE_SIZE", 100)
    sound = subscription("req-sound", _integration_id(coupa))
    orphan = subscription("req-orphan", "int_gone")
    seed(tables["dynamodb"], [sound, orphan], {
        sound.id: {PERIOD: {"hours": 1}}, orphan.id: {PERIOD: {"hours": 1}},
    })  # fmt: skip
    return sound, QueuePump(settings().billing_queue_url, sqs=tables["sqs"], visibility_seconds=0)


def test_a_batch_that_keeps_failing_ends_in_the_dlq_without_holding_back_the_others(
    tables: dict[str, Any], coupa: dict[str, Any], clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a subscription whose integration is gone, in the same batch as a sound one
    sound, queues = _sound_beside_an_orphan(tables, coupa, monkeypatch)

    # When the run goes through, each failed receive coming straight back
    _run(queues, clock)

    # Then the sound invoice exists once, and the failing messages went to the DLQ
    assert set(_records(tables)) == {billing.invoice_id(sound.id, USAGE, PERIOD)}
    assert set(_delivery_ids(tables)) == {billing.invoice_id(sound.id, USAGE, PERIOD)}
    dlq = tables["sqs"].get_queue_url(QueueName="local-billing-dlq")["QueueUrl"]
    assert _queued(tables, dlq) >= 1


# --- the contract invoice, from a real purchase order ---------------------------------------


def _order(api: Any, integration: dict[str, Any], **kw: Any) -> None:
    create_products(api, CONTRACT_PAYG)
    subscribe(api, integration, **kw)


def _outbox(tables: dict[str, Any]) -> dict[str, dict[str, Any]]:
    items = tables["dynamodb"].scan(TableName=settings().outbox_table)["Items"]
    return {item["pk"]["S"]: item for item in items}


def _subscription_id(tables: dict[str, Any]) -> str:
    (item,) = tables["dynamodb"].scan(TableName=settings().subscriptions_table)["Items"]
    return str(item["pk"]["S"])


def test_a_po_that_activates_a_contract_gets_its_contract_invoice_once(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], pump: QueuePump, streams: Any,
    clock: Any,
) -> None:  # fmt: skip
    # Given an approved PO for a contract + usage offer
    _order(api, coupa, order_id="PO-2042", payload_id="po-2042@coupa")
    subscription_id = _subscription_id(tables)
    contract_key = f"invoice#{subscription_id}#contract"
    assert set(_outbox(tables)) == {
        f"email#{subscription_id}#ready",
        contract_key,
        f"event#{subscription_id}#subscribe-success",  # the seller's, published elsewhere
    }

    # When the outbox stream is pumped (twice: nothing is done twice)
    outbox = OutboxPump(settings().outbox_table, dynamodb=tables["dynamodb"], streams=streams)
    outbox.pump_once()
    outbox.pump_once()

    # Then one contract invoice against the PO's contract line, announced once
    contract_id = billing.invoice_id(subscription_id, CONTRACT, "")
    record = _records(tables)[contract_id]
    assert (record["kind"]["S"], record["period"]["S"]) == ("contract", PERIOD)
    document = _object(tables, record["s3_key"]["S"])
    assert dtd_errors(document, "InvoiceDetail.dtd") == []
    root = etree.fromstring(document)
    assert root.find(".//OrderReference").get("orderID") == "PO-2042"
    assert root.find(".//OrderReference/DocumentReference").get("payloadID") == "po-2042@coupa"
    assert root.find(".//InvoiceDetailItemReference").get("lineNumber") == "1"
    assert root.findtext(".//InvoiceDetailSummary/DueAmount/Money") == "15000.00"
    # and the email worker sent the "ready" mail and left the invoice item alone
    assert len(_sent_messages()) == 1
    assert _outbox(tables)[contract_key]["status"]["S"] == "invoice"

    # When usage is metered in November and November is billed
    seed(tables["dynamodb"], [], {subscription_id: {PERIOD: {"hours": 1500}}})
    _run(pump, clock)

    # Then the usage invoice references the usage line; each invoice was announced once
    usage_id = billing.invoice_id(subscription_id, USAGE, PERIOD)
    usage_record = _records(tables)[usage_id]
    summary = json.loads(usage_record["summary"]["S"])
    assert (summary["order_id"], summary["lines"][0]["po_line_number"]) == ("PO-2042", 2)
    # capped at the 1,000 hours approved; the other 500 held awaiting budget
    assert summary["lines"][0]["quantity"] == "1000" and summary["invoiced_to_date"] == "1000"
    assert summary["awaiting_budget"] == {"hours": "500"}
    assert usage_record["awaiting_budget"]["BOOL"] is True
    assert sorted(_delivery_ids(tables)) == sorted([contract_id, usage_id])


def test_a_test_mode_po_asks_for_no_invoice(
    api: Any, tables: dict[str, Any], streams: Any, clock: Any
) -> None:
    clock.freeze(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    store.bind(settings())
    integration = create_integration(api, coupa_integration())  # test mode

    _order(api, integration)
    OutboxPump(settings().outbox_table, dynamodb=tables["dynamodb"], streams=streams).pump_once()

    assert sorted(key.split("#")[0] for key in _outbox(tables)) == ["email", "event"]
    assert _records(tables) == {}
    assert _queued(tables, settings().delivery_queue_url) == 0


def test_the_email_worker_takes_an_invoice_item_for_no_mail(
    tables: dict[str, Any], streams: Any, clock: Any
) -> None:
    # Given the stream record of a contract-invoice outbox item, as the PO transaction writes it
    from functions.store.orders import invoice_request

    store.bind(settings())
    invoice_request("invoice#req-1#contract", "2026-11-26T10:00:00+00:00",
                    datetime(2026, 12, 26, tzinfo=UTC)).save()  # fmt: skip
    records = outbox_stream_records(tables, streams)

    # When it reaches the email worker (no filter on its event source mapping)
    answer = invoke_email_worker(records)

    # Then no failure, no mail, the item untouched
    assert answer == {"batchItemFailures": []}
    assert _sent_messages() == []
    item = OutboxRecord.get("invoice#req-1#contract", consistent_read=True)
    assert (item.status, item.attempts) == ("invoice", 0)


def test_the_monthly_schedule_starts_the_run_of_the_month_just_ended(
    tables: dict[str, Any], coupa: dict[str, Any], pump: QueuePump, clock: Any
) -> None:
    from functions.handlers import billing_schedule

    sound = subscription("req-scheduled", _integration_id(coupa))
    seed(tables["dynamodb"], [sound], {sound.id: {PERIOD: {"hours": 3}}})
    clock.freeze(RUN_AT)

    answer = billing_schedule.handler({"source": "aws.events"}, LambdaContext("billing_schedule"))
    pump.drain(timeout=30)

    assert answer == {"period": PERIOD, "messages": 16}
    assert set(_records(tables)) == {billing.invoice_id(sound.id, USAGE, PERIOD)}


def test_a_message_that_is_not_ours_fails_alone(
    tables: dict[str, Any], coupa: dict[str, Any], clock: Any
) -> None:
    from local.queues import sqs_record

    clock.freeze(RUN_AT)
    good = {"kind": "batch", "period": PERIOD, "subscription_ids": ["req-none"]}
    records = [
        sqs_record({"MessageId": "m-1", "ReceiptHandle": "r-1", "Body": json.dumps(good),
                    "Attributes": {"ApproximateReceiveCount": "1"}}, "arn:q", "us-east-1"),
        sqs_record({"MessageId": "m-2", "ReceiptHandle": "r-2", "Body": "{\"kind\": \"walk\"}",
                    "Attributes": {"ApproximateReceiveCount": "1"}}, "arn:q", "us-east-1"),
    ]  # fmt: skip

    answer = billing_worker.handler({"Records": records}, LambdaContext("billing_worker"))

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}


def test_invoices_are_counted_created_once_and_failed_per_failed_attempt(
    tables: dict[str, Any], coupa: dict[str, Any], clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a sound subscription and one whose integration is gone, in the same batch
    _, queues = _sound_beside_an_orphan(tables, coupa, monkeypatch)

    # When the run goes through, the failing batch retried until the DLQ takes it
    with captured_metrics() as emitted:
        _run(queues, clock)

    # Then one invoice is counted created, however often its batch ran, and each failed
    # attempt at the orphan is counted failed (what the failed-invoices alarm watches)
    outcomes = emitted.by(INVOICES, "outcome")
    assert outcomes["created"] == 1
    dlq = tables["sqs"].get_queue_url(QueueName="local-billing-dlq")["QueueUrl"]
    assert outcomes["failed"] >= 1 and _queued(tables, dlq) >= 1
    kinds = {dict(d)["kind"] for (name, d) in emitted if name == BILLING_MESSAGE_DURATION}
    assert kinds == {"shard", "batch"}
