"""Lambda: the outbox table's stream → email (`functions.notifications.deliver`), and seller
events (`event#` items) → the EventBridge bus (`functions.event_publishing.publish`).

Each record is handled on its own; one that fails is reported as a batch item failure, so
Lambda retries it (and, after its retries, sends its coordinates to the dead-letter queue) while
the others are not sent again."""

from __future__ import annotations

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
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import contracts, event_publishing, notifications, observability, store
from functions.clock import now
from functions.config import settings
from functions.observability import logger
from functions.store.event_bus import EventBridgeBus
from functions.store.mail import SesMailer
from functions.store.outbox import DynamoOutbox
from functions.store.secrets import LinkSigningKey

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@dataclass(frozen=True)
class Wiring:
    outbox: DynamoOutbox
    mailer: SesMailer
    link_key: LinkSigningKey
    sender: str
    bus: EventBridgeBus


@cache
def _wiring() -> Wiring:
    config = settings()
    store.bind(config)
    return Wiring(
        DynamoOutbox(),
        SesMailer(config.region),
        LinkSigningKey(config),
        config.email_sender,
        EventBridgeBus(config.region, config.event_bus_name),
    )


def send_new_mail(record: DynamoDBRecord) -> None:
    """Ignores what is not fresh mail (REMOVEs from TTL, the worker's own writes); raises when
    the mail could not be sent, so the record is retried."""
    stream = record.dynamodb
    if record.event_name is DynamoDBRecordEventName.REMOVE or stream is None:
        return
    image = stream.new_image
    if not notifications.is_fresh(image):
        return
    key = str(image["pk"])
    if key.startswith(contracts.OUTBOX_EVENT_PREFIX):
        publish_seller_event(key)
        return
    wiring = _wiring()
    try:
        delivery = notifications.deliver(
            key, wiring.outbox, wiring.mailer, wiring.sender, wiring.link_key, now()
        )
    except Exception:
        logger.exception("Mail not sent; the record will be retried", extra={"outbox_key": key})
        observability.count(observability.MAILS_FAILED)
        raise
    if delivery.outcome in ("sent", "sent_unrecorded"):
        observability.count(observability.MAILS_SENT)
    if delivery.outcome == "sent_unrecorded":
        logger.error(
            "Mail sent but not marked sent: it stays 'sending' so no retry sends it twice",
            extra={"outbox_key": key, "message_id": delivery.message_id},
        )
    else:
        logger.info(
            "Outbox mail handled",
            extra={
                "outbox_key": key,
                "outcome": delivery.outcome,
                "message_id": delivery.message_id,
            },
        )


def publish_seller_event(key: str) -> None:
    """An `event#` item: on the bus, once; raises when it was not published (retried)."""
    wiring = _wiring()
    try:
        publication = event_publishing.publish(key, wiring.outbox, wiring.bus, now())
    except Exception:
        logger.exception("Seller event not published: retried", extra={"outbox_key": key})
        observability.count(observability.SELLER_EVENTS_FAILED)
        raise
    if publication.outcome in ("published", "published_unrecorded"):
        observability.count(observability.SELLER_EVENTS_PUBLISHED, action=publication.action)
    log = logger.error if publication.outcome == "published_unrecorded" else logger.info
    outcome = {"outcome": publication.outcome, "event_id": publication.event_id}
    log("Seller event handled", extra={"outbox_key": key, **outcome})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=send_new_mail, processor=processor, context=context
    )
