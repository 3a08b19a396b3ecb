"""The embedded AWS: moto in-process, and the tables as infra/ defines them (names differ,
keys, TTL and billing mode do not). Shared by the local stack and the tests."""

from __future__ import annotations

import json
import os
import secrets
from functools import cache
from typing import Any

from functions import contracts

ACCOUNT = "123456789012"  # moto's default account
QUEUES = {"BILLING_QUEUE_URL": "local-billing", "DELIVERY_QUEUE_URL": "local-delivery"}
"""Each with a dead-letter queue `<name>-dlq` after MAX_RECEIVES failed receives, as deployed."""
MAX_RECEIVES = contracts.MAX_RECEIVES

LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "INTEGRATIONS_TABLE": "local-integrations",
    "SESSIONS_TABLE": "local-sessions",
    "PRODUCTS_TABLE": "local-products",
    "REQUESTS_TABLE": "local-requests",
    "ORDERS_TABLE": "local-orders",
    "SUBSCRIPTIONS_TABLE": "local-subscriptions",
    "OUTBOX_TABLE": "local-outbox",
    "USAGE_TABLE": "local-usage",
    "INVOICES_TABLE": "local-invoices",
    "ACTIVITY_TABLE": "local-activity",
    "INVOICE_BUCKET": "local-invoices",
    "BILLING_QUEUE_URL": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/local-billing",
    "DELIVERY_QUEUE_URL": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/local-delivery",
    "EMAIL_SENDER": "marketplace@procurement-gateway.example",
    "EVENT_BUS_NAME": "local-seller-events",  # seller events (create_event_bus)
    "ADMIN_AUTH": "token",
    "INVOICE_SECRET_KEY": "alias/local-invoice-secrets",  # seals invoice endpoints' secrets
    "INVOICE_DELIVERY_LOCAL_HTTP": "true",  # the fake Coupa listens on http://127.0.0.1
    "FULFILLMENT_LOCAL_HTTP": "1",  # the fake seller's registration pages: http://127.0.0.1
    "SUPPLIER_LEGAL_NAME": "Procurement Gateway Demo Ltd",  # the legal entity invoices name
    "SUPPLIER_TAX_ID": "GB999999973",
    "REMIT_TO_STREET": "1 Demo Street",
    "REMIT_TO_CITY": "London",
    "REMIT_TO_POSTAL_CODE": "EC1A 1AA",
    "REMIT_TO_COUNTRY": "GB",
    "POWERTOOLS_SERVICE_NAME": "procurement-gateway",
    "POWERTOOLS_METRICS_NAMESPACE": "ProcurementGateway",
    "POWERTOOLS_TRACE_DISABLED": "true",
}

TABLES: dict[str, dict[str, Any]] = {
    "INTEGRATIONS_TABLE": {"ttl": None, "indexes": contracts.INTEGRATIONS_INDEXES},
    "SESSIONS_TABLE": {"ttl": "expires_at", "indexes": {}},
    "PRODUCTS_TABLE": {"ttl": None, "indexes": contracts.PRODUCTS_INDEXES},
    "REQUESTS_TABLE": {"ttl": "expires_at", "indexes": contracts.REQUESTS_INDEXES},
    "ORDERS_TABLE": {"ttl": None, "indexes": {}},
    "SUBSCRIPTIONS_TABLE": {"ttl": None, "indexes": contracts.SUBSCRIPTIONS_INDEXES},
    "OUTBOX_TABLE": {"ttl": "expires_at", "indexes": {}, "stream": True},
    "USAGE_TABLE": {"ttl": None, "indexes": {}, "range": "sk"},
    "INVOICES_TABLE": {"ttl": None, "indexes": contracts.INVOICES_INDEXES},
    "ACTIVITY_TABLE": {"ttl": "expires_at", "indexes": {}, "range": "sk"},
}
"""Partition key `pk` everywhere; global secondary indexes as (hash, range) attribute names."""


def demo_seller_tokens() -> str:
    """`SELLER_TOKENS` for the demo catalog: a random bearer token per seller account, so each
    demo seller can meter its own products locally (and only those)."""
    from local.seed import DEMO_CATALOG

    products = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))["products"]
    accounts = sorted({p["seller_account"] for p in products if p.get("seller_account")})
    return ",".join(f"{account}={secrets.token_urlsafe(18)}" for account in accounts)


def configure_environment(base_url: str, **overrides: str) -> dict[str, str]:
    """Set the variables the handlers read (fake credentials: nothing can reach real AWS)."""
    values = dict(LOCAL_ENV)
    values["PUBLIC_BASE_URL"] = base_url
    values["ADMIN_TOKEN"] = os.environ.get("ADMIN_TOKEN") or secrets.token_urlsafe(18)
    values["ARIBA_SHARED_SECRET"] = os.environ.get("ARIBA_SHARED_SECRET") or secrets.token_urlsafe(
        18
    )
    values["LINK_SIGNING_KEY"] = os.environ.get("LINK_SIGNING_KEY") or secrets.token_urlsafe(32)
    values["SELLER_TOKENS"] = os.environ.get("SELLER_TOKENS") or demo_seller_tokens()
    # Short sessions let the browser suite reach the page an expired session shows.
    values["SESSION_TTL_SECONDS"] = os.environ.get("SESSION_TTL_SECONDS") or "3600"
    values.update(overrides)
    os.environ.update(values)
    return values


def create_resources(
    dynamodb: Any, ses: Any = None, s3: Any = None, sqs: Any = None, kms: Any = None
) -> None:
    """Create every table in the (mocked) account; `dynamodb` is a boto3 client. With an SES
    client, also verify the sender address (SES refuses unverified senders, moto too); with S3
    and SQS clients, the invoice bucket (versioned) and the queues with their DLQs; with a KMS
    client, the key sealing invoice endpoints' secrets (once per mocked account: keys cannot
    be deleted at once, so it is kept across calls). Always the seller events' bus."""
    create_event_bus()
    if kms is not None:
        create_secret_key(kms)
    if ses is not None:
        ses.verify_email_identity(EmailAddress=os.environ["EMAIL_SENDER"])
    if s3 is not None:
        bucket = os.environ["INVOICE_BUCKET"]
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    if sqs is not None:
        for name in QUEUES.values():
            dead = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
            dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            redrive = f'{{"deadLetterTargetArn":"{dead_arn}","maxReceiveCount":"{MAX_RECEIVES}"}}'
            sqs.create_queue(
                QueueName=name, Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "60"}
            )
    for variable, spec in TABLES.items():
        name = os.environ[variable]
        attributes = {"pk"}
        key_schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
        if spec.get("range"):
            attributes.add(spec["range"])
            key_schema.append({"AttributeName": spec["range"], "KeyType": "RANGE"})
        indexes = []
        for index_name, (hash_key, range_key) in spec["indexes"].items():
            schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
            attributes.add(hash_key)
            if range_key:
                schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
                attributes.add(range_key)
            indexes.append(
                {
                    "IndexName": index_name,
                    "KeySchema": schema,
                    "Projection": {"ProjectionType": "ALL"},
                }
            )
        extra: dict[str, Any] = {"GlobalSecondaryIndexes": indexes} if indexes else {}
        if spec.get("stream"):
            extra["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": "NEW_IMAGE",
            }
        dynamodb.create_table(
            TableName=name,
            KeySchema=key_schema,
            AttributeDefinitions=[
                {"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)
            ],
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )
        if spec["ttl"]:
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec["ttl"]},
            )


@cache
def _events_client(region: str) -> Any:
    import boto3

    return boto3.client("events", region_name=region)


def create_event_bus(events: Any = None) -> str:
    """The EventBridge bus seller events are published on (`EVENT_BUS_NAME`), as deployed
    (infra/seller_events.py); kept across calls, like the key: rules on it (the fake seller's,
    a test's) are their creator's to remove. Its ARN, for rules and targets."""
    from botocore.exceptions import ClientError

    client = events or _events_client(os.environ["AWS_REGION"])
    name = os.environ["EVENT_BUS_NAME"]
    try:
        return str(client.create_event_bus(Name=name)["EventBusArn"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
            raise
    return str(client.describe_event_bus(Name=name)["Arn"])


def create_secret_key(kms: Any) -> None:
    """The customer-managed key of `INVOICE_SECRET_KEY` (an alias), with rotation on, as
    deployed (infra/data.py)."""
    alias = os.environ["INVOICE_SECRET_KEY"]
    if any(a["AliasName"] == alias for a in kms.list_aliases()["Aliases"]):
        return
    key_id = kms.create_key(Description="Seals invoice endpoints' shared secrets (local)")[
        "KeyMetadata"
    ]["KeyId"]
    kms.enable_key_rotation(KeyId=key_id)
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
