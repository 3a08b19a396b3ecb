"""Seller events from outbox item to a seller's queue, against moto: an `event#` item put as the
PO path writes it (issue 14 part C1), the outbox stream read as Lambda delivers it, the real
email worker publishing on the real (moto) bus, and each seller's rule, matching its own
`source`, delivering to its SQS queue: what a seller in another account would receive."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from functions import seller_events, store
from functions.clock import iso, now
from functions.config import settings
from functions.store.models import OutboxRecord
from functions.subscriptions import ACTIVE, Subscription
from local.aws import create_event_bus
from local.outbox import OutboxPump, streams_client
from tests.log_support import captured_metrics
from tests.outbox_support import invoke_email_worker, outbox_stream_records

SELLER = "444455556666"
OTHER_SELLER = "777788889999"
CUSTOMER = "111122223333"


@pytest.fixture(scope="module")
def streams(aws: dict[str, Any]) -> Any:
    return streams_client("us-east-1")


@pytest.fixture(scope="module")
def events(aws: dict[str, Any]) -> Any:
    return boto3.client("events", region_name="us-east-1")


@pytest.fixture
def seller_queues(tables: dict[str, Any], events: Any) -> Iterator[dict[str, str]]:
    """Seller account → the URL of a queue its rule on the bus fills (what a seller attaches
    from its own account: a rule matching its source, a target). The rules are removed after."""
    store.bind(settings())
    bus = create_event_bus(events)
    sqs = tables["sqs"]
    queues = {}
    for account in (SELLER, OTHER_SELLER):
        url = sqs.create_queue(QueueName=f"seller-{account}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        pattern = {"source": [seller_events.source_for(account)]}
        events.put_rule(
            Name=f"seller-{account}", EventBusName=bus, EventPattern=json.dumps(pattern)
        )
        events.put_targets(
            Rule=f"seller-{account}",
            EventBusName=bus,
            Targets=[{"Id": "queue", "Arn": arn["QueueArn"]}],
        )
        queues[account] = url
    yield queues
    for account in queues:
        events.remove_targets(Rule=f"seller-{account}", EventBusName=bus, Ids=["queue"])
        events.delete_rule(Name=f"seller-{account}", EventBusName=bus)


def _subscription(test: bool = False) -> Subscription:
    return Subscription(
        id="req-0123456789abcdef",
        account_id=CUSTOMER,
        integration_id="int-acme",
        integration_name="Acme Coupa",
        product_id="prod-datastream",
        offer_id="offer-platform",
        product_name="DataStream Pro",
        offer_name="Platform",
        pricing_model="contract",
        currency="USD",
        lines=(),
        state=ACTIVE,
        test=test,
    )


def put_event(action: str = seller_events.SUBSCRIBE_SUCCESS, test: bool = False) -> str:
    """An outbox item as part C1 writes it, in the transaction of the state change."""
    moment = now()
    event = seller_events.subscription_event(action, _subscription(test), SELLER, iso(moment))
    OutboxRecord(
        event.key,
        template=seller_events.TEMPLATE,
        recipients=[],
        context={
            "source": event.source,
            "detail_type": event.detail_type,
            "detail": event.detail,
        },
        status="pending",
        created_at=iso(moment),
        expires_at=moment + timedelta(days=30),
    ).save()
    return event.key


def _received(sqs: Any, url: str) -> list[dict[str, Any]]:
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def test_the_seller_receives_the_event_once_and_no_other_seller_does(
    tables: dict[str, Any], streams: Any, seller_queues: dict[str, str]
) -> None:
    # Given a subscribe-success event for a product of seller 444455556666, in the outbox
    key = put_event()
    [insert] = outbox_stream_records(tables, streams)

    # When the stream delivers its record twice in one batch, and again later
    with captured_metrics() as metrics:
        first = invoke_email_worker([insert, insert])
        second = invoke_email_worker([insert])

    # Then the seller's rule got exactly one event, shaped like a Marketplace SaaS notification
    assert first == second == {"batchItemFailures": []}
    [received] = _received(tables["sqs"], seller_queues[SELLER])
    assert received["source"] == "procurement-gateway.444455556666"
    assert received["detail-type"] == "Marketplace Subscription Event"
    detail = received["detail"]
    assert (detail["action"], detail["customer-identifier"], detail["product-code"]) == (
        "subscribe-success",
        CUSTOMER,
        "prod-datastream",
    )
    assert (detail["id"], detail["test"]) == (key, False)
    # And the other seller's rule got nothing
    assert _received(tables["sqs"], seller_queues[OTHER_SELLER]) == []
    # And the item is sent, with EventBridge's event id; one publication counted, by action
    item = OutboxRecord.get(key, consistent_read=True)
    assert (item.status, item.attempts, item.message_id) == ("sent", 1, received["id"])
    assert metrics.by("SellerEventsPublished", "action") == {"subscribe-success": 1}


def test_the_local_outbox_pump_hands_events_to_the_worker(
    tables: dict[str, Any], streams: Any, seller_queues: dict[str, str]
) -> None:
    # Given a test-mode unsubscribe-pending event (as `make run` writes them)
    put_event(seller_events.UNSUBSCRIBE_PENDING, test=True)

    # When the local stand-in for the stream trigger runs (and again: the worker's own writes)
    pump = OutboxPump(settings().outbox_table, dynamodb=tables["dynamodb"], streams=streams)
    summary = pump.pump_once()
    pump.pump_once()

    # Then the seller received it once, marked as a test
    assert (summary.failed, pump.dead_letters()) == (0, [])
    [received] = _received(tables["sqs"], seller_queues[SELLER])
    assert (received["detail"]["action"], received["detail"]["test"]) == (
        "unsubscribe-pending",
        True,
    )


def test_an_unreachable_bus_fails_the_record_and_leaves_the_event_pending(
    tables: dict[str, Any], streams: Any, seller_queues: dict[str, str], monkeypatch: Any
) -> None:
    # Given EventBridge refuses PutEvents (the bus is not there)
    from functions.handlers import email_worker

    key = put_event()
    [insert] = outbox_stream_records(tables, streams)
    wiring = email_worker._wiring()
    monkeypatch.setattr(wiring.bus, "_bus_name", "no-such-bus")

    # When the worker handles the record
    with pytest.raises(BatchProcessingError):  # every record failed: Lambda retries the batch
        invoke_email_worker([insert])

    # Then nothing was received, and the item is pending again, not sent
    assert _received(tables["sqs"], seller_queues[SELLER]) == []
    assert OutboxRecord.get(key, consistent_read=True).status == "pending"

    # When the bus is back and Lambda retries the record
    monkeypatch.undo()
    assert invoke_email_worker([insert]) == {"batchItemFailures": []}

    # Then the seller receives the event, once
    assert len(_received(tables["sqs"], seller_queues[SELLER])) == 1
