"""Storage failures become values the edges understand: a retryable 500, or, when storage
refused the request as invalid (a retry cannot help), a 400."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from functions.errors import BadRequest, Transient

INVALID_FOR_STORAGE = ("ValidationException",)
"""DynamoDB's answer to a request that can never succeed (an item over 400 KB, a key over
2 KB, too many keys): answering it as a retryable 500 would make a buyer retry for hours."""


class NotStorable(BadRequest):
    """Storage refused the write or read as invalid: a 4xx, never a retryable 500."""


def _code(exc: Exception) -> str | None:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code"))
    return getattr(exc, "cause_response_code", None)


MAX_KEY_BYTES = 1024
"""DynamoDB refuses an empty key or a partition key over 2,048 bytes with a ValidationException
(a 5xx here): a lookup by a key from outside that cannot exist finds nothing instead."""


def findable(key: str) -> bool:
    return 0 < len(key.encode("utf-8", errors="replace")) <= MAX_KEY_BYTES


@contextmanager
def storage_errors(doing: str) -> Iterator[None]:
    """Anything DynamoDB throws while `doing` is transient for the caller: nothing was half
    written (single puts and transactions are atomic), so retrying is safe; except what it
    refuses as invalid, which no retry changes."""
    try:
        yield
    except (PynamoDBException, ClientError, BotoCoreError) as exc:
        if _code(exc) in INVALID_FOR_STORAGE:
            raise NotStorable(
                f"Storage refused the request as invalid while {doing}; a retry will not "
                "change that. Contact the marketplace's support if it persists."
            ) from exc
        raise Transient(f"Temporary storage failure while {doing}; please retry.") from exc
