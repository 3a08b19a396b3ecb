"""The outbox table's stream, as Lambda's event source mapping hands it to a worker: shared by
the tests driving the email (notification) worker by hand. Shared helpers only."""

from __future__ import annotations

from typing import Any

from functions.config import settings
from local.events import LambdaContext
from local.outbox import lambda_record


def outbox_stream_records(tables: dict[str, Any], streams: Any) -> list[dict[str, Any]]:
    """Every record of the outbox stream so far, shaped as Lambda delivers them."""
    arn = tables["dynamodb"].describe_table(TableName=settings().outbox_table)["Table"][
        "LatestStreamArn"
    ]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return [lambda_record(r, arn) for r in streams.get_records(ShardIterator=iterator)["Records"]]


def invoke_email_worker(records: list[dict[str, Any]]) -> Any:
    """The email worker's answer to one batch of stream records (its partial-batch response)."""
    from functions.handlers import email_worker

    return email_worker.handler({"Records": records}, LambdaContext("email_worker"))
