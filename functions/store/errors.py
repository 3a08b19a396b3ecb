"""Storage failures become values the edges understand: a retryable 500."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from functions.errors import Transient

MAX_KEY_BYTES = 1024
"""DynamoDB refuses an empty key or a partition key over 2,048 bytes with a ValidationException
(a 5xx here): a lookup by a key from outside that cannot exist finds nothing instead."""


def findable(key: str) -> bool:
    return 0 < len(key.encode("utf-8", errors="replace")) <= MAX_KEY_BYTES


@contextmanager
def storage_errors(doing: str) -> Iterator[None]:
    """Anything DynamoDB throws while `doing` is transient for the caller: nothing was half
    written (single puts and transactions are atomic), so retrying is safe."""
    try:
        yield
    except (PynamoDBException, ClientError, BotoCoreError) as exc:
        raise Transient(f"Temporary storage failure while {doing}; please retry.") from exc
