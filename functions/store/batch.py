"""One BatchGetItem across tables: a page that needs a session, a product and a request reads
them in a single round trip (Request approval's budget is two DynamoDB calls, read + write)."""

from __future__ import annotations

from typing import Any

from pynamodb.models import Model

from functions.errors import Transient
from functions.store.errors import storage_errors

MAX_ATTEMPTS = 3


def get_many(*wanted: tuple[type[Model], str]) -> list[Any]:
    """The records for (model, hash key) pairs, None where absent, in the order asked."""
    keys: dict[str, list[dict[str, Any]]] = {}
    for model, key in wanted:
        keys.setdefault(model.Meta.table_name, []).append({"pk": {"S": key}})
    client = wanted[0][0]._get_connection().connection.client
    found: dict[tuple[str, str], dict[str, Any]] = {}
    request: dict[str, Any] = {
        table: {"Keys": [dict(k) for k in {k["pk"]["S"]: k for k in table_keys}.values()]}
        for table, table_keys in keys.items()
    }
    with storage_errors("reading the page's records"):
        for _ in range(MAX_ATTEMPTS):
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
