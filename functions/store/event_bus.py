"""Amazon EventBridge: one `PutEvents` entry per seller event, on the marketplace's bus."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.errors import Transient
from functions.store.timeouts import LazyClient


class EventNotPublished(Transient):
    """EventBridge did not take the event (throttled, unreachable, the entry refused...). The
    worker releases the outbox item and fails the record, so Lambda retries it."""


class EventBridgeBus:
    """The bus named `EVENT_BUS_NAME`; the `events` client is created on the first publish."""

    def __init__(self, region: str, bus_name: str | None) -> None:
        self._events = LazyClient("events", region)
        self._bus_name = bus_name

    def publish(self, source: str, detail_type: str, detail: dict[str, Any], time: datetime) -> str:
        """EventBridge's event id. Raises `EventNotPublished` unless the one entry was taken:
        PutEvents answers 200 even when it refuses an entry (`FailedEntryCount`)."""
        if not self._bus_name:
            raise EventNotPublished(
                "EVENT_BUS_NAME is not set: no bus to publish seller events on."
            )
        entry = {
            "EventBusName": self._bus_name,
            "Source": source,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, separators=(",", ":"), sort_keys=True),
            "Time": time,
        }
        try:
            answer = self._events().put_events(Entries=[entry])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise EventNotPublished(f"EventBridge refused PutEvents: {code}.") from exc
        except BotoCoreError as exc:
            raise EventNotPublished(
                f"EventBridge could not be reached: {type(exc).__name__}."
            ) from exc
        results = answer.get("Entries") or [{}]
        result = results[0]
        if answer.get("FailedEntryCount") or result.get("ErrorCode") or not result.get("EventId"):
            code = result.get("ErrorCode") or "no event id"
            raise EventNotPublished(f"EventBridge refused the event from {source}: {code}.")
        return str(result["EventId"])
