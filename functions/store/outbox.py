"""The outbox table, as the email worker uses it: claim an item, mark it sent, or release it.

Every write is one conditional UpdateItem, so two workers given the same stream record (Lambda
delivers at least once) cannot both hold the claim, and no write recreates an item DynamoDB TTL
has already removed. The order handler writes the items (`functions.store.orders`)."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import UpdateError

from functions.clock import iso
from functions.notifications import PENDING, SENDING, SENT, MailBeingSent, OutboxMail
from functions.store.errors import storage_errors
from functions.store.models import OutboxRecord

LEASE_SECONDS = 60
"""Longer than the worker's Lambda timeout (30 s): a live worker never loses its claim mid-send,
a dead one's claim lapses soon after."""


def _mail(record: OutboxRecord) -> OutboxMail:
    return OutboxMail(
        key=record.pk,
        template=record.template,
        recipients=tuple(str(r) for r in record.recipients or ()),
        context=dict(record.context or {}),
        attempts=int(record.attempts or 0),
    )


def _condition_failed(exc: UpdateError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


class DynamoOutbox:
    def claim(
        self, key: str, now: datetime, lease_seconds: int = LEASE_SECONDS
    ) -> OutboxMail | None:
        """pending → sending (or sending whose lease has lapsed → sending), attempts + 1.
        None when there is nothing to send (already sent, or gone); `MailBeingSent` when another
        worker holds a live claim, so the caller retries instead of dropping the mail."""
        moment = int(now.timestamp())
        record = OutboxRecord(key)
        with storage_errors("claiming the outbox mail"):
            try:
                record.update(
                    actions=[
                        OutboxRecord.status.set(SENDING),
                        OutboxRecord.attempts.add(1),
                        OutboxRecord.lease_until.set(moment + lease_seconds),
                    ],
                    condition=(OutboxRecord.status == PENDING)
                    | ((OutboxRecord.status == SENDING) & (OutboxRecord.lease_until < moment)),
                )
                return _mail(record)
            except UpdateError as exc:
                if not _condition_failed(exc):
                    raise
            try:
                current = OutboxRecord.get(key, consistent_read=True)
            except OutboxRecord.DoesNotExist:
                return None
        if current.status == SENT:
            return None
        raise MailBeingSent(f"Outbox mail {key} is being sent by another worker; retry later.")

    def mark_sent(self, key: str, message_id: str, now: datetime) -> None:
        """sending → sent, with SES's message id. A no-op if the claim was lost meanwhile."""
        with storage_errors("marking the outbox mail sent"):
            try:
                OutboxRecord(key).update(
                    actions=[
                        OutboxRecord.status.set(SENT),
                        OutboxRecord.message_id.set(message_id),
                        OutboxRecord.sent_at.set(iso(now)),
                        OutboxRecord.lease_until.set(0),
                    ],
                    condition=OutboxRecord.status == SENDING,
                )
            except UpdateError as exc:
                if not _condition_failed(exc):
                    raise

    def release(self, key: str) -> None:
        """sending → pending after a failed attempt, so the retry can claim it at once. Keeps
        the attempt count; a no-op unless the item is still claimed."""
        with storage_errors("releasing the outbox mail"):
            try:
                OutboxRecord(key).update(
                    actions=[OutboxRecord.status.set(PENDING), OutboxRecord.lease_until.set(0)],
                    condition=OutboxRecord.status == SENDING,
                )
            except UpdateError as exc:
                if not _condition_failed(exc):
                    raise
