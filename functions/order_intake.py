"""Receiving one purchase order, as a use case: authenticate it, decide what it does, save it,
and read again and retry when another PO changed the same subscription meanwhile.

Plain Python: the store is a port (`OrderIntakePorts`), so the retry rules are testable
without DynamoDB, and the handler only decodes the event and encodes the answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from functions import orders
from functions.clock import now
from functions.cxml.parse import CxmlRequest, PurchaseOrder, without_credentials
from functions.errors import GatewayError, Transient
from functions.integrations import Integration, authenticate
from functions.orders import Fingerprint, OrderContext, OrderOutcome, StoredOrder
from functions.subscription_requests import SubscriptionRequest
from functions.subscriptions import Subscription

ATTEMPTS = 4
"""A PO racing another one on the same subscription is read again and retried."""


@dataclass(frozen=True)
class AlreadyReceived:
    """The save found this PO processed before: `marker` says which key, `kept` is the
    fingerprint received then."""

    marker: str
    kept: Fingerprint | None


class Raced:
    """The save lost a race with another change of the same subscription: read again."""


RACED = Raced()

SaveResult = AlreadyReceived | Raced | None
"""None: saved."""


class OrderIntakePorts(Protocol):
    def read(
        self, buyer_keys: list[str], request_ids: list[str]
    ) -> tuple[dict[str, Integration], dict[str, SubscriptionRequest], dict[str, Subscription]]:
        """The integrations for these From credential keys, the requests and their
        subscriptions (one batch read)."""
        ...

    def previous_order(self, integration_id: str, order_id: str) -> StoredOrder | None: ...

    def received_before(
        self, integration_id: str, payload_id: str, sent: Fingerprint
    ) -> tuple[str, Fingerprint | None] | None:
        """The marker and fingerprint of an earlier receipt of this PO, or None."""
        ...

    def save(self, outcome: OrderOutcome, moment: datetime) -> SaveResult:
        """Archive the original and commit the outcome, all or nothing."""
        ...


@dataclass(frozen=True)
class Receipt:
    """The Status 200 message, and what was accepted (None: a duplicate answered again)."""

    message: str
    accepted: OrderOutcome | None = None
    context: OrderContext | None = None
    integration_id: str = ""


def receive(
    request: CxmlRequest,
    po: PurchaseOrder,
    document: bytes,
    public_url: str,
    ports: OrderIntakePorts,
    ariba_secret: Callable[[], str | None],
    clock: Callable[[], datetime] = now,
) -> Receipt:
    """Process one OrderRequest; a Receipt, or a GatewayError. A retry or a concurrent
    duplicate of a PO gets its answer again and changes nothing."""
    orders.check_envelope(po, request.payload_id)
    sent = orders.fingerprint(po)
    stored_document = without_credentials(document, request.header.sender_secrets)
    keys = list(dict.fromkeys(c.key for c in request.header.from_credentials[:10]))
    for _ in range(ATTEMPTS):
        candidates, requests, subscriptions = ports.read(keys, orders.request_ids(po))
        integration = authenticate(request.header, candidates, ariba_secret).integration
        try:
            receipt = _attempt(
                request, po, sent, stored_document, public_url, ports, clock, integration,
                requests, subscriptions,
            )  # fmt: skip
        except GatewayError as refusal:  # its activity shows it (functions/activity.py)
            refusal.integration_id = refusal.integration_id or integration.id
            raise
        if receipt is not None:
            return receipt
    raise Transient("The order could not be saved because of concurrent changes; please retry.")


def _attempt(
    request: CxmlRequest,
    po: PurchaseOrder,
    sent: Fingerprint,
    stored_document: bytes,
    public_url: str,
    ports: OrderIntakePorts,
    clock: Callable[[], datetime],
    integration: Integration,
    requests: dict[str, SubscriptionRequest],
    subscriptions: dict[str, Subscription],
) -> Receipt | None:
    """One read-decide-save round for the authenticated integration; None: raced, read again."""
    previous = ports.previous_order(integration.id, po.order_id) if po.order_type != "new" else None
    if previous is not None:  # its lines count too: a request it no longer names is read
        missing = [rid for rid in orders.request_ids_of(previous) if rid not in requests]
        if missing:
            _, more_requests, more_subscriptions = ports.read([], missing)
            requests, subscriptions = (
                requests | more_requests,
                subscriptions | more_subscriptions,
            )
    context = OrderContext(integration, requests, subscriptions, previous)
    try:
        outcome = orders.process(
            po,
            context,
            payload_id=request.payload_id,
            deployment_mode=request.deployment_mode,
            document=stored_document,
            base_url=public_url,
            now=clock(),
        )
    except GatewayError as refusal:
        if refusal.status >= 500:
            raise
        received = ports.received_before(integration.id, request.payload_id, sent)
        if received is None:
            raise
        answer = orders.answer_to_reuse(*received, sent, request.payload_id)
        return Receipt(answer, integration_id=integration.id)
    outcome = _with_confirmation(outcome, integration, clock())
    saved = ports.save(outcome, clock())
    if isinstance(saved, AlreadyReceived):
        return Receipt(
            orders.answer_to_reuse(saved.marker, saved.kept, sent, request.payload_id),
            integration_id=integration.id,
        )
    if isinstance(saved, Raced):
        return None
    return Receipt(outcome.message, outcome, context, integration.id)


def _with_confirmation(
    outcome: OrderOutcome, integration: Integration, at: datetime
) -> OrderOutcome:
    """The outcome with the order confirmation it owes, written in the same transaction."""
    from functions import order_confirmations

    confirmation = order_confirmations.for_order(
        outcome.order, enabled=integration.order_confirmations, stale=outcome.stale, moment=at
    )
    return replace(outcome, confirmation=confirmation) if confirmation else outcome
