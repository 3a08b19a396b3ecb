"""Lambda: the billing queue and the outbox stream → invoices (`functions.billing_run`) and
refund credit memos (`functions.invoice_corrections.refund`).

Two event sources, one function: SQS records are billing run messages ("shard", "batch");
DynamoDB stream records from the outbox table are `invoice#<subscription>#contract` items, and
`confirmation#...` items it queues for the delivery worker (INSERT only; the event source
mapping filters on the key prefixes, and anything else reaching here is ignored). Each record is
handled on its own and reported as a batch item failure when it fails, so only it is retried,
then sent to the dead-letter queue."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import (
    billing_messages,
    billing_run,
    observability,
    order_confirmations,
    store,
)
from functions.billing_messages import BatchMessage, ShardMessage
from functions.billing_run import BillingReport
from functions.clock import now
from functions.config import settings
from functions.cxml.model import Credential
from functions.invoice_terms import legal_entity
from functions.observability import logger
from functions.parties import LegalEntity
from functions.store.billing_ports import DynamoBillingPorts, ports_for
from functions.subscriptions import refund_subscription_of

queue_processor = BatchProcessor(event_type=EventType.SQS)
stream_processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
STREAM_SOURCE = "aws:dynamodb"
PAGE_SIZE = billing_messages.PAGE_SIZE
"""Ids per page of a shard walk (tests make it small to see the walk page)."""


@dataclass(frozen=True)
class Wiring:
    ports: DynamoBillingPorts
    supplier: Credential
    entity: LegalEntity


@cache
def _wiring() -> Wiring:
    config = settings()
    store.bind(config)
    return Wiring(
        ports_for(config),
        Credential(config.supplier_domain, config.supplier_identity),
        legal_entity(config),
    )


def _log(what: str, report: BillingReport, **extra: Any) -> None:
    logger.info(what, extra={**report.as_log(), **extra})
    _count(report)


def _count(report: BillingReport) -> None:
    observability.count(observability.INVOICES, len(report.created), outcome="created")
    observability.count(observability.INVOICES, len(report.failed), outcome="failed")


def handle_message(record: SQSRecord) -> None:
    """One billing queue message; raises (so it is retried) if any of its work failed."""
    started = time.perf_counter()
    message = billing_messages.message_of(record.body)
    try:
        _handle_message(record, message)
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1000
        kind = "batch" if isinstance(message, BatchMessage) else "shard"
        observability.duration(observability.BILLING_MESSAGE_DURATION, elapsed_ms, kind=kind)


def _handle_message(record: SQSRecord, message: BatchMessage | ShardMessage) -> None:
    wiring = _wiring()
    if isinstance(message, BatchMessage):
        redelivered = int(record.attributes.approximate_receive_count or "1") > 1
        try:
            report = billing_run.bill_batch(
                message, wiring.ports, supplier=wiring.supplier, now=now(),
                redelivered=redelivered, entity=wiring.entity,
                base_url=settings().public_base_url or "",
            )  # fmt: skip
        except billing_run.InvoicesNotIssued as exc:
            logger.error(str(exc), extra={**exc.report.as_log(), "period": message.period})
            _count(exc.report)
            raise
        _log("Billing batch handled", report, period=message.period)
        return
    sent = billing_run.walk_shard(message, wiring.ports, PAGE_SIZE)
    logger.info(
        "Billing shard page walked",
        extra={"period": message.period, "shard": message.shard, "messages_sent": sent},
    )


def handle_outbox_record(record: DynamoDBRecord) -> None:
    """A fresh `invoice#<subscription>#contract` outbox item: its contract invoice; an
    `invoice#<subscription>#refund` one: its refund credit memos; a `confirmation#...` one:
    the order confirmation, queued for the delivery worker."""
    stream = record.dynamodb
    if record.event_name is not DynamoDBRecordEventName.INSERT or stream is None:
        return
    key = str(stream.new_image.get("pk", ""))
    refunded = refund_subscription_of(key)
    if refunded is not None:
        _refund(refunded)
        return
    if order_confirmations.is_confirmation_key(key):
        _queue_confirmation(key)
        return
    subscription_id = billing_messages.contract_subscription_of(key)
    if subscription_id is None:
        return
    wiring = _wiring()
    try:
        report = billing_run.bill_contract(
            subscription_id, wiring.ports, supplier=wiring.supplier, now=now(),
            entity=wiring.entity,
        )  # fmt: skip
    except billing_run.InvoicesNotIssued as exc:
        logger.error(str(exc), extra={**exc.report.as_log(), "subscription_id": subscription_id})
        _count(exc.report)
        raise
    _log("Contract invoice handled", report, subscription_id=subscription_id)


def _refund(subscription_id: str) -> None:
    """A cancelled subscription's refund credits (`functions.refunds`), exactly once: a retry
    finds the credit memos by their keys. Raises (so the record is retried) while a contract
    invoice is still on its way."""
    from functions import invoice_corrections
    from functions.store.corrections import configured_ports

    wiring = _wiring()
    credited = invoice_corrections.refund(
        subscription_id, configured_ports(), supplier=wiring.supplier, now=now(),
        entity=wiring.entity,
    )  # fmt: skip
    logger.info(
        "Refund handled",
        extra={
            "subscription_id": subscription_id,
            "credit_memos": [c.invoice_id for c in credited],
            "credit_memos_created": sum(1 for c in credited if c.created),
        },
    )
    observability.count(
        observability.INVOICES, sum(1 for c in credited if c.created), outcome="created"
    )


def _queue_confirmation(key: str) -> None:
    """A fresh `confirmation#...` outbox item: queued for the delivery worker, which sends it
    once (a repeated stream record queues it again; the delivery worker sends nothing twice)."""
    from functions.store import queues

    queues.send(_wiring().ports.delivery_queue_url, [order_confirmations.delivery_message(key)])
    logger.info("Order confirmation queued for delivery", extra={"outbox_key": key})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = event.get("Records") or []
    if records and records[0].get("eventSource") == STREAM_SOURCE:
        return process_partial_response(
            event=event,
            record_handler=handle_outbox_record,
            processor=stream_processor,
            context=context,
        )
    return process_partial_response(
        event=event, record_handler=handle_message, processor=queue_processor, context=context
    )
