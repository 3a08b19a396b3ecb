"""Shared fixtures: an AWS mock (moto, always: no test reaches real AWS), fresh tables per test,
and the local API Gateway stand-in in front of the real handlers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.aws import configure_environment, create_resources
from tests.support import ADMIN_TOKEN, ARIBA_SECRET, BASE_URL

# Metrics off (Lambda keeps them on): the tests asserting on them turn them on with
# tests.log_support.captured_metrics; elsewhere their EMF lines would only bury failures' output.
configure_environment(
    BASE_URL,
    ADMIN_TOKEN=ADMIN_TOKEN,
    ARIBA_SHARED_SECRET=ARIBA_SECRET,
    POWERTOOLS_METRICS_DISABLED="true",
)


@pytest.fixture(scope="session")
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        # One client per service for the whole session: creating clients is the slow part.
        yield {
            "dynamodb": boto3.client("dynamodb", region_name="us-east-1"),
            "ses": boto3.client("ses", region_name="us-east-1"),
            "s3": boto3.client("s3", region_name="us-east-1"),
            "sqs": boto3.client("sqs", region_name="us-east-1"),
            "kms": boto3.client("kms", region_name="us-east-1"),
        }


@pytest.fixture
def tables(aws: dict[str, Any]) -> Iterator[dict[str, Any]]:
    dynamodb = aws["dynamodb"]
    create_resources(dynamodb, aws["ses"], aws["s3"], aws["sqs"], aws["kms"])
    sent_before = _sent_messages()
    yield aws
    del sent_before[:]
    for name in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName=name)
    for url in aws["sqs"].list_queues().get("QueueUrls", []):
        aws["sqs"].delete_queue(QueueUrl=url)
    s3 = aws["s3"]
    for bucket in s3.list_buckets()["Buckets"]:
        versions = s3.list_object_versions(Bucket=bucket["Name"])
        for entry in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            s3.delete_object(Bucket=bucket["Name"], Key=entry["Key"], VersionId=entry["VersionId"])
        s3.delete_bucket(Bucket=bucket["Name"])


def _sent_messages() -> list[Any]:
    """moto's record of mail SES accepted (cleared after each test by the `tables` fixture)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages  # type: ignore[no-any-return]


@pytest.fixture
def api(tables: dict[str, Any]) -> Any:
    from local.stack import LocalApi

    return LocalApi(host="gateway.test")


@pytest.fixture
def clock() -> Iterator[Any]:
    from functions.clock import CLOCK

    yield CLOCK
    CLOCK.unfreeze()


@pytest.fixture
def atomic_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies each request atomically; moto, called from many threads at once, does
    not (a failed transaction restores a snapshot over others' writes). One lock around each
    API call gives moto DynamoDB's guarantee while our code still interleaves between calls."""
    import threading

    import botocore.client

    lock = threading.Lock()
    original = botocore.client.BaseClient._make_api_call

    def atomic(self: Any, operation: str, params: Any) -> Any:
        with lock:
            return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", atomic)
