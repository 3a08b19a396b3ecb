"""Purchase orders in DynamoDB: one batch read of everything a PO needs, and one transaction
that writes the order, its de-duplication markers, the subscriptions, the requests, the
outbox mail, the seller events and the outbox requests for contract invoices together (all
or nothing)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from functions import contracts
from functions.integrations import Integration
from functions.order_confirmations import TEMPLATE, OrderConfirmation
from functions.orders import (
    ORDER_ITEM,
    PAYLOAD_MARKER,
    SEEN_MARKER,
    Fingerprint,
    OrderOutcome,
    StoredOrder,
    order_json,
    order_of,
)
from functions.store import invoice_files
from functions.store.batch import connection_of, get_many
from functions.store.errors import NotStorable, storage_errors
from functions.store.event_outbox import event_record
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
    """This payloadID, or this orderID/type/version, was already processed (or, for a `new`
    order, its orderID): `marker` says which, `kept` is the fingerprint received then."""

    def __init__(self, marker: str, kept: Fingerprint | None) -> None:
        super().__init__(marker)
        self.marker = marker
        self.kept = kept


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


def order_key(integration_id: str, order_id: str) -> str:
    """The kept order's key (the status ledger reads and updates it too)."""
    return f"order#{integration_id}#{order_id}"


def payload_key(integration_id: str, payload_id: str) -> str:
    """The marker of an OrderRequest's payloadID, holding its orderID."""
    return f"payload#{integration_id}#{payload_id}"


def previous_order(integration_id: str, order_id: str) -> StoredOrder | None:
    with storage_errors("reading the earlier version of the order"):
        try:
            record = OrderRecord.get(order_key(integration_id, order_id))
        except OrderRecord.DoesNotExist:
            return None
    return order_of(record.document) if record.document else None


def kept_order_record(
    integration_id: str, order_id: str
) -> tuple[StoredOrder, dict[str, Any]] | None:
    """The order as it stands and its buyer status (the admin view): None when unknown."""
    with storage_errors("reading the order"):
        try:
            record = OrderRecord.get(order_key(integration_id, order_id))
        except OrderRecord.DoesNotExist:
            return None
    if record.kind != "order" or not record.document or record.integration_id != integration_id:
        return None
    return order_of(record.document), dict(record.buyer_status or {})


def _seen_key(integration_id: str, order_id: str, order_type: str, order_version: int) -> str:
    return f"seen#{integration_id}#{order_id}#{order_type}#{order_version}"


def _fingerprint_of(document: dict[str, Any] | None) -> Fingerprint | None:
    kept = (document or {}).get("fingerprint")
    return Fingerprint.of_json(kept) if kept else None


def received_before(
    integration_id: str, payload_id: str, sent: Fingerprint
) -> tuple[str, Fingerprint | None] | None:
    """Asked only before refusing a PO (one BatchGetItem of its two markers): a retry of one
    we accepted must get its 200 again, a reuse of its keys a 409. None: never received."""
    found = get_many(
        (OrderRecord, payload_key(integration_id, payload_id)),
        (
            OrderRecord,
            _seen_key(integration_id, sent.order_id, sent.order_type, sent.order_version),
        ),
    )
    for marker, record in zip((PAYLOAD_MARKER, SEEN_MARKER), found, strict=True):
        if record is not None:
            return marker, _fingerprint_of(record.document)
    return None


def archive(outcome: OrderOutcome) -> None:
    """Put a large original in S3 before the commit refers to it (its key is its content's
    digest: a retry puts the same object again)."""
    if outcome.archive and outcome.order.document_key and not outcome.stale:
        invoice_files.put(outcome.order.document_key, outcome.archive, invoice_files.XML_TYPE)


# --- the one write --------------------------------------------------------------------------


def commit(outcome: OrderOutcome, now: datetime, activity: Model | None = None) -> None:
    """Everything a PO changes, in one TransactWriteItems. The two markers make a retry or a
    concurrent duplicate fail as a whole (DuplicateOrder); version conditions make a PO that
    raced another one on the same subscription fail as a whole (ConcurrentChange). `activity`,
    the integration's activity entry (functions/store/activity.py), is the transaction's last
    item: it exists exactly when the order does, at no extra call."""
    order = outcome.order
    received = order.received_at
    sent = outcome.fingerprint
    kept = {"fingerprint": sent.as_json()} if sent is not None else None
    seen = _seen_key(order.integration_id, order.order_id, order.order_type, order.order_version)
    markers = [
        OrderRecord(
            payload_key(order.integration_id, order.payload_id),
            kind="payload", integration_id=order.integration_id, order_id=order.order_id,
            received_at=received, document=kept,
        ),
        OrderRecord(
            seen, kind="seen", integration_id=order.integration_id, order_id=order.order_id,
            received_at=received, document=kept,
        ),
    ]  # fmt: skip
    expires = now + OUTBOX_KEPT
    with storage_errors("saving the purchase order"):
        try:
            with TransactWrite(connection=connection_of(OrderRecord)) as tx:
                for marker in markers:
                    tx.save(
                        marker, condition=OrderRecord.pk.does_not_exist(), return_values="ALL_OLD"
                    )
                if not outcome.stale:
                    # A `new` order may not replace one already received under its orderID.
                    tx.save(
                        OrderRecord(
                            order_key(order.integration_id, order.order_id),
                            kind="order", integration_id=order.integration_id,
                            order_id=order.order_id, document=order_json(order),
                            received_at=received,
                        ),
                        condition=OrderRecord.pk.does_not_exist()
                        if order.order_type == "new"
                        else None,
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
                        OutboxRecord.pending(mail, received, expires),
                        condition=OutboxRecord.pk.does_not_exist(),
                    )
                for event in outcome.events:
                    tx.save(event_record(event, received, expires),
                            condition=OutboxRecord.pk.does_not_exist())  # fmt: skip
                for key in outcome.invoices:
                    tx.save(invoice_request(key, received, expires),
                            condition=OutboxRecord.pk.does_not_exist())  # fmt: skip
                if outcome.confirmation is not None:
                    tx.save(confirmation_request(outcome.confirmation, received, expires),
                            condition=OutboxRecord.pk.does_not_exist())  # fmt: skip
                if activity is not None:
                    tx.save(activity)
        except TransactWriteError as exc:
            cancelled = list(exc.cancellation_reasons or [])
            reasons = [r.code if r else None for r in cancelled]
            for index, which in enumerate((PAYLOAD_MARKER, SEEN_MARKER)):
                reason = cancelled[index] if index < len(cancelled) else None
                if reason is not None and reason.code == "ConditionalCheckFailed":
                    old = OrderRecord.from_raw_data(reason.raw_item) if reason.raw_item else None
                    raise DuplicateOrder(
                        which, _fingerprint_of(old.document if old else None)
                    ) from exc
            new_order = not outcome.stale and order.order_type == "new"
            if new_order and reasons[2:3] == ["ConditionalCheckFailed"]:
                raise DuplicateOrder(ORDER_ITEM, None) from exc
            if "ValidationError" in reasons or exc.cause_response_code == "ValidationException":
                raise NotStorable(
                    f"Order {order.order_id} could not be stored as sent (storage refused it "
                    "as invalid); a retry will not change that. Contact the marketplace's "
                    "support."
                ) from exc
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


def confirmation_request(
    confirmation: OrderConfirmation, received: str, expires: datetime
) -> OutboxRecord:
    """The outbox item `confirmation#...`: its stream record has the confirmation queued for
    the delivery worker (functions/order_confirmations.py). Its status is the delivery state,
    never "pending", so the email worker takes it for no mail of its own."""
    return OutboxRecord(
        confirmation.key,
        template=TEMPLATE,
        recipients=[],
        context=confirmation.to_json(),
        status=contracts.INVOICE_CREATED,
        created_at=received,
        expires_at=expires,
    )


def _next_version(subscription: Subscription) -> Subscription:
    return replace(subscription, version=subscription.version + 1)


def _expected_version(model: Any, version: int) -> Any:
    return model.pk.does_not_exist() if version == 0 else model.version == version
