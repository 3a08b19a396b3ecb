"""moto's TransactWriteItems takes a deep copy of every table a transaction touches before it
runs (to roll back a cancelled one), so each transaction costs time in proportion to the whole
table: DynamoDB's does not. Usage invoices are written in one transaction with their budget
ledger (docs/INVOICING.md "Budgets"), so over 10,000 subscriptions moto alone would make the
billing run look quadratic. `item_snapshots()` keeps moto's all-or-nothing answer with a copy
of the items the transaction names instead of whole tables. Bench only: tests run moto as it
is (small tables, where the copy costs nothing)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def item_snapshots() -> Iterator[None]:
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items

    class _TablesUncopied:
        """moto's module sees this as `copy`: a table is "copied" as itself."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def _keys(table: Table, op: dict[str, Any]) -> tuple[DynamoType, DynamoType | None]:
        source = op.get("Key") or op["Item"]
        range_key = table.range_key_attr
        return (
            DynamoType(source[table.hash_key_attr]),
            DynamoType(source[range_key]) if range_key else None,
        )

    def _restore(
        table: Table, hash_key: DynamoType, range_key: DynamoType | None, was: Any
    ) -> None:
        if range_key is None:
            if was is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = was
            return
        if was is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items[hash_key][range_key] = was

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        before = []
        for item in transact_items:
            _, op = next(iter(item.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            hash_key, range_key = _keys(table, op)
            found = table.get_item(hash_key, range_key)
            before.append((table, hash_key, range_key, copy.deepcopy(found)))
        real_copy = models.copy
        models.copy = _TablesUncopied  # type: ignore[assignment]
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, was in reversed(before):
                _restore(table, hash_key, range_key, was)
            raise
        finally:
            models.copy = real_copy

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]
