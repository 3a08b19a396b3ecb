"""Subscription requests in DynamoDB: one item per request, its cart lines inside."""

from __future__ import annotations

from dataclasses import asdict, replace
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import PutError

from functions.errors import Conflict
from functions.sessions import Requester
from functions.store.errors import storage_errors
from functions.store.models import RequestRecord
from functions.subscription_requests import (
    AWAITING_PUNCHOUT,
    CartLine,
    SubscriptionRequest,
    expires_at,
)

_DECIMALS = ("quantity", "unit_price")


def _line_json(line: CartLine) -> dict[str, Any]:
    data = asdict(line)
    for name in _DECIMALS:
        data[name] = str(data[name])
    return data


def _line(data: dict[str, Any]) -> CartLine:
    values = dict(data)
    for name in _DECIMALS:
        values[name] = Decimal(values[name])
    return CartLine(**values)


def record_of(request: SubscriptionRequest) -> RequestRecord:
    document = asdict(request)
    document["lines"] = [_line_json(line) for line in request.lines]
    document["estimates"] = {k: str(v) for k, v in request.estimates.items()}
    return RequestRecord(
        request.id,
        integration_id=request.integration_id,
        state=request.state,
        awaiting_integration=request.integration_id if request.state == AWAITING_PUNCHOUT else None,
        created_at=request.created_at,
        document=document,
        version=request.version,
        expires_at=expires_at(request),
    )


def request_of(record: RequestRecord) -> SubscriptionRequest:
    data = dict(record.document)
    data["lines"] = tuple(_line(line) for line in data["lines"])
    data["estimates"] = {k: Decimal(v) for k, v in data.get("estimates", {}).items()}
    data["requester"] = Requester(**data.get("requester", {}))
    data["version"] = int(record.version)
    return SubscriptionRequest(**data)


class DynamoRequestStore:
    def get(self, request_id: str) -> SubscriptionRequest | None:
        with storage_errors("reading the subscription request"):
            try:
                return request_of(RequestRecord.get(request_id))
            except RequestRecord.DoesNotExist:
                return None

    def save(self, request: SubscriptionRequest) -> SubscriptionRequest:
        """One conditional PutItem: a new id must not exist; an edit replaces the version it
        read (two tabs editing the same request cannot silently overwrite each other)."""
        stored = replace(request, version=request.version + 1)
        condition = (
            RequestRecord.pk.does_not_exist()
            if request.version == 0
            else RequestRecord.version == request.version
        )
        with storage_errors("saving the subscription request"):
            try:
                record_of(stored).save(condition=condition)
            except PutError as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    raise Conflict(
                        "This request changed in another window; reload and try again."
                    ) from exc
                raise
        return stored

    def awaiting_punchout(
        self, integration_id: str, since: str, limit: int = 10
    ) -> list[SubscriptionRequest]:
        """Requests a Coupa user started on the marketplace since `since` (ISO), newest first."""
        with storage_errors("looking up pending requests"):
            records = RequestRecord.by_pending.query(
                integration_id,
                RequestRecord.created_at > since,
                scan_index_forward=False,
                limit=limit,
            )
            return [request_of(r) for r in records]

    def count_awaiting_punchout(self, integration_id: str, since: str) -> int:
        """How many requests wait for the integration's punchouts (one Query, counting)."""
        with storage_errors("counting pending requests"):
            return int(
                RequestRecord.by_pending.count(integration_id, RequestRecord.created_at > since)
            )
