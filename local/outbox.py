"""Local only: the stand-in for the outbox table's stream → email worker trigger.

Reads the (moto) DynamoDB stream with the `dynamodbstreams` API, as Lambda's event source
mappings do, and invokes `functions.handlers.email_worker.handler` with a Lambda-shaped event;
`invoice#` items (contract invoices to issue) go to `functions.handlers.billing_worker.handler`
instead, as the two mappings' filter criteria on the key split them when deployed.
Like the mapping with ReportBatchItemFailures, a batch with failures is retried from its lowest
failed sequence number (later records are delivered again: the worker's claim makes that
harmless); a record failing MAX_ATTEMPTS times becomes a dead letter (the DLQ: shown on the local
mailbox page) and the shard moves on.

moto keeps every stream record (no 24-hour trim) in one shard and supports DescribeStream,
GetShardIterator (TRIM_HORIZON, LATEST, AT_/AFTER_SEQUENCE_NUMBER) and GetRecords, once the
client skips account-based endpoints (`streams_client`). moto's conditional writes are not
atomic across threads, so worker invocations run one at a time, as Lambda runs one batch per
shard at a time: duplicates are still delivered, and only the worker's claim stops them."""

from __future__ import annotations

import importlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from functions import contracts
from local import mailbox  # noqa: F401 (imported first: captures both parts of each mail)
from local.events import LambdaContext

WORKER = "functions.handlers.email_worker"
BILLING_WORKER = "functions.handlers.billing_worker"
INVOICE_PREFIX = contracts.OUTBOX_CONTRACT_INVOICE_PREFIX
BILLING_PREFIXES = (INVOICE_PREFIX, contracts.OUTBOX_CONFIRMATION_PREFIX)
"""What the billing worker's stream mapping passes it (infra/invoicing.py)."""
"""Outbox keys for the billing worker."""
MAIL_PREFIXES = contracts.EMAIL_WORKER_PREFIXES
"""What the email worker's stream mapping passes it (infra/email.py): mail and seller events."""
BATCH_SIZE = 10  # infra/constants.py OUTBOX_BATCH_SIZE
RETRY_ATTEMPTS = 8  # infra/constants.py OUTBOX_RETRY_ATTEMPTS
MAX_ATTEMPTS = 1 + RETRY_ATTEMPTS
INTERVAL_SECONDS = 0.5
SWEEP_SECONDS = 60.0
"""The unsubscribe sweep, hourly when deployed (infra/unsubscribes.py), runs every minute here."""
SWEEPER = "functions.handlers.unsubscribe_sweep"

_worker_lock = threading.Lock()
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadLetter:
    """What the DLQ would tell an operator: which record, which mail, how often it failed."""

    event_id: str
    sequence_number: str
    key: str
    template: str
    recipients: list[str]
    attempts: int
    error: str
    failed_at: str


@dataclass
class PumpSummary:
    delivered: int = 0  # records handed to the worker (retries included)
    failed: int = 0  # records the worker reported failed this time
    dead: int = 0  # records that became dead letters this time


@dataclass
class _Shard:
    iterator_type: str = "TRIM_HORIZON"
    sequence_number: str | None = None
    iterator: str | None = None
    attempts: dict[str, int] = field(default_factory=dict)


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda passes it (timestamps in epoch seconds, the stream ARN)."""
    event = dict(record)
    stream = dict(event["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    event["dynamodb"] = stream
    event["eventSourceARN"] = stream_arn
    return event


def _string(image: dict[str, Any], name: str) -> str:
    return str(image.get(name, {}).get("S", ""))


def _dead_letter(record: dict[str, Any], attempts: int, error: str) -> DeadLetter:
    image = record["dynamodb"].get("NewImage", {})
    try:
        recipients = [str(r) for r in json.loads(_string(image, "recipients") or "[]")]
    except ValueError:
        recipients = []
    return DeadLetter(
        event_id=str(record.get("eventID", "")),
        sequence_number=str(record["dynamodb"]["SequenceNumber"]),
        key=_string(image, "pk") or _string(record["dynamodb"].get("Keys", {}), "pk"),
        template=_string(image, "template"),
        recipients=recipients,
        attempts=attempts,
        error=error,
        failed_at=datetime.now().astimezone().isoformat(timespec="seconds"),
    )


def streams_client(region: str = "us-east-1") -> Any:
    """A `dynamodbstreams` client moto can answer: botocore sends stream calls to account-based
    endpoints (`<account>.streams-ddb.<region>...`) that moto 5.2 does not route; the regional
    endpoint works."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodbstreams", region_name=region, config=Config(account_id_endpoint_mode="disabled")
    )


class OutboxPump:
    """`pump_once()` for tests; `start()` / `stop()` for the local server's background thread."""

    def __init__(
        self,
        table_name: str,
        region: str = "us-east-1",
        *,
        dynamodb: Any = None,
        streams: Any = None,
        max_attempts: int = MAX_ATTEMPTS,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        import boto3

        self.table_name = table_name
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self._dynamodb = dynamodb or boto3.client("dynamodb", region_name=region)
        self._streams = streams or streams_client(region)
        self._stream_arn: str | None = None
        self._shards: dict[str, _Shard] = {}
        self._dead: list[DeadLetter] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def dead_letters(self) -> list[DeadLetter]:
        with self._lock:
            return list(self._dead)

    def pump_once(self) -> PumpSummary:
        """One batch per shard, if any records wait."""
        summary = PumpSummary()
        with self._lock:
            arn = self._dynamodb.describe_table(TableName=self.table_name)["Table"].get(
                "LatestStreamArn"
            )
            if not arn:
                return summary
            if arn != self._stream_arn:  # first run, or the table was re-created
                self._stream_arn, self._shards = arn, {}
            shards = self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
            for shard in shards:
                self._pump_shard(arn, shard["ShardId"], summary)
        return summary

    def _pump_shard(self, arn: str, shard_id: str, summary: PumpSummary) -> None:
        position = self._shards.setdefault(shard_id, _Shard())
        iterator = position.iterator or self._iterator(arn, shard_id, position)
        position.iterator = None  # an iterator serves once; a failed read restarts from position
        answer = self._streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
        records = answer["Records"]
        # Reusing the next iterator spares a GetShardIterator per poll (moto keeps them all).
        position.iterator = answer.get("NextShardIterator")
        if not records:
            return
        failed = self._invoke([lambda_record(r, arn) for r in records])
        summary.delivered += len(records)
        summary.failed += len(failed)
        retry: list[str] = []
        for record in records:
            sequence = str(record["dynamodb"]["SequenceNumber"])
            if sequence not in failed:
                position.attempts.pop(sequence, None)
                continue
            attempts = position.attempts.get(sequence, 0) + 1
            if attempts >= self.max_attempts:
                position.attempts.pop(sequence, None)
                self._dead.append(_dead_letter(record, attempts, failed[sequence]))
                summary.dead += 1
            else:
                position.attempts[sequence] = attempts
                retry.append(sequence)
        if retry:  # like Lambda: start again from the lowest failed record
            position.iterator = None
            position.iterator_type, position.sequence_number = "AT_SEQUENCE_NUMBER", retry[0]
        else:
            last = str(records[-1]["dynamodb"]["SequenceNumber"])
            position.iterator_type, position.sequence_number = "AFTER_SEQUENCE_NUMBER", last

    def _iterator(self, arn: str, shard_id: str, position: _Shard) -> str:
        request: dict[str, Any] = {
            "StreamArn": arn,
            "ShardId": shard_id,
            "ShardIteratorType": position.iterator_type,
        }
        if position.sequence_number is not None:
            request["SequenceNumber"] = position.sequence_number
        return str(self._streams.get_shard_iterator(**request)["ShardIterator"])

    def _invoke(self, records: list[dict[str, Any]]) -> dict[str, str]:
        """The sequence numbers the workers reported failed, each with its error: `invoice#`
        items to the billing worker (inserts only, as its mapping's filter), `email#` and
        `event#` items to the email worker."""
        invoices = [r for r in records if _key(r).startswith(BILLING_PREFIXES)]
        mail = [r for r in records if _key(r).startswith(MAIL_PREFIXES)]
        failed: dict[str, str] = {}
        if mail:
            failed.update(self._invoke_worker(WORKER, mail))
        inserted = [r for r in invoices if r.get("eventName") == "INSERT"]
        if inserted:
            failed.update(self._invoke_worker(BILLING_WORKER, inserted))
        return failed

    def _invoke_worker(self, module: str, records: list[dict[str, Any]]) -> dict[str, str]:
        """The sequence numbers the worker reported failed, each with its error. Lambda itself
        only learns the sequence numbers; the errors are read from the worker's Powertools
        batch processor, so the mailbox page can say why a mail is dead."""
        worker = importlib.import_module(module)
        with _worker_lock:
            try:
                answer = worker.handler(
                    {"Records": records}, LambdaContext(module.rsplit(".", 1)[-1])
                )
                failed = [str(f["itemIdentifier"]) for f in answer.get("batchItemFailures") or []]
            except Exception:  # the whole batch failed: Lambda retries all of it
                failed = [str(r["dynamodb"]["SequenceNumber"]) for r in records]
            return {sequence: _reasons(worker).get(sequence, "failed") for sequence in failed}

    def start(self, interval: float = INTERVAL_SECONDS) -> None:
        def run() -> None:
            swept = time.monotonic()
            while not self._stop.wait(interval):
                try:
                    self.pump_once()
                except Exception:  # keep pumping: a local hiccup must not stop the mail
                    _log.exception("outbox pump failed; retrying")
                if time.monotonic() - swept >= SWEEP_SECONDS:
                    swept = time.monotonic()
                    sweep_unsubscribes()

        self._thread = threading.Thread(target=run, name="outbox-pump", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def sweep_unsubscribes() -> None:
    """One run of the unsubscribe sweep, as its schedule invokes it (a failure is logged: the
    next run retries, as the next hourly one does when deployed)."""
    try:
        with _worker_lock:
            importlib.import_module(SWEEPER).handler({}, LambdaContext("unsubscribe_sweep"))
    except Exception:
        _log.exception("unsubscribe sweep failed; the next run retries")


def _key(record: dict[str, Any]) -> str:
    return _string(record.get("dynamodb", {}).get("Keys", {}), "pk")


def _reasons(worker: Any) -> dict[str, str]:
    processor = getattr(worker, "processor", None) or getattr(worker, "stream_processor", None)
    failed = getattr(processor, "fail_messages", None) or []
    errors = getattr(processor, "exceptions", None) or []
    reasons: dict[str, str] = {}
    for record, error in zip(failed, errors, strict=False):
        cause = error[1] if len(error) > 1 else None
        if cause is not None and record.dynamodb is not None:
            reasons[str(record.dynamodb.sequence_number)] = f"{type(cause).__name__}: {cause}"
    return reasons
