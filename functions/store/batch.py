"""One BatchGetItem across tables: a page that needs a session, a product and a request reads
them in a single round trip (Request approval's budget is two DynamoDB calls, read + write)."""

from __future__ import annotations

import random
import time
from typing import Any

from pynamodb.connection import Connection
from pynamodb.models import Model

from functions.errors import Transient
from functions.store.errors import storage_errors

MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 0.05  # before the 2nd attempt; doubled before the 3rd, with full jitter


def connection_of(model: type[Model]) -> Connection:
    """The low-level connection a model's table uses (transactions, raw batch reads and updates
    need it). pynamodb has no public accessor: this is the one place reaching for its private
    `_get_connection()`, so an upgrade that renames it breaks here only."""
    return model._get_connection().connection


def _backoff(attempt: int) -> None:
    """Wait before retrying unprocessed keys, as AWS advises (exponential, full jitter)."""
    time.sleep(random.uniform(0, BACKOFF_SECONDS * 2**attempt))  # noqa: S311 (not security)


def get_many(*wanted: tuple[type[Model], str]) -> list[Any]:
    """The records for (model, hash key) pairs, None where absent, in the order asked."""
    keys: dict[str, list[dict[str, Any]]] = {}
    for model, key in wanted:
        keys.setdefault(model.Meta.table_name, []).append({"pk": {"S": key}})
    client = connection_of(wanted[0][0]).client
    found: dict[tuple[str, str], dict[str, Any]] = {}
    request: dict[str, Any] = {
        table: {"Keys": [dict(k) for k in {k["pk"]["S"]: k for k in table_keys}.values()]}
        for table, table_keys in keys.items()
    }
    with storage_errors("reading the page's records"):
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                _backoff(attempt - 1)
            answer = client.batch_get_item(RequestItems=request)
            for table, items in answer.get("Responses", {}).items():
                for item in items:
                    found[(table, item["pk"]["S"])] = item
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise Transient("Storage is busy; please retry.")
    results: list[Any] = []
    for model, key in wanted:
        item = found.get((model.Meta.table_name, key))
        results.append(model.from_raw_data(item) if item is not None else None)
    return results
