"""Local only: the stand-in for the SQS → Lambda event source mappings of the billing and
delivery queues (moto SQS).

Receives a batch (the deployed mapping's batch size), invokes the queue's worker with a
Lambda-shaped SQS event and, like the mapping with ReportBatchItemFailures, deletes what the
worker handled and leaves each failed message to come back after its visibility timeout (short
here: VISIBILITY_SECONDS), until the queue's redrive policy moves it to the dead-letter queue
(moto applies maxReceiveCount on receive). Workers run one at a time: moto's conditional writes
are not atomic across threads.

Without a delivery queue URL, or while `functions.handlers.delivery_worker` cannot be imported,
the delivery queue is left alone, its messages waiting (tests count them there)."""

from __future__ import annotations

import hashlib
import importlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from local.events import LambdaContext

BILLING_WORKER = "functions.handlers.billing_worker"
DELIVERY_WORKER = "functions.handlers.delivery_worker"
BILLING_BATCH_SIZE = 1  # infra/constants.py BILLING_BATCH_SIZE
DELIVERY_BATCH_SIZE = 1  # infra/constants.py DELIVERY_BATCH_SIZE
VISIBILITY_SECONDS = 1
INTERVAL_SECONDS = 0.5

_worker_lock = threading.Lock()
_log = logging.getLogger(__name__)


@dataclass
class QueueSummary:
    received: int = 0
    failed: int = 0  # left for the visibility timeout (then retried, or dead-lettered)


@dataclass(frozen=True)
class Route:
    queue_url: str
    worker: str  # the handler's module
    batch_size: int


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A ReceiveMessage message as Lambda passes it."""
    body = message["Body"]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": message.get("MessageAttributes") or {},
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _worker_available(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return False
        raise
    return True


class QueuePump:
    """`pump_once()` / `drain()` for tests and the bench; `start()` / `stop()` for the local
    server's background thread."""

    def __init__(
        self,
        billing_queue_url: str,
        delivery_queue_url: str | None = None,
        region: str = "us-east-1",
        *,
        sqs: Any = None,
        visibility_seconds: int = VISIBILITY_SECONDS,
    ) -> None:
        import boto3

        self.region = region
        self.visibility_seconds = visibility_seconds
        self._sqs = sqs or boto3.client("sqs", region_name=region)
        self.routes = [Route(billing_queue_url, BILLING_WORKER, BILLING_BATCH_SIZE)]
        if delivery_queue_url and _worker_available(DELIVERY_WORKER):
            self.routes.append(Route(delivery_queue_url, DELIVERY_WORKER, DELIVERY_BATCH_SIZE))
        self._arns: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def pump_once(self) -> QueueSummary:
        """One receive (a batch, as deployed) per queue, handed to its worker."""
        summary = QueueSummary()
        with self._lock:
            for route in self.routes:
                self._pump(route, summary)
        return summary

    def waiting(self) -> int:
        """Messages still in the queues, visible or in flight."""
        total = 0
        for route in self.routes:
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=route.queue_url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            total += sum(int(value) for value in attributes.values())
        return total

    def drain(self, timeout: float = 30.0) -> QueueSummary:
        """Pump until every queue is empty (failed messages retried or dead-lettered); raises
        TimeoutError if they are not within `timeout` seconds."""
        total = QueueSummary()
        deadline = time.monotonic() + timeout
        while True:
            summary = self.pump_once()
            total.received += summary.received
            total.failed += summary.failed
            if summary.received == 0:
                if self.waiting() == 0:
                    return total
                if time.monotonic() > deadline:
                    raise TimeoutError(f"queues not empty after {timeout} s")
                time.sleep(0.05)  # failed messages come back after their visibility timeout

    def _arn(self, url: str) -> str:
        if url not in self._arns:
            self._arns[url] = self._sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
        return self._arns[url]

    def _pump(self, route: Route, summary: QueueSummary) -> None:
        answer = self._sqs.receive_message(
            QueueUrl=route.queue_url,
            MaxNumberOfMessages=route.batch_size,
            VisibilityTimeout=self.visibility_seconds,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages") or []
        if not messages:
            return
        summary.received += len(messages)
        arn = self._arn(route.queue_url)
        records = [sqs_record(m, arn, self.region) for m in messages]
        failed = self._invoke(route.worker, records)
        summary.failed += len(failed)
        done = [
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
            for n, m in enumerate(messages)
            if m["MessageId"] not in failed
        ]
        if done:
            self._sqs.delete_message_batch(QueueUrl=route.queue_url, Entries=done)

    def _invoke(self, module: str, records: list[dict[str, Any]]) -> set[str]:
        """The ids of the messages the worker reported failed (all of them if it raised)."""
        worker = importlib.import_module(module)
        with _worker_lock:
            try:
                answer = worker.handler({"Records": records}, LambdaContext(module.rsplit(".")[-1]))
            except Exception:  # the whole batch failed: every message comes back
                _log.exception("%s failed a whole batch", module)
                return {r["messageId"] for r in records}
        return {str(f["itemIdentifier"]) for f in (answer or {}).get("batchItemFailures") or []}

    def start(self, interval: float = INTERVAL_SECONDS) -> None:
        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    while self.pump_once().received:  # keep going while there is work
                        pass
                except Exception:  # keep pumping: a local hiccup must not stop billing
                    _log.exception("queue pump failed; retrying")

        self._thread = threading.Thread(target=run, name="queue-pump", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
