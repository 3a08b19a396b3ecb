"""Lambda: the delivery queue → each invoice posted to its Coupa endpoint, or to SAP Business
Network for Ariba integrations (`functions.delivery.deliver`).

Messages `{"invoice_id": ..., "force": true?}`, and `{"confirmation": <outbox key>}` for order
confirmations (`functions.confirmation_delivery`, the same rules). Each is handled on its own; a
transient failure (5xx, timeout, no cXML answer) is reported as a batch item failure, so SQS
delivers that message again after its visibility timeout while the others are done. The fifth
receive is the last attempt (the queue's redrive would move it to the DLQ next): the invoice is
marked `failed` and the message consumed. Only what we could not handle at all (an unreadable
message, an invoice that is not recorded, S3 or DynamoDB down through every attempt) reaches the
DLQ."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import (
    activity,
    delivery,
    delivery_transport,
    observability,
    order_confirmations,
    store,
)
from functions.business_network import BusinessNetwork
from functions.clock import now
from functions.config import Settings, settings
from functions.delivery import PendingInvoice
from functions.delivery_verdict import DeliveryLog
from functions.observability import logger
from functions.store import invoice_files, invoices
from functions.store.integrations import DynamoIntegrationStore
from functions.store.invoice_sender import HttpInvoiceSender
from functions.store.kms import KmsSecretBox
from functions.store.secrets import AribaSecret

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
"""A batch whose every invoice must wait (the buyer system down) is no Lambda error: each
message comes back through `batchItemFailures`, as when only some fail."""
SEND_TIMEOUT_SECONDS = delivery_transport.TIMEOUT_SECONDS
"""How long one post may take (tests shorten it to see timeouts quickly)."""


class UnreadableMessage(Exception):
    """Not a delivery message: retrying cannot help (→ DLQ after the queue's receives)."""


class InvoiceLedger:
    """`functions.store.invoices` as the delivery port wants it."""

    def pending(self, invoice_id: str) -> PendingInvoice | None:
        found = invoices.get(invoice_id, consistent=True)
        if found is None:
            return None
        return PendingInvoice(
            found.invoice_id,
            found.integration_id,
            found.state,
            found.s3_key,
            DeliveryLog.from_json(found.delivery),
        )

    def record(self, invoice_id: str, state: str, log: DeliveryLog, expected: str) -> bool:
        return invoices.mark(invoice_id, state, log.to_json(), expected=expected)


class InvoiceDocuments:
    def read(self, key: str) -> bytes:
        return invoice_files.read(key)


@dataclass(frozen=True)
class Wiring:
    ledger: InvoiceLedger
    documents: InvoiceDocuments
    integrations: DynamoIntegrationStore
    secrets: KmsSecretBox


@cache
def _wiring() -> Wiring:
    config = settings()
    store.bind(config)
    return Wiring(
        InvoiceLedger(),
        InvoiceDocuments(),
        DynamoIntegrationStore(),  # reads only: this worker may decrypt secrets, never seal
        KmsSecretBox(config.invoice_secret_key, config.region),  # its client on first use
    )


@cache
def _sender(allow_local_http: bool) -> HttpInvoiceSender:
    """One per container: its TLS context loads the CA bundle once."""
    return HttpInvoiceSender(allow_local_http=allow_local_http)


@cache
def _network(config: Settings) -> BusinessNetwork:
    """The marketplace's SAP Business Network account. Its shared secret is read (from Secrets
    Manager when deployed) only when an Ariba invoice is sent, then cached in this container;
    it is put in the one document posted, never logged or stored."""
    return BusinessNetwork(
        config.ariba_invoice_url, config.ariba_supplier_anid, AribaSecret(config)
    )


def _ports() -> delivery.Ports:
    wiring = _wiring()
    config = settings()
    local_http = config.invoice_delivery_local_http
    return delivery.Ports(
        wiring.ledger,
        wiring.documents,
        wiring.integrations,
        _sender(local_http),
        secrets=wiring.secrets,
        network=_network(config),
        allow_local_http=local_http,
        timeout=SEND_TIMEOUT_SECONDS,
    )


def _message(record: SQSRecord) -> tuple[str, bool]:
    try:
        body = json.loads(record.body)
        invoice_id = body["invoice_id"]
        force = body.get("force", False)
        if not isinstance(invoice_id, str) or not invoice_id or not isinstance(force, bool):
            raise ValueError("invoice_id must be a string, force a boolean")
    except (ValueError, TypeError, KeyError) as exc:
        raise UnreadableMessage(f"Not a delivery message ({exc}): {record.body[:200]}") from exc
    return invoice_id, force


def deliver_invoice(record: SQSRecord) -> None:
    """Raises when the message must come again (or, at last, go to the DLQ)."""
    if _is_confirmation(record):
        deliver_confirmation(record)
        return
    invoice_id, force = _message(record)
    receive_count = int(record.attributes.approximate_receive_count or 1)
    context = {"invoice_id": invoice_id, "receive_count": receive_count, "force": force}
    try:
        outcome = delivery.deliver(
            invoice_id, receive_count=receive_count, force=force, ports=_ports(), now=now()
        )
    except delivery.RetryLater as exc:
        logger.warning(
            "Invoice not delivered yet; SQS will retry", extra={**context, "why": str(exc)}
        )
        _record_invoice_attempt(invoice_id)
        raise
    except Exception:
        logger.exception("Invoice delivery could not run", extra=context)
        raise
    details = {
        **context,
        "state": outcome.state,
        "sent": outcome.sent,
        "superseded": outcome.superseded,
        "attempts": outcome.delivery.attempts,
        "last_code": outcome.delivery.last_code,
        "last_text": outcome.delivery.last_text,
    }
    if outcome.sent or outcome.state == delivery.FAILED:
        observability.count(observability.INVOICES, outcome=outcome.state)
        _record_invoice_attempt(invoice_id)
    if outcome.sent and outcome.state in (delivery.REJECTED, delivery.FAILED):
        # An error in the logs for whoever reads them; the admin API shows the same record.
        logger.error("Invoice not delivered: the buyer system must be fixed first", extra=details)
    elif outcome.state == delivery.FAILED:
        # A refused endpoint: not allowed, or its shared secret does not open (`last_text`)
        logger.error("Invoice not delivered: the invoice endpoint is not usable", extra=details)
    else:
        logger.info("Invoice delivery handled", extra=details)


def _is_confirmation(record: SQSRecord) -> bool:
    try:
        body = json.loads(record.body)
    except ValueError:
        return False
    return isinstance(body, dict) and order_confirmations.MESSAGE_FIELD in body


def deliver_confirmation(record: SQSRecord) -> None:
    """`{"confirmation": <outbox key>}`: one order confirmation, with the invoice rules
    (`functions.confirmation_delivery`)."""
    from functions import confirmation_delivery
    from functions.store.confirmations import DynamoConfirmationLedger

    key = json.loads(record.body)[order_confirmations.MESSAGE_FIELD]
    if not isinstance(key, str) or not order_confirmations.is_confirmation_key(key):
        raise UnreadableMessage(f"Not a confirmation message: {record.body[:200]}")
    receive_count = int(record.attributes.approximate_receive_count or 1)
    invoice_ports = _ports()
    ports = confirmation_delivery.Ports(
        DynamoConfirmationLedger(),
        invoice_ports.integrations,
        invoice_ports.sender,
        secrets=invoice_ports.secrets,
        network=invoice_ports.network,
        allow_local_http=invoice_ports.allow_local_http,
        timeout=invoice_ports.timeout,
    )
    context = {"outbox_key": key, "receive_count": receive_count}
    try:
        outcome = confirmation_delivery.deliver(
            key, receive_count=receive_count, ports=ports, now=now()
        )
    except delivery.RetryLater as exc:
        logger.warning(
            "Order confirmation not delivered yet; SQS will retry",
            extra={**context, "why": str(exc)},
        )
        _record_confirmation_attempt(key)
        raise
    if outcome.sent or outcome.state == delivery.FAILED:
        _record_confirmation_attempt(key)
    details = {
        **context,
        "state": outcome.state,
        "sent": outcome.sent,
        "last_code": outcome.delivery.last_code,
        "last_text": outcome.delivery.last_text,
    }
    if outcome.state in (delivery.REJECTED, delivery.FAILED):
        logger.error("Order confirmation not delivered", extra=details)
    else:
        logger.info("Order confirmation handled", extra=details)


def _record_invoice_attempt(invoice_id: str) -> None:
    """The attempt just made, as the invoice's delivery log kept it, in its integration's
    activity (a read and a PutItem, off the answer's path; never raising)."""
    from functions.store.activity import DynamoActivityLog

    try:
        invoice = invoices.get(invoice_id, consistent=True)
    except Exception:  # the activity is a view: the delivery stands
        logger.warning("invoice activity not recorded", extra={"invoice_id": invoice_id})
        return
    if invoice is None:
        return
    log = DeliveryLog.from_json(invoice.delivery)
    DynamoActivityLog().record(
        activity.sent(
            invoice.integration_id,
            "InvoiceDetailRequest",
            log.last_code,
            log.last_text,
            now(),
            reference=invoice_id,
        )
    )


def _record_confirmation_attempt(key: str) -> None:
    """The confirmation's attempt in its integration's activity, as for invoices."""
    from functions.store.activity import DynamoActivityLog
    from functions.store.confirmations import DynamoConfirmationLedger

    try:
        pending = DynamoConfirmationLedger().pending(key)
    except Exception:  # the activity is a view: the delivery stands
        logger.warning("confirmation activity not recorded", extra={"outbox_key": key})
        return
    if pending is None:
        return
    facts = pending.confirmation
    DynamoActivityLog().record(
        activity.sent(
            facts.integration_id,
            "ConfirmationRequest",
            pending.delivery.last_code,
            pending.delivery.last_text,
            now(),
            reference=facts.order_id,
            payload_id=facts.payload_id,
        )
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=deliver_invoice, processor=processor, context=context
    )
