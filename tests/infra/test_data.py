"""Tables, buckets and secrets: keys, indexes, TTL, streams, encryption, retention."""

import json
from typing import Any

import pytest

from tests.infra.support import (
    BUCKETS,
    TABLE_OF_VARIABLE,
    Synthesized,
)


def test_every_table_is_encrypted_recoverable_on_demand_protected_and_retained(
    stack: Synthesized,
) -> None:
    template = stack.assertions()

    template.resource_count_is("AWS::DynamoDB::Table", 10)
    template.all_resources_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": {"SSEEnabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "DeletionProtectionEnabled": True,
        },
    )
    template.all_resources(
        "AWS::DynamoDB::Table", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    )


def test_every_table_is_keyed_by_pk_and_only_usage_and_activity_have_a_sort_key(
    stack: Synthesized,
) -> None:
    key_schemas = {
        table_id: table["Properties"]["KeySchema"]
        for table_id, table in stack.of_type("AWS::DynamoDB::Table").items()
    }
    pk = {"AttributeName": "pk", "KeyType": "HASH"}
    usage = stack.logical_id("AWS::DynamoDB::Table", "UsageTable")
    activity = stack.logical_id("AWS::DynamoDB::Table", "ActivityTable")

    assert key_schemas.pop(activity) == [pk, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert key_schemas.pop(usage) == [pk, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert set(map(json.dumps, key_schemas.values())) == {json.dumps([pk])}
    usage_attributes = stack.resources[usage]["Properties"]["AttributeDefinitions"]
    assert {"AttributeName": "sk", "AttributeType": "S"} in usage_attributes


def test_only_sessions_outbox_waiting_requests_and_activity_expire_through_ttl_on_expires_at(
    stack: Synthesized,
) -> None:
    expiring = {
        table_id: table["Properties"]["TimeToLiveSpecification"]
        for table_id, table in stack.of_type("AWS::DynamoDB::Table").items()
        if "TimeToLiveSpecification" in table["Properties"]
    }

    assert expiring == {
        stack.logical_id("AWS::DynamoDB::Table", table_id): {
            "AttributeName": "expires_at",
            "Enabled": True,
        }
        for table_id in ("SessionsTable", "OutboxTable", "RequestsTable", "ActivityTable")
    }


def test_only_the_outbox_has_a_stream_and_it_carries_new_images(stack: Synthesized) -> None:
    streams = {
        table_id: table["Properties"]["StreamSpecification"]
        for table_id, table in stack.of_type("AWS::DynamoDB::Table").items()
        if "StreamSpecification" in table["Properties"]
    }

    assert streams == {
        stack.logical_id("AWS::DynamoDB::Table", "OutboxTable"): {"StreamViewType": "NEW_IMAGE"}
    }


def test_global_secondary_indexes_project_everything_on_string_keys(stack: Synthesized) -> None:
    indexes = {}
    for table_id, table in stack.of_type("AWS::DynamoDB::Table").items():
        properties = table["Properties"]
        key_types = {
            a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]
        }
        for index in properties.get("GlobalSecondaryIndexes", []):
            keys = {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]}
            indexes[(table_id, index["IndexName"])] = (keys["HASH"], keys.get("RANGE"))
            assert index["Projection"] == {"ProjectionType": "ALL"}
            assert {key_types[k["AttributeName"]] for k in index["KeySchema"]} == {"S"}

    table = {t: stack.logical_id("AWS::DynamoDB::Table", t) for t in TABLE_OF_VARIABLE.values()}
    assert indexes == {
        (table["IntegrationsTable"], "by-account"): ("account_key", None),
        (table["ProductsTable"], "catalog"): ("catalog", "name_key"),
        (table["RequestsTable"], "awaiting-punchout"): ("awaiting_integration", "created_at"),
        (table["SubscriptionsTable"], "by-account"): ("account_id", "created_at"),
        (table["SubscriptionsTable"], "billable"): ("billing_shard", "created_at"),
        (table["SubscriptionsTable"], "by-account-product"): ("account_product", "created_at"),
        (table["SubscriptionsTable"], "lifecycle"): ("lifecycle_key", "lifecycle_sort"),
        (table["InvoicesTable"], "by-integration"): ("integration_id", "period_key"),
        (table["InvoicesTable"], "by-subscription"): ("subscription_id", "period_key"),
    }


def _bucket(stack: Synthesized, construct_id: str) -> dict[str, Any]:
    return stack.resources[stack.logical_id("AWS::S3::Bucket", construct_id)]


def _bucket_policy(stack: Synthesized, construct_id: str) -> list[dict[str, Any]]:
    bucket_id = stack.logical_id("AWS::S3::Bucket", construct_id)
    (policy,) = [
        p["Properties"]
        for p in stack.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    statements: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return statements


@pytest.mark.parametrize("construct_id", BUCKETS)
def test_buckets_are_private_encrypted_ssl_only_and_retained(
    stack: Synthesized, construct_id: str
) -> None:
    bucket = _bucket(stack, construct_id)
    properties = bucket["Properties"]
    bucket_id = stack.logical_id("AWS::S3::Bucket", construct_id)
    statements = _bucket_policy(stack, construct_id)

    assert len(stack.of_type("AWS::S3::Bucket")) == len(BUCKETS)
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    # SSE-S3: what S3 server access logging can deliver to, and enough for the invoices.
    assert properties["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    }
    assert properties["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"
    ssl_only = [
        s
        for s in statements
        if s["Effect"] == "Deny"
        and s["Principal"] == {"AWS": "*"}
        and s["Action"] == "s3:*"
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(ssl_only) == 1
    assert {"Fn::GetAtt": [bucket_id, "Arn"]} in ssl_only[0]["Resource"]


def test_invoice_bucket_is_versioned_logs_its_access_and_expires_only_overwritten_versions(
    stack: Synthesized,
) -> None:
    properties = _bucket(stack, "InvoiceBucket")["Properties"]
    log_bucket = stack.logical_id("AWS::S3::Bucket", "AccessLogBucket")
    (rule,) = properties["LifecycleConfiguration"]["Rules"]

    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": log_bucket}
    # Current invoices never expire; an overwritten one stays recoverable for a while.
    assert rule["Status"] == "Enabled"
    assert set(rule) == {"Id", "Status", "NoncurrentVersionExpiration"}
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] >= 30


def test_access_log_bucket_takes_logs_only_from_the_invoice_bucket_and_expires_them(
    stack: Synthesized,
) -> None:
    properties = _bucket(stack, "AccessLogBucket")["Properties"]
    invoice_bucket = stack.logical_id("AWS::S3::Bucket", "InvoiceBucket")
    (allow,) = [s for s in _bucket_policy(stack, "AccessLogBucket") if s["Effect"] == "Allow"]
    (rule,) = properties["LifecycleConfiguration"]["Rules"]

    assert "LoggingConfiguration" not in properties  # logging the logs would never end
    assert allow["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert allow["Action"] == "s3:PutObject"
    assert allow["Condition"]["ArnLike"] == {
        "aws:SourceArn": {"Fn::GetAtt": [invoice_bucket, "Arn"]}
    }
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert rule["Status"] == "Enabled" and rule["ExpirationInDays"] > 0


def test_ariba_secret_is_generated_without_punctuation_and_retained(stack: Synthesized) -> None:
    secret = stack.resources[stack.logical_id("AWS::SecretsManager::Secret", "AribaSharedSecret")]
    generator = secret["Properties"]["GenerateSecretString"]

    assert generator["ExcludePunctuation"] is True
    assert generator["PasswordLength"] >= 32
    assert secret["DeletionPolicy"] == "Retain"


def test_link_signing_key_is_64_generated_characters_without_punctuation_and_retained(
    stack: Synthesized,
) -> None:
    secret = stack.resources[stack.logical_id("AWS::SecretsManager::Secret", "LinkSigningKey")]
    generator = secret["Properties"]["GenerateSecretString"]

    assert generator["ExcludePunctuation"] is True
    assert generator["PasswordLength"] == 64
    assert secret["DeletionPolicy"] == "Retain"
    # Not rotated on a schedule: rotating would break every link already mailed.
    assert not stack.of_type("AWS::SecretsManager::RotationSchedule")


def test_invoice_endpoint_secrets_have_their_own_rotating_retained_key(
    stack: Synthesized,
) -> None:
    key = stack.resources[stack.logical_id("AWS::KMS::Key", "InvoiceSecretKey")]

    assert key["Properties"]["EnableKeyRotation"] is True
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Retain", "Retain")
