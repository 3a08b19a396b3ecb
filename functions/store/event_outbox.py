"""Seller events as outbox items: what the PO path, the pre-approval and the unsubscribe
sweep put in the transaction of the change an event announces (docs/FULFILLMENT.md,
"Contracts"). Conditioned on the key being new by the caller, so an event is written once."""

from __future__ import annotations

from datetime import datetime

from functions.seller_events import TEMPLATE, SellerEvent
from functions.store.models import OutboxRecord


def event_record(event: SellerEvent, created_at: str, expires_at: datetime) -> OutboxRecord:
    """The outbox item `event#...`: pending, no recipients; the notification worker
    publishes its `context` (source, detail type, detail) on the EventBridge bus."""
    return OutboxRecord(
        event.key,
        template=TEMPLATE,
        recipients=[],
        context={
            "source": event.source,
            "detail_type": event.detail_type,
            "detail": event.detail,
        },
        status="pending",  # what the worker claims (functions.notifications.PENDING)
        created_at=created_at,
        expires_at=expires_at,
    )
