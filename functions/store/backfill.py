"""One-off data migrations, run by an operator after a deployment that needs them (never by a
Lambda). `python -m functions.store.backfill <subscriptions table>` with credentials for the
account in the shell.

- `account_product`: subscriptions stored before the `by-account-product` index existed lack
  its key, so metering (which queries that index) would not find them. Idempotent.
- `entitlements`: active subscriptions stored before the `lifecycle` index existed lack its
  keys, so GetEntitlements would not list them; those stored before the seller snapshot take
  their product's seller, or a seller would not see them. `python -m functions.store.backfill
  entitlements <subscriptions table> <products table>`. Idempotent.
- `seal-invoice-secrets`: integrations stored before invoice endpoints' shared secrets were
  sealed with KMS hold them in clear; each is written again, sealed (both items, guarded by
  the version read). Idempotent. `python -m functions.store.backfill seal-invoice-secrets
  <integrations table> <key ARN>`, with kms:Encrypt on the key."""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from functions.store.subscriptions import account_product

if TYPE_CHECKING:
    from functions.store.integrations import DynamoIntegrationStore


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


def backfill_entitlements(client: Any, table: str, products_table: str) -> int:
    """Set the `lifecycle` index attributes on every entitled subscription lacking them, or
    indexed without a seller; how many were set. A subscription stored before the seller
    snapshot (`seller_account` "") takes its product's seller (one product read per distinct
    product), so a seller's GetEntitlements finds it. Each update is conditioned on the
    version read, so one the order path wrote meanwhile is left alone (it sets the index
    itself; run again for the seller). Safe to run again."""
    from functions.store.models import SubscriptionRecord
    from functions.store.subscriptions import lifecycle_of, subscription_of, subscription_record

    sellers: dict[str, str] = {}
    updated = 0
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": (
            "attribute_exists(account_id) AND #state = :active AND "
            "(attribute_not_exists(lifecycle_key) OR lifecycle_seller = :unknown)"
        ),
        "ExpressionAttributeNames": {"#state": "state"},
        "ExpressionAttributeValues": {":active": {"S": "active"}, ":unknown": {"S": ""}},
    }
    while True:
        page = client.scan(**request)
        for item in page.get("Items", []):
            subscription = subscription_of(SubscriptionRecord.from_raw_data(item))
            if lifecycle_of(subscription).key is None:
                continue
            if not subscription.seller_account:
                product = subscription.product_id
                if product not in sellers:
                    sellers[product] = _seller_of(client, products_table, product)
                subscription = replace(subscription, seller_account=sellers[product])
            stored = subscription_record(subscription).serialize()  # as every write sets it
            try:
                client.update_item(
                    TableName=table,
                    Key={"pk": item["pk"]},
                    UpdateExpression=(
                        "SET lifecycle_key = :k, lifecycle_sort = :s, lifecycle_seller = :seller, "
                        "entitled_dimension = :d, #document = :doc"
                    ),
                    ConditionExpression="version = :v",
                    ExpressionAttributeNames={"#document": "document"},
                    ExpressionAttributeValues={
                        ":k": stored["lifecycle_key"], ":s": stored["lifecycle_sort"],
                        ":seller": stored["lifecycle_seller"], ":d": stored["entitled_dimension"],
                        ":doc": stored["document"], ":v": item["version"],
                    },
                )  # fmt: skip
            except client.exceptions.ConditionalCheckFailedException:
                continue
            updated += 1
        if "LastEvaluatedKey" not in page:
            return updated
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _seller_of(client: Any, products_table: str, product_id: str) -> str:
    """The product's seller account now ("" when the product is gone or names none)."""
    found = client.get_item(
        TableName=products_table,
        Key={"pk": {"S": product_id}},
        ProjectionExpression="seller_account",
        ConsistentRead=True,
    ).get("Item", {})
    return str(found.get("seller_account", {}).get("S", ""))


def seal_invoice_secrets(store: DynamoIntegrationStore) -> int:
    """Write again, sealed, every integration whose invoice endpoint's secret is still in clear
    (`store` must be given a SecretBox); how many were. An integration changed meanwhile is
    left to its own write, which seals it too."""
    from functions.errors import Conflict

    sealed = 0
    for integration in store.list():
        delivery = integration.invoice_delivery
        if delivery is None or not isinstance(delivery.shared_secret, str):
            continue
        try:
            store.replace(integration, integration)
        except Conflict:
            continue
        sealed += 1
    return sealed


def _seal_main(table: str, key: str) -> None:  # pragma: no cover (operator entry point)
    import os

    from functions.store import timeouts
    from functions.store.integrations import DynamoIntegrationStore
    from functions.store.kms import KmsSecretBox
    from functions.store.models import IntegrationRecord

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    meta: Any = IntegrationRecord.Meta  # as `functions.store.bind` does, for this table only
    meta.table_name, meta.region = table, region
    timeouts.apply_to_model(meta)
    count = seal_invoice_secrets(DynamoIntegrationStore(KmsSecretBox(key, region)))
    print(f"invoice endpoint secret sealed on {count} integration(s)")


if __name__ == "__main__":  # pragma: no cover (operator entry point)
    import boto3

    if len(sys.argv) == 4 and sys.argv[1] == "seal-invoice-secrets":
        _seal_main(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "entitlements":
        count = backfill_entitlements(boto3.client("dynamodb"), sys.argv[2], sys.argv[3])
        print(f"entitlements index set on {count} subscription(s)")
    elif len(sys.argv) == 2:
        count = backfill_account_product(boto3.client("dynamodb"), sys.argv[1])
        print(f"account_product set on {count} subscription(s)")
    else:
        sys.exit(
            "usage: python -m functions.store.backfill <subscriptions table name>\n"
            "       python -m functions.store.backfill entitlements <subscriptions table name> "
            "<products table name>\n"
            "       python -m functions.store.backfill seal-invoice-secrets "
            "<integrations table name> <KMS key ARN>"
        )
