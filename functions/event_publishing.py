"""Seller events, from outbox item to EventBridge: the notification (email) worker's second job.

The PO path, the pre-approval path and the unsubscribe sweep write an `event#` outbox item
(template `seller_event`, context `{"source", "detail_type", "detail"}`) in the transaction of
the state change (functions/seller_events.py). The outbox stream hands it to the email worker,
which calls `publish`: claim the item (so a stream record delivered twice, or to two workers at
once, publishes once), PutEvents, mark it sent with EventBridge's event id. A failure releases
the claim and raises, so Lambda retries the record; an item is never marked sent unpublished.

Delivery to a seller is at-least-once in the worst case: a crash between PutEvents and marking
the item sent leaves a claim whose lease lapses, and the retry publishes again. The event's
`id` (its outbox key: one per subscription, action and PO version) lets a seller drop a repeat.
Plain Python: the outbox and the bus are ports (functions.store.outbox, .store.event_bus)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from functions import seller_events
from functions.errors import Transient
from functions.notifications import Outbox


class UnpublishableEvent(Exception):
    """The item can never be published as it stands (not a seller event, a source outside the
    marketplace's, no detail): retries cannot help, it ends in the dead-letter queue."""


class EventBus(Protocol):
    def publish(
        self, source: str, detail_type: str, detail: dict[str, Any], time: datetime
    ) -> str: ...


@dataclass(frozen=True)
class Publication:
    """What `publish` did: `published`, `already_handled` (published, claimed by another
    worker, or gone) or `published_unrecorded` (EventBridge took it, marking it sent failed)."""

    key: str
    outcome: str
    action: str = ""
    event_id: str | None = None


@dataclass(frozen=True)
class BusEntry:
    source: str
    detail_type: str
    detail: dict[str, Any]
    time: datetime


def bus_entry(key: str, template: str, context: Mapping[str, Any], at: datetime) -> BusEntry:
    """The PutEvents entry for an outbox item, checked: only the marketplace's own sources (the
    bus policy gives each seller its `procurement-gateway.<account>`), and a detail naming its
    action. The detail gets `id` = the outbox key; the entry's time is when the change happened
    (`occurred-at`), so a retry does not move it."""
    if template != seller_events.TEMPLATE:
        raise UnpublishableEvent(f"outbox item {key} is not a seller event (template {template!r})")
    source = str(context.get("source") or "")
    detail = context.get("detail")
    detail_type = str(context.get("detail_type") or "")
    if not source.startswith(seller_events.SOURCE_PREFIX) or len(source) == len(
        seller_events.SOURCE_PREFIX
    ):
        raise UnpublishableEvent(f"seller event {key} has no marketplace source ({source!r})")
    if not isinstance(detail, Mapping) or detail.get("action") not in seller_events.ACTIONS:
        raise UnpublishableEvent(f"seller event {key} has no detail with a known action")
    if not detail_type:
        raise UnpublishableEvent(f"seller event {key} has no detail type")
    return BusEntry(source, detail_type, {**detail, "id": key}, _occurred_at(detail, at))


def _occurred_at(detail: Mapping[str, Any], at: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(str(detail.get("occurred-at") or ""))
    except ValueError:
        return at
    return moment if moment.tzinfo is not None else at


def publish(key: str, outbox: Outbox, bus: EventBus, at: datetime) -> Publication:
    """Claim, PutEvents, mark sent. Raises (after releasing the claim) when the event was not
    published, so the stream record is retried.

    Once EventBridge has taken the event, a failure to mark it sent is reported, not raised, as
    for mail (functions.notifications.deliver): the item stays `sending`, no retry repeats it."""
    item = outbox.claim(key, at)
    if item is None:
        return Publication(key, "already_handled")
    try:
        entry = bus_entry(key, item.template, item.context, at)
        event_id = bus.publish(entry.source, entry.detail_type, entry.detail, entry.time)
    except BaseException:
        outbox.release(key)
        raise
    action = str(entry.detail["action"])
    try:
        outbox.mark_sent(key, event_id, at)
    except Transient:
        return Publication(key, "published_unrecorded", action, event_id)
    return Publication(key, "published", action, event_id)
