"""One-off data migrations, run by an operator after a deployment that needs them (never by a
Lambda). `python -m functions.store.backfill <subscriptions table>` with credentials for the
account in the shell.

- `account_product`: subscriptions stored before the `by-account-product` index existed lack
  its key, so metering (which queries that index) would not find them. Idempotent."""

from __future__ import annotations

import sys
from typing import Any

from functions.store.subscriptions import account_product


def backfill_account_product(client: Any, table: str) -> int:
    """Set `account_product` on every subscription item lacking it (markers have no
    `account_id` and are skipped); how many items were updated. Safe to run again, and while
    the order path writes: each update only adds the attribute, if the item still exists."""
    updated = 0
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": (
            "attribute_exists(account_id) AND attribute_not_exists(account_product)"
        ),
        "ProjectionExpression": "pk, account_id, #document",
        "ExpressionAttributeNames": {"#document": "document"},
    }
    while True:
        page = client.scan(**request)
        for item in page.get("Items", []):
            product_id = _product_of(item)
            if not product_id:
                continue
            client.update_item(
                TableName=table,
                Key={"pk": item["pk"]},
                UpdateExpression="SET account_product = :key",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={
                    ":key": {"S": account_product(item["account_id"]["S"], product_id)}
                },
            )
            updated += 1
        if "LastEvaluatedKey" not in page:
            return updated
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _product_of(item: dict[str, Any]) -> str:
    """The product id from the `document` attribute (pynamodb's JSONAttribute: a JSON string)."""
    import json

    raw = item.get("document", {}).get("S")
    if not raw:
        return ""
    return str(json.loads(raw).get("product_id") or "")


if __name__ == "__main__":  # pragma: no cover (operator entry point)
    import boto3

    if len(sys.argv) != 2:
        sys.exit("usage: python -m functions.store.backfill <subscriptions table name>")
    count = backfill_account_product(boto3.client("dynamodb"), sys.argv[1])
    print(f"account_product set on {count} subscription(s)")
