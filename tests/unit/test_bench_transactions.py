"""The bench's per-item rollback of moto's TransactWriteItems (bench/moto_transactions.py) must
answer as moto does: all or nothing, the cancelled transaction leaving every item as it was."""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from bench.moto_transactions import item_snapshots

TABLE = f"bench-transactions-{uuid.uuid4().hex[:8]}"
"""Unique: the suite may already run inside one moto (tables outlive this test's mock)."""


def _table(client: Any) -> None:
    client.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
    )  # fmt: skip


def _items(client: Any) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName=TABLE)["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


@pytest.mark.parametrize("patched", [False, True])
def test_a_cancelled_transaction_changes_nothing_and_a_good_one_everything(patched: bool) -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        _table(client)
        client.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1"}})
        before = _items(client)
        cancelled = [
            {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                        "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "c"}, "sk": {"S": "1"}},
                                "ConditionExpression": "attribute_exists(pk)"}},
        ]  # fmt: skip
        good = [{"Put": {"TableName": TABLE, "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}}]
        with item_snapshots() if patched else nullcontext():
            with pytest.raises(ClientError):
                client.transact_write_items(TransactItems=cancelled)
            after_cancel = _items(client)
            client.transact_write_items(TransactItems=good)
        assert after_cancel == before
        assert [i["pk"]["S"] for i in _items(client)] == ["a", "b"]
        client.delete_table(TableName=TABLE)
