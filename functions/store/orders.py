"""Purchase orders in DynamoDB: one batch read of everything a PO needs, and one transaction
that writes the order, its de-duplication markers, the subscriptions, the requests, the
outbox mail and the outbox requests for contract invoices together (all or nothing)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from functions.integrations import Integration
from functions.orders import OrderOutcome, StoredOrder, order_json, order_of
from functions.store.batch import get_many
from functions.store.errors import storage_errors
from functions.store.integrations import BUYER, integration_of
from functions.store.models import (
    IntegrationRecord,
    OrderRecord,
    OutboxRecord,
    RequestRecord,
    SubscriptionRecord,
)
from functions.store.requests import record_of as request_record
from functions.store.requests import request_of
from functions.store.subscriptions import subscription_of, subscription_record
from functions.subscription_requests import SubscriptionRequest
from functions.subscriptions import Subscription

OUTBOX_KEPT = timedelta(days=30)


class DuplicateOrder(Exception):
    """This payloadID, or this orderID/type/version, was already processed."""


class ConcurrentChange(Exception):
    """Another PO changed the same subscription meanwhile: read again and retry."""


# --- reads ----------------------------------------------------------------------------------


def read_for_order(
    buyer_keys: list[str], request_ids: list[str]
) -> tuple[dict[str, Integration], dict[str, SubscriptionRequest], dict[str, Subscription]]:
    """The integrations for the From credentials, the requests the lines name and their
    subscriptions: one BatchGetItem across three tables."""
    wanted: list[tuple[Any, str]] = [(IntegrationRecord, BUYER + key) for key in buyer_keys]
    wanted += [(RequestRecord, rid) for rid in request_ids]
    wanted += [(SubscriptionRecord, rid) for rid in request_ids]
    found = get_many(*wanted) if wanted else []
    integrations: dict[str, Integration] = {}
    requests: dict[str, SubscriptionRequest] = {}
    subscriptions: dict[str, Subscription] = {}
    for (model, key), record in zip(wanted, found, strict=True):
        if record is None:
            continue
        if model is IntegrationRecord:
            integrations[key[len(BUYER) :]] = integration_of(record)
        elif model is RequestRecord:
            requests[key] = request_of(record)
        else:
            subscriptions[key] = subscription_of(record)
    return integrations, requests, subscriptions


def _order_key(integration_id: str, order_id: str) -> str:
    return f"order#{integration_id}#{order_id}"


def _payload_key(integration_id: str, payload_id: str) -> str:
    return f"payload#{integration_id}#{payload_id}"


def previous_order(integration_id: str, order_id: str) -> StoredOrder | None:
    with storage_errors("reading the earlier version of the order"):
        try:
            record = OrderRecord.get(_order_key(integration_id, order_id))
        except OrderRecord.DoesNotExist:
            return None
    return order_of(record.document) if record.document else None


def already_received(integration_id: str, payload_id: str) -> bool:
    """Asked only before refusing a PO: a retry of one we accepted must get 200 again."""
    with storage_errors("checking for a duplicate order"):
        try:
            OrderRecord.get(_payload_key(integration_id, payload_id))
        except OrderRecord.DoesNotExist:
            return False
    return True


# --- the one write --------------------------------------------------------------------------


def commit(outcome: OrderOutcome, now: datetime) -> None:
    """Everything a PO changes, in one TransactWriteItems. The two markers make a retry or a
    concurrent duplicate fail as a whole (DuplicateOrder); version conditions make a PO that
    raced another one on the same subscription fail as a whole (ConcurrentChange)."""
    order = outcome.order
    received = order.received_at
    markers = [
        OrderRecord(
            _payload_key(order.integration_id, order.payload_id),
            kind="payload", integration_id=order.integration_id, order_id=order.order_id,
            received_at=received,
        ),
        OrderRecord(
            f"seen#{order.integration_id}#{order.order_id}#{order.order_type}#{order.order_version}",
            kind="seen", integration_id=order.integration_id, order_id=order.order_id,
            received_at=received,
        ),
    ]  # fmt: skip
    expires = now + OUTBOX_KEPT
    with storage_errors("saving the purchase order"):
        try:
            with TransactWrite(connection=OrderRecord._get_connection().connection) as tx:
                for marker in markers:
                    tx.save(marker, condition=OrderRecord.pk.does_not_exist())
                if not outcome.stale:
                    tx.save(
                        OrderRecord(
                            _order_key(order.integration_id, order.order_id),
                            kind="order", integration_id=order.integration_id,
                            order_id=order.order_id, document=order_json(order),
                            received_at=received,
                        )
                    )  # fmt: skip
                for subscription in outcome.subscriptions:
                    tx.save(
                        subscription_record(_next_version(subscription)),
                        condition=_expected_version(SubscriptionRecord, subscription.version),
                    )
                for request in outcome.requests:
                    record = request_record(request)
                    record.version = request.version + 1
                    tx.save(record, condition=RequestRecord.version == request.version)
                for mail in outcome.mails:
                    tx.save(
                        OutboxRecord(
                            mail.key,
                            template=mail.template,
                            recipients=list(mail.recipients),
                            context=mail.context,
                            status="pending",
                            created_at=received,
                            expires_at=expires,
                        ),
                        condition=OutboxRecord.pk.does_not_exist(),
                    )
                for key in outcome.invoices:
                    tx.save(invoice_request(key, received, expires),
                            condition=OutboxRecord.pk.does_not_exist())  # fmt: skip
        except TransactWriteError as exc:
            reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
            if reasons[:2] and "ConditionalCheckFailed" in reasons[:2]:
                raise DuplicateOrder from exc
            if any(code in ("ConditionalCheckFailed", "TransactionConflict") for code in reasons):
                raise ConcurrentChange from exc
            if exc.cause_response_code == "TransactionConflictException":
                raise ConcurrentChange from exc
            raise


INVOICE_REQUESTED = "invoice"
"""The status of an outbox item asking the billing worker for an invoice: never "pending",
so the email worker, should it see the item, takes it for no mail of its own
(`notifications.is_fresh`)."""


def invoice_request(key: str, received: str, expires: datetime) -> OutboxRecord:
    """The outbox item `invoice#<subscription>#contract`: its stream record triggers the
    billing worker (functions.billing_run), which issues the contract invoice once."""
    return OutboxRecord(
        key,
        template="contract_invoice",
        recipients=[],
        context={},
        status=INVOICE_REQUESTED,
        created_at=received,
        expires_at=expires,
    )


def _next_version(subscription: Subscription) -> Subscription:
    return replace(subscription, version=subscription.version + 1)


def _expected_version(model: Any, version: int) -> Any:
    return model.pk.does_not_exist() if version == 0 else model.version == version
