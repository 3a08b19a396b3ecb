"""Punchout sessions in DynamoDB (one PutItem to create, one GetItem to read)."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from functions.cxml.model import ItemOut, ItemRef, Money
from functions.sessions import (
    SESSION_REMEMBERED,
    IntegrationSnapshot,
    PunchOutSession,
    Requester,
)
from functions.store.errors import storage_errors
from functions.store.models import SessionRecord


def _item_out_json(item: ItemOut) -> dict[str, Any]:
    data = asdict(item)
    data["quantity"] = str(item.quantity)
    if item.unit_price is not None:
        data["unit_price"] = {
            "amount": str(item.unit_price.amount),
            "currency": item.unit_price.currency,
        }
    return data


def _item_out(data: dict[str, Any]) -> ItemOut:
    price = data.get("unit_price")
    return ItemOut(
        quantity=Decimal(data["quantity"]),
        item=ItemRef(**data["item"]),
        line_number=data.get("line_number"),
        unit_price=Money(Decimal(price["amount"]), price["currency"]) if price else None,
        description=data.get("description", ""),
        short_name=data.get("short_name", ""),
        unit_of_measure=data.get("unit_of_measure", ""),
        classification=data.get("classification", ""),
        classification_domain=data.get("classification_domain", ""),
    )


def session_of(record: SessionRecord) -> PunchOutSession:
    return PunchOutSession(
        token_digest=record.pk,
        integration_id=record.integration_id,
        integration_name=record.integration_name,
        system=record.system,
        buyer_cookie=record.buyer_cookie,
        browser_form_post_url=record.browser_form_post_url,
        operation=record.operation,
        deployment_mode=record.deployment_mode,
        requester=Requester(**record.requester),
        created_at=record.created_at,
        expires_at=record.ends_at or record.expires_at,
        payload_id=record.payload_id,
        selected_item=ItemRef(**record.selected_item) if record.selected_item else None,
        items_out=tuple(_item_out(item) for item in record.items_out or []),
        extrinsics=dict(record.extrinsics or {}),
        integration=IntegrationSnapshot(**(record.integration or {})),
    )


def session_record(session: PunchOutSession) -> SessionRecord:
    """The item of a session (also written inside a transaction, functions/store/activity.py)."""
    return SessionRecord(
        session.token_digest,
        integration_id=session.integration_id,
        integration_name=session.integration_name,
        system=session.system,
        buyer_cookie=session.buyer_cookie,
        browser_form_post_url=session.browser_form_post_url,
        operation=session.operation,
        deployment_mode=session.deployment_mode,
        requester=asdict(session.requester),
        payload_id=session.payload_id,
        selected_item=asdict(session.selected_item) if session.selected_item else None,
        items_out=[_item_out_json(item) for item in session.items_out],
        extrinsics=session.extrinsics,
        integration=asdict(session.integration),
        created_at=session.created_at,
        ends_at=session.expires_at,
        expires_at=session.expires_at + SESSION_REMEMBERED,
    )


class DynamoSessionStore:
    def put(self, session: PunchOutSession) -> None:
        record = session_record(session)
        with storage_errors("storing the punchout session"):
            record.save()

    def get(self, token_digest: str) -> PunchOutSession | None:
        with storage_errors("reading the punchout session"):
            try:
                record = SessionRecord.get(token_digest)
            except SessionRecord.DoesNotExist:
                return None
        return session_of(record)
