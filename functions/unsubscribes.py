"""The unsubscribe sweep: a cancelled subscription is announced `unsubscribe-success` once the
metering window after its cancellation has closed, when no more usage can be accepted for it
(`functions.subscription_events.METERING_WINDOW`).

Plain Python over an injected port (`functions.store.unsubscribes` is the DynamoDB one): an
hourly schedule calls `sweep`. Each subscription is marked unsubscribed and its event written
in one transaction conditioned on the version read, so a second sweep, or one running at the
same time, announces nothing twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from functions.clock import iso
from functions.seller_events import SellerEvent
from functions.subscription_events import unsubscribed
from functions.subscriptions import Subscription

BATCH = 100
"""Subscriptions read per Query page; a sweep walks every page whose window has closed."""


class UnsubscribePorts(Protocol):
    def closed_by(self, moment: str, page_size: int) -> list[Subscription]:
        """Cancelled subscriptions not yet unsubscribed whose window closed at or before
        `moment` (ISO), oldest window first."""
        ...

    def mark_unsubscribed(
        self, before: Subscription, after: Subscription, event: SellerEvent, now: datetime
    ) -> bool:
        """Store `after` (conditioned on `before.version`) and the event in one transaction;
        False when the subscription changed meanwhile (another sweep got there first)."""
        ...


@dataclass(frozen=True)
class SweepResult:
    announced: tuple[str, ...]  # the subscriptions announced unsubscribed by this sweep
    skipped: int  # found, but changed meanwhile: another sweep announced them


def sweep(ports: UnsubscribePorts, now: datetime) -> SweepResult:
    """Announce every cancelled subscription whose metering window has closed by `now`."""
    announced: list[str] = []
    skipped = 0
    for subscription in ports.closed_by(iso(now), BATCH):
        marked, event = unsubscribed(subscription, now)
        if ports.mark_unsubscribed(subscription, marked, event, now):
            announced.append(subscription.id)
        else:
            skipped += 1
    return SweepResult(tuple(announced), skipped)
