"""Delivering one order confirmation (`functions.order_confirmations`) with the invoice rules:
the same judge of answers (`delivery.classify`), the same attempt log (`delivery.after`), the
same states and the same last attempt (the delivery queue's MAX_RECEIVES). Only `created`
confirmations are sent, and each state change is conditional on the state read, so a repeated
stream record or queue message never posts a confirmation twice once it was answered.

Plain Python over ports: the ledger is the outbox item (`functions.store.confirmations`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from functions.business_network import BusinessNetwork, NotConfigured
from functions.cxml.build import order_confirmation
from functions.delivery import (
    CREATED,
    FAILED,
    STORED,
    IntegrationLookup,
    Outcome,
    RetryLater,
    endpoint_of,
    next_state,
    opened_endpoint,
    settle,
)
from functions.delivery_transport import (
    TIMEOUT_SECONDS,
    Answer,
    EndpointRefused,
    Send,
    Sender,
    Unanswered,
    check_endpoint,
)
from functions.delivery_verdict import DeliveryLog, Verdict, after, classify, clip
from functions.integrations import SecretBox
from functions.order_confirmations import OrderConfirmation


@dataclass(frozen=True)
class PendingConfirmation:
    confirmation: OrderConfirmation
    state: str
    delivery: DeliveryLog


class ConfirmationLedger(Protocol):
    def pending(self, key: str) -> PendingConfirmation | None: ...

    def record(self, key: str, state: str, log: DeliveryLog, expected: str) -> bool:
        """Set state and log if the state is still `expected`; False if it is not."""
        ...


class ConfirmationMissing(Exception):
    """The message names a confirmation the outbox does not hold (expired, or not ours)."""


@dataclass(frozen=True)
class Ports:
    ledger: ConfirmationLedger
    integrations: IntegrationLookup
    sender: Sender
    secrets: SecretBox | None = None
    network: BusinessNetwork | None = None  # where Ariba integrations' documents go
    allow_local_http: bool = False
    timeout: float = TIMEOUT_SECONDS


def deliver(key: str, *, receive_count: int, ports: Ports, now: datetime) -> Outcome:
    """Send one confirmation once; raise RetryLater for a transient failure before the last
    attempt (the attempt is recorded; the state stays `created`)."""
    pending = ports.ledger.pending(key)
    if pending is None:
        raise ConfirmationMissing(f"No order confirmation {key!r} to deliver.")
    if pending.state != CREATED:
        return Outcome(key, pending.state, pending.delivery, sent=False)
    facts = pending.confirmation
    kept = pending.delivery
    try:
        endpoint = endpoint_of(ports.integrations.get(facts.integration_id), ports.network)
    except NotConfigured as exc:  # the marketplace's network account is incomplete
        endpoint, kept = None, replace(pending.delivery, note=str(exc))
    if endpoint is None:
        return settle(ports.ledger, key, pending, STORED, kept, sent=False)
    try:
        check_endpoint(endpoint, allow_local_http=ports.allow_local_http)
        endpoint = opened_endpoint(endpoint, facts.integration_id, ports.secrets)
        secret = endpoint.shared_secret if isinstance(endpoint.shared_secret, str) else None
        body = order_confirmation(
            supplier=endpoint.from_credential,
            buyer=endpoint.to_credential,
            sender=endpoint.sender_credential,
            sender_secret=secret,
            payload_id=facts.payload_id,
            timestamp=facts.timestamp,
            confirm_id=f"{facts.order_id}-accept"[:100],
            order_id=facts.order_id,
            order_payload_id=facts.order_payload_id,
            deployment_mode=facts.deployment_mode,
        )
        reply: Answer | Unanswered = ports.sender.post(
            Send(endpoint.url, body, timeout=ports.timeout)
        )
    except Unanswered as exc:
        reply = exc
    except EndpointRefused as exc:
        verdict = Verdict(FAILED, None, clip(str(exc)))
        log = after(pending.delivery, verdict, now)
        return settle(ports.ledger, key, pending, FAILED, log, sent=False, verdict=verdict)
    verdict = classify(reply, pending.delivery)
    log = after(pending.delivery, verdict, now)
    state = next_state(verdict, receive_count)
    outcome = settle(ports.ledger, key, pending, state, log, sent=True, verdict=verdict)
    if outcome.state == CREATED and not outcome.superseded:
        raise RetryLater(f"Order confirmation {key}: {verdict.text}")
    return outcome
