"""Local only: how the fake sellers (local/fake_seller.py) receive subscription events, the way
a seller in another account would: a rule on the marketplace's bus (`EVENT_BUS_NAME`) matching
its own source (`procurement-gateway.<seller account>`), targeting its own SQS queue (moto), and
a thread moving what arrives into the fake seller's log.

The bus is the publishing part's (local/aws.py creates it); `ensure_bus` creates it only when
it is missing, so the fake seller also runs where it is not created yet."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from functions.seller_events import source_for
from local.fake_seller import FakeSeller

QUEUE_PREFIX = "local-fake-seller-"
RULE_PREFIX = "fake-seller-"
INTERVAL_SECONDS = 0.5

_log = logging.getLogger(__name__)


def ensure_bus(events: Any, bus_name: str) -> str:
    """The bus's ARN, creating the bus only if it does not exist yet."""
    try:
        return str(events.describe_event_bus(Name=bus_name)["Arn"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
    return str(events.create_event_bus(Name=bus_name)["EventBusArn"])


def subscribe(events: Any, sqs: Any, bus_name: str, accounts: Iterable[str]) -> dict[str, str]:
    """Per seller account, a queue and a rule on the bus sending it that seller's events only;
    the queue URLs by account."""
    queues = {}
    for account in accounts:
        queue_url = str(sqs.create_queue(QueueName=f"{QUEUE_PREFIX}{account}")["QueueUrl"])
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        rule = f"{RULE_PREFIX}{account}"
        events.put_rule(
            Name=rule,
            EventBusName=bus_name,
            EventPattern=json.dumps({"source": [source_for(account)]}),
            State="ENABLED",
        )
        events.put_targets(
            Rule=rule, EventBusName=bus_name, Targets=[{"Id": "fake-seller", "Arn": queue_arn}]
        )
        queues[account] = queue_url
    return queues


class EventPump:
    """`pump_once()` for tests; `start()` / `stop()` for the local server's background thread."""

    def __init__(self, seller: FakeSeller, sqs: Any, queues: dict[str, str]) -> None:
        self._seller, self._sqs, self._queues = seller, sqs, queues
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def pump_once(self) -> int:
        """Move every waiting message into the seller's log; how many moved."""
        moved = 0
        for account, queue_url in self._queues.items():
            while True:
                messages = self._sqs.receive_message(
                    QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
                ).get("Messages", [])
                if not messages:
                    break
                self._seller.receive(account, [_envelope(m["Body"]) for m in messages])
                for message in messages:
                    self._sqs.delete_message(
                        QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"]
                    )
                moved += len(messages)
        return moved

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fake-seller-events", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.wait(INTERVAL_SECONDS):
            try:
                self.pump_once()
            except Exception:  # keep pumping: a bad message must not end the event log
                _log.exception("fake seller event pump failed")


def _envelope(body: str) -> dict[str, Any]:
    """The EventBridge event the queue received (a body that is not one is kept as detail)."""
    try:
        event = json.loads(body)
    except ValueError:
        return {"detail": {"unreadable": body[:500]}}
    return event if isinstance(event, dict) else {"detail": {"unreadable": body[:500]}}


def start(seller: FakeSeller, region: str, bus_name: str) -> EventPump:
    """The local server's wiring: the bus (if missing), each seller's rule and queue, and the
    pump, started."""
    import boto3

    events = boto3.client("events", region_name=region)
    sqs = boto3.client("sqs", region_name=region)
    ensure_bus(events, bus_name)
    pump = EventPump(seller, sqs, subscribe(events, sqs, bus_name, seller.accounts))
    pump.start()
    return pump
